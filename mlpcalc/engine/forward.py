"""The forward pass, as Keras's `model(x, training=False)`: chunked, in place, bounded in memory.

Every layer but Flatten acts on the last axis, so a chunk of rows is a 2-D array (positions,
features) whatever the input's rank; a Flatten folds the positions into the features, a new
2-D view of the same memory (samples, positions x features). Two buffers, each as large as
the largest layer's output, take turns: a Dense writes its matmul into the other one;
everything else works in place, a block of rows at a time, so that an activation's
temporaries stay small whatever the chunk.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlpcalc.core.errors import ResourceError
from mlpcalc.core.layers import (
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LayerNormalization,
    Shape,
    positions,
)
from mlpcalc.core.model import Model
from mlpcalc.core.text import binary_size
from mlpcalc.engine import arrays, functions
from mlpcalc.engine.weights import Weights

CHUNK_BYTES = 64 * 2**20  # default size of each activation buffer
# Elementwise work goes a block at a time. Its temporaries (up to 8 bytes an element: exact gelu
# works in float64) then stay under a MiB: at 2**18 elements, glibc mapped and unmapped them at
# every block, and gelu's pass took half as long again.
BLOCK_ELEMENTS = 2**16
STATS_TEMPORARY = 12  # bytes per element while a block's statistics are gathered (masks, finite values)
STATS_PIECE = 2**13  # values summed in float64 at a time: a scratch array that stays in cache
# A product runs on at most this many rows at a time: OpenBLAS's workspace for a tall product
# grows with its rows (42 MiB for 65,536 x 256 by 10), for 4,096 it stays near 8 MiB.
PRODUCT_ROWS = 4096
BLAS_BUFFER = 8 * 2**20  # the most OpenBLAS then touches of its own buffers (measured)

Array = NDArray[np.floating]


@dataclass
class Stats:
    """Running statistics of one layer's output over every chunk (float64 sums).

    Values past 1 in magnitude are summed as x * 2**-scale, with `scale` the binary exponent
    of the largest seen: squares of values near float64's limit then never overflow, and the
    scaling, by a power of two, is exact. Values within [-1, 1] are summed as they are."""

    count: int = 0
    total: float = 0.0
    squares: float = 0.0
    scale: int = 0
    minimum: float = math.inf
    maximum: float = -math.inf
    zeros: int = 0
    nans: int = 0
    infs: int = 0

    def add(self, values: Array) -> None:
        for block in _blocks(values.reshape(-1, values.shape[-1]) if values.ndim else values.reshape(1, 1)):
            self._add_block(block)

    def _add_block(self, values: Array) -> None:
        if not values.size:
            return
        self.count += values.size
        self.zeros += values.size - int(np.count_nonzero(values))  # NaN is not zero; -0.0 is
        clean, low, high = values, float(values.min()), float(values.max())
        if not (math.isfinite(low) and math.isfinite(high)):  # a NaN or an infinity: set them apart
            finite = np.isfinite(values)
            self.nans += int(np.isnan(values).sum())
            self.infs += int(np.isinf(values).sum())
            clean = values[finite]
            if not clean.size:
                return
            low, high = float(clean.min()), float(clean.max())
        self.minimum = min(self.minimum, low)
        self.maximum = max(self.maximum, high)
        exponent = math.frexp(max(abs(self.minimum), abs(self.maximum)))[1]
        if exponent > self.scale:  # rescale what was summed so far to the new exponent
            shift, self.scale = self.scale - exponent, exponent
            self.total, self.squares = math.ldexp(self.total, shift), math.ldexp(self.squares, 2 * shift)
        # In float64 a piece at a time, through one small scratch array: a float64 copy of a
        # whole block (2 MiB) was allocated, paged in and handed back to the system at every
        # call, which took three times as long as the sums themselves.
        flat = clean.reshape(-1)
        scratch = np.empty(min(flat.size, STATS_PIECE), dtype=np.float64)
        for start in range(0, flat.size, STATS_PIECE):
            piece = scratch[: min(STATS_PIECE, flat.size - start)]
            np.ldexp(flat[start : start + STATS_PIECE], -self.scale, out=piece, dtype=np.float64)
            self.total += float(piece.sum())
            self.squares += float(np.square(piece, out=piece).sum())

    def to_dict(self) -> dict[str, float | int | None]:
        finite = self.count - self.nans - self.infs
        mean = self.total / finite if finite else None
        variance = max(self.squares / finite - (mean or 0.0) ** 2, 0.0) if finite else None
        return {
            "mean": math.ldexp(mean, self.scale) if mean is not None else None,
            "std": math.ldexp(math.sqrt(variance), self.scale) if variance is not None else None,
            "min": self.minimum if finite else None,
            "max": self.maximum if finite else None,
            "zeros_fraction": self.zeros / self.count if self.count else 0.0,
            "nan": self.nans,
            "inf": self.infs,
        }


@dataclass(frozen=True)
class Plan:
    """What a forward pass needs to know before it allocates: shapes, dtypes, chunking, bytes."""

    model: Model
    dtype: np.dtype[np.floating]  # of the output
    rows: int  # samples (the batch)
    chunk: int  # samples per chunk

    @property
    def compute_dtype(self) -> np.dtype[np.floating]:
        # NumPy has no fast float16 matmul, and float16 squares overflow past 256: compute
        # float16 models in float32, as Keras does its normalisations, and store float16.
        return np.dtype(np.float32) if self.dtype == np.float16 else self.dtype

    @property
    def positions(self) -> int:
        """Rows of the input's 2-D view per sample: the vectors the first layer sees (a Flatten
        makes them one)."""
        return positions(self.model.spec.input_shape)

    @property
    def shapes(self) -> list[Shape]:
        """The feature shapes the buffers hold in turn: the input's, then each layer's output."""
        return [self.model.spec.input_shape, *(layer.output_features for layer in self.model.layers)]

    @property
    def widest(self) -> int:
        """The longest row of any 2-D view: a block of rows is never narrower."""
        return max(shape[-1] for shape in self.shapes)

    @property
    def largest(self) -> int:
        """Values per sample in the largest of those arrays: what a buffer holds per sample."""
        return max(math.prod(shape) for shape in self.shapes)

    @property
    def draws_into_buffer(self) -> bool:
        """Whether seeded input (NormalRows, float32) is drawn where the first layer reads it."""
        return self.compute_dtype == np.float32

    @property
    def buffer_bytes(self) -> int:
        return self.chunk * self.largest * self.compute_dtype.itemsize

    @property
    def weights_bytes(self) -> int:
        return self.model.total_params * self.compute_dtype.itemsize

    def touched_buffer_bytes(self) -> int:
        """What the two buffers hold once written: each as much as the largest output written
        into it (pages never written take no memory)."""
        sizes, current = [math.prod(self.model.spec.input_shape), 0], 0
        for layer in self.model.layers:
            if isinstance(layer.layer, Dense):  # writes into the other buffer
                current = 1 - current
                sizes[current] = max(sizes[current], math.prod(layer.output_features))
        return sum(sizes) * self.chunk * self.compute_dtype.itemsize

    def temporary_bytes(self) -> int:
        """The most the elementwise work holds at once besides the buffers: a block's temporaries."""
        itemsize = self.compute_dtype.itemsize
        per_element = STATS_TEMPORARY  # the output's statistics, always gathered
        for layer in self.model.layers:
            if isinstance(layer.layer, Dense | ActivationLayer):
                if layer.layer.activation.name not in functions.WITHOUT_TEMPORARIES:
                    per_element = max(
                        per_element, functions.temporary_bytes(layer.layer.activation, itemsize)
                    )
            elif isinstance(layer.layer, LayerNormalization):
                per_element = max(per_element, itemsize)
        elements = self.chunk * self.largest
        return per_element * min(elements, max(BLOCK_ELEMENTS, self.widest))

    def blas_bytes(self) -> int:
        """What OpenBLAS touches of its own buffer: the panels of a product it packs, up to its
        size (measured: 1 to 2.5 MiB for a 784 x 512 kernel on 4 rows, 8 MiB for large ones)."""
        itemsize, chunk = self.compute_dtype.itemsize, self.chunk
        panels = [
            (min(PRODUCT_ROWS, chunk * positions(layer.input_shape)) + layer.layer.units)
            * layer.input_shape[-1]
            * itemsize
            for layer in self.model.layers
            if isinstance(layer.layer, Dense)
        ]
        return min(BLAS_BUFFER, max(panels, default=0))

    def bytes_needed(
        self,
        source: WeightsSource,
        output_in_memory: bool = True,
        input_itemsize: int = 4,
        input_drawn: bool = False,
    ) -> dict[str, int]:
        """The memory the run will add at its peak, by part: the largest of producing the
        weights, casting them to the compute dtype, and the pass itself (buffers, the output,
        a chunk of input, temporaries, BLAS's workspace). A drawn input (`input_drawn`) is
        drawn into a buffer when it computes in float32 (NormalRows.fill)."""
        cast = 0 if source.same_dtype else max(source.total, self.weights_bytes) - self.weights_bytes
        cast += 0 if source.same_dtype else source.largest
        output_rows = self.rows if output_in_memory else self.chunk
        # A chunk's input is freed once copied in, before the layers' temporaries are made.
        chunk_input = self.chunk * math.prod(self.model.spec.input_shape) * input_itemsize
        if input_drawn and self.draws_into_buffer:
            chunk_input = 0
        the_pass = {
            "weights": self.weights_bytes,
            "buffers": self.touched_buffer_bytes() + self.blas_bytes(),
            "output": output_rows * math.prod(self.model.output_features) * self.dtype.itemsize,
            "input or temporaries": max(chunk_input, self.temporary_bytes()),
        }
        phases = [
            {"weights": source.total + source.transient},
            {"weights": self.weights_bytes + cast},
            the_pass,
        ]
        return max(phases, key=lambda parts: sum(parts.values()))


