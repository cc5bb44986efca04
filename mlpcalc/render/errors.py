"""Error messages for people: the spec echoed with a caret under the offending token."""

from __future__ import annotations

import unicodedata
from typing import Any

from mlpcalc.core.errors import MlpcalcError, SpecError
from mlpcalc.core.text import V1_COMMAND, neutral

WINDOW = 60  # characters of the spec shown around the error; the rest is elided
INDENT = "  "


def _cell(char: str) -> tuple[str, int]:
    """How a character of the spec is echoed, and how many columns it takes."""
    if not char.isprintable() or unicodedata.combining(char) or unicodedata.category(char) == "Cf":
        return "?", 1  # control, combining and format characters would garble the caret line
    return char, 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def caret_lines(source: str, start: int, end: int) -> list[str]:
    """The spec (or a window of it around the span) and a caret line under the span."""
    left = max(0, start - WINDOW // 2)
    right = min(len(source), left + WINDOW)
    echo, marks = ["…"] if left > 0 else [], [" "] if left > 0 else []
    for index in range(left, right):
        text, width = _cell(source[index])
        echo.append(text)
        marks.append(("^" if start <= index < end else " ") * width)
    if right < len(source):
        echo.append("…")
    if start >= len(source):  # the error is at the end: point just past the last character
        marks.append("^")
    # In a CI log a line starting '::' or holding '##[' is a workflow command: change one of its
    # characters for '?' (the width, and so the caret, stays).
    shown = "".join(echo).replace(V1_COMMAND, "#?[")
    if shown.lstrip().startswith("::"):
        shown = shown.replace(":", "?", 1)
    return [INDENT + shown, INDENT + "".join(marks).rstrip()]


def format_error(error: MlpcalcError) -> str:
    """The whole message for stderr: what was received, where, what was expected."""
    if not isinstance(error, SpecError):
        return f"Error: {error}\n"
    lines = [f"Error: invalid spec: {error.message} (column {error.start + 1})"]
    lines += caret_lines(error.source, error.start, error.end)
    if error.expected:
        lines.append(f"Expected {error.expected}.")
    if error.hint:
        hint = error.hint[0].upper() + error.hint[1:]
        lines.append(hint if hint[-1] in ".?!" else hint + ".")
    return "\n".join(lines) + "\n"


def format_usage_error(message: str, ctx: Any = None) -> str:
    """A usage error (bad option, missing argument) in the same look as every other error:
    `Error: ...`, then where to read more."""
    lines = [f"Error: {neutral(message)}"]
    command = getattr(ctx, "command_path", None)
    if command:
        lines.append(f"Try '{command} --help' for help.")
    return "\n".join(lines) + "\n"
