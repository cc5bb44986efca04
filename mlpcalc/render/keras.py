"""The summary tables Keras prints: Keras 3's rich table, and tf.keras 2's classic text.

Keras 3 builds its summary as a rich Table; we build the same Table with the same
column widths, markup and console settings, so that rich wraps, truncates and
colours every cell exactly as it does under Keras.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Column, Table

from mlpcalc.core.model import BatchShape, Model
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings
from mlpcalc.render.formats import cost_cells, readable_size, shape_text

KERAS_DEFAULT_WIDTH = 88  # Keras 3 Sequential summary: min(88, terminal columns - 4)
COLUMN_STOPS = (0.45, 0.80, 1.0)  # where each column ends, as a fraction of the width
MIN_COLUMN = 4  # Keras refuses a column narrower than this
MIN_WIDTH = 16  # the narrowest width whose columns are all MIN_COLUMN wide (a test checks it)
MAX_WIDTH = 1000  # wider is no table anyone reads, and rich takes long to draw it
HEADER = ("Layer (type)", "Output Shape", "Param #")
JUSTIFY = ("left", "left", "right")


def column_widths(width: int) -> list[int] | None:
    """Keras's column widths for a table `width` wide, or None if a column would be < 4."""
    widths, current = [], 0
    for stop in COLUMN_STOPS:
        column = int(stop * width) - current
        if column < MIN_COLUMN:
            return None
        widths.append(column)
        current += column
    return widths


def default_width(terminal_columns: int) -> int:
    """Keras's width for a terminal: min(88, columns - 4), never below the minimum."""
    return max(min(KERAS_DEFAULT_WIDTH, terminal_columns - 4), MIN_WIDTH)


# ------------------------------------------------------------------ Keras 3 (rich)


def _number(value: object) -> str:
    # Keras colours None apart from numbers (color(45) vs color(34)).
    return f"[color(45)]{value}[/]" if value is None else f"[color(34)]{value}[/]"


def _shape(shape: BatchShape) -> str:
    return "(" + ", ".join(_number(dim) for dim in shape) + ")"


def _bold(text: str) -> str:
    return f"[bold]{text}[/]"


def keras_renderables(figures: Figures, width: int, costs: bool = False) -> list[RenderableType]:
    """What Keras 3 passes to `console.print`, in order: title, table, totals.

    With `costs`, three columns follow Keras's: MACs, FLOPs (in the settings' convention)
    and the layer's share of the parameters; the table grows by their width.
    """
    model = figures.model
    widths = column_widths(width)
    if widths is None:
        raise ValueError(f"a summary needs a width of at least {MIN_WIDTH}")
    if costs:  # Keras's columns as Keras draws them, then ours, never squeezed
        widths = drawn_widths(width)
    columns = [
        Column(name, justify=justify, width=column)  # type: ignore[arg-type]
        for name, justify, column in zip(HEADER, JUSTIFY, widths, strict=True)
    ]
    rows = [
        [
            f"{escape(layer.name)} ([color(33)]{escape(layer.keras_class)}[/])",
            _shape(layer.output_shape),
            _number(f"{layer.params:,}"),
        ]
        for layer in model.layers
    ]
    if costs:
        for header, cells in cost_cells(figures).items():
            columns.append(Column(header, justify="right", width=max(len(header), *map(len, cells))))
            for row, cell in zip(rows, cells, strict=True):
                row.append(_number(cell))
    table = Table(*columns, width=None if costs else width, show_lines=True)
    for row in rows:
        table.add_row(*row)
    return [
        _bold(f'Model: "{escape(model.name)}"'),
        table,
        *(
            f"{_bold(f' {label}: ')}{_number(f'{count:,}')} ({readable_size(size)})"
            for label, count, size in figures.keras_totals()
        ),
    ]


def drawn_widths(width: int) -> list[int]:
    """The widths rich gives Keras's three columns in a table `width` wide (their nominal
    widths leave no room for padding and borders, so rich narrows them)."""
    widths = column_widths(width) or []
    table = Table(*(Column(name, width=w) for name, w in zip(HEADER, widths, strict=True)), width=width)
    top = render_plain([table], width).splitlines()[0]
    return [len(segment) - 2 for segment in top[1:-1].split("┳")]


def table_width(figures: Figures, width: int, costs: bool) -> int:
    """How wide the table is drawn: `width`, plus the cost columns (each with its padding and border)."""
    if not costs:
        return width
    cells = cost_cells(figures)
    return width + sum(max(len(header), *map(len, column)) + 3 for header, column in cells.items())


class _Capture(io.StringIO):
    """A text buffer that tells rich which characters the real output can take."""

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


def render_plain(renderables: Sequence[RenderableType], console_width: int, ascii_only: bool = False) -> str:
    """Render to text exactly as Keras's captured `model.summary()` does.

    With `ascii_only` (an output without UTF-8), rich draws the box in ASCII instead.
    """
    buffer = _Capture("ascii" if ascii_only else "utf-8")
    # The console Keras captures a summary with: no colour, no highlighting.
    console = Console(
        file=buffer, width=console_width, highlight=False, force_terminal=False, color_system=None
    )
    for renderable in renderables:
        console.print(renderable)
    return buffer.getvalue()


def keras_summary(
    model: Model,
    width: int = KERAS_DEFAULT_WIDTH,
    console_width: int | None = None,
    settings: Settings | None = None,
) -> str:
    """The text of Keras 3's `model.summary(line_length=width)` on a `console_width` terminal,
    for variables of the settings' dtype, after `compile(optimizer=...)` if they name an
    optimizer (under the mixed_float16 policy if they say mixed precision)."""
    renderables = keras_renderables(Figures(model, settings or Settings()), width)
    return render_plain(renderables, max(console_width or width, width))


# ------------------------------------------------------------------ tf.keras 2 (classic)

CLASSIC_WIDTH = 65
CLASSIC_STOPS = (29, 55, 65)  # int(65 * p) for p in (.45, .85, 1.)


def _classic_row(fields: Sequence[str]) -> str:
    # tf.keras <= 2.6: each field is cut at its column's end and the last character
    # before the next field is replaced by a space (so long names lose a letter).
    line = ""
    for i, (field, stop) in enumerate(zip(fields, CLASSIC_STOPS, strict=True)):
        if i > 0:
            line = line[:-1] + " "
        line += field
        line = line[:stop]
        line += " " * (stop - len(line))
    return line.rstrip()


def _classic_lines(model: Model) -> Iterator[str]:
    yield f'Model: "{model.name}"'
    yield "_" * CLASSIC_WIDTH
    yield _classic_row(HEADER)
    yield "=" * CLASSIC_WIDTH
    for i, layer in enumerate(model.layers):
        yield _classic_row(
            (f"{layer.name} ({layer.keras_class})", shape_text(layer.output_shape), str(layer.params))
        )
        yield ("=" if i == len(model.layers) - 1 else "_") * CLASSIC_WIDTH
    yield f"Total params: {model.total_params:,}"
    yield f"Trainable params: {model.trainable_params:,}"
    yield f"Non-trainable params: {model.non_trainable_params:,}"
    yield "_" * CLASSIC_WIDTH


def classic_summary(model: Model) -> str:
    """The text of tf.keras 2's `model.summary()` (up to TF 2.6), trailing spaces removed."""
    return "\n".join(_classic_lines(model)) + "\n"
