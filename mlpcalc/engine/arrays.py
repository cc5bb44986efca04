"""NumPy files: weights archives (.npz) and inputs and outputs (.npy), opened with care.

Inputs and outputs are memory-mapped, so that any size streams through; a file is told
apart by its first bytes, so that each bad one gets its own one-line reason.
"""

from __future__ import annotations

import math
import mmap
import os
import sys
import tokenize
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from mlpcalc.core import outputs
from mlpcalc.core.errors import FileError
from mlpcalc.core.model import Model
from mlpcalc.core.outputs import OutputKind
from mlpcalc.core.text import shown

ZIP_MAGIC, NPY_MAGIC, PICKLE_MAGIC = b"PK", b"\x93NUMPY", b"\x80"  # PK: any zip, empty ones too
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
Header = tuple[tuple[int, ...], np.dtype[Any]]  # an array's shape and dtype, read before its data


def file_kind(path: Path, wanted: str) -> str:
    """'npz' or 'npy', by the first bytes; a FileError naming what `path` is otherwise."""
    try:
        return _file_kind(path, wanted)
    except OSError as error:
        raise FileError(f"{shown(path)}: cannot be read: {error.strerror or error}") from None


def _file_kind(path: Path, wanted: str) -> str:
    if not path.exists():
        raise FileError(f"{shown(path)}: no such file")
    if path.is_dir():
        raise FileError(f"{shown(path)}: is a directory, not {wanted}")
    if not path.is_file():
        raise FileError(f"{shown(path)}: is not a regular file, not {wanted}")
    with path.open("rb") as file:
        head = file.read(6)
    if not head:
        raise FileError(f"{shown(path)}: the file is empty")
    if head.startswith(ZIP_MAGIC):
        if not zipfile.is_zipfile(path):
            raise FileError(
                f"{shown(path)}: a damaged or truncated .npz archive (it starts as a zip archive, "
                "but its directory is missing: it is not a whole zip)"
            )
        return "npz"
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(PICKLE_MAGIC):
        raise FileError(f"{shown(path)}: holds pickled data, which mlpcalc never loads")
    raise FileError(f"{shown(path)}: is not {wanted} (it does not start as one)")


def _header(file: IO[bytes], where: str) -> Header:
    """The shape and dtype in a .npy header (no data read); a FileError saying what is wrong."""
    try:
        version = np.lib.format.read_magic(file)
        if version not in HEADER_READERS:
            raise FileError(
                f"{where}: a .npy of format {version[0]}.{version[1]}, which holds no plain numbers"
            )
        shape, _fortran_order, dtype = HEADER_READERS[version](file)
    except (ValueError, SyntaxError, tokenize.TokenError) as error:  # numpy parses the header as Python
        if "max_header_size" in str(error):
            raise FileError(
                f"{where}: its .npy header is longer than numpy reads safely (10,000 bytes): not an array "
                "mlpcalc wrote or will read"
            ) from None
        raise FileError(f"{where}: a damaged .npy header ({error})") from None
    if dtype.hasobject:
        raise FileError(f"{where}: holds Python objects (dtype {dtype}), which mlpcalc never loads")
    return tuple(shape), dtype


def npz_headers(path: Path) -> dict[str, Header]:
    """Each array's name, shape and dtype in a `.npz` archive, from the zip directory and the
    arrays' headers alone: nothing is loaded, however large (or compressed) a member is."""
    wanted = "an .npz archive of weights"
    if file_kind(path, wanted) == "npy":
        raise FileError(f"{shown(path)}: holds a single array (.npy), not {wanted}")
    headers: dict[str, Header] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                name = member.filename.removesuffix(".npy")
                with archive.open(member) as file:
                    headers[name] = _header(file, f"{shown(path)}: {shown(name)}")
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as error:
        raise FileError(f"{shown(path)}: a damaged or truncated .npz archive ({error})") from None
    return headers


