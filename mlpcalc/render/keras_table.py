"""Keras 3's summary table without rich: its columns and widths, and its plain text where it
can be drawn by string formatting alone.

Keras draws its summary as a rich Table (render/keras.py builds the same one). Importing rich
takes a third of a summary's start-up, and a plain summary (not on a terminal: no colours) is
boxes, padding and cells wrapped at spaces: `plain_summary` draws those itself, and answers
None for anything whose drawing only rich knows (a cell it wraps by rules of its own, a line
wider than the console), which render/keras.py then draws with rich (and an output that takes
ASCII alone, whose box rich draws in ASCII: its callers do not ask then).
tests/test_long_tables.py holds the two to the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from mlpcalc.core.model import BuiltLayer, Model
from mlpcalc.costs.figures import Figures
from mlpcalc.render.formats import readable_size, shape_text

KERAS_DEFAULT_WIDTH = 88  # Keras 3 Sequential summary: min(88, terminal columns - 4)
COLUMN_STOPS = (0.45, 0.80, 1.0)  # where each column ends, as a fraction of the width
MIN_COLUMN = 4  # Keras refuses a column narrower than this
MAX_WIDTH = 1000  # wider is no table anyone reads, and rich takes long to draw it
PICTURE_COLUMNS = 1_000  # the terminal a picture is drawn in: the widest table --width makes
HEADER = ("Layer (type)", "Output Shape", "Param #")
JUSTIFY = ("left", "left", "right")
# summary(show_trainable=True): Keras widens its default by 12 and squeezes the columns into
# the first 90% of the width to make room for a centred "Trainable" column.
TRAINABLE_EXTRA_WIDTH = 12
TRAINABLE_SHARE = 0.90
# rich's box for Keras's table (HEAVY_HEAD): each rule's left end, junction, fill and right end.
TOP, HEADER_RULE, ROW_RULE, BOTTOM = "┏┳━┓", "┡╇━┩", "├┼─┤", "└┴─┘"
HEADER_BORDER, ROW_BORDER = "┃", "│"


def column_widths(width: int, stops: Sequence[float] = COLUMN_STOPS) -> list[int] | None:
    """Keras's column widths for a table `width` wide, or None if a column would be < 4."""
    widths, current = [], 0
    for stop in stops:
        column = int(stop * width) - current
        if column < MIN_COLUMN:
            return None
        widths.append(column)
        current += column
    return widths


@dataclass(frozen=True)
class Layout:
    """Keras's columns: their headers, alignments and ends (fractions of the width), and the
    width Keras picks when it is given none (before the terminal narrows it)."""

    header: tuple[str, ...]
    justify: tuple[str, ...]
    stops: tuple[float, ...]
    default_width: int

    def widths(self, width: int) -> list[int] | None:
        return column_widths(width, self.stops)

    def checked_widths(self, width: int) -> list[int]:
        """Keras's column widths; a ValueError for a width too narrow for them (Keras's too)."""
        widths = self.widths(width)
        if widths is None:
            raise ValueError(f"a summary needs a width of at least {self.min_width}")
        return widths

    def drawn_widths(self, width: int) -> list[int]:
        """The widths rich gives the columns' text in a table `width` wide. Keras's widths fill
        the width and leave no room for the padding (a space each side) and the borders, so rich
        narrows each column by 3 and the one before the last by one more: found by drawing, for
        every width and both layouts (tests/test_long_tables.py draws them all with rich)."""
        widths = self.checked_widths(width)
        return [w - 3 - (i == len(widths) - 2) for i, w in enumerate(widths)]

    @cached_property
    def min_width(self) -> int:
        """The narrowest width from which every wider one has columns of MIN_COLUMN at least."""
        width = MAX_WIDTH
        while width > 1 and self.widths(width - 1) is not None:
            width -= 1
        return width


PLAIN = Layout(HEADER, JUSTIFY, COLUMN_STOPS, KERAS_DEFAULT_WIDTH)
TRAINABLE = Layout(
    (*HEADER, "Trainable"),
    (*JUSTIFY, "center"),
    (*(stop * TRAINABLE_SHARE for stop in COLUMN_STOPS), 1.0),  # Keras's arithmetic, float for float
    KERAS_DEFAULT_WIDTH + TRAINABLE_EXTRA_WIDTH,
)


def layout(show_trainable: bool) -> Layout:
    """The columns of `model.summary(show_trainable=...)`."""
    return TRAINABLE if show_trainable else PLAIN


def default_width(terminal_columns: int, columns: Layout = PLAIN) -> int:
    """Keras's width for a terminal: min(88, columns - 4) (100 with the Trainable column),
    never below the narrowest table."""
    return max(min(columns.default_width, terminal_columns - 4), columns.min_width)


