"""Inputs and outputs as `.npy` files, memory-mapped so that any size streams through."""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mlpcalc.errors import FileError
from mlpcalc.model import Model


def read_input(path: Path, model: Model) -> np.memmap | NDArray[np.generic]:
    """A `.npy` of shape (N, *input features), memory-mapped (read chunk by chunk, never whole)."""
    if not path.is_file():
        raise FileError(f"{path}: {'is a directory' if path.is_dir() else 'no such file'}, not an input .npy")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        reason = "holds pickled data, which mlpcalc never loads" if "pickle" in str(error) else str(error)
        raise FileError(f"{path}: {reason}") from None
    except (OSError, EOFError) as error:
        raise FileError(f"{path}: cannot be read as .npy: {error}") from None
    if not isinstance(array, np.ndarray):  # np.load gives an NpzFile for a .npz
        raise FileError(f"{path}: an .npz archive; --input takes a single array (.npy)")
    features = model.spec.input_shape
    if array.ndim != 1 + len(features) or tuple(array.shape[1:]) != features or array.shape[0] == 0:
        expected = "(N, " + ", ".join(map(str, features)) + ")"
        raise FileError(f"{path}: the model takes inputs of shape {expected}, received {array.shape}")
    if array.dtype.kind not in "fiub":
        raise FileError(f"{path}: expected numbers, received dtype {array.dtype}")
    return array


def open_output(path: Path, shape: tuple[int, ...], dtype: np.dtype[np.floating]) -> np.memmap:
    """A new `.npy` file mapped into memory, filled chunk by chunk as the forward pass goes."""
    try:
        return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    except OSError as error:
        raise FileError(f"cannot write {path}: {error.strerror or error}") from None


def release(array: np.ndarray, start: int, stop: int) -> None:
    """Hand rows [start, stop) of a memory-mapped array back to the system, once they are done.

    A mapping keeps every page it has touched resident, so a 3 GB input would end up counted
    whole in memory; dropping each chunk's pages (after writing them out, for an output) keeps
    what the process holds to a chunk. The pages are read again from the file if ever needed.
    """
    mapping = getattr(array, "_mmap", None)  # np.memmap's mmap object
    if mapping is None or not hasattr(mmap, "MADV_DONTNEED") or stop <= start:
        return
    offset_in_mapping = getattr(array, "offset", 0) % mmap.ALLOCATIONGRANULARITY
    first = offset_in_mapping + start * array.strides[0]
    last = offset_in_mapping + stop * array.strides[0]
    begin = first - first % mmap.PAGESIZE
    if array.flags.writeable:
        mapping.flush(begin, last - begin)
    mapping.madvise(mmap.MADV_DONTNEED, begin, last - begin)