def npz_arrays(path: Path, names: Iterable[str]) -> dict[str, np.ndarray]:
    """The arrays `names` of a `.npz` archive (whose headers npz_headers checked). Never unpickles."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in names}
    except Exception as error:  # zipfile, zlib, struct and numpy's errors: all damage found late
        raise FileError(
            f"{shown(path)}: a damaged or truncated .npz archive ({type(error).__name__})"
        ) from None


def read_input(path: Path, model: Model) -> np.memmap:
    """A `.npy` of shape (N, *input features), memory-mapped (read chunk by chunk, never whole)."""
    wanted = "a .npy array of inputs"
    if file_kind(path, wanted) == "npz":
        raise FileError(f"{shown(path)}: an .npz archive, where {wanted} is expected")
    try:
        with path.open("rb") as file:
            shape, dtype = _header(file, shown(path))
            data_bytes = os.fstat(file.fileno()).st_size - file.tell()
    except OSError as error:
        raise FileError(f"{shown(path)}: cannot be read: {error.strerror or error}") from None
    features = model.spec.input_shape
    if len(shape) == 1 + len(features) and shape[0] == 0:
        raise FileError(f"{shown(path)}: holds no rows, shape {shape}")
    if len(shape) != 1 + len(features) or tuple(shape[1:]) != features:
        expected = "(N, " + ", ".join(map(str, features)) + ")"
        raise FileError(f"{shown(path)}: the model takes inputs of shape {expected}, received {shape}")
    if dtype.kind not in "fiub":
        raise FileError(f"{shown(path)}: expected numbers, received dtype {dtype}")
    # Counted in Python's integers before numpy maps the file: numpy's own count overflows
    # int64, with a RuntimeWarning, for a header such as shape (2**62, 1).
    promised = math.prod(shape) * dtype.itemsize
    if promised > data_bytes:
        raise FileError(
            f"{shown(path)}: truncated: its header promises {promised:,} bytes of data "
            f"(shape {shape}, {dtype}), the file holds {max(data_bytes, 0):,}"
        )
    try:
        array: np.memmap = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        raise FileError(f"{shown(path)}: truncated or damaged: {error}") from None
    except (OSError, EOFError) as error:
        raise FileError(f"{shown(path)}: cannot be read as .npy: {error}") from None
    return array


# What mlpcalc writes, by kind: an existing file of another kind is kept unless forced.
KINDS = {"npy": OutputKind("a .npy array", (NPY_MAGIC,)), "npz": OutputKind("an .npz archive", (ZIP_MAGIC,))}


def output_target(path: Path, kind: str, inputs: Sequence[Path | None] = (), force: bool = False) -> Path:
    """The file that writing `path` (an .npy or .npz) replaces: core/outputs.py's rules."""
    return outputs.output_target(path, KINDS[kind], inputs, force)


def open_output(path: Path, shape: tuple[int, ...], dtype: np.dtype[np.floating]) -> np.memmap:
    """A new `.npy` mapped into memory, filled chunk by chunk as the forward pass goes."""
    try:
        mapped: np.memmap = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
        if hasattr(os, "posix_fallocate"):  # reserve the blocks now: a disk that fills later
            with path.open("rb+") as file:  # would kill a memory map with SIGBUS, mid-run
                os.posix_fallocate(file.fileno(), 0, path.stat().st_size)
        return mapped
    except (OSError, ValueError) as error:
        raise FileError(f"cannot write {shown(path)}: {getattr(error, 'strerror', None) or error}") from None


def will_need(array: NDArray[np.generic] | object, start: int, stop: int) -> None:
    """Ask the system to read rows [start, stop) of a memory-mapped array ahead (MADV_WILLNEED):
    it reads the file while the caller computes on the rows before, and a pass streams at the
    pace of the slower of the two, not of their sum. Anything but a mapped array: nothing."""
    mapping = getattr(array, "_mmap", None)
    if mapping is None or not hasattr(mmap, "MADV_WILLNEED") or not isinstance(array, np.ndarray):
        return
    stop = min(stop, len(array))
    if stop <= start or not array.flags.c_contiguous:
        return
    offset_in_mapping = getattr(array, "offset", 0) % mmap.ALLOCATIONGRANULARITY
    first = offset_in_mapping + start * array.strides[0]
    begin = first - first % mmap.PAGESIZE
    mapping.madvise(mmap.MADV_WILLNEED, begin, offset_in_mapping + stop * array.strides[0] - begin)


def release(array: NDArray[np.generic], start: int, stop: int) -> None:
    """Hand rows [start, stop) of a memory-mapped array back to the system, once they are done.

    A mapping keeps every page it has touched resident, so a 3 GB input would end up counted
    whole in memory; dropping each chunk's pages keeps what the process holds to a chunk. The
    pages are read again from the file if ever needed; an output's written pages stay in the
    system's page cache, to be written by it (elsewhere than Linux, written out first).
    """
    mapping = getattr(array, "_mmap", None)  # np.memmap's mmap object
    if mapping is None or not hasattr(mmap, "MADV_DONTNEED") or stop <= start:
        return
    if not array.flags.c_contiguous:  # rows are not contiguous bytes: leave the pages alone
        return
    offset_in_mapping = getattr(array, "offset", 0) % mmap.ALLOCATIONGRANULARITY
    first = offset_in_mapping + start * array.strides[0]
    last = offset_in_mapping + stop * array.strides[0]
    begin = first - first % mmap.PAGESIZE
    if array.flags.writeable and not sys.platform.startswith("linux"):
        # Linux keeps the dropped pages of a shared mapping, written, in its page cache and
        # writes them out itself (the output is flushed whole at the end); elsewhere the
        # system might drop what was written, so it is written out first.
        mapping.flush(begin, last - begin)
    mapping.madvise(mmap.MADV_DONTNEED, begin, last - begin)
