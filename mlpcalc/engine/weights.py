"""Weights for a Model: initialised as Keras does, saved and loaded as `.npz` files.

A file holds one array per variable, named as `mlpcalc variables` names it
(`dense/kernel` of shape (in, units), `dense/bias`, `batch_normalization/gamma`, ...):
the layout of Keras's `layer.get_weights()`, so the same arrays load into Keras.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mlpcalc.core.errors import FileError, WeightsError
from mlpcalc.core.model import Model
from mlpcalc.core.outputs import written_atomically
from mlpcalc.core.text import shown
from mlpcalc.engine.arrays import npz_arrays, npz_headers, output_target
from mlpcalc.engine.initializers import CONSTANT_STARTS, INITIALIZERS
from mlpcalc.engine.names import DEFAULT_INITIALIZER

Weights = dict[str, NDArray[np.floating]]
FLOAT_KINDS = (np.float16, np.float32, np.float64)


def generators(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent streams for the weights and for the input: the same seed, the same
    numbers on every run and machine (PCG64 is platform independent)."""
    weights_seed, input_seed = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(weights_seed), np.random.default_rng(input_seed)


def init_weights(model: Model, rng: np.random.Generator, init: str = DEFAULT_INITIALIZER) -> Weights:
    """Every variable of `model`, in layer order: kernels from `init`, the rest as Keras starts them."""
    weights: Weights = {}
    for variable in model.variables:
        if variable.name == "kernel":
            weights[variable.path] = INITIALIZERS[init](rng, variable.shape)
        else:
            weights[variable.path] = np.full(variable.shape, CONSTANT_STARTS[variable.name], dtype=np.float32)
    return weights


def save_weights(path: Path, weights: Weights, force: bool = False) -> None:
    """Write an uncompressed `.npz` at exactly `path` (np.savez alone would append `.npz`);
    an existing file that is not an .npz archive is kept unless `force`."""
    size = sum(array.nbytes for array in weights.values()) + 4096 * (len(weights) + 1)
    target = output_target(path, "npz", force=force)
    with written_atomically(target, size) as temporary, temporary.open("wb") as file:
        np.savez(file, **weights)  # type: ignore[arg-type]  # numpy's stub misreads **kwds


def load_weights(path: Path, model: Model) -> Weights:
    """Read `path` and check it against `model`: every problem is reported at once, from the
    archive's directory and headers, before any array is loaded."""
    try:
        headers = npz_headers(path)
    except FileError as error:
        raise WeightsError(str(error)) from None
    problems: list[str] = []
    expected = {variable.path: variable for variable in model.variables}
    for key, variable in expected.items():
        where = f"{key} (layer {variable.layer})"
        if key not in headers:
            problems.append(f"missing {where}: expected shape {variable.shape}")
            continue
        shape, dtype = headers[key]
        wrong = []
        if shape != variable.shape:
            wrong.append(f"expected shape {variable.shape}, received {shape}")
        if dtype.type not in FLOAT_KINDS:
            wrong.append(f"expected float16, float32 or float64, received {dtype}")
        if wrong:
            problems.append(f"{where}: " + "; ".join(wrong))
    problems += [
        f"unexpected {shown(key)}: the model has no such variable" for key in headers if key not in expected
    ]
    if problems:
        listing = "\n".join(f"  {problem}" for problem in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        raise WeightsError(f"{shown(path)} does not fit {model.spec} ({count}):\n{listing}")
    try:
        return npz_arrays(path, expected)
    except FileError as error:
        raise WeightsError(str(error)) from None


def weights_file_bytes(path: Path) -> int:
    """What loading the weights file at `path` will hold in memory: each array's bytes."""
    return sum(math.prod(shape) * dtype.itemsize for shape, dtype in npz_headers(path).values())


def in_dtype(weights: Weights, dtype: np.dtype[np.floating]) -> Weights:
    """`weights` cast to `dtype`, each contiguous; the given dict is emptied as it goes, so
    that each source array is freed once cast and memory never holds two copies of all."""
    cast: Weights = {}
    for key in list(weights):
        cast[key] = np.ascontiguousarray(weights.pop(key), dtype=dtype)
    return cast
