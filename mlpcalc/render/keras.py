"""The summary tables Keras prints: Keras 3's rich table, and tf.keras 2's classic text.

Keras 3 builds its summary as a rich Table; we build the same Table with the same
column widths, markup and console settings, so that rich wraps, truncates and
colours every cell exactly as it does under Keras.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Column, Table
from rich.terminal_theme import DEFAULT_TERMINAL_THEME, SVG_EXPORT_THEME, TerminalTheme

from mlpcalc.core.model import BatchShape, BuiltLayer, Model
from mlpcalc.core.outputs import OutputKind
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings
from mlpcalc.render.formats import cost_cells, readable_size, shape_text
from mlpcalc.render.keras_table import (
    HEADER,
    PICTURE_COLUMNS,
    default_width,
    drawn_row,
    layout,
    plain_cells,
    plain_summary,
    shown_layers,
    wrapped,
)

# ------------------------------------------------------------------ Keras 3 (rich)


def _number(value: object) -> str:
    # Keras colours None apart from numbers (color(45) vs color(34)).
    return f"[color(45)]{value}[/]" if value is None else f"[color(34)]{value}[/]"


def _shape(shape: BatchShape) -> str:
    return "(" + ", ".join(_number(dim) for dim in shape) + ")"


def _bold(text: str) -> str:
    return f"[bold]{text}[/]"


def _trainable(layer: BuiltLayer) -> str:
    # Keras: Y (green) for a trainable layer with weights, N (red) for a frozen one, - without
    # weights. A spec cannot freeze a layer, so mlpcalc's are Y or -.
    return "[bold][color(34)]Y[/][/]" if layer.variables else _bold("-")


def _cost_columns(figures: Figures, rows: range | None) -> dict[str, list[str]]:
    cells = cost_cells(figures)
    return cells if rows is None else {header: [column[i] for i in rows] for header, column in cells.items()}


def keras_renderables(
    figures: Figures,
    width: int,
    costs: bool = False,
    *,
    show_trainable: bool = False,
    rows: range | None = None,
) -> list[RenderableType]:
    """What Keras 3 passes to `console.print`, in order: title, table, totals.

    `show_trainable` adds Keras's Trainable column; `rows` keeps only those layers (Keras's
    layer_range: the totals stay the whole model's). With `costs`, three columns follow
    Keras's: MACs, FLOPs (in the settings' convention) and the layer's share of the
    parameters; the table grows by their width.
    """
    model, columns_layout = figures.model, layout(show_trainable)
    widths = columns_layout.checked_widths(width)
    if costs:  # Keras's columns as Keras draws them, then ours, never squeezed
        widths = columns_layout.drawn_widths(width)
    columns = [
        Column(name, justify=justify, width=column)  # type: ignore[arg-type]
        for name, justify, column in zip(columns_layout.header, columns_layout.justify, widths, strict=True)
    ]
    layers = shown_layers(model, rows)
    cells = [
        [
            f"{escape(layer.name)} ([color(33)]{escape(layer.keras_class)}[/])",
            _shape(layer.output_shape),
            _number(f"{layer.params:,}"),
            *([_trainable(layer)] if show_trainable else []),
        ]
        for layer in layers
    ]
    if costs:
        for header, column in _cost_columns(figures, rows).items():
            columns.append(Column(header, justify="right", width=max(len(header), *map(len, column))))
            for row, cell in zip(cells, column, strict=True):
                row.append(_number(cell))
    table = Table(*columns, width=None if costs else width, show_lines=True)
    for row in cells:
        table.add_row(*row)
    return [
        _bold(f'Model: "{escape(model.name)}"'),
        table,
        *(
            f"{_bold(f' {label}: ')}{_number(f'{count:,}')} ({readable_size(size)})"
            for label, count, size in figures.keras_totals()
        ),
    ]


def table_width(figures: Figures, width: int, costs: bool, rows: range | None = None) -> int:
    """How wide the table is drawn: `width`, plus the cost columns (each with its padding and border)."""
    if not costs:
        return width
    cells = _cost_columns(figures, rows)
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


FAST_ROWS = 64  # past this many rows a table is drawn from a template rich draws (below)


def keras_text(
    figures: Figures,
    width: int,
    costs: bool,
    console_width: int,
    *,
    show_trainable: bool = False,
    rows: range | None = None,
    ascii_only: bool = False,
) -> str:
    """The plain text of keras_renderables, as render_plain draws it: the same characters,
    drawn without rich where keras_table.plain_summary can; else a long table's rows formatted
    from a template, where rich takes ~0.3 ms a row (docs/performance.md). The template is
    what rich draws with the first row and with the first two (borders, the row separator, the
    column widths); it is used only if those rows come out of it exactly as rich drew them,
    and only if every cell is one it draws as rich does (keras_table.wrapped), else rich draws
    the whole table."""
    if not costs and not ascii_only:
        plain = plain_summary(figures, width, console_width, show_trainable=show_trainable, rows=rows)
        if plain is not None:
            return plain
    layers = shown_layers(figures.model, rows)
    start = rows.start if rows is not None else 0

    def drawn(shown: range | None) -> list[str]:
        renderables = keras_renderables(figures, width, costs, show_trainable=show_trainable, rows=shown)
        return render_plain(renderables, console_width, ascii_only=ascii_only).splitlines()

    if costs or len(layers) <= FAST_ROWS:  # the cost columns' widths depend on every row
        return "\n".join(drawn(rows)) + "\n"
    one, two = drawn(range(start, start + 1)), drawn(range(start, start + 2))
    cells = [plain_cells(layer, show_trainable) for layer in layers]
    table = _Template.read(one, two, layout(show_trainable).justify)
    table = table.with_first(one, two, cells[0]) if table else None
    lines = table.rows(cells) if table else None
    if table is None or lines is None or lines[: len(table.first)] != table.first:
        return "\n".join(drawn(rows)) + "\n"
    return "\n".join([*table.before, *lines, *table.after]) + "\n"


@dataclass(frozen=True)
class _Template:
    """A table as rich draws it: the lines before its rows and after, the separator between
    two rows, a row's border and its columns' widths; `first` is what rich drew of the first
    two rows, which the template must reproduce."""

    before: list[str]
    after: list[str]
    separator: str
    border: str
    widths: tuple[int, ...]
    justify: tuple[str, ...]
    first: list[str]

    @classmethod
    def read(cls, one: list[str], two: list[str], justify: tuple[str, ...]) -> _Template | None:
        """From the text with one row and with two, which part where the second row's separator
        is: `two` is `one` with the separator and the second row put in there."""
        at = next((i for i, (a, b) in enumerate(zip(one, two, strict=False)) if a != b), len(one))
        added = len(two) - len(one)
        if not 0 < at < len(one) or added < 2 or two[at + added :] != one[at:]:
            return None
        separator = two[at]
        fill = separator[1:2]
        junction = next((c for c in separator[1:-1] if c != fill), None)
        if junction is None or not one[at - 1]:
            return None
        widths = tuple(len(part) - 2 for part in separator[1:-1].split(junction))
        if len(widths) != len(justify):
            return None
        # The first row ends where the separator goes; where it starts, its height says (with_first).
        return cls([], one[at:], separator, one[at - 1][0], widths, justify, [])

    def with_first(self, one: list[str], two: list[str], first: list[str]) -> _Template | None:
        """The template, told where the table's first row starts (its height: its cells
        wrapped) and with rich's drawing of the first two rows, which it must reproduce."""
        at = len(one) - len(self.after)
        cells = [wrapped(cell, width, _width) for cell, width in zip(first, self.widths, strict=True)]
        if any(cell is None for cell in cells):
            return None
        height = max(len(cell) for cell in cells if cell is not None)
        if height >= at:
            return None
        drawn = [*one[at - height : at], *two[at : len(two) - len(self.after)]]
        return _Template(one[: at - height], self.after, self.separator, self.border,
                         self.widths, self.justify, drawn)  # fmt: skip

    def rows(self, cells: list[list[str]]) -> list[str] | None:
        """Every row's lines and the separators between them; None if a cell does not wrap as
        this template knows how to."""
        lines: list[str] = []
        for row in cells:
            drawn = drawn_row(row, self.widths, self.justify, self.border, _width)
            if drawn is None:
                return None
            lines += [self.separator, *drawn] if lines else drawn
        return lines


