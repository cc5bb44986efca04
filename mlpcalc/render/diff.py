"""What `mlpcalc diff` prints: the two models' layers side by side, then the totals."""

from __future__ import annotations

from mlpcalc.compare import Row
from mlpcalc.model import BuiltLayer
from mlpcalc.render.formats import readable_size, shape_text

MARKS = {"same": " ", "changed": "~", "added": "+", "removed": "-"}
BYTES = ("params_bytes", "inference_bytes", "training_bytes")
LABELS = {
    "params": "params",
    "trainable_params": "trainable params",
    "macs": "MACs",
    "flops": "FLOPs",
    "params_bytes": "weights",
    "inference_bytes": "inference memory",
    "training_bytes": "training memory",
}


def _side(layer: BuiltLayer | None) -> tuple[str, str, str]:
    if layer is None:
        return ("", "", "")
    return (f"{layer.name} ({layer.keras_class})", shape_text(layer.output_shape), f"{layer.params:,}")


def _delta(delta: int, before: int, as_bytes: bool = False) -> str:
    if delta == 0:
        return "="
    text = f"{'+' if delta > 0 else '-'}{readable_size(abs(delta))}" if as_bytes else f"{delta:+,}"
    return text + (f" ({delta / before:+.1%})" if before else "")


def _aligned(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    """Columns padded to their widest cell; those in `right` right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _figure(value: int, as_bytes: bool) -> str:
    return readable_size(value) if as_bytes else f"{value:,}"


def diff_text(a: str, b: str, rows: list[Row], totals: dict[str, dict[str, int]], setting: str) -> str:
    lines = [f"A  {a}", f"B  {b}", ""]
    table: list[tuple[str, ...]] = [
        ("", "A layer", "A output", "A params", "B layer", "B output", "B params", "change")
    ]
    for row in rows:
        before, after = _side(row.a), _side(row.b)
        delta = (row.b.params if row.b else 0) - (row.a.params if row.a else 0)
        table.append((MARKS[row.change], *before, *after, _delta(delta, row.a.params if row.a else 0)))
    lines += _aligned(table, right={3, 6})
    lines += ["", f"Totals ({setting})"]
    summary: list[tuple[str, ...]] = [("", "A", "B", "change")]
    for key, values in totals.items():
        as_bytes = key in BYTES
        shown = (_figure(values["a"], as_bytes), _figure(values["b"], as_bytes))
        summary.append((LABELS[key], *shown, _delta(values["delta"], values["a"], as_bytes)))
    lines += ["  " + line for line in _aligned(summary, right={1, 2})]
    return "\n".join(lines) + "\n"
