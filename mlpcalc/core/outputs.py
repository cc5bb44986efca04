"""Output files, written so that nothing is lost: never over an input, through a link to its
target, never over anything but a regular file, never over a file of another kind (unless
forced), and atomically, so that a failure or a signal leaves no half-written file.

Pure Python, so that commands that write text files (diagrams, summaries as pictures) need
no numpy; engine/arrays.py uses it for .npy and .npz files.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlpcalc.core.errors import FileError
from mlpcalc.core.text import shown

SEEN = 1024  # bytes read at each end of a file to tell its kind


@dataclass(frozen=True)
class OutputKind:
    """What a command writes, told by its first bytes and a mark of mlpcalc's within its first
    or last KiB: an existing file without them is surely not an earlier output, and is kept."""

    description: str  # "an .npz archive"
    starts: tuple[bytes, ...]  # any of these
    mark: bytes = b""  # where the format alone says too little (any XML starts as an SVG does)

    def holds(self, path: Path) -> bool:
        """Whether the file at `path` is one of these."""
        with path.open("rb") as file:
            head = file.read(SEEN)
            if not head.startswith(self.starts):
                return False
            file.seek(max(len(head), path.stat().st_size - SEEN))
            return self.mark in head + file.read(SEEN)


def output_target(
    path: Path, kind: OutputKind, inputs: Sequence[Path | None] = (), force: bool = False
) -> Path:
    """The file that writing `path` replaces: a link's target (links are written through,
    never replaced). Refused: an input of the same run, anything but a regular file, and
    (unless `force`) a file that is not already `kind` — or empty."""
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
        if target.exists() and not force and target.stat().st_size and not kind.holds(target):
            kept = f"{shown(path)} exists and is not {kind.description}: it is kept"
            raise FileError(f"{kept}; give --force to replace it")
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
    import tempfile  # here: most commands write no file

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
        raise FileError(f"cannot write {shown(target)}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> None:
    """`data` into `target` (an `output_target`), atomically."""
    with written_atomically(target, len(data)) as temporary:
        temporary.write_bytes(data)
