"""The diagram command: the network as a picture, SVG (text), PNG or PDF."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeAlias

import typer

from mlpcalc.cli.base import (
    SPEC_COMMAND,
    JsonOpt,
    NameOpt,
    SpecArg,
    app,
    closed_choice,
    inputs_of,
    model_from,
    plain,
    print_notes,
)
from mlpcalc.cli.run import ForceOpt
from mlpcalc.cli.streams import ascii_only, emit
from mlpcalc.core.errors import FileError
from mlpcalc.core.outputs import output_target, write_bytes
from mlpcalc.core.text import binary_size, shown
from mlpcalc.render.diagram import (
    DEFAULT_MAX_NEURONS,
    DIRECTIONS,
    FORMATS,
    MAX_NEURONS,
    THEMES,
    Options,
    draw,
    image_bytes,
)

IMAGES_EXTRA = "pip install 'mlpcalc[images]'"

if TYPE_CHECKING:
    FormatChoice: TypeAlias = str
    ThemeChoice: TypeAlias = str
    DirectionChoice: TypeAlias = str
else:
    FormatChoice = closed_choice("Format", FORMATS)
    ThemeChoice = closed_choice("Theme", THEMES)
    DirectionChoice = closed_choice("Direction", DIRECTIONS)


@app.command(**SPEC_COMMAND)
def diagram(
    ctx: typer.Context,
    spec: SpecArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file; its extension gives the format. \\[default: stdout, SVG]",
        ),
    ] = None,
    image_format: Annotated[
        FormatChoice | None,
        typer.Option(
            "--format",
            help="svg, png or pdf. \\[default: the output's extension, else svg]",
            show_default=False,
        ),
    ] = None,
    theme: Annotated[
        ThemeChoice, typer.Option("--theme", help="Colours for a light or a dark page.")
    ] = "light",
    direction: Annotated[
        DirectionChoice,
        typer.Option("--direction", help="The layers from left to right, or from top to bottom."),
    ] = "horizontal",
    max_neurons: Annotated[
        int,
        typer.Option(
            "--max-neurons",
            min=2,
            max=MAX_NEURONS,
            help="Neurons drawn per layer at most: a wider layer shows half at each end, and an ellipsis.",
        ),
    ] = DEFAULT_MAX_NEURONS,
    no_edges: Annotated[
        bool, typer.Option("--no-edges", help="Draw the neurons alone, without edges.")
    ] = False,
    title: Annotated[str | None, typer.Option("--title", help="A title above the picture.")] = None,
    name: NameOpt = None,
    json_flag: JsonOpt = False,
    force: ForceOpt = False,
) -> None:
    """Draw SPEC as the classic picture of a fully-connected network.

    Neurons as circles in columns, edges between them, each layer labelled
    with its Keras name, kind, output shape and parameters; normalizations,
    dropout, activations and flatten as thin bars. SVG keeps its text as
    text; PNG and PDF need the images extra (pip install 'mlpcalc\\[images]').

    Examples:

      mlpcalc diagram "784->512->10 relu" -o mnist.svg

      mlpcalc diagram "784->512->10 relu" -o mnist.png --theme dark

      mlpcalc diagram model.keras --direction vertical -o net.pdf
    """
    chosen = _format(image_format, output)
    if output is None and chosen != "svg":
        raise typer.BadParameter(
            f"a {chosen.upper()} image is written to a file: give --output", param_hint="--format"
        )
    if force and output is None:
        raise typer.BadParameter(
            "it lets --output replace a file, and there is no --output", param_hint="--force"
        )
    model = model_from(spec, name=name)
    print_notes(*model.notes)
    destination = None
    if output is not None:
        destination = output_target(output, FORMATS[chosen], inputs_of(ctx, spec), force)
    if chosen != "svg" and importlib.util.find_spec("vl_convert") is None:
        raise FileError(f"--format {chosen} needs the vl-convert-python package: {IMAGES_EXTRA}")
    drawn = draw(model, Options(plain(theme), plain(direction), max_neurons, not no_edges, title))
    data = image_bytes(drawn.svg, chosen)
    if destination is not None:
        write_bytes(destination, data)
    if json_flag:
        from mlpcalc.documents import diagram_document, to_json

        svg = drawn.svg if destination is None else None
        written = None if output is None else str(output)
        document = diagram_document(model, chosen, written, svg, len(data), drawn)
        emit(to_json(document, ascii_only=ascii_only()))
    elif destination is None:
        emit(drawn.svg)
    else:
        layers = f"{len(model.layers):,} layer" + ("s" if len(model.layers) != 1 else "")
        folded = f", {drawn.layers_folded:,} folded" if drawn.layers_folded else ""
        size = binary_size(len(data))
        emit(f"wrote {shown(output)}: a diagram in {chosen.upper()}, {layers}{folded}, {size}\n")


def _format(given: str | None, output: Path | None) -> str:
    """--format, else the output's extension, else SVG; an extension that says another is refused."""
    by_name = output.suffix.lower().lstrip(".") if output is not None else ""
    if given is not None:
        chosen = plain(given)
        if by_name in FORMATS and by_name != chosen:
            raise typer.BadParameter(
                f"{chosen} contradicts the output's extension, .{by_name}", param_hint="--format"
            )
        return str(chosen)
    if output is not None and by_name not in FORMATS:
        raise typer.BadParameter(
            f"{shown(output)} does not say the format by its extension (.svg, .png, .pdf): give --format",
            param_hint="--output",
        )
    return by_name or "svg"
