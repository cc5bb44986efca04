"""Keras 3's optimizers: the values each keeps per trainable weight, and its scalars.

The table was read off real Keras 3.15 (`model.compile(optimizer=...)`, then
`model.optimizer.build(...)`): each keeps some slots per trainable weight, in the weights'
dtype, plus an int32 iteration counter and a float32 learning rate; Nadam keeps one more
scalar in the weights' dtype. Under the mixed_float16 policy compile() wraps the optimizer
in a LossScaleOptimizer, which adds four scalars of its own (and Keras's summary then
leaves Nadam's extra one out). tests/golden/record_optimizers.py records the proof.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_OPTIMIZER = "adam"  # what training memory assumes when no optimizer is named
SCALAR_BYTES = 4  # Keras's iteration (int32) and learning_rate (float32)
SCALARS = 2  # the iteration and the learning rate
LOSS_SCALE_SCALARS = 4  # LossScaleOptimizer's iteration, learning rate, step counter, dynamic scale


@dataclass(frozen=True)
class Optimizer:
    """How many values an optimizer keeps per trainable weight, and how many scalars besides."""

    name: str
    keras: str  # what to pass to compile(optimizer=...)
    slots: int  # values per trainable weight, in the weights' dtype
    extra: int = 0  # scalars in the weights' dtype (Nadam's u_product)
    states: str = ""

    def params(self, trainable: int, mixed_precision: bool = False) -> int:
        """The count Keras prints as ` Optimizer params: N`."""
        scalars = SCALARS + (LOSS_SCALE_SCALARS if mixed_precision else self.extra)
        return self.slots * trainable + scalars

    def bytes(self, trainable: int, item_bytes: int, mixed_precision: bool = False) -> int:
        """The bytes of those values: slots of `item_bytes` each, scalars of 4 bytes."""
        if mixed_precision:
            return self.slots * trainable * item_bytes + (SCALARS + LOSS_SCALE_SCALARS) * SCALAR_BYTES
        return (self.slots * trainable + self.extra) * item_bytes + SCALARS * SCALAR_BYTES


OPTIMIZERS = {
    optimizer.name: optimizer
    for optimizer in (
        Optimizer("sgd", '"sgd"', 0, states="none"),
        Optimizer("momentum", "SGD(momentum=0.9)", 1, states="momentum"),
        Optimizer("adam", '"adam"', 2, states="momentum, velocity"),
        Optimizer("adamw", '"adamw"', 2, states="momentum, velocity"),
        Optimizer("rmsprop", '"rmsprop"', 1, states="velocity (momentum 0)"),
        Optimizer("adagrad", '"adagrad"', 1, states="accumulator"),
        Optimizer("nadam", '"nadam"', 2, 1, states="momentum, velocity; u_product"),
        Optimizer("adamax", '"adamax"', 2, states="momentum, norm"),
        Optimizer("lion", '"lion"', 1, states="momentum"),
        Optimizer("adadelta", '"adadelta"', 2, states="accumulated grad, accumulated delta"),
        Optimizer("ftrl", '"ftrl"', 2, states="accumulator, linear"),
    )
}
