"""One table of a model's figures under one Settings: what the summary JSON, `check`'s
budgets and `diff` all read, so that they can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from mlpcalc.core.dtypes import DTYPE_BYTES
from mlpcalc.core.model import BuiltLayer, Model
from mlpcalc.costs.flops import convention_total, layer_count
from mlpcalc.costs.settings import Settings

if TYPE_CHECKING:
    from mlpcalc.costs.memory import MemoryReport


@dataclass(frozen=True)
class Figures:
    """`model`'s counts, bytes, compute (per sample and for the batch) and memory."""

    model: Model
    settings: Settings

    @property
    def params(self) -> int:
        return self.model.total_params

    @property
    def trainable_params(self) -> int:
        return self.model.trainable_params

    @property
    def non_trainable_params(self) -> int:
        return self.model.non_trainable_params

    @property
    def item_bytes(self) -> int:
        """Bytes of one weight in the settings' dtype."""
        return DTYPE_BYTES[self.settings.dtype]

    @property
    def params_bytes(self) -> int:
        return self.params * self.item_bytes

    @property
    def trainable_bytes(self) -> int:
        return self.trainable_params * self.item_bytes

    @property
    def non_trainable_bytes(self) -> int:
        return self.non_trainable_params * self.item_bytes

    @property
    def macs(self) -> int:
        """Multiply-accumulates per sample."""
        return self.model.total_macs

    @cached_property
    def flops(self) -> int:
        """FLOPs per sample, as the settings' convention counts them."""
        return convention_total(self.model, self.settings.flops_convention)

    @property
    def batch_macs(self) -> int:
        return self.macs * self.settings.samples

    @cached_property
    def batch_flops(self) -> int:
        return convention_total(self.model, self.settings.flops_convention, self.settings.samples)

    def layer_flops(self, layer: BuiltLayer) -> int:
        """One layer's FLOPs per sample, in the settings' convention."""
        return layer_count(layer, self.settings.flops_convention)

    @property
    def optimizer_params(self) -> int:
        """What Keras prints as ` Optimizer params:` once compile() has built the optimizer."""
        return self.settings.training_optimizer.params(self.trainable_params, self.settings.mixed_precision)

    @cached_property
    def memory(self) -> MemoryReport:
        # Asked for: a summary starts without the memory rules.
        from mlpcalc.costs.memory import memory_report

        return memory_report(self.model, self.settings)

    @property
    def optimizer_bytes(self) -> int:
        return self.memory.optimizer_states

    def params_percent(self, layer: BuiltLayer) -> float:
        """The layer's share of the model's parameters, in percent."""
        return 100 * layer.params / (self.params or 1)

    def keras_totals(self) -> list[tuple[str, int, float]]:
        """The lines under Keras's table: label, count and bytes; with an optimizer named, its
        line too, as Keras prints them once `compile(optimizer=...)` has built the optimizer.
        Keras sums each weight's bits and divides by 8 as a float: so do we, so that rounding
        at the second decimal agrees at every size."""
        item = self.item_bytes
        trainable = self.trainable_params * item * 8 / 8
        non_trainable = self.non_trainable_params * item * 8 / 8
        lines = [
            ("Trainable params", self.trainable_params, trainable),
            ("Non-trainable params", self.non_trainable_params, non_trainable),
        ]
        total_count, total_size = self.params, trainable + non_trainable
        if self.settings.optimizer is not None:
            count, size = self.optimizer_params, float(self.optimizer_bytes)
            lines.append(("Optimizer params", count, size))
            total_count, total_size = total_count + count, total_size + size
        return [("Total params", total_count, total_size), *lines]