def _width(text: str) -> int:
    """The cells `text` takes in a terminal: its length for ASCII (most of a table, and fast)."""
    return len(text) if text.isascii() else cell_len(text)


def keras_summary(
    model: Model,
    width: int | None = None,
    console_width: int | None = None,
    settings: Settings | None = None,
    *,
    show_trainable: bool = False,
    rows: range | None = None,
    ascii_only: bool = False,
) -> str:
    """The text of Keras 3's `model.summary(line_length=width)` on a `console_width` terminal,
    for variables of the settings' dtype, after `compile(optimizer=...)` if they name an
    optimizer (under the mixed_float16 policy if they say mixed precision); with
    `show_trainable=True` and `layer_range` (`rows`, from Model.layer_range) as given. With no
    width, Keras's default: 88 (100 with the Trainable column), or the console's width less 4
    if that is narrower."""
    figures, width, shown = _summary_sizes(model, width, console_width, settings, show_trainable)
    return keras_text(
        figures, width, False, shown, show_trainable=show_trainable, rows=rows, ascii_only=ascii_only
    )


def _summary_sizes(
    model: Model,
    width: int | None,
    console_width: int | None,
    settings: Settings | None,
    show_trainable: bool,
) -> tuple[Figures, int, int]:
    """The figures, the table's width and the console's, by keras_summary's rules."""
    if width is None:
        columns = layout(show_trainable)
        width = columns.default_width if console_width is None else default_width(console_width, columns)
    return Figures(model, settings or Settings()), width, max(console_width or width, width)


