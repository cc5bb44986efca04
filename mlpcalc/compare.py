"""Two models side by side, layer by layer: what `mlpcalc diff` reports.

Layers are matched as a text diff matches lines (difflib on their canonical specs), so an
inserted BatchNormalization shows as one added layer rather than every later one changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from mlpcalc.memory import memory_report
from mlpcalc.model import BuiltLayer, Model

DIFF_SCHEMA = "mlpcalc/diff/v1"


@dataclass(frozen=True)
class Row:
    """A layer of A and its counterpart in B; either may be missing (added, removed)."""

    a: BuiltLayer | None
    b: BuiltLayer | None

    @property
    def change(self) -> str:
        if self.a is None:
            return "added"
        if self.b is None:
            return "removed"
        same = (str(self.a.layer), self.a.output_shape, self.a.params) == (
            str(self.b.layer),
            self.b.output_shape,
            self.b.params,
        )
        return "same" if same else "changed"


def pair_layers(a: Model, b: Model) -> list[Row]:
    """A's and B's layers, matched by their canonical specs."""
    left, right = [str(layer.layer) for layer in a.layers], [str(layer.layer) for layer in b.layers]
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        if tag in ("equal", "replace"):
            pairs = list(zip(a.layers[i1:i2], b.layers[j1:j2], strict=False))
            rows += [Row(x, y) for x, y in pairs]
            rows += [Row(x, None) for x in a.layers[i1 + len(pairs) : i2]]
            rows += [Row(None, y) for y in b.layers[j1 + len(pairs) : j2]]
        elif tag == "delete":
            rows += [Row(x, None) for x in a.layers[i1:i2]]
        else:
            rows += [Row(None, y) for y in b.layers[j1:j2]]
    return rows


def totals(model: Model, batch: int, dtype: str, optimizer: str) -> dict[str, int]:
    """The figures `diff` compares in total."""
    memory = memory_report(model, batch, dtype, optimizer)
    return {
        "params": model.total_params,
        "trainable_params": model.trainable_params,
        "macs": model.total_macs * batch,
        "flops": model.total_flops * batch,
        "params_bytes": memory.params,
        "inference_bytes": memory.inference,
        "training_bytes": memory.training,
    }


def _layer(layer: BuiltLayer | None) -> dict[str, object] | None:
    if layer is None:
        return None
    return {
        "name": layer.name,
        "type": layer.keras_class,
        "spec": str(layer.layer),
        "output_shape": list(layer.output_shape),
        "params": layer.params,
        "macs": layer.macs,
    }


def diff_document(
    a: Model, b: Model, batch: int = 1, dtype: str = "float32", optimizer: str = "adam"
) -> dict[str, object]:
    """The `mlpcalc/diff/v1` JSON document."""
    before, after = totals(a, batch, dtype, optimizer), totals(b, batch, dtype, optimizer)
    return {
        "schema": DIFF_SCHEMA,
        "a": str(a.spec),
        "b": str(b.spec),
        "batch": batch,
        "dtype": dtype,
        "optimizer": optimizer,
        "layers": [
            {
                "change": row.change,
                "a": _layer(row.a),
                "b": _layer(row.b),
                "params_delta": (row.b.params if row.b else 0) - (row.a.params if row.a else 0),
            }
            for row in pair_layers(a, b)
        ],
        "totals": {
            key: {"a": before[key], "b": after[key], "delta": after[key] - before[key]} for key in before
        },
    }