def shown_layers(model: Model, rows: range | None) -> list[BuiltLayer]:
    """The layers a summary shows: all, or those of Keras's layer_range (Model.layer_range)."""
    return list(model.layers) if rows is None else [model.layers[index] for index in rows]


def plain_cells(layer: BuiltLayer, show_trainable: bool) -> list[str]:
    """A row's cells as their text shows (without Keras's colours)."""
    cells = [f"{layer.name} ({layer.keras_class})", shape_text(layer.output_shape), f"{layer.params:,}"]
    return cells + (["Y" if layer.variables else "-"] if show_trainable else [])


def totals_lines(figures: Figures) -> list[str]:
    """The lines under the table: ` Total params: 407,050 (1.55 MB)`, ..."""
    return [f" {label}: {count:,} ({readable_size(size)})" for label, count, size in figures.keras_totals()]


def wrapped(cell: str, width: int, cells: Callable[[str], int] = len) -> list[str] | None:
    """`cell` in lines of `width`, broken at single spaces as rich breaks them (greedy, a line
    taking each next word it has room for), a lone word too wide cut with an ellipsis; None for
    what only rich knows how to draw: non-ASCII text that does not fit, a wide word among
    others, other white space, a ':' (an emoji code), a backslash (rich's escape doubles one).
    `cells` measures text in terminal cells (`len` is right for ASCII)."""
    if ":" in cell or "\\" in cell:  # an emoji code; a backslash, which rich's escape doubles
        return None
    if cells(cell) <= width and "  " not in cell and not cell.startswith(" "):
        return [cell]
    if not cell.isascii():  # rich wraps wide characters by rules of its own (a full line gets …)
        return None
    if " " not in cell:  # one word too wide: cut, as Keras's columns cut (…)
        return [cell[: width - 1] + "…"]
    words = cell.split(" ")
    if "" in words or any(len(word) > width for word in words):
        return None
    lines, line = [], words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    return [*lines, line]


def drawn_row(
    row: Sequence[str],
    widths: Sequence[int],
    justify: Sequence[str],
    border: str,
    cells: Callable[[str], int] = len,
    *,
    bottom: bool = False,
) -> list[str] | None:
    """A row's lines, each cell wrapped to its column, padded and aligned, at the top of the
    row (at the `bottom`, as rich sets a header); None if a cell does not wrap as `wrapped`
    knows how to."""
    columns = [wrapped(cell, width, cells) for cell, width in zip(row, widths, strict=True)]
    if any(column is None for column in columns):
        return None
    height = max(len(column) for column in columns if column is not None)
    if bottom:
        columns = [[""] * (height - len(column)) + column for column in columns if column is not None]
    lines = []
    for index in range(height):
        parts = []
        for column, width, side in zip(columns, widths, justify, strict=True):
            text = column[index] if column is not None and index < len(column) else ""
            room = width - cells(text)
            left = room if side == "right" else room // 2 if side == "center" else 0
            parts.append(f" {' ' * left}{text}{' ' * (room - left)} ")
        lines.append(border + border.join(parts) + border)
    return lines


def rule(ends: str, widths: Sequence[int]) -> str:
    """A horizontal line of the box: `ends` is its left end, junction, fill and right end."""
    left, junction, fill, right = tuple(ends)
    return left + junction.join(fill * (width + 2) for width in widths) + right


def plain_summary(
    figures: Figures,
    width: int,
    console_width: int,
    *,
    show_trainable: bool = False,
    rows: range | None = None,
) -> str | None:
    """Keras's plain summary (no colours, UTF-8 boxes), as rich draws it, for a table `width`
    wide in a `console_width` console; None when a line needs rich (render/keras.py)."""
    columns = layout(show_trainable)
    widths = columns.drawn_widths(width)
    title = f'Model: "{figures.model.name}"'
    totals = totals_lines(figures)
    if width > console_width or any(len(line) > console_width for line in [title, *totals]):
        return None  # rich wraps a long line by rules of its own
    if not title.isascii():  # a name's characters may take two cells, or none
        return None
    name = figures.model.name
    if ":" in name or "\\" in name:  # an emoji code; a backslash, which rich's escape doubles
        return None
    header = drawn_row(columns.header, widths, columns.justify, HEADER_BORDER, bottom=True)
    if header is None:
        return None
    lines = [title, rule(TOP, widths), *header, rule(HEADER_RULE, widths)]
    separator = rule(ROW_RULE, widths)
    for index, layer in enumerate(shown_layers(figures.model, rows)):
        cells = plain_cells(layer, show_trainable)
        if not all(cell.isascii() for cell in cells):
            return None
        drawn = drawn_row(cells, widths, columns.justify, ROW_BORDER)
        if drawn is None:
            return None
        lines += [separator, *drawn] if index else drawn
    lines += [rule(BOTTOM, widths), *totals]
    return "\n".join(lines) + "\n"
