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
    # FLOPs of one update per trainable weight: the elementwise operations of Keras 3's rule
    # (keras/src/optimizers/*.py, defaults; per-weight scalars such as beta ** t left out).
    update_flops: int
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
        Optimizer("sgd", '"sgd"', 0, 2, states="none"),  # w -= g x lr
        # m = m x 0.9 - g x lr (3); w += m (1)
        Optimizer("momentum", "SGD(momentum=0.9)", 1, 4, states="momentum"),
        # m += (g - m)(1 - b1) (3); v += (g^2 - v)(1 - b2) (4); w -= m x alpha / (sqrt(v) + eps) (5)
        Optimizer("adam", '"adam"', 2, 12, states="momentum, velocity"),
        # adam's 12, after w -= w x wd x lr (3; weight_decay=0.004 by default)
        Optimizer("adamw", '"adamw"', 2, 15, states="momentum, velocity"),
        # v = rho v + (1 - rho) g^2 (4); lr x g / sqrt(v + eps) (4); w -= that (1)
        Optimizer("rmsprop", '"rmsprop"', 1, 9, states="velocity (momentum 0)"),
        # a += g^2 (2); w -= lr x g / sqrt(a + eps) (5)
        Optimizer("adagrad", '"adagrad"', 1, 7, states="accumulator"),
        # m (3), v (4); m_hat = u1 m / c1 + (1 - u) g / c2 (5); v_hat = v / c3 (1);
        # w -= m_hat lr / (sqrt(v_hat) + eps) (5)
        Optimizer("nadam", '"nadam"', 2, 18, 1, states="momentum, velocity; u_product"),
        # m (3); u = max(b2 u, |g|) (3); w -= lr m / ((1 - b1^t)(u + eps)) (5)
        Optimizer("adamax", '"adamax"', 2, 11, states="momentum, norm"),
        # w -= lr x sign(m b1 + g (1 - b1)) (6); m = m b2 + g (1 - b2) (3)
        Optimizer("lion", '"lion"', 1, 9, states="momentum"),
        # a = rho a + (1 - rho) g^2 (4); d = -(sqrt(D + eps) g / sqrt(a + eps)) (7);
        # D = rho D + (1 - rho) d^2 (4); w += lr d (2)
        Optimizer("adadelta", '"adadelta"', 2, 17, states="accumulated grad, accumulated delta"),
        # g' = g + 2 shrink w (2); n = a + g^2 (2); l += g' - (n^-p - a^-p) / lr x w (7);
        # q = n^-p / lr + 2 l2 (3); w = (clip(l, -l1, l1) - l) / q (4: the clip is a max and a min)
        Optimizer("ftrl", '"ftrl"', 2, 18, states="accumulator, linear"),
    )
}
