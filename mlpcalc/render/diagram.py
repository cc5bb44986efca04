"""The classic picture of a fully-connected network, as SVG: neurons as circles in columns,
edges between them, each layer labelled with its Keras name, kind, output shape and parameters.

The input and each Dense are columns of neurons; a wide one shows `max_neurons` of them, half at
each end around an ellipsis, its true width in the label. The layers that keep the width
(BatchNormalization, LayerNormalization, Dropout, Activation) are thin bars that each value
passes straight through; Flatten is a bar whose outputs are the flattened width. Past
MAX_LAYERS_DRAWN layers the middle ones are folded into one mark that says how many. Past
EDGE_BUDGET edges between columns, an even sample of them is drawn (each straight line into a
bar always is), and the picture says so: the file stays small.

Geometry is computed along the network (x when horizontal) and across it (y), then placed by
the direction; layers stand as far apart as their labels need. User text is made printable
(`printable`), every number rounded, so that a spec gives byte-identical files. drawsvg writes
the SVG; PNG and PDF are drawn from it by vl-convert (`image_bytes`).
"""

from __future__ import annotations

import html
import itertools
import math
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlpcalc.core.activations import format_number
from mlpcalc.core.layers import (
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    LayerNormalization,
)
from mlpcalc.core.model import BuiltLayer, Model
from mlpcalc.core.outputs import OutputKind
from mlpcalc.render.formats import shape_text

if TYPE_CHECKING:
    import drawsvg as dw

Point = Callable[[float, float], tuple[float, float]]  # (along, across) -> (x, y)
THEMES = ("light", "dark")
DIRECTIONS = ("horizontal", "vertical")
DEFAULT_MAX_NEURONS = 16
MAX_NEURONS = 64  # --max-neurons' limit: more circles than this are no longer told apart
MAX_LAYERS_DRAWN = 100  # past this, the middle layers are folded
EDGE_BUDGET = 10_000  # edges between columns drawn at most (~14 bytes each: ~140 KB)
NAME_CHARACTERS = 22  # a longer name is cut in its label, with an ellipsis
TOOLTIP_CHARACTERS = 200  # and in its tooltip, which holds more of it
TITLE_CHARACTERS = 200  # a title is cut there too: the picture grows to show it whole

RADIUS = 7.0
STEP = 22.0  # between two neurons' centres, across
GAP = 110.0  # between two layers' centres, along, at least (more where their labels need it)
LABEL_SPACE = 16.0  # between two labels side by side
ROW_GAP = 96.0  # between two layers' centres, top to bottom (the labels stand beside)
BAR = 10.0  # a thin mark's thickness
MARGIN = 30.0
LINE = 14.0  # between two lines of a label
FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
NAME_SIZE, TEXT_SIZE, TITLE_SIZE = 11, 10, 15
EM = 0.62  # a character's width in these fonts, at most about, in font sizes
PNG_SCALE = 2.0  # pixels per SVG unit: sharp on a slide or a high-density screen
PNG_MAX_SIDE = 16_384  # pixels: past this the scale shrinks (a 200-layer PNG is not 150 MB)
PNG_MAX_PIXELS = 40_000_000  # and past this many pixels in all
MARK = "mlpcalc-diagram"  # the root's class: how an earlier diagram is told from other files
PNG_MARK = b"tEXtSoftware\x00" + MARK.encode()  # a PNG text chunk saying the same
PDF_MARK = b"% " + MARK.encode() + b"\n"  # a comment before %%EOF saying the same
# What each format is, and how an earlier diagram of it is told from any other file (which is kept).
FORMATS = {
    "svg": OutputKind("an SVG diagram mlpcalc drew", (b"<?xml",), f'class="{MARK}"'.encode()),
    "png": OutputKind("a PNG diagram mlpcalc drew", (b"\x89PNG",), PNG_MARK),
    "pdf": OutputKind("a PDF diagram mlpcalc drew", (b"%PDF",), PDF_MARK),
}

