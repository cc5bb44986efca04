"""Weights for a Model: initialised as Keras does, saved and loaded as `.npz` files.

A file holds one array per variable, named as `mlpcalc variables` names it
(`dense/kernel` of shape (in, units), `dense/bias`, `batch_normalization/gamma`, ...):
the layout of Keras's `layer.get_weights()`, so the same arrays load into Keras.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mlpcalc.engine.initializers import CONSTANT_STARTS, INITIALIZERS, Init
from mlpcalc.errors import WeightsError
from mlpcalc.model import Model

Weights = dict[str, NDArray[np.floating]]
FLOAT_KINDS = (np.float16, np.float32, np.float64)


def generators(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent streams for the weights and for the input: the same seed, the same
    numbers on every run and machine (PCG64 is platform independent)."""
    weights_seed, input_seed = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(weights_seed), np.random.default_rng(input_seed)


def init_weights(model: Model, rng: np.random.Generator, init: Init = Init.glorot_uniform) -> Weights:
    """Every variable of `model`, in layer order: kernels from `init`, the rest as Keras starts them."""
    weights: Weights = {}
    for variable in model.variables:
        if variable.name == "kernel":
            weights[variable.path] = INITIALIZERS[init](rng, variable.shape)
        else:
            weights[variable.path] = np.full(variable.shape, CONSTANT_STARTS[variable.name], dtype=np.float32)
    return weights


def save_weights(path: Path, weights: Weights) -> None:
    """Write an uncompressed `.npz`, at exactly `path` (np.savez would append `.npz`)."""
    try:
        with path.open("wb") as file:
            np.savez(file, **weights)  # type: ignore[arg-type]  # numpy's stub misreads **kwds
    except OSError as error:
        raise WeightsError(f"cannot write {path}: {error.strerror or error}") from None


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a `.npz` file, or a WeightsError with a one-line reason. Never unpickles."""
    if not path.exists():
        raise WeightsError(f"{path}: no such file")
    if path.is_dir():
        raise WeightsError(f"{path}: is a directory, not a weights file")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path}: the file is empty")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise WeightsError(f"{path}: holds a single array (.npy), not an .npz archive of weights")
        with loaded:
            return {key: loaded[key] for key in loaded.files}
    except zipfile.BadZipFile:
        raise WeightsError(f"{path}: not an .npz archive (not a zip file, or a truncated one)") from None
    except ValueError as error:
        if "pickle" in str(error):
            raise WeightsError(f"{path}: holds pickled data, which mlpcalc never loads") from None
        raise WeightsError(f"{path}: cannot be read: {error}") from None
    except (OSError, EOFError) as error:
        raise WeightsError(f"{path}: cannot be read: {error}") from None


def load_weights(path: Path, model: Model) -> Weights:
    """Read `path` and check it against `model`: every problem is reported at once."""
    arrays = read_npz(path)
    problems: list[str] = []
    weights: Weights = {}
    expected = {variable.path: variable for variable in model.variables}
    for key, variable in expected.items():
        where = f"{key} (layer {variable.layer})"
        if key not in arrays:
            problems.append(f"missing {where}: expected shape {variable.shape}")
            continue
        array = arrays[key]
        if array.shape != variable.shape:
            problems.append(f"{where}: expected shape {variable.shape}, received {array.shape}")
        elif array.dtype.type not in FLOAT_KINDS:
            problems.append(f"{where}: expected float16, float32 or float64, received {array.dtype}")
        else:
            weights[key] = array
    problems += [f"unexpected {key}: the model has no such variable" for key in arrays if key not in expected]
    if problems:
        listing = "\n".join(f"  {problem}" for problem in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        raise WeightsError(f"{path} does not fit {model.spec} ({count}):\n{listing}")
    return weights
