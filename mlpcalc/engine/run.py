"""Whole runs, as the commands ask for them: weights, input, the pass, files, timing."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mlpcalc.core.dtypes import DEFAULT_DTYPE
from mlpcalc.core.model import Model
from mlpcalc.core.outputs import written_atomically
from mlpcalc.engine import arrays
from mlpcalc.engine.arrays import npz_headers
from mlpcalc.engine.forward import (
    NormalRows,
    Plan,
    Stats,
    WeightsSource,
    check_memory,
    forward,
    plan,
    resident_bytes,
)
from mlpcalc.engine.initializers import TEMPORARIES as INIT_TEMPORARIES
from mlpcalc.engine.names import DEFAULT_INITIALIZER
from mlpcalc.engine.weights import Weights, generators, in_dtype, init_weights, load_weights, save_weights

DEFAULT_ROWS = 4


@dataclass(frozen=True)
class Run:
    """Everything a forward run did, for the renderers."""

    model: Model
    output: NDArray[np.floating]
    dtype: str
    seed: int | None  # None when nothing was drawn: weights and input both came from files
    init: str | None  # the kernel initializer, or None when the weights came from a file
    weights_path: str | None
    input_path: str | None  # None for seeded standard-normal input
    output_path: str | None
    chunk: int
    init_seconds: float
    forward_seconds: float
    output_stats: Stats
    layer_stats: list[Stats] | None
    estimated_peak_bytes: int  # the process's resident memory at its peak, as estimated before the run

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (len(self.output), *self.model.spec.input_shape)


def _rows(count: int) -> str:
    return f"{count:,} row" + ("s" if count != 1 else "")


@dataclass
class ChunkDone:
    """After each chunk: hand the finished rows of memory-mapped files back to the system,
    then report progress."""

    mapped: tuple[NDArray[np.floating] | np.memmap, ...]
    progress: Callable[[float, int], None] | None
    done: int = 0  # rows handed back so far

    def __call__(self, rows_done: int, rows_total: int) -> None:
        for array in self.mapped:
            arrays.release(array, self.done, rows_done)
        self.done = rows_done
        if self.progress is not None:
            self.progress(rows_done, rows_total)


def run_forward(
    model: Model,
    *,
    seed: int = 0,
    init: str = DEFAULT_INITIALIZER,
    weights_path: Path | None = None,
    weights_from_model_file: tuple[Weights, Path] | None = None,
    rows: int | None = None,
    input_path: Path | None = None,
    dtype: str = DEFAULT_DTYPE,
    output_path: Path | None = None,
    chunk: int | None = None,
    stats: bool = False,
    progress: Callable[[float, int], None] | None = None,
    force: bool = False,
) -> Run:
    """Weights from `weights_path` (an .npz), a model file's (already read: the arrays and the
    file), or `init`; rows from `input_path` or a seeded normal draw; the pass in chunks; the
    output in memory or streamed into `output_path` (an existing file there that is not a .npy
    array is kept unless `force`; an input is never overwritten)."""
    given, model_file = weights_from_model_file or (None, None)
    weights_path = weights_path or model_file
    if output_path is not None:  # refused before any work
        arrays.output_target(output_path, "npy", (input_path, weights_path), force)
    inputs = arrays.read_input(input_path, model) if input_path is not None else None
    rows = len(inputs) if inputs is not None else rows or DEFAULT_ROWS
    the_plan = plan(model, rows, getattr(np, dtype), chunk)
    needed = the_plan.bytes_needed(
        weights_source(model, weights_path, init, the_plan.compute_dtype, given),
        output_in_memory=output_path is None,
        input_itemsize=inputs.dtype.itemsize if inputs is not None else np.dtype(np.float32).itemsize,
        input_drawn=inputs is None,
    )
    estimated_peak = resident_bytes() + sum(needed.values())
    check_memory(needed, f"a forward pass of {_rows(rows)}")
    weights_rng, input_rng = generators(seed)
    started = time.perf_counter()
    if given is not None:
        arrived = dict(given)
    elif weights_path is not None:
        arrived = load_weights(weights_path, model)
    else:
        arrived = init_weights(model, weights_rng, init)
    weights = in_dtype(arrived, the_plan.compute_dtype)  # empties `arrived` as it goes
    initialised = time.perf_counter()
    if progress is not None:
        progress(0, rows)  # the weights are ready: the pass starts
    layer_stats = [Stats() for _ in model.layers] if stats else None
    output_stats = Stats()  # of the output as stored (float16 may overflow where float32 did not)
    source = NormalRows(input_rng, model.spec.input_shape) if inputs is None else inputs

    def run(out: NDArray[np.floating] | None) -> NDArray[np.floating]:
        mapped = tuple(array for array in (inputs, out) if array is not None)
        return forward(
            the_plan,
            weights,
            source,
            out=out,
            stats=layer_stats,
            output_stats=output_stats,
            after_chunk=ChunkDone(mapped, progress),
            after_layer=progress,
        )

    if output_path is None:
        output = run(None)
    else:
        output = _streamed(output_path, (input_path, weights_path), force, the_plan, run)
    finished = time.perf_counter()
    return Run(
        model=model,
        output=output,
        dtype=dtype,
        seed=None if weights_path and input_path else seed,
        init=None if weights_path else init,
        weights_path=str(weights_path) if weights_path else None,
        input_path=str(input_path) if input_path else None,
        output_path=str(output_path) if output_path else None,
        chunk=the_plan.chunk,
        init_seconds=initialised - started,
        forward_seconds=finished - initialised,
        output_stats=output_stats,
        layer_stats=layer_stats,
        estimated_peak_bytes=estimated_peak,
    )


def weights_source(
    model: Model,
    weights_path: Path | None,
    init: str,
    dtype: np.dtype[np.floating],
    given: Weights | None = None,
) -> WeightsSource:
    """What the weights take as they arrive: arrays already read, a file's arrays (from its
    headers), or float32 draws and the initializer's temporaries."""
    if given is not None:
        largest = max((array.size for array in given.values()), default=0) * dtype.itemsize
        same = all(array.dtype == dtype for array in given.values())
        return WeightsSource(0, largest, same)  # read already: the resident bytes hold them
    if weights_path is not None:
        headers = npz_headers(weights_path).values()
        sizes = [math.prod(shape) * array_dtype.itemsize for shape, array_dtype in headers]
        largest = max((math.prod(shape) for shape, _ in headers), default=0) * dtype.itemsize
        same = all(array_dtype == dtype for _, array_dtype in headers)
        return WeightsSource(sum(sizes), largest, same)
    counts = [variable.count for variable in model.variables]
    kernel = max((v.count for v in model.variables if v.name == "kernel"), default=0)
    drawn = np.dtype(np.float32)
    return WeightsSource(
        sum(counts) * drawn.itemsize,
        max(counts, default=0) * dtype.itemsize,
        same_dtype=dtype == drawn,
        transient=kernel * INIT_TEMPORARIES.get(init, 0),
    )


def _streamed(
    path: Path,
    inputs: tuple[Path | None, ...],
    force: bool,
    the_plan: Plan,
    run: Callable[[NDArray[np.floating]], NDArray[np.floating]],
) -> NDArray[np.floating]:
    """Run into a memory-mapped .npy written atomically at `path`; the result, mapped again."""
    shape = (the_plan.rows, *the_plan.model.output_features)
    size = math.prod(shape) * the_plan.dtype.itemsize + 4096
    target = arrays.output_target(path, "npy", inputs, force)
    with written_atomically(target, size) as temporary:
        mapped = arrays.open_output(temporary, shape, the_plan.dtype)
        run(mapped)
        mapped.flush()
        del mapped
    loaded: NDArray[np.floating] = np.load(target, mmap_mode="r")
    return loaded


def run_init(
    model: Model, path: Path, *, seed: int = 0, init: str = DEFAULT_INITIALIZER, force: bool = False
) -> None:
    """Write `model`'s initial weights to `path`, refusing first what memory cannot hold."""
    check_memory({"weights": model.params_bytes}, "the weights")
    weights_rng, _ = generators(seed)
    arrays.output_target(path, "npz", force=force)  # refused before the weights are drawn
    save_weights(path, init_weights(model, weights_rng, init), force)