# Colours: the page, text, muted text, edges; then each kind of layer.
PALETTES = {
    "light": {
        "page": "#ffffff",
        "text": "#1f2328",
        "muted": "#59636e",
        "edge": "#9198a1",
        "input": "#6e7781",
        "dense": "#0969da",
        "norm": "#1a7f37",
        "dropout": "#bc4c00",
        "activation": "#8250df",
        "flatten": "#6e7781",
        "fold": "#59636e",
    },
    "dark": {
        "page": "#0d1117",
        "text": "#f0f6fc",
        "muted": "#9198a1",
        "edge": "#656c76",
        "input": "#9198a1",
        "dense": "#4493f8",
        "norm": "#3fb950",
        "dropout": "#db6d28",
        "activation": "#ab7df8",
        "flatten": "#9198a1",
        "fold": "#9198a1",
    },
}


@dataclass(frozen=True)
class Mark:
    """One thing drawn along the network: a column of neurons or a thin bar, and its label."""

    kind: str  # a key of the palettes
    label: tuple[str, ...]  # the name first
    name: str  # the whole name, for the tooltip
    width: int  # the values it gives out (the last axis; Flatten's: all of them)
    is_column: bool  # neurons (input, Dense), else a bar


@dataclass(frozen=True)
class Placed:
    """A mark placed: where it stands along, and where its outputs stand across."""

    mark: Mark
    along: float
    outputs: tuple[float, ...]  # across, of each drawn neuron or output point
    ellipsis: float | None  # across, where the hidden ones are, if any
    extent: tuple[float, float]  # across, from and to: what the mark covers


