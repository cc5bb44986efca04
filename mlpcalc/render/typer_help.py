"""typer's help for a group of commands (`mlpcalc --help`), drawn without typer or rich.

typer prints it with rich: the usage line and the description, each padded by a space, then
an Options and a Commands panel, rounded boxes around borderless tables. Into a pipe or a
file that is plain text, which `plain_help` draws by string formatting from the same texts
(cli/command_list.py, written from the app by scripts/generate_command_list.py), wrapping
words as rich wraps them; it answers None for what only rich knows how to draw (a word wider
than its column, which rich folds; text that is not ASCII; a width too narrow for typer's
columns). tests/test_plain_help.py holds the two to the same text at every width from
MIN_WIDTH.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORD = re.compile(r"\s*\S+\s*")  # rich's word: white space before it (a line's first) and after it
MIN_WIDTH = 40  # narrower, rich squeezes typer's columns by rules of its own
# typer's options table (typer/rich_utils.py): names, short names, negative names, negative short
# names, types (3 columns empty for flags), help.
EMPTY_OPTION_COLUMNS = 3


@dataclass(frozen=True)
class GroupHelp:
    """What typer's help for a group shows: `usage` (after "Usage: "), the description as typer
    lays it out (its first paragraph, a blank line, the rest), each option's long and short
    names and help, and each command's name and help (the first paragraph of its own)."""

    usage: str
    description: str
    options: tuple[tuple[str, str, str], ...]
    commands: tuple[tuple[str, str], ...]


def rich_lines(text: str, width: int) -> list[str] | None:
    """`text` in lines of at most `width` as rich wraps it: each line of it on its own, greedy,
    a word taking the white space after it along (which may then hang past the width); None
    for a word wider than `width` (rich folds it) or text that is not printable ASCII."""
    if not text.isascii() or not text.replace("\n", "").isprintable():
        return None
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in WORD.findall(paragraph):
            length = len(word.rstrip())
            if len(line) + length <= width:
                line += word
            elif length > width:
                return None
            else:
                lines.append(line.rstrip())
                line = word
        lines.append(line.rstrip())
    return lines


def _padded(lines: list[str], width: int) -> list[str]:
    """Lines of a Padding one space each side, as wide as the console."""
    return [f" {line:<{width - 2}} " for line in lines]


def _panel(title: str, rows: list[str], width: int) -> list[str]:
    """A rounded panel as typer draws one: the title in the top border, a space inside each side."""
    top = f"╭─ {title} "
    return [
        top + "─" * (width - len(top) - 1) + "╮",
        *(f"│ {row:<{width - 4}} │" for row in rows),
        "╰" + "─" * (width - 2) + "╯",
    ]


def _table(cells: list[tuple[str, str]], indent: int, width: int) -> list[str] | None:
    """Rows of a borderless table whose last column takes what `indent` leaves of `width`:
    each row's first part, then its help wrapped, later lines indented."""
    lines: list[str] = []
    for first, help_text in cells:
        wrapped = rich_lines(help_text, width - indent)
        if wrapped is None:
            return None
        lines += [f"{first:<{indent}}{wrapped[0]}", *(" " * indent + line for line in wrapped[1:])]
    return lines


def plain_help(group: GroupHelp, program: str, width: int) -> str | None:
    """typer's help for `group`, run as `program`, in a console `width` wide that is no
    terminal; None where only rich can draw it."""
    if width < MIN_WIDTH:
        return None
    usage = rich_lines(f"Usage: {program} {group.usage}", width - 2)
    description = rich_lines(group.description, width - 2)
    # Options: the names, two spaces, the short names, two spaces, three empty columns (a
    # space each side), the help. Commands: the names as wide as the longest, two spaces.
    longest = max(len(name) for name, _, _ in group.options)
    shortest = max(len(short) for _, short, _ in group.options)
    indent = longest + 2 + shortest + 2 + 2 * EMPTY_OPTION_COLUMNS
    options = _table(
        [(f"{name:<{longest}}  {short}", text) for name, short, text in group.options], indent, width - 4
    )
    name_width = max(len(name) for name, _ in group.commands)
    commands = _table(list(group.commands), name_width + 2, width - 4)
    if usage is None or description is None or options is None or commands is None:
        return None
    lines = [
        " " * width,
        *_padded(usage, width),
        " " * width,
        *_padded([*description, ""], width),
        *_panel("Options", options, width),
        *_panel("Commands", commands, width),
    ]
    return "\n".join(lines) + "\n\n"  # click echoes the (empty) help text typer left it: a blank line