@dataclass(frozen=True)
class WeightsSource:
    """The weights as they arrive (drawn, or read from a file), before their cast to the
    compute dtype: what the memory estimate needs to know of them."""

    total: int  # bytes of every array
    largest: int  # bytes of the largest array, in the compute dtype
    same_dtype: bool  # already in the compute dtype: the cast copies nothing
    transient: int = 0  # what producing them holds besides (an initializer's temporaries)


def resident_bytes() -> int:
    """The process's resident memory now (Linux), or 0 if unknown."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def plan(model: Model, rows: int, dtype: type[np.floating] = np.float32, chunk: int | None = None) -> Plan:
    """Chunk so that each activation buffer stays near CHUNK_BYTES, unless `chunk` is given."""
    if chunk is None:
        one_row = Plan(model, np.dtype(dtype), rows, chunk=1).buffer_bytes
        chunk = max(1, CHUNK_BYTES // max(1, one_row))
    return Plan(model, np.dtype(dtype), rows, chunk=max(1, min(chunk, rows)))


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


def check_memory(needed: dict[str, int], what: str, available: int | None = None) -> None:
    """Refuse work that would not fit, before allocating, rather than be killed midway."""
    available = available_memory() if available is None else available
    total = sum(needed.values())
    if available is not None and total > available:
        parts = ", ".join(f"{part} {binary_size(size)}" for part, size in needed.items() if size)
        raise ResourceError(
            f"not enough memory for {what}: it needs {binary_size(total)} ({parts}) "
            f"and {binary_size(available)} is available"
        )


@dataclass(frozen=True)
class _Step:
    """One layer, ready to run: its arrays cast to the compute dtype and contiguous, and the
    length of its output's rows (its last axis)."""

    layer: Layer
    arrays: tuple[Array, ...]
    width: int
    adds_bias: bool = False  # a Dense whose bias changes its output (see _adds_bias)


