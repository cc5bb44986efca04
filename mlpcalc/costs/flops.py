"""FLOPs as each tool counts them, summed over a model, per sample or for a batch.

Each layer says what each tool counts for it (core/layers.py): a part that scales with
the batch, and one that does not (ptflops divides its module hooks' counts by the batch but
not its functional ones).
"""

from __future__ import annotations

from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.core.model import BuiltLayer, Model


def layer_count(layer: BuiltLayer, convention: str) -> int:
    """One layer's count per sample under `convention`."""
    return sum(layer.layer.counted(convention, layer.input_shape))


def convention_total(model: Model, convention: str, batch: int = 1) -> int:
    """What the tool `convention` reports for `model` run on `batch` samples."""
    parts = [(layer.layer.counted(convention, layer.input_shape), n) for layer, n in model.placements]
    return sum((scaled * batch + fixed) * n for (scaled, fixed), n in parts)


def by_convention(model: Model) -> dict[str, int]:
    """Every tool's count for one sample, by convention."""
    return {name: convention_total(model, name) for name in CONVENTIONS}
