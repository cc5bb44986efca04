"""The forward pass, as Keras's `model(x, training=False)`: chunked, in place, bounded in memory.

Every layer acts on the last axis, so a chunk of rows is a 2-D array (positions, features)
whatever the input's rank. Two buffers, each as wide as the widest layer, take turns: a
Dense writes its matmul into the other one; everything else works in place.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlpcalc.engine import functions
from mlpcalc.engine.weights import Weights
from mlpcalc.errors import ResourceError
from mlpcalc.layers import ActivationLayer, BatchNormalization, Dense, Dropout, LayerNormalization
from mlpcalc.model import Model

EPSILON = 1e-3  # Keras's default for BatchNormalization and LayerNormalization
CHUNK_BYTES = 64 * 2**20  # default size of each activation buffer

Array = NDArray[np.floating]


@dataclass
class Stats:
    """Running statistics of one layer's output over every chunk (float64 sums)."""

    count: int = 0
    total: float = 0.0
    squares: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    zeros: int = 0
    nans: int = 0
    infs: int = 0

    def add(self, values: Array) -> None:
        finite = np.isfinite(values)
        self.nans += int(np.isnan(values).sum())
        self.infs += int(np.isinf(values).sum())
        self.zeros += int(np.count_nonzero(values == 0))
        self.count += values.size
        clean = values if finite.all() else values[finite]
        if clean.size:
            self.total += float(clean.sum(dtype=np.float64))
            self.squares += float(np.square(clean, dtype=np.float64).sum())
            self.minimum = min(self.minimum, float(clean.min()))
            self.maximum = max(self.maximum, float(clean.max()))

    def to_dict(self) -> dict[str, float | int | None]:
        finite = self.count - self.nans - self.infs
        mean = self.total / finite if finite else None
        variance = max(self.squares / finite - (mean or 0.0) ** 2, 0.0) if finite else None
        return {
            "mean": mean,
            "std": math.sqrt(variance) if variance is not None else None,
            "min": self.minimum if finite else None,
            "max": self.maximum if finite else None,
            "zeros_fraction": self.zeros / self.count if self.count else 0.0,
            "nan": self.nans,
            "inf": self.infs,
        }


@dataclass
class Plan:
    """What a forward pass needs to know before it allocates: shapes, chunking, bytes."""

    model: Model
    dtype: np.dtype[np.floating]
    rows: int  # samples (the batch)
    chunk: int  # samples per chunk
    positions: int = field(init=False)  # rows of the 2-D view per sample
    widest: int = field(init=False)

    def __post_init__(self) -> None:
        self.positions = math.prod(self.model.spec.input_shape[:-1])
        features = [self.model.spec.input_shape[-1]]
        features += [layer.output_shape[-1] or 0 for layer in self.model.layers]
        self.widest = max(features)

    @property
    def buffer_bytes(self) -> int:
        return self.chunk * self.positions * self.widest * self.dtype.itemsize

    @property
    def weights_bytes(self) -> int:
        return self.model.total_params * self.dtype.itemsize

    def bytes_needed(self, input_in_memory: bool, output_in_memory: bool) -> int:
        """Weights, three buffers (two ping-pong, one for activation temporaries), and the
        input and output where they are arrays rather than memory-mapped files."""
        needed = self.weights_bytes + 3 * self.buffer_bytes
        sample_in = math.prod(self.model.spec.input_shape) * self.dtype.itemsize
        sample_out = math.prod(self.model.output_features) * self.dtype.itemsize
        needed += self.rows * (sample_in * input_in_memory + sample_out * output_in_memory)
        return needed


