"""What `mlpcalc diff` prints: the two models' layers side by side, then the totals."""

from __future__ import annotations

import itertools

from mlpcalc.core.model import BuiltLayer
from mlpcalc.core.text import BINARY_UNITS, binary_size
from mlpcalc.diff import Diff
from mlpcalc.render.formats import flops_header, settings_text, shape_text

UNITS = {"B", *BINARY_UNITS}  # what follows a number of bytes
MIN_TEXT = 8  # the narrowest a text column gets when the table must fit a terminal
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


def _delta(delta: int, before: int, as_bytes: bool = False) -> str:
    if delta == 0:
        return "="
    text = f"{'+' if delta > 0 else '-'}{binary_size(abs(delta))}" if as_bytes else f"{delta:+,}"
    return text + (f" ({delta / before:+.1%})" if before else "")


def _aligned(
    rows: list[tuple[str, ...]], right: set[int], width: int, whole: set[int] | None = None
) -> list[str]:
    """Columns two spaces apart, those in `right` right-aligned. Rows wider than `width` wrap
    at spaces: the other columns narrow first (a long name may break), then the `whole` ones
    (numbers: `right` by default), never below their longest word, so that no number breaks."""
    whole = right if whole is None else whole
    columns = len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(columns)]
    excess = sum(widths) + 2 * (columns - 1) - width
    if excess <= 0:  # it fits: every cell on one line
        line = _line_format(widths, right)
        return [line.format(*row).rstrip() for row in rows]
    longest = {i: max(map(_longest_word, {row[i] for row in rows}), default=0) for i in whole}
    text = [i for i in range(columns) if i not in whole]
    # Text columns narrow to MIN_TEXT, then numeric ones to their longest word; past that, the
    # table is wider than the terminal rather than unreadable.
    for floors in ({i: MIN_TEXT for i in text}, {i: longest[i] for i in whole}):
        for i in sorted(floors, key=lambda i: widths[i] - floors[i], reverse=True):
            cut = min(max(excess, 0), max(widths[i] - floors[i], 0))
            widths[i], excess = widths[i] - cut, excess - cut
    line = _line_format(widths, right)
    # Each distinct cell of a column wrapped once: a long model's table repeats its cells.
    wrapped = [
        {cell: (cell,) if len(cell) <= fits else _wrap(cell, fits, i not in whole) for cell in column}
        for i, (fits, column) in enumerate(zip(widths, map(set, zip(*rows, strict=True)), strict=True))
    ]
    lines = []
    for row in rows:
        cells = [column[cell] for column, cell in zip(wrapped, row, strict=True)]
        if max(map(len, cells)) == 1:  # each cell one line (as it is, or as it wraps)
            lines.append(line.format(*(parts[0] for parts in cells)).rstrip())
        else:
            lines += [line.format(*parts).rstrip() for parts in itertools.zip_longest(*cells, fillvalue="")]
    return lines


def _line_format(widths: list[int], right: set[int]) -> str:
    """A format string that pads each cell to its column's width, two spaces between columns."""
    return "  ".join(f"{{:{'>' if i in right else '<'}{w}}}" for i, w in enumerate(widths))


def _words(cell: str) -> list[str]:
    """The words a cell may wrap between: a size's unit stays with its number (1.55 MiB)."""
    words: list[str] = []
    for word in cell.split(" "):
        if words and word in UNITS:
            words[-1] += " " + word
        else:
            words.append(word)
    return words


def _longest_word(cell: str) -> int:
    return max(map(len, _words(cell))) if " " in cell else len(cell)


def _wrap(cell: str, width: int, breakable: bool) -> tuple[str, ...]:
    """`cell` in lines of at most `width`, broken at spaces (and inside a word if `breakable`)."""
    lines: list[str] = []
    current = ""
    for word in _words(cell):
        while breakable and len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if current and len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            if current:
                lines.append(current)
            current = word
    return (*lines, current)


def _either(a: str | None, b: str | None) -> str:
    """One value when A and B agree, `A -> B` when they differ."""
    if a is None or b is None:
        return a or b or ""
    return a if a == b else f"{a} -> {b}"


def _cells(
    layer: BuiltLayer | None, diff: Diff, known: dict[object, tuple[str, ...]]
) -> tuple[str | None, ...]:
    """A layer's cells: name (class), spec, output shape, params, MACs for the batch; `known`
    holds those of each layer on each input already seen (a long model repeats its layers)."""
    if layer is None:
        return (None,) * 5
    key = (id(layer.layer), layer.input_shape)  # the layer objects live as long as `known`
    if key not in known:
        known[key] = (
            str(layer.layer),
            shape_text(layer.output_shape),
            f"{layer.params:,}",
            f"{diff.batch_macs(layer):,}",
        )
    return (f"{layer.name} ({layer.keras_class})", *known[key])


def diff_text(diff: Diff, width: int = 80) -> str:
    """Both models' layers side by side, then the totals, in `width` columns; compute is for
    the batch in both tables."""
    samples = diff.settings.samples
    lines = [f"A  {diff.a.spec}", f"B  {diff.b.spec}", ""]
    macs = "MACs" if samples == 1 else f"MACs (batch {samples:,})"
    table: list[tuple[str, ...]] = [("", "layer", "spec", "output", "params", macs, "params change")]
    known: dict[object, tuple[str, ...]] = {}
    for row in diff.rows:
        cells = map(_either, _cells(row.a, diff, known), _cells(row.b, diff, known))
        table.append((MARKS[row.change], *cells, _delta(row.params_delta, row.a.params if row.a else 0)))
    lines += _aligned(table, right={4, 5}, width=width, whole={0, 3, 4, 5, 6})
    lines += ["", f"Totals ({settings_text(diff.settings)})"]
    summary: list[tuple[str, ...]] = [("", "A", "B", "change")]
    labels = LABELS | {"flops": flops_header(diff.settings.flops_convention)}
    for key, values in diff.totals.items():
        as_bytes = key in BYTES
        shown = [binary_size(values[side]) if as_bytes else f"{values[side]:,}" for side in ("a", "b")]
        summary.append((labels[key], *shown, _delta(values["delta"], values["a"], as_bytes)))
    # Sizes keep their unit beside them: the change column is whole too ("+1.55 MiB (+3.2%)").
    lines += ["  " + line for line in _aligned(summary, right={1, 2}, width=width - 2, whole={0, 1, 2, 3})]
    return "\n".join(lines) + "\n"
