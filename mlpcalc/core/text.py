"""User text as it may be printed: never a control character, an escape sequence or a
workflow command raw in a terminal or a CI log."""

from __future__ import annotations


def shown(value: object) -> str:
    """`value` as text, quoted and escaped (as Python's repr does) when printing it raw could
    move the cursor, colour the terminal, start a new line, or be read by GitHub Actions as a
    workflow command (`::error ...::`, `##[...]`); else unchanged, so plain names stay plain."""
    text = str(value)
    if text.isprintable() and not text.lstrip().startswith("::") and V1_COMMAND not in text:
        return text
    return repr(text).replace(V1_COMMAND, "\\x23#[")  # the runner finds ##[ anywhere in a line


V1_COMMAND = "##["  # GitHub's older workflow commands, ##[error]...
