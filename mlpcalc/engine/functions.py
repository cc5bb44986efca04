"""Keras 3's activation functions in NumPy, applied in place where the formula allows.

Each takes an array and returns the result, which may be the same array. The formulas
are those of Keras's torch backend (torch.nn.functional), computed stably at any |x|.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from mlpcalc.core.activations import Activation

Array = NDArray[np.floating]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SQRT_2_OVER_PI = 0.7978845608028654
GELU_TANH_COEFF = 0.044715


def relu(x: Array) -> Array:
    return np.maximum(x, 0, out=x)


def linear(x: Array) -> Array:
    return x


def tanh(x: Array) -> Array:
    return np.tanh(x, out=x)


def sigmoid(x: Array) -> Array:
    # 1 / (1 + exp(-x)) overflows for x << 0; exp(-|x|) never does.
    e = np.exp(-np.abs(x))
    positive = x >= 0
    np.divide(1, 1 + e, out=x, where=positive)
    np.divide(e, 1 + e, out=x, where=~positive)
    return x


def softmax(x: Array) -> Array:
    """Over the last axis, shifted by the row maximum so that exp never overflows."""
    x -= x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


def softplus(x: Array) -> Array:
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), exact where the naive form overflows.
    tail = np.log1p(np.exp(-np.abs(x)))
    np.maximum(x, 0, out=x)
    x += tail
    return x


def silu(x: Array) -> Array:
    return np.multiply(x, sigmoid(x.copy()), out=x)


def elu(x: Array, alpha: float = 1.0) -> Array:
    negative = x < 0
    x[negative] = alpha * np.expm1(x[negative])
    return x


def selu(x: Array) -> Array:
    x = elu(x, SELU_ALPHA)
    x *= SELU_SCALE
    return x


def leaky_relu(x: Array, negative_slope: float = 0.2) -> Array:
    return np.multiply(x, negative_slope, out=x, where=x < 0)


def erfc(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """The complementary error function, relative error below 1.2e-7 everywhere.

    NumPy has no erf. This is the Chebyshev fit of Numerical Recipes (erfcc), accurate in
    relative terms even far in the tail, where gelu(x) for x << 0 lives; scipy would do the
    same but weighs 40 MB and a third of a second to import for one function.
    """
    t = 1.0 / (1.0 + 0.5 * np.abs(z))
    poly = -z * z - 1.26551223
    for coefficient, power in (
        (1.00002368, 1), (0.37409196, 2), (0.09678418, 3), (-0.18628806, 4), (0.27886807, 5),
        (-1.13520398, 6), (1.48851587, 7), (-0.82215223, 8), (0.17087277, 9),
    ):  # fmt: skip
        poly += coefficient * t**power
    result = t * np.exp(poly)
    return np.where(z >= 0, result, 2.0 - result)


def gelu(x: Array, approximate: bool = False) -> Array:
    if approximate:  # Keras's gelu(approximate=True): the tanh form
        inner = x * (1 + GELU_TANH_COEFF * x * x)
        inner *= SQRT_2_OVER_PI
        np.tanh(inner, out=inner)
        inner += 1
        x *= inner
        x *= 0.5
        return x
    # The exact form, 0.5 * x * (1 + erf(x / sqrt 2)) = 0.5 * x * erfc(-x / sqrt 2), in float64.
    factor = erfc(-x.astype(np.float64) / np.sqrt(2.0))
    x *= factor.astype(x.dtype)
    x *= 0.5
    return x


FUNCTIONS: dict[str, Callable[..., Array]] = {
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "linear": linear,
    "gelu": gelu,
    "elu": elu,
    "selu": selu,
    "softplus": softplus,
    "swish": silu,
    "silu": silu,
    "leaky_relu": leaky_relu,
}


# These run in place with no temporary array: the forward pass need not cut them in blocks.
WITHOUT_TEMPORARIES = {"relu", "linear", "tanh"}


def apply(activation: Activation, x: Array) -> Array:
    """Apply `activation` to `x` (in place where possible), with its Keras arguments."""
    return FUNCTIONS[activation.name](x, **activation.arguments)


# What the elementwise work holds besides its array, per element of a block, as (times the
# compute dtype's size, plus bytes): the memory estimate adds the largest (benchmarks/memory.py
# checks the estimate against measured peaks). gelu's exact form works in float64.
TEMPORARIES: dict[str, tuple[int, int]] = {
    "relu": (0, 0), "linear": (0, 0), "tanh": (0, 0), "softmax": (1, 0), "leaky_relu": (0, 1),
    "sigmoid": (3, 1), "softplus": (2, 0), "silu": (4, 1), "swish": (4, 1), "elu": (3, 1), "selu": (3, 1),
    "gelu": (1, 48),
}  # fmt: skip
GELU_TANH_TEMPORARIES = (3, 0)


def temporary_bytes(activation: Activation, itemsize: int) -> int:
    """Bytes of temporaries per element while `activation` runs on a block."""
    times, extra = (
        GELU_TANH_TEMPORARIES
        if activation.name == "gelu" and activation.argument
        else TEMPORARIES[activation.name]
    )
    return times * itemsize + extra
