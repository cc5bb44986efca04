"""A whole forward run, as the `forward` command asks for it: weights, input, pass, timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mlpcalc.engine import arrays
from mlpcalc.engine.forward import Stats, check_memory, forward, plan
from mlpcalc.engine.initializers import Init
from mlpcalc.engine.weights import generators, init_weights, load_weights
from mlpcalc.model import Model

DEFAULT_ROWS = 4


@dataclass(frozen=True)
class Run:
    """Everything a forward run did, for the renderers."""

    model: Model
    output: NDArray[np.floating]
    dtype: str
    seed: int
    init: str | None  # the kernel initializer, or None when the weights came from a file
    weights_path: str | None
    input_path: str | None  # None for seeded standard-normal input
    output_path: str | None
    chunk: int
    init_seconds: float
    forward_seconds: float
    output_stats: Stats
    layer_stats: list[Stats] | None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (len(self.output), *self.model.spec.input_shape)


def run_forward(
    model: Model,
    *,
    seed: int = 0,
    init: Init = Init.glorot_uniform,
    weights_path: Path | None = None,
    rows: int | None = None,
    input_path: Path | None = None,
    dtype: str = "float32",
    output_path: Path | None = None,
    chunk: int | None = None,
    stats: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Weights from `weights_path` or `init`, rows from `input_path` or a seeded normal draw,
    the pass in chunks, the output in memory or streamed into `output_path`."""
    inputs = arrays.read_input(input_path, model) if input_path is not None else None
    rows = len(inputs) if inputs is not None else rows or DEFAULT_ROWS
    the_plan = plan(model, rows, getattr(np, dtype), chunk)
    check_memory(
        the_plan.bytes_needed(input_in_memory=False, output_in_memory=output_path is None),
        f"a forward pass of {rows:,} rows",
    )
    weights_rng, input_rng = generators(seed)
    started = time.perf_counter()
    weights = load_weights(weights_path, model) if weights_path else init_weights(model, weights_rng, init)
    initialised = time.perf_counter()

    def random_rows(start: int, stop: int) -> NDArray[np.float32]:  # drawn chunk by chunk, in order
        return input_rng.standard_normal((stop - start, *model.spec.input_shape), dtype=np.float32)

    out = (
        arrays.open_output(output_path, (rows, *model.output_features), the_plan.dtype)
        if output_path
        else None
    )
    layer_stats = [Stats() for _ in model.layers] if stats else None
    done = 0

    def after_chunk(rows_done: int, rows_total: int) -> None:
        nonlocal done
        for mapped in (inputs, out):
            if mapped is not None:
                arrays.release(mapped, done, rows_done)
        done = rows_done
        if progress is not None:
            progress(rows_done, rows_total)

    source = random_rows if inputs is None else inputs
    output = forward(the_plan, weights, source, out=out, stats=layer_stats, progress=after_chunk)
    finished = time.perf_counter()
    if out is not None:
        out.flush()
    if layer_stats:
        output_stats = layer_stats[-1]
    else:
        output_stats = Stats()
        output_stats.add(output)
    return Run(
        model=model,
        output=output,
        dtype=dtype,
        seed=seed,
        init=None if weights_path else init.value,
        weights_path=str(weights_path) if weights_path else None,
        input_path=str(input_path) if input_path else None,
        output_path=str(output_path) if output_path else None,
        chunk=the_plan.chunk,
        init_seconds=initialised - started,
        forward_seconds=finished - initialised,
        output_stats=output_stats,
        layer_stats=layer_stats,
    )
