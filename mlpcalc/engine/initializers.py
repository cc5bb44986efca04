"""Keras 3's kernel initializers, drawing float32 directly (no float64 draw and cast).

Variance scaling (engine/names.py has each initializer's scale and fan). Uniform draws
lie in +-sqrt(3 * scale / fan); normal ones are normals truncated at
two standard deviations, whose standard deviation Keras divides by 0.8796... so that the
truncated variance is scale / fan.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from mlpcalc.engine.names import INITIALIZERS as RULES

Float32 = NDArray[np.float32]

TRUNCATED_STDDEV = 0.87962566103423978  # stddev of a unit normal truncated to [-2, 2]


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], limit: float) -> Float32:
    values = rng.random(shape, dtype=np.float32)  # [0, 1), scaled in place to [-limit, limit)
    values *= np.float32(2 * limit)
    values -= np.float32(limit)
    return values


def _truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], stddev: float) -> Float32:
    values = rng.standard_normal(shape, dtype=np.float32)
    outside = np.abs(values) > 2
    while count := int(outside.sum()):  # redraw the ~4.6% beyond two stddevs until none is
        values[outside] = rng.standard_normal(count, dtype=np.float32)
        outside = np.abs(values) > 2
    values *= np.float32(stddev)
    return values


def _variance_scaling(scale: float, mode: str, distribution: str) -> Callable[..., Float32]:
    def init(rng: np.random.Generator, shape: tuple[int, ...]) -> Float32:
        fan_in, fan_out = math.prod(shape[:-1]), shape[-1]
        fan = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / max(1.0, fan)
        if distribution == "uniform":
            return _uniform(rng, shape, math.sqrt(3 * variance))
        return _truncated_normal(rng, shape, math.sqrt(variance) / TRUNCATED_STDDEV)

    return init


def _orthogonal(rng: np.random.Generator, shape: tuple[int, ...]) -> Float32:
    # Keras: QR of a normal matrix, columns signed by diag(R), transposed when wide.
    rows, cols = math.prod(shape[:-1]), shape[-1]
    normal = rng.standard_normal((max(rows, cols), min(rows, cols)), dtype=np.float32)
    q, r = np.linalg.qr(normal)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return np.ascontiguousarray(q.reshape(shape), dtype=np.float32)


def _zeros(rng: np.random.Generator, shape: tuple[int, ...]) -> Float32:
    return np.zeros(shape, dtype=np.float32)


Initializer = Callable[[np.random.Generator, tuple[int, ...]], Float32]
_OWN_FORMULA: dict[str, Initializer] = {"orthogonal": _orthogonal, "zeros": _zeros}
INITIALIZERS: dict[str, Initializer] = {
    name: _variance_scaling(*rule) if rule is not None else _OWN_FORMULA[name] for name, rule in RULES.items()
}

# The other variables start as Keras starts them, whatever the kernel initializer.
CONSTANT_STARTS = {"bias": 0.0, "beta": 0.0, "moving_mean": 0.0, "gamma": 1.0, "moving_variance": 1.0}

# What drawing the largest kernel holds besides it, per element (bytes, measured by
# benchmarks/memory.py): a truncated normal's mask and |x|; orthogonal's float64 QR.
TEMPORARIES = {"glorot_normal": 6, "he_normal": 6, "lecun_normal": 6, "orthogonal": 36}
