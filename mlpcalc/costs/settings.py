"""The settings every figure depends on, checked once: every command answers alike.

`summary`, `costs`, `check` and `diff` all build a Settings from their options (or a budget
file's keys), so a combination one refuses, all refuse, with the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlpcalc.core.conventions import CONVENTIONS, MLPCALC
from mlpcalc.core.dtypes import DEFAULT_DTYPE, DTYPE_BYTES, INFERENCE_ONLY, MIXED_PRECISION_DTYPE
from mlpcalc.core.errors import SettingsError
from mlpcalc.core.spec import MAX_SIZE
from mlpcalc.costs.optimizers import DEFAULT_OPTIMIZER, OPTIMIZERS, Optimizer

# Each closed choice, by the name of its setting: the CLI's choices and the budget files'
# allowed values are these tables.
CHOICES: dict[str, tuple[str, ...]] = {
    "dtype": tuple(DTYPE_BYTES),
    "optimizer": tuple(OPTIMIZERS),
    "flops_convention": tuple(CONVENTIONS),
}


@dataclass(frozen=True)
class Settings:
    """What the figures are computed for: weights' dtype, the optimizer training keeps states
    for (None: none named, Adam assumed), Keras's mixed_float16 policy, the FLOP convention,
    and the batch (None: per sample)."""

    dtype: str = DEFAULT_DTYPE
    optimizer: str | None = None
    mixed_precision: bool = False
    flops_convention: str = MLPCALC
    batch: int | None = None

    def __post_init__(self) -> None:
        for key, choices in CHOICES.items():
            value = getattr(self, key)
            if value is not None and value not in choices:
                raise SettingsError(f"expected one of {', '.join(choices)}, received {value!r}", key)
        if self.mixed_precision and self.dtype != MIXED_PRECISION_DTYPE:
            raise SettingsError(
                f"mixed precision keeps {MIXED_PRECISION_DTYPE} weights, received dtype {self.dtype}: "
                "drop one of the two",
                "mixed_precision",
            )
        if self.optimizer is not None and self.dtype in INFERENCE_ONLY:
            raise SettingsError(
                f"Keras cannot build {self.dtype} layers to compile: {self.dtype} sizes the weights only "
                "(training figures are float32's); drop the optimizer",
                "optimizer",
            )
        if self.batch is not None and not 1 <= self.batch <= MAX_SIZE:
            raise SettingsError(f"expected a batch from 1 to {MAX_SIZE:,}, received {self.batch}", "batch")

    @property
    def samples(self) -> int:
        """How many samples the per-batch figures are for."""
        return self.batch or 1

    @property
    def training_optimizer(self) -> Optimizer:
        """The optimizer whose states training memory counts: the one named, else Adam."""
        return OPTIMIZERS[self.optimizer or DEFAULT_OPTIMIZER]
