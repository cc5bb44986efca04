"""Two models side by side, layer by layer and in total: what `mlpcalc diff` reports.

Layers are matched as a text diff matches lines (difflib): first on what they are and what
they see (canonical spec and input shape), then in what is left on the spec alone, then
on the class. An inserted BatchNormalization shows as one added layer, not every later
one changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from mlpcalc.core.model import BuiltLayer, Model
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings

EXACT_MATCHING = 4 * 10**6  # layers of A x layers of B that difflib matches exactly, in well under a second
CHANGES = ("same", "changed", "added", "removed")  # what became of a layer of A in B
TOTALS = ("params", "trainable_params", "macs", "flops", "params_bytes", "inference_bytes", "training_bytes")


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
        return "same" if _key(self.a) == _key(self.b) else "changed"

    @property
    def params_delta(self) -> int:
        return (self.b.params if self.b else 0) - (self.a.params if self.a else 0)

    @property
    def macs_delta(self) -> int:
        return (self.b.macs if self.b else 0) - (self.a.macs if self.a else 0)


def _key(layer: BuiltLayer) -> tuple[str, tuple[int, ...]]:
    return str(layer.layer), layer.input_shape


def _spec(layer: BuiltLayer) -> str:
    return str(layer.layer)


def _class(layer: BuiltLayer) -> str:
    return layer.keras_class


def _pair(
    a: list[BuiltLayer], b: list[BuiltLayer], keys: tuple[Callable[[BuiltLayer], object], ...]
) -> list[Row]:
    """Rows for two stretches of layers: matched on the first key, what is left on the next."""
    if not keys:
        return [Row(x, None) for x in a] + [Row(None, y) for y in b]
    key, rest = keys[0], keys[1:]
    left, right = [key(x) for x in a], [key(y) for y in b]
    # What both start and end with is matched at once: most diffs change a few layers.
    start = next(
        (i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y), min(len(a), len(b))
    )
    most = min(len(a), len(b)) - start
    end = next((i for i in range(most) if left[-1 - i] != right[-1 - i]), most)
    rows = [Row(x, y) for x, y in zip(a[:start], b[:start], strict=True)]
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    # difflib's exact search is quadratic in repeated elements: past a few thousand layers it
    # lets the commonest count as junk, a coarser but fast matching.
    matcher = difflib.SequenceMatcher(
        a=left[start : len(a) - end],
        b=right[start : len(b) - end],
        autojunk=len(middle_a) * len(middle_b) > EXACT_MATCHING,
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [Row(x, y) for x, y in zip(middle_a[i1:i2], middle_b[j1:j2], strict=True)]
        else:
            rows += _pair(middle_a[i1:i2], middle_b[j1:j2], rest)
    return rows + [Row(x, y) for x, y in zip(a[len(a) - end :], b[len(b) - end :], strict=True)]


@dataclass(frozen=True)
class Diff:
    """Models A and B compared under `settings`: compute for its batch, memory for its dtype,
    optimizer and batch, FLOPs in its convention."""

    a: Model
    b: Model
    settings: Settings = field(default_factory=Settings)

    @cached_property
    def rows(self) -> list[Row]:
        # Same layer on the same input first, then the same layer, then the same class.
        return _pair(list(self.a.layers), list(self.b.layers), (_key, _spec, _class))

    def batch_macs(self, layer: BuiltLayer) -> int:
        """A layer's MACs for the batch: what both of diff's tables show."""
        return layer.macs * self.settings.samples

    def batch_macs_delta(self, row: Row) -> int:
        return row.macs_delta * self.settings.samples

    def _totals(self, model: Model) -> dict[str, int]:
        figures = Figures(model, self.settings)
        return {
            "params": figures.params,
            "trainable_params": figures.trainable_params,
            "macs": figures.batch_macs,
            "flops": figures.batch_flops,
            "params_bytes": figures.memory.params,
            "inference_bytes": figures.memory.inference,
            "training_bytes": figures.memory.training,
        }

    @cached_property
    def totals(self) -> dict[str, dict[str, int]]:
        """Each figure for A and B, and B - A."""
        before, after = self._totals(self.a), self._totals(self.b)
        return {key: {"a": before[key], "b": after[key], "delta": after[key] - before[key]} for key in TOTALS}
