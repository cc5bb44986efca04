"""The classic picture of a fully-connected network, as SVG: neurons as circles in columns,
edges between them, each layer labelled with its Keras name, kind, output shape and parameters.

The input and each Dense are columns of neurons; a wide one shows `max_neurons` of them, half at
each end around an ellipsis, its true width in the label. The layers that keep the width
(BatchNormalization, LayerNormalization, Dropout, Activation) are thin bars that each value
passes straight through; Flatten is a bar whose outputs are the flattened width. Past
MAX_LAYERS_DRAWN layers the middle ones are folded into one mark that says how many. Past
EDGE_BUDGET edges, one in every N is drawn, and the picture says so: the file stays small.

Geometry is computed along the network (x when horizontal) and across it (y), then placed by
the direction. Everything printed is user text made safe (core/text.py `shown`), every number
rounded, so that a spec gives byte-identical files. drawsvg writes the SVG (and escapes it).
"""

from __future__ import annotations

import html
import itertools
import math
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
from mlpcalc.core.text import shown
from mlpcalc.render.formats import shape_text

if TYPE_CHECKING:
    import drawsvg as dw

Point = Callable[[float, float], tuple[float, float]]  # (along, across) -> (x, y)
THEMES = ("light", "dark")
DIRECTIONS = ("horizontal", "vertical")
DEFAULT_MAX_NEURONS = 16
MAX_NEURONS = 64  # --max-neurons' limit: more circles than this are no longer told apart
MAX_LAYERS_DRAWN = 100  # past this, the middle layers are folded
EDGE_BUDGET = 20_000  # edges drawn at most (a path segment is ~30 bytes: ~0.6 MB)
NAME_CHARACTERS = 22  # a longer name is cut, with an ellipsis (the whole in a tooltip)

RADIUS = 7.0
STEP = 22.0  # between two neurons' centres, across
GAP = 140.0  # between two layers' centres, along: a label's width when they stand side by side
ROW_GAP = 96.0  # the same, top to bottom (the labels stand beside)
BAR = 10.0  # a thin mark's thickness
MARGIN = 30.0
LINE = 14.0  # between two lines of a label
FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"

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
    """How many layers the diagram folds: all but the first and last MAX_LAYERS_DRAWN / 2."""
    return max(0, len(model.layers) - MAX_LAYERS_DRAWN)


def _mark(built: BuiltLayer) -> Mark:
    layer = built.layer
    name = shown(built.name)
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


def place(found: list[Mark], max_neurons: int, gap: float = GAP) -> list[Placed]:
    """Each mark's place along, and its outputs across."""
    placed: list[Placed] = []
    for number, mark in enumerate(found):
        outputs, ellipsis = _slots(mark.width, max_neurons)
        covered = list(outputs) + ([ellipsis] if ellipsis is not None else [])
        if not mark.is_column and placed:  # a bar spans what enters it and what leaves it
            covered += placed[-1].outputs
        extent = (min(covered) - RADIUS, max(covered) + RADIUS)
        placed.append(Placed(mark, MARGIN + number * gap, outputs, ellipsis, extent))
    return placed


Edge = tuple[float, float, float, float]  # (along, across) to (along, across)


def _edges(placed: list[Placed]) -> list[Edge]:
    """Every edge as (along, across) to (along, across): a column takes every output before it;
    a bar takes each output straight (and Flatten's outputs leave it at their own places)."""
    edges: list[Edge] = []
    for before, after in itertools.pairwise(placed):
        start = before.along + (RADIUS if before.mark.is_column else BAR / 2)
        if after.mark.is_column:
            end = after.along - RADIUS
            edges += [(start, a, end, b) for a in before.outputs for b in after.outputs]
        else:
            end = after.along - BAR / 2
            edges += [(start, a, end, a) for a in before.outputs]
    return edges


@dataclass(frozen=True)
class Options:
    """How to draw: the colours, the way the network runs, neurons per column, edges, a title."""

    theme: str = "light"
    direction: str = "horizontal"
    max_neurons: int = DEFAULT_MAX_NEURONS
    edges: bool = True
    title: str | None = None


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
    found = marks(model)
    placed = place(found, options.max_neurons, ROW_GAP if vertical else GAP)
    low = min(p.extent[0] for p in placed)
    high = max(p.extent[1] for p in placed)
    title_space = 2 * LINE if options.title else 0.0
    footer = 2 * LINE
    if vertical:  # the labels stand to the right of each row
        width = MARGIN + (high - low) + GAP + MARGIN
        height = title_space + placed[-1].along + MARGIN + LINE + footer
    else:  # each label takes GAP, centred below its column
        width = len(placed) * GAP
        label_space = (max(len(p.mark.label) for p in placed) + 1) * LINE
        height = title_space + MARGIN + (high - low) + label_space + footer

    def at(along: float, across: float) -> tuple[float, float]:
        """(x, y) of a point along and across the network."""
        if vertical:
            return round(MARGIN + across - low, 1), round(title_space + along, 1)
        return round(along - MARGIN + GAP / 2, 1), round(title_space + MARGIN + across - low, 1)

    drawing = dw.Drawing(round(width, 1), round(height, 1), id_prefix="mlpcalc")
    drawing.append(dw.Rectangle(0, 0, round(width, 1), round(height, 1), fill=colours["page"]))
    heading = options.title if options.title is not None else f"{model.name}: {model.spec}"
    drawing.append(dw.Title(shown(heading)))
    if options.title:
        title = dw.Text(
            shown(options.title), 15, MARGIN / 2, round(LINE * 1.4, 1), font_weight="bold", class_="title"
        )
        drawing.append(_font(title, colours["text"]))
    edges = _edges(placed) if options.edges else []
    kept = _thinned(edges)
    if kept:  # one path: a few bytes an edge (drawsvg's M/L calls grow a string each time)
        segments = (f"M{_xy(at(a1, c1))} L{_xy(at(a2, c2))}" for a1, c1, a2, c2 in kept)
        drawing.append(
            dw.Path(
                d=" ".join(segments),
                stroke=colours["edge"],
                stroke_width=0.6,
                stroke_opacity=0.55,
                fill="none",
                class_="edges",
            )
        )
    for item in placed:
        drawing.append(_drawn(item, colours, at, vertical, high))
    folded = _folded(model)
    notes = [f"{model.total_params:,} parameters"]
    if folded:
        notes.append(f"{folded:,} of {len(model.layers):,} layers folded")
    if len(kept) < len(edges):
        notes.append(f"{len(kept):,} of {len(edges):,} edges drawn")
    caption = dw.Text(" · ".join(notes), 11, MARGIN / 2, round(height - LINE * 0.8, 1), class_="caption")
    drawing.append(_font(caption, colours["muted"]))
    return Drawn(drawing.as_svg() + "\n", len(model.layers) - folded, folded, len(edges), len(kept))


def _thinned(edges: list[Edge]) -> list[Edge]:
    """At most EDGE_BUDGET edges, picked evenly and by no pattern a picture would show (a plain
    stride could keep the edges to one neuron alone): by a multiplicative hash of their index."""
    if len(edges) <= EDGE_BUDGET:
        return edges
    keep = EDGE_BUDGET / len(edges) * 2**32
    return [edge for index, edge in enumerate(edges) if (index * 2654435761) % 2**32 < keep]


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
    # drawsvg escapes text, not attribute values: a name goes into one escaped here.
    name = html.escape(mark.name)
    group = dw.Group(class_=f"layer {mark.kind}", data_name=name, data_width=str(mark.width))
    group.append(dw.Title(f"{mark.name}: {' · '.join(line for line in mark.label[1:] if line)}"))
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