def plan(model: Model, rows: int, dtype: type[np.floating] = np.float32, chunk: int | None = None) -> Plan:
    """Chunk so that each activation buffer stays near CHUNK_BYTES, unless `chunk` is given."""
    draft = Plan(model, np.dtype(dtype), rows, chunk=1)
    if chunk is None:
        chunk = max(1, CHUNK_BYTES // max(1, draft.buffer_bytes))
    draft.chunk = max(1, min(chunk, rows))
    return draft


def available_memory() -> int | None:
    """Bytes the system can give without swapping (Linux MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(needed: int, what: str, available: int | None = None) -> None:
    """Refuse work that would not fit, before allocating, rather than be killed midway."""
    available = available_memory() if available is None else available
    if available is not None and needed > available:
        raise ResourceError(
            f"{what} needs {_gib(needed)} of memory and {_gib(available)} is available; "
            "try a smaller --batch or --chunk, or --input/--output files, which are memory-mapped"
        )


def _gib(size: int) -> str:
    return f"{size / 2**30:,.2f} GiB" if size >= 2**30 else f"{size / 2**20:,.1f} MiB"


@dataclass
class _Step:
    """One layer, ready to run: its arrays cast to the compute dtype and contiguous."""

    layer: object
    arrays: tuple[Array, ...]


def _prepare(model: Model, weights: Weights, dtype: np.dtype[np.floating]) -> list[_Step]:
    steps = []
    for built in model.layers:
        arrays = tuple(np.ascontiguousarray(weights[v.path], dtype=dtype) for v in built.variables)
        if isinstance(built.layer, BatchNormalization):
            gamma, beta, mean, variance = arrays
            # Keras: (x - mean) * (rsqrt(variance + eps) * gamma) + beta
            scale = (1 / np.sqrt(variance + dtype.type(EPSILON))) * gamma
            arrays = (mean, scale.astype(dtype), beta)
        steps.append(_Step(built.layer, arrays))
    return steps


def _run_layer(step: _Step, x: Array, spare: Array) -> Array:
    """Apply one layer to the 2-D `x`; a Dense writes into `spare`. Returns the output."""
    layer = step.layer
    if isinstance(layer, Dense):
        kernel = step.arrays[0]
        out = spare[: x.shape[0] * kernel.shape[1]].reshape(x.shape[0], kernel.shape[1])
        np.matmul(x, kernel, out=out)
        if layer.use_bias:
            out += step.arrays[1]
        return functions.apply(layer.activation, out)
    if isinstance(layer, BatchNormalization):
        mean, scale, beta = step.arrays
        x -= mean
        x *= scale
        x += beta
        return x
    if isinstance(layer, LayerNormalization):
        gamma, beta = step.arrays
        mean = x.mean(axis=-1, keepdims=True)
        x -= mean
        variance = np.square(x).mean(axis=-1, keepdims=True)
        variance += x.dtype.type(EPSILON)
        x /= np.sqrt(variance)
        x *= gamma
        x += beta
        return x
    if isinstance(layer, ActivationLayer):
        return functions.apply(layer.activation, x)
    assert isinstance(layer, Dropout)  # the identity at inference
    return x


def chunks(rows: int, chunk: int) -> Iterator[tuple[int, int]]:
    for start in range(0, rows, chunk):
        yield start, min(start + chunk, rows)


def forward(
    the_plan: Plan,
    weights: Weights,
    inputs: NDArray[Any] | Callable[[int, int], NDArray[Any]],
    out: NDArray[np.floating] | None = None,
    stats: list[Stats] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> NDArray[np.floating]:
    """Run the model over every row of `inputs` (an array, a memory map, or a function
    giving rows [start, stop)), writing into `out` (allocated if None).

    `stats`, if given, gets one Stats per layer; `progress` is called with (rows done, rows).
    """
    model, dtype = the_plan.model, the_plan.dtype
    out_features = model.output_features
    if out is None:
        out = np.empty((the_plan.rows, *out_features), dtype=dtype)
    steps = _prepare(model, weights, dtype)
    size = the_plan.chunk * the_plan.positions * the_plan.widest
    current, spare = np.empty(size, dtype=dtype), np.empty(size, dtype=dtype)
    first = model.spec.input_shape[-1]
    for start, stop in chunks(the_plan.rows, the_plan.chunk):
        block = inputs(start, stop) if callable(inputs) else inputs[start:stop]
        positions = (stop - start) * the_plan.positions
        x = current[: positions * first].reshape(positions, first)
        np.copyto(x, np.reshape(block, (positions, first)), casting="unsafe")
        for index, step in enumerate(steps):
            x = _run_layer(step, x, spare)
            if isinstance(step.layer, Dense):  # it wrote into the spare buffer: swap
                current, spare = spare, current
            if stats is not None:
                stats[index].add(x)
        out[start:stop] = x.reshape((stop - start, *out_features))
        if progress is not None:
            progress(stop, the_plan.rows)
    return out
