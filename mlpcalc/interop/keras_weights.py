"""The weights in a `.keras` archive (its `model.weights.h5`), read and written with h5py.

Keras 3 stores a Sequential's variables at `layers/<name>/vars/<i>`, where <name> is the
layer's class in snake case, counted as a model attribute is (dense, dense_1, ...: not the
layer's own name, which may be anything), and <i> the variable's place in layer.weights:
kernel, bias; gamma, beta, moving_mean, moving_variance. h5py is the optional extra
`mlpcalc[keras]`: imported only when weights are read or written.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from mlpcalc.core.errors import FileError, WeightsError
from mlpcalc.core.model import Model, automatic_names
from mlpcalc.core.text import binary_size, shown
from mlpcalc.engine.weights import FLOAT_KINDS, Weights
from mlpcalc.interop.keras_config import CONFIG_NAME, keras_config
from mlpcalc.version import __version__

WEIGHTS_NAME = "model.weights.h5"
METADATA_NAME = "metadata.json"
KERAS_VERSION = "3.5.0"  # the oldest Keras whose files the tests read: what the archive claims to be
H5_OVERHEAD = 2**20  # an h5 file's own structures, beyond its arrays' bytes (a few KiB a layer)
EXTRA = "pip install 'mlpcalc[keras]'"


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise FileError(f"the weights of a .keras archive are HDF5, which needs h5py: {EXTRA}") from None
    return h5py


def archive_weights(path: Path, model: Model) -> Weights:
    """The weights in the `.keras` archive at `path`, keyed as `mlpcalc variables` names them,
    each checked against `model` (shape, float dtype): every problem reported at once."""
    h5py = _h5py()
    where = shown(path)
    expected_bytes = sum(v.count for v in model.variables) * np.dtype(np.float64).itemsize
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                member = archive.getinfo(WEIGHTS_NAME)
            except KeyError:
                raise WeightsError(f"{where}: the archive holds no {WEIGHTS_NAME}") from None
            if member.file_size > expected_bytes + H5_OVERHEAD:  # a zip bomb stops here
                raise WeightsError(
                    f"{where}: its {WEIGHTS_NAME} is {binary_size(member.file_size)}, more than the "
                    f"model's {model.total_params:,} parameters take"
                )
            data = archive.read(member)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as error:
        raise WeightsError(f"{where}: a damaged .keras archive ({error})") from None
    except OSError as error:
        raise WeightsError(f"{where}: cannot be read: {error.strerror or error}") from None
    try:
        with h5py.File(io.BytesIO(data), "r") as file:
            return _read(file, model, where)
    except OSError as error:  # h5py's word for a file that is not HDF5
        raise WeightsError(f"{where}: its {WEIGHTS_NAME} is not an HDF5 file ({error})") from None


def _read(file: Any, model: Model, where: str) -> Weights:
    h5py = _h5py()
    weights: Weights = {}
    problems: list[str] = []
    for stored, layer in zip(automatic_names(model.spec), model.layers, strict=True):
        for index, variable in enumerate(layer.variables):
            key = f"layers/{stored}/vars/{index}"
            dataset = file.get(key)
            if not isinstance(dataset, h5py.Dataset):
                problems.append(f"missing {key} ({variable.path}): expected shape {variable.shape}")
                continue
            wrong = []
            if tuple(dataset.shape) != variable.shape:
                wrong.append(f"expected shape {variable.shape}, received {tuple(dataset.shape)}")
            if dataset.dtype.type not in FLOAT_KINDS:
                wrong.append(f"expected float16, float32 or float64, received {dataset.dtype}")
            if wrong:
                problems.append(f"{key} ({variable.path}): " + "; ".join(wrong))
                continue
            weights[variable.path] = np.asarray(dataset[()])
        extra = file.get(f"layers/{stored}/vars")
        if extra is not None and len(extra) > len(layer.variables):
            problems.append(
                f"layers/{stored}/vars holds {len(extra)} variables, where layer {layer.name} has "
                f"{len(layer.variables)}"
            )
    if problems:
        listing = "\n".join(f"  {problem}" for problem in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        raise WeightsError(f"{where}: its weights do not fit {model.spec} ({count}):\n{listing}")
    return weights


def keras_archive_bytes(model: Model, weights: Weights) -> bytes:
    """A `.keras` archive of `model` with `weights` that `keras.saving.load_model` loads."""
    h5py = _h5py()
    config = json.dumps(keras_config(model))
    metadata = json.dumps(
        {
            "keras_version": KERAS_VERSION,
            "date_saved": datetime.now(UTC).strftime("%Y-%m-%d@%H:%M:%S"),
            "mlpcalc_version": __version__,
        }
    )
    h5 = io.BytesIO()
    with h5py.File(h5, "w") as file:
        layers = file.create_group("layers")
        for stored, layer in zip(automatic_names(model.spec), model.layers, strict=True):
            group = layers.create_group(stored).create_group("vars")
            group.attrs["name"] = layer.name
            for index, variable in enumerate(layer.variables):
                group.create_dataset(str(index), data=np.asarray(weights[variable.path], dtype=np.float32))
        file.create_group("vars").attrs["name"] = model.name
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        out.writestr(METADATA_NAME, metadata)
        out.writestr(CONFIG_NAME, config)
        out.writestr(WEIGHTS_NAME, h5.getvalue())
    return archive.getvalue()