# ------------------------------------------------------------------ the table as a picture (SVG, HTML)

# How the files below start: the CLI tells an earlier one, which it may replace, from any other file.
SVG_START = '<svg class="mlpcalc-summary" xmlns="http://www.w3.org/2000/svg"'
HTML_START = '<!DOCTYPE html>\n<html class="mlpcalc-summary"'
PICTURE_KINDS = {
    "svg": OutputKind("an SVG summary mlpcalc wrote", (SVG_START.encode(),)),
    "html": OutputKind("an HTML summary mlpcalc wrote", (HTML_START.encode(),)),
}
# A terminal's colours (rich's theme for SVG); Keras's own colours are 256-colour indexes, the
# same in every theme.
TERMINAL_THEME = SVG_EXPORT_THEME
MONOSPACE = "Menlo, 'DejaVu Sans Mono', Consolas, 'Liberation Mono', 'Courier New', monospace"


@functools.cache
def _svg_format() -> str:
    """rich's own SVG template, made to load nothing from the network (its fonts come from a CDN:
    a local monospace font lines the table up as well) and to start as mlpcalc's summaries do;
    checked, so that a rich whose template reads otherwise fails here rather than drawing a
    picture that fetches fonts or that a later run would not recognise."""
    from rich._export_format import CONSOLE_SVG_FORMAT  # where rich's docs point for it

    changes = [
        ('<svg class="rich-terminal" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
         SVG_START + ' viewBox="0 0 {width} {height}">'),
        ("<!-- Generated with Rich https://www.textualize.io -->", "<!-- Keras's table, drawn by rich -->"),
        ("font-family: Fira Code, monospace;", f"font-family: {MONOSPACE};"),
    ]  # fmt: skip
    template = re.sub(r"\s*@font-face \{\{.*?\}\}", "", CONSOLE_SVG_FORMAT, flags=re.S)
    for old, new in changes:
        if old not in template:
            raise RuntimeError(f"rich's SVG template has changed: no {old!r} in it")
        template = template.replace(old, new)
    if "https://" in template:
        raise RuntimeError("rich's SVG template loads from the network")
    return template