def marks(model: Model) -> list[Mark]:
    """The input, then every layer, the middle ones folded past MAX_LAYERS_DRAWN."""
    shape = model.input_shape
    label = ("input", "InputLayer", shape_text(shape))
    found = [Mark("input", label, "input", model.spec.input_shape[-1], is_column=True)]
    folded = _folded(model)
    if not folded:
        return found + [_mark(built) for built in model.layers]
    head, tail = model.layers[: MAX_LAYERS_DRAWN // 2], model.layers[-(MAX_LAYERS_DRAWN // 2) :]
    width = tail[0].input_shape[-1]
    fold = Mark("fold", (f"{folded:,} layers", "folded"), f"{folded:,} layers folded", width, is_column=False)
    return found + [_mark(built) for built in head] + [fold] + [_mark(built) for built in tail]


def _folded(model: Model) -> int:
    """How many layers the diagram folds: all but the first and last MAX_LAYERS_DRAWN / 2, when
    that is two or more (one folded layer would save nothing: the fold takes its place)."""
    folded = len(model.layers) - MAX_LAYERS_DRAWN
    return folded if folded >= 2 else 0


def _mark(built: BuiltLayer) -> Mark:
    layer = built.layer
    name = printable(built.name)
    short = name if len(name) <= NAME_CHARACTERS else name[: NAME_CHARACTERS - 1] + "…"
    shape = shape_text(built.output_shape)
    params = f"{built.params:,} params" if built.params else ""
    width = built.output_features[-1]
    if isinstance(layer, Dense):
        kind = "Dense" if layer.activation.is_linear else f"Dense · {layer.activation}"
        return Mark("dense", (short, kind, shape, params), name, width, is_column=True)
    if isinstance(layer, BatchNormalization | LayerNormalization):
        return Mark("norm", (short, built.keras_class, shape, params), name, width, is_column=False)
    if isinstance(layer, Dropout):
        kind = f"Dropout({format_number(layer.rate)})"
        return Mark("dropout", (short, kind, shape), name, width, is_column=False)
    if isinstance(layer, ActivationLayer):
        kind = f"Activation · {layer.activation}"
        return Mark("activation", (short, kind, shape), name, width, is_column=False)
    if isinstance(layer, Flatten):
        return Mark("flatten", (short, "Flatten", shape), name, width, is_column=False)
    raise TypeError(f"no mark for {type(layer).__name__}")  # pragma: no cover - every kind is above


def _slots(width: int, max_neurons: int) -> tuple[tuple[float, ...], float | None]:
    """The drawn neurons' places across (centred on 0), and the ellipsis's, if some are hidden."""
    if width <= max_neurons:
        return tuple((i - (width - 1) / 2) * STEP for i in range(width)), None
    before, after = math.ceil(max_neurons / 2), max_neurons // 2
    count = before + 1 + after  # the ellipsis takes a neuron's place
    places = [(i - (count - 1) / 2) * STEP for i in range(count)]
    return tuple(places[:before] + places[before + 1 :]), places[before]


def label_width(mark: Mark) -> float:
    """How wide a mark's label is drawn, about: its longest line (the name is larger)."""
    sizes = [NAME_SIZE] + [TEXT_SIZE] * (len(mark.label) - 1)
    return max(len(line) * size * EM for line, size in zip(mark.label, sizes, strict=True))


def place(found: list[Mark], max_neurons: int, vertical: bool) -> list[Placed]:
    """Each mark's place along, and its outputs across. Side by side, two layers stand as far
    apart as their labels need (GAP at least); one above the other, ROW_GAP apart."""
    placed: list[Placed] = []
    along = MARGIN if vertical else MARGIN + max(RADIUS, label_width(found[0]) / 2)
    for mark in found:
        if placed and vertical:
            along += ROW_GAP
        elif placed:
            along += max(GAP, (label_width(placed[-1].mark) + label_width(mark)) / 2 + LABEL_SPACE)
        outputs, ellipsis = _slots(mark.width, max_neurons)
        covered = list(outputs) + ([ellipsis] if ellipsis is not None else [])
        if not mark.is_column and placed:  # a bar spans what enters it and what leaves it
            covered += placed[-1].outputs
        extent = (min(covered) - RADIUS, max(covered) + RADIUS)
        placed.append(Placed(mark, along, outputs, ellipsis, extent))
    return placed


Edge = tuple[float, float, float, float]  # (along, across) to (along, across)


def _edges(placed: list[Placed]) -> tuple[list[Edge], list[Edge]]:
    """Every edge, as (along, across) to (along, across): those straight into a bar (each output
    once; Flatten's outputs leave it at their own places), and those into a column (every output
    before it to each of its neurons)."""
    straight: list[Edge] = []
    fanned: list[Edge] = []
    for before, after in itertools.pairwise(placed):
        start = before.along + (RADIUS if before.mark.is_column else BAR / 2)
        if after.mark.is_column:
            end = after.along - RADIUS
            fanned += [(start, a, end, b) for a in before.outputs for b in after.outputs]
        else:
            end = after.along - BAR / 2
            straight += [(start, a, end, a) for a in before.outputs]
    return straight, fanned


@dataclass(frozen=True)
class Options:
    """How to draw: the colours, the way the network runs, neurons per column, edges, a title."""

    theme: str = "light"
    direction: str = "horizontal"
    max_neurons: int = DEFAULT_MAX_NEURONS
    edges: bool = True
    title: str | None = None

    def __post_init__(self) -> None:
        if self.theme not in THEMES:
            raise ValueError(f"theme must be one of {', '.join(THEMES)}, received {self.theme!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, received {self.direction!r}")
        if isinstance(self.max_neurons, bool) or not 2 <= self.max_neurons <= MAX_NEURONS:
            raise ValueError(f"max_neurons must be 2 to {MAX_NEURONS}, received {self.max_neurons!r}")


@dataclass(frozen=True)
class Drawn:
    """A diagram: its SVG text, and what it leaves out (folded layers, edges not drawn)."""

    svg: str
    layers_drawn: int
    layers_folded: int
    edges: int  # between the drawn neurons
    edges_drawn: int


def diagram_svg(model: Model, options: Options | None = None) -> str:
    """The SVG text of the network diagram of `model`."""
    return draw(model, options).svg


def draw(model: Model, options: Options | None = None) -> Drawn:
    """The network diagram of `model`."""
    import drawsvg as dw  # here: the CLI reads this module's tables at start-up

    options = options or Options()
    colours = PALETTES[options.theme]
    vertical = options.direction == "vertical"
    placed = place(marks(model), options.max_neurons, vertical)
    low = min(p.extent[0] for p in placed)
    high = max(p.extent[1] for p in placed)
    title = printable(options.title or "")
    if len(title) > TITLE_CHARACTERS:
        title = title[: TITLE_CHARACTERS - 1] + "…"
    title_space = 2 * LINE if title else 0.0
    footer = 2 * LINE
    widest = max(label_width(p.mark) for p in placed)
    if vertical:  # the labels stand to the right of each row
        width = MARGIN + (high - low) + 2 * RADIUS + widest + MARGIN
        height = title_space + placed[-1].along + MARGIN + LINE + footer
    else:  # each label centred below its column
        width = placed[-1].along + max(RADIUS, label_width(placed[-1].mark) / 2) + MARGIN
        label_space = (max(len(p.mark.label) for p in placed) + 1) * LINE
        height = title_space + MARGIN + (high - low) + label_space + footer
    straight, fanned = _edges(placed) if options.edges else ([], [])
    kept = straight + _thinned(fanned, max(0, EDGE_BUDGET - len(straight)))
    total = len(straight) + len(fanned)
    folded = _folded(model)
    notes = [f"{model.total_params:,} parameters"]
    if folded:
        notes.append(f"{folded:,} of {len(model.layers):,} layers folded")
    if len(kept) < total:
        notes.append(f"{len(kept):,} of {total:,} edges drawn")
    caption = " · ".join(notes)
    width = round(
        max(width, MARGIN + len(title) * TITLE_SIZE * EM, MARGIN + len(caption) * NAME_SIZE * EM), 1
    )
    height = round(height, 1)

    def at(along: float, across: float) -> tuple[float, float]:
        """(x, y) of a point along and across the network."""
        if vertical:
            return round(MARGIN + across - low, 1), round(title_space + along, 1)
        return round(along, 1), round(title_space + MARGIN + across - low, 1)

    drawing = dw.Drawing(width, height, id_prefix="mlpcalc", class_=MARK)
    drawing.append(dw.Rectangle(0, 0, width, height, fill=colours["page"]))
    drawing.append(dw.Title(title or printable(f"{model.name}: {model.spec}")))
    if title:
        heading = dw.Text(
            title, TITLE_SIZE, MARGIN / 2, round(LINE * 1.4, 1), font_weight="bold", class_="title"
        )
        drawing.append(_font(heading, colours["text"]))
    if kept:  # one path, a few bytes an edge: a move, then a line relative to it
        segments = []
        for a1, c1, a2, c2 in kept:
            (x1, y1), (x2, y2) = at(a1, c1), at(a2, c2)
            segments.append(f"M{x1:g},{y1:g}l{round(x2 - x1, 1):g},{round(y2 - y1, 1):g}")
        path = dw.Path(d="".join(segments), stroke=colours["edge"], fill="none", class_="edges")
        path.args.update({"stroke-width": "0.6", "stroke-opacity": "0.55"})
        drawing.append(path)
    for item in placed:
        drawing.append(_drawn(item, colours, at, vertical, high))
    footnote = dw.Text(caption, NAME_SIZE, MARGIN / 2, round(height - LINE * 0.8, 1), class_="caption")
    drawing.append(_font(footnote, colours["muted"]))
    return Drawn(drawing.as_svg() + "\n", len(model.layers) - folded, folded, total, len(kept))


def printable(text: str) -> str:
    """User text as a picture shows it: every character that is not printable (a control, a line
    break, a lone surrogate, XML would refuse most) made a space."""
    return re.sub(r"\s+", " ", "".join(c if c.isprintable() else " " for c in text)).strip()


def _thinned(edges: list[Edge], budget: int) -> list[Edge]:
    """At most about `budget` edges, picked evenly and by no pattern a picture would show (a
    plain stride could keep the edges to one neuron alone): by a multiplicative hash of their
    index, each kept with the probability budget / len(edges)."""
    if len(edges) <= budget:
        return edges
    keep = budget / len(edges) * 2**32
    return [edge for index, edge in enumerate(edges) if (index * 2654435761) % 2**32 < keep]


def image_bytes(svg: str, image_format: str) -> bytes:
    """The diagram in `image_format`: the SVG's own bytes, or PNG (PNG_SCALE pixels a unit, less
    past PNG_MAX_SIDE a side or PNG_MAX_PIXELS in all) or PDF drawn from it by vl-convert, each
    marked as mlpcalc's (FORMATS)."""
    if image_format == "svg":
        return svg.encode()
    import vl_convert

    if image_format == "png":
        size = re.search(r'width="([0-9.]+)" height="([0-9.]+)"', svg)
        width, height = (float(size.group(1)), float(size.group(2))) if size else (1.0, 1.0)
        scale = min(
            PNG_SCALE, PNG_MAX_SIDE / max(width, height), math.sqrt(PNG_MAX_PIXELS / (width * height))
        )
        png = bytes(vl_convert.svg_to_png(svg, scale=scale))
        return _with_png_mark(png)
    pdf = bytes(vl_convert.svg_to_pdf(svg))
    end = pdf.rindex(b"%%EOF")
    return pdf[:end] + PDF_MARK + pdf[end:]


def _with_png_mark(png: bytes) -> bytes:
    """`png` with a text chunk after its header chunk (8 bytes of signature, 25 of IHDR)."""
    body = PNG_MARK
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    return png[:33] + chunk + png[33:]


def _xy(point: tuple[float, float]) -> str:
    return f"{point[0]:g},{point[1]:g}"


def _font(text: dw.Text, colour: str) -> dw.Text:
    text.args.update({"font-family": FONT, "fill": colour})
    return text


def _drawn(item: Placed, colours: dict[str, str], point: Point, vertical: bool, high: float) -> dw.Group:
    """One mark: its neurons or its bar, its ellipsis, its label, in a group a test can find."""
    import drawsvg as dw

    mark = item.mark
    colour = colours[mark.kind]
    whole = mark.name if len(mark.name) <= TOOLTIP_CHARACTERS else mark.name[: TOOLTIP_CHARACTERS - 1] + "…"
    # drawsvg escapes text, not attribute values: a name goes into one escaped here.
    group = dw.Group(class_=f"layer {mark.kind}", data_name=html.escape(whole), data_width=str(mark.width))
    group.append(dw.Title(f"{whole}: {' · '.join(line for line in mark.label[1:] if line)}"))
    if mark.is_column:
        for across in item.outputs:
            x, y = point(item.along, across)
            group.append(
                dw.Circle(
                    x,
                    y,
                    RADIUS,
                    fill=colour,
                    fill_opacity=0.2,
                    stroke=colour,
                    stroke_width=1.5,
                    class_="neuron",
                )
            )
    else:
        first = point(item.along - BAR / 2, item.extent[0])
        last = point(item.along + BAR / 2, item.extent[1])
        x, y = min(first[0], last[0]), min(first[1], last[1])
        w, h = abs(last[0] - first[0]), abs(last[1] - first[1])
        dashes = {"stroke_dasharray": "3 2"} if mark.kind == "fold" else {}
        group.append(
            dw.Rectangle(
                x,
                y,
                round(w, 1),
                round(h, 1),
                rx=3,
                fill=colour,
                fill_opacity=0.25,
                stroke=colour,
                stroke_width=1.2,
                class_="bar",
                **dashes,
            )
        )
    if item.ellipsis is not None:
        for offset in (-5.0, 0.0, 5.0):
            x, y = point(item.along, item.ellipsis + offset)
            group.append(dw.Circle(x, y, 1.6, fill=colours["muted"], class_="ellipsis"))
    lines = [line for line in mark.label if line]
    if vertical:
        x = point(0.0, high + RADIUS + 14)[0]
        y = round(point(item.along, 0.0)[1] - (len(lines) - 1) * LINE / 2 + 4, 1)
        anchor = "start"
    else:
        x, y = point(item.along, high + RADIUS + 18)
        anchor = "middle"
    for number, line in enumerate(lines):
        weight = {"font_weight": "bold"} if number == 0 else {}
        fill = colours["text"] if number == 0 else colours["muted"]
        group.append(
            dw.Text(
                line,
                11 if number == 0 else 10,
                x,
                round(y + number * LINE, 1),
                text_anchor=anchor,
                fill=fill,
                font_family=FONT,
                class_="label",
                **weight,
            )
        )
    return group