def _prepare(model: Model, weights: Weights, dtype: np.dtype[np.floating]) -> list[_Step]:
    steps = []
    for built in model.layers:
        arrays = tuple(np.ascontiguousarray(weights[v.path], dtype=dtype) for v in built.variables)
        if isinstance(built.layer, BatchNormalization):
            gamma, beta, mean, variance = arrays
            # Keras: (x - mean) * (rsqrt(variance + eps) * gamma) + beta
            scale = (1 / np.sqrt(variance + dtype.type(built.layer.epsilon))) * gamma
            arrays = (mean, scale.astype(dtype), beta)
        steps.append(_Step(built.layer, arrays, built.output_features[-1], _adds_bias(built.layer, arrays)))
    return steps


def _adds_bias(layer: Layer, arrays: tuple[Array, ...]) -> bool:
    """Whether adding a Dense's bias changes what it gives. Keras's initial bias, every value
    +0.0, before a relu does not: it would only turn -0.0 into +0.0, which numpy's relu does
    too (its vector loops do; `_relu_clears_negative_zero` checks this machine's), so the pass
    over the output is skipped and the result is the same to the bit (another activation may
    keep a -0.0)."""
    if not isinstance(layer, Dense) or not layer.use_bias:
        return False
    bias = arrays[1]
    if layer.activation.name != "relu" or not _relu_clears_negative_zero(bias.dtype):
        return True
    return bool(bias.any()) or bool(np.signbit(bias).any())


