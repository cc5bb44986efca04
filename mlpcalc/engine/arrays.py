"""NumPy files: weights archives (.npz) and inputs and outputs (.npy), opened with care.

Inputs and outputs are memory-mapped, so that any size streams through; a file is told
apart by its first bytes, so that each bad one gets its own one-line reason.
"""

from __future__ import annotations

import math
import mmap
import os
import shutil
import stat
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from mlpcalc.core.errors import FileError
from mlpcalc.core.model import Model
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


KINDS = {"npy": "a .npy array", "npz": "an .npz archive"}  # what mlpcalc writes, by kind


def _first_bytes(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(len(NPY_MAGIC))


def output_target(path: Path, kind: str, inputs: Sequence[Path | None] = (), force: bool = False) -> Path:
    """The file that writing `path` replaces: a link's target (links are written through,
    never replaced). Refused: an input of the same run, anything but a regular file, and
    (unless `force`) a file that is not already `kind` — or empty — since it is surely not
    an earlier output."""
    try:
        if path.exists() and not stat.S_ISREG(path.stat().st_mode):
            raise FileError(f"cannot write {shown(path)}: it is not a regular file")
        target = Path(os.path.realpath(path))
        for source in inputs:
            if source is not None and target.exists() and os.path.samefile(source, target):
                where, source_text = shown(path), shown(source)
                raise FileError(
                    f"cannot write {where}: it is the input {source_text}, which the output would destroy"
                )
        if target.exists() and not force and target.stat().st_size:
            head = _first_bytes(target)
            if not head.startswith(NPY_MAGIC if kind == "npy" else ZIP_MAGIC):
                raise FileError(
                    f"{shown(path)} exists and is not {KINDS[kind]}: it is kept; give --force to replace it"
                )
    except OSError as error:
        raise FileError(f"cannot write {shown(path)}: {error.strerror or error}") from None
    return target


def _new_file_beside(path: Path, size: int) -> Path:
    """A temporary file next to `path` with the mode the finished file should have (the one
    it replaces, else what the umask gives a new file), once the folder can take `size` bytes."""
    folder = path.parent
    if not folder.is_dir():
        raise FileError(f"cannot write {shown(path)}: no such folder {shown(folder)}")
    free = shutil.disk_usage(folder).free
    if size > free:
        raise FileError(f"cannot write {shown(path)}: it needs {size:,} bytes and {free:,} are free there")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as error:
        raise FileError(f"cannot write {shown(path)}: {error.strerror or error}") from None
    try:
        os.fchmod(handle, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
    finally:
        os.close(handle)
    return Path(name)


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it back at once
    os.umask(mask)
    return mask


@contextmanager
def written_atomically(target: Path, size: int) -> Iterator[Path]:
    """Yield a temporary path to write; it becomes `target` (an `output_target`) only if the
    block succeeds, so a failure, an exception or a signal that ends the process never leaves
    a half-written file, nor destroys one of the same name."""
    temporary = _new_file_beside(target, size)
    try:
        yield temporary
        os.replace(temporary, target)
    except OSError as error:
        raise FileError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)


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


def release(array: NDArray[np.generic], start: int, stop: int) -> None:
    """Hand rows [start, stop) of a memory-mapped array back to the system, once they are done.

    A mapping keeps every page it has touched resident, so a 3 GB input would end up counted
    whole in memory; dropping each chunk's pages (after writing them out, for an output) keeps
    what the process holds to a chunk. The pages are read again from the file if ever needed.
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
    if array.flags.writeable:
        mapping.flush(begin, last - begin)
    mapping.madvise(mmap.MADV_DONTNEED, begin, last - begin)
