"""User text as it may be printed: never a control character, an escape sequence or a
workflow command raw in a terminal or a CI log."""

from __future__ import annotations

from typing import BinaryIO


def shown(value: object) -> str:
    """`value` as text, quoted and escaped (as Python's repr does) when printing it raw could
    move the cursor, colour the terminal, start a new line, or be read by GitHub Actions as a
    workflow command (`::error ...::`, `##[...]`); else unchanged, so plain names stay plain."""
    text = str(value)
    if text.isprintable() and not text.lstrip().startswith("::") and V1_COMMAND not in text:
        return text
    return repr(text).replace(V1_COMMAND, "\\x23#[")  # the runner finds ##[ anywhere in a line


V1_COMMAND = "##["  # GitHub's older workflow commands, ##[error]...


BINARY_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def binary_size(size: int) -> str:
    """A byte count as mlpcalc writes it: bytes below 1 KiB, else two decimals of the largest
    1024-based unit that keeps the number at least 1 (1.55 MiB). Keras's own table says "MB"
    for MiB; it keeps Keras's text (render/formats.py)."""
    if abs(size) < 1024:
        return f"{size:,} B"
    value = float(size)
    for unit in BINARY_UNITS:
        value /= 1024
        if abs(value) < 1024 or unit == BINARY_UNITS[-1]:
            return f"{value:,.2f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


class TooLong(ValueError):
    """A text input past its limit: read no further."""


def read_text(file: BinaryIO, limit: int) -> str:
    """At most `limit` bytes of UTF-8 text from `file` (a spec, a budget file): never an
    unbounded read (/dev/zero), a byte-order mark (as Notepad writes) dropped. TooLong past
    `limit`; UnicodeDecodeError for other encodings."""
    data = file.read(limit + 1)
    if len(data) > limit:
        raise TooLong(f"longer than {binary_size(limit)}")
    return data.decode("utf-8-sig")


def neutral(text: str) -> str:
    """`text` (a message that holds user text) with what a terminal or a CI log would act on
    escaped in place, as repr escapes it, and line breaks kept: for text mlpcalc did not build
    itself, such as click's usage errors."""
    if text.replace("\n", "").isprintable() and V1_COMMAND not in text:
        return text
    escaped = "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in text)
    return escaped.replace(V1_COMMAND, "\\x23#[")