@functools.cache
def _relu_clears_negative_zero(dtype: np.dtype[np.floating]) -> bool:
    """Whether numpy's relu gives +0.0 for -0.0 in `dtype`, in a vector loop's body and its tail
    alike (a scalar loop may keep the sign: float16's does)."""
    probe = np.full(4099, -0.0, dtype=dtype)
    return not np.signbit(functions.relu(probe)).any()


def _blocks(x: Array) -> Iterator[Array]:
    """Views of a few rows of the 2-D `x` at a time (whole rows: softmax and LN need them)."""
    rows = max(1, BLOCK_ELEMENTS // max(1, x.shape[-1]))
    for start in range(0, x.shape[0], rows):
        yield x[start : start + rows]


def _activate(layer: Dense | ActivationLayer, x: Array) -> None:
    if layer.activation.name in functions.WITHOUT_TEMPORARIES:  # one pass over the whole chunk
        functions.apply(layer.activation, x)
        return
    for block in _blocks(x):
        result = functions.apply(layer.activation, block)
        if result is not block:  # every function works in place; this keeps that true
            block[...] = result


# Each layer kind's forward function: (step, x, spare) -> output. A Dense writes its result
# into `spare` (the caller swaps the buffers); every other kind works on `x` in place.
def _dense(step: _Step, x: Array, spare: Array) -> Array:
    layer = step.layer
    assert isinstance(layer, Dense)
    kernel = step.arrays[0]
    out = spare[: x.shape[0] * kernel.shape[1]].reshape(x.shape[0], kernel.shape[1])
    for start in range(0, x.shape[0], PRODUCT_ROWS):  # OpenBLAS's workspace grows with the rows
        np.matmul(x[start : start + PRODUCT_ROWS], kernel, out=out[start : start + PRODUCT_ROWS])
    if not step.adds_bias:
        _activate(layer, out)
        return out
    bias = step.arrays[1]
    for block in _blocks(out):  # the bias, then the activation, while a block is in cache: one pass
        block += bias
        _activate(layer, block)
    return out


def _batch_normalization(step: _Step, x: Array, spare: Array) -> Array:
    mean, scale, beta = step.arrays
    x -= mean
    x *= scale
    x += beta
    return x


def _layer_normalization(step: _Step, x: Array, spare: Array) -> Array:
    assert isinstance(step.layer, LayerNormalization)
    gamma, beta = step.arrays
    epsilon = x.dtype.type(step.layer.epsilon)
    for block in _blocks(x):
        block -= block.mean(axis=-1, keepdims=True)
        variance = np.square(block).mean(axis=-1, keepdims=True)
        variance += epsilon
        block /= np.sqrt(variance)
        block *= gamma
        block += beta
    return x


def _activation(step: _Step, x: Array, spare: Array) -> Array:
    assert isinstance(step.layer, ActivationLayer)
    _activate(step.layer, x)
    return x


def _identity(step: _Step, x: Array, spare: Array) -> Array:
    return x  # Dropout at inference


def _flatten(step: _Step, x: Array, spare: Array) -> Array:
    # A chunk's rows are its samples' positions in order, so the same memory read as rows of
    # positions x features is Keras's channels_last Flatten: a view, nothing copied.
    return x.reshape(-1, step.width)


RUNS: dict[type[Layer], Callable[[_Step, Array, Array], Array]] = {
    Dense: _dense,
    BatchNormalization: _batch_normalization,
    LayerNormalization: _layer_normalization,
    ActivationLayer: _activation,
    Dropout: _identity,
    Flatten: _flatten,
}


def _shares(model: Model) -> list[float]:
    """How far through a chunk each layer's end is, by the MACs done (by layers when there are none)."""
    work = [layer.macs or 0 for layer in model.layers]
    total = sum(work)
    if not total:
        work, total = [1] * len(work), len(work)
    return [done / total for done in itertools.accumulate(work)]


def chunks(rows: int, chunk: int) -> Iterator[tuple[int, int]]:
    for start in range(0, rows, chunk):
        yield start, min(start + chunk, rows)


def _reads_in_place(inputs: object, steps: list[_Step], dtype: np.dtype[np.floating]) -> bool:
    """Whether the first layer can read each chunk of `inputs` where it is, with no copy: an
    array already in the compute dtype, its rows contiguous, read by a Dense (which writes its
    output elsewhere; a layer working in place would write into the input)."""
    return (
        isinstance(inputs, np.ndarray)
        and inputs.dtype == dtype
        and inputs.flags.c_contiguous
        and bool(steps)
        and isinstance(steps[0].layer, Dense)
    )


@dataclass(frozen=True)
class NormalRows:
    """Seeded standard-normal input, drawn chunk by chunk, in order (so any chunking gives
    the same numbers), in float32."""

    rng: np.random.Generator
    features: tuple[int, ...]

    def __call__(self, start: int, stop: int) -> NDArray[np.float32]:
        return self.rng.standard_normal((stop - start, *self.features), dtype=np.float32)

    def fill(self, out: NDArray[np.float32]) -> None:
        """The next len(out) rows, drawn where `out` is: the same numbers as __call__, without
        an array of their own beside the activation buffers."""
        self.rng.standard_normal(dtype=np.float32, out=out)


def forward(
    the_plan: Plan,
    weights: Weights,
    inputs: NDArray[Any] | Callable[[int, int], NDArray[Any]],
    out: NDArray[np.floating] | None = None,
    stats: list[Stats] | None = None,
    output_stats: Stats | None = None,
    after_chunk: Callable[[int, int], None] | None = None,
    after_layer: Callable[[float, int], None] | None = None,
) -> NDArray[np.floating]:
    """Run the model over every row of `inputs` (an array, a memory map, or a function
    giving rows [start, stop)), writing into `out` (allocated if None).

    `stats` gets one Stats per layer, `output_stats` the output's; `after_chunk` is called
    with (rows done, rows) once each chunk is written, `after_layer` with the rows done so
    far counting a chunk's layers by their share of the MACs (a progress display moves then).
    """
    model, dtype = the_plan.model, the_plan.compute_dtype
    out_features = model.output_features
    if out is None:
        out = np.empty((the_plan.rows, *out_features), dtype=the_plan.dtype)
    size = the_plan.chunk * the_plan.largest
    current, spare = np.empty(size, dtype=dtype), np.empty(size, dtype=dtype)
    first = model.spec.input_shape[-1]
    shares = _shares(model)
    # Overflow and 0/0 give Inf and NaN, as in Keras (a negative moving variance too); they are
    # counted and reported, not warned of.
    with np.errstate(all="ignore"):
        steps = _prepare(model, weights, dtype)
        in_place = _reads_in_place(inputs, steps, dtype)
        for start, stop in chunks(the_plan.rows, the_plan.chunk):
            if not callable(inputs):  # a file's next chunk: the system reads it while this one computes
                arrays.will_need(inputs, stop, stop + the_plan.chunk)
            vectors = (stop - start) * the_plan.positions
            if isinstance(inputs, NormalRows) and the_plan.draws_into_buffer:
                x = current[: vectors * first].reshape(vectors, first)
                inputs.fill(x.reshape((stop - start, *model.spec.input_shape)))
            elif in_place and not callable(inputs):
                x = np.reshape(inputs[start:stop], (vectors, first))
            else:
                block = inputs(start, stop) if callable(inputs) else inputs[start:stop]
                x = current[: vectors * first].reshape(vectors, first)
                np.copyto(x, np.reshape(block, (vectors, first)), casting="unsafe")
                del block  # a drawn chunk is freed now, not when the next one is drawn beside it
            for index, step in enumerate(steps):
                output = RUNS[type(step.layer)](step, x, spare)
                if np.may_share_memory(output, spare):  # a Dense wrote into the spare buffer: swap
                    current, spare = spare, current
                x = output
                if stats is not None:
                    stats[index].add(x)
                if after_layer is not None:
                    after_layer(start + (stop - start) * shares[index], the_plan.rows)
            written = out[start:stop]
            written[...] = x.reshape((stop - start, *out_features))
            if output_stats is not None:
                output_stats.add(written)
            if after_chunk is not None:
                after_chunk(stop, the_plan.rows)
    return out