_PRE_STYLE = f"white-space:pre;overflow-x:auto;line-height:normal;font-family:{MONOSPACE}"


def _recorded(renderables: Sequence[RenderableType], console_width: int) -> Console:
    """A console that has drawn the renderables as a terminal `console_width` wide shows them
    (wrapping included), then narrowed to the widest line: a picture has no empty margin."""
    console = Console(
        file=_Capture("utf-8"),
        record=True,
        width=console_width,
        height=25,  # given, or rich takes 80 x 25 under TERM=dumb whatever the width says
        highlight=False,
        color_system="256",  # Keras's colours are 256-colour indexes
        force_terminal=False,
        force_jupyter=False,  # in a notebook too, draw here rather than display
        no_color=False,  # the picture is the same whatever the environment says
        legacy_windows=False,
    )
    for renderable in renderables:
        console.print(renderable)
    lines = console.export_text(clear=False).splitlines()
    console.width = max((cell_len(line.rstrip()) for line in lines), default=1)
    return console


def _html_code(console: Console, theme: TerminalTheme) -> str:
    """The recorded text as HTML: escaped, each styled run in a span with its style inline."""
    return console.export_html(theme=theme, code_format="{code}", inline_styles=True)


def summary_svg(renderables: Sequence[RenderableType], console_width: int, title: str) -> str:
    """The table as an SVG image of a terminal window titled `title`, in Keras's colours; the
    same renderables give the same bytes (rich derives the ids from the content)."""
    return _recorded(renderables, console_width).export_svg(
        title=title, theme=TERMINAL_THEME, code_format=_svg_format()
    )


def summary_html(renderables: Sequence[RenderableType], console_width: int, title: str) -> str:
    """The table as a web page on its own: the terminal's colours and Keras's, styles inline,
    nothing loaded from elsewhere."""
    import html  # here: the plain summary has no use for it

    code = _html_code(_recorded(renderables, console_width), TERMINAL_THEME)
    background, foreground = TERMINAL_THEME.background_color.hex, TERMINAL_THEME.foreground_color.hex
    return (
        f'{HTML_START} lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n"
        f'<body style="margin:0;padding:1em;background:{background};color:{foreground}">\n'
        f'<pre style="{_PRE_STYLE}">{code}</pre>\n</body>\n</html>\n'
    )


def summary_picture(
    kind: str,
    figures: Figures,
    width: int,
    costs: bool = False,
    *,
    show_trainable: bool = False,
    rows: range | None = None,
) -> str:
    """`mlpcalc summary --svg` (`kind` "svg") or `--html` ("html"): the table `width` wide, as a
    terminal wide enough for all of it (PICTURE_COLUMNS) shows it, cut to its widest line."""
    renderables = keras_renderables(figures, width, costs, show_trainable=show_trainable, rows=rows)
    console_width = max(PICTURE_COLUMNS, table_width(figures, width, costs, rows))
    model = figures.model
    title = f"mlpcalc summary: {model.name}" if model.name else "mlpcalc summary"
    draw = summary_svg if kind == "svg" else summary_html
    return draw(renderables, console_width, title)


def summary_html_fragment(renderables: Sequence[RenderableType], console_width: int) -> str:
    """The table as a notebook shows Keras's: a <pre> with Keras's colours inline, the text in
    the page's own colour (so it reads on a light or a dark notebook)."""
    code = _html_code(_recorded(renderables, console_width), DEFAULT_TERMINAL_THEME)
    return f'<pre style="{_PRE_STYLE}">{code}</pre>'


def keras_summary_html(
    model: Model,
    width: int | None = None,
    console_width: int | None = None,
    *,
    show_trainable: bool = False,
    rows: range | None = None,
) -> str:
    """keras_summary's table as a notebook fragment (summary_html_fragment)."""
    figures, width, shown = _summary_sizes(model, width, console_width, None, show_trainable)
    renderables = keras_renderables(figures, width, show_trainable=show_trainable, rows=rows)
    return summary_html_fragment(renderables, shown)


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
