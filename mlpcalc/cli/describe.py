"""Commands that describe a model: summary, variables, costs, diff."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlpcalc.cli.base import (
    SPEC_CHEATSHEET,
    SPEC_COMMAND,
    BatchOpt,
    ConventionOpt,
    FormatChoice,
    JsonOpt,
    MixedOpt,
    NameOpt,
    OptimizerChoice,
    SamplesOpt,
    SizeDTypeOpt,
    SpecArg,
    StyleChoice,
    TableStyleChoice,
    app,
    inputs_of,
    model_from,
    option_error,
    print_notes,
    read_spec,
    settings,
    terminal_columns,
)
from mlpcalc.cli.streams import ascii_only, emit, may_be_terminal
from mlpcalc.core.conventions import MLPCALC
from mlpcalc.core.dtypes import DEFAULT_DTYPE
from mlpcalc.core.errors import ModelError, SettingsError
from mlpcalc.core.model import DEFAULT_NAME, LayerRange, Model
from mlpcalc.core.spec import MAX_SIZE
from mlpcalc.core.text import shown
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings

if TYPE_CHECKING:
    from fractions import Fraction

    from mlpcalc.costs.training import TrainingCost


def _resolve_format(json_flag: bool, output_format: str, style: str, width: int | None) -> str:
    """The one output the options ask for; options that would be silently ignored are refused."""
    if json_flag and output_format not in ("table", "json"):
        raise typer.BadParameter(
            f"--json and --format {output_format} contradict each other", param_hint="--json"
        )
    chosen = "json" if json_flag else output_format
    if style != "keras" and chosen != "table":
        raise typer.BadParameter(
            f"the {style} style is a table; it does not go with {chosen}", param_hint="--style"
        )
    if width is not None and (chosen != "table" or style != "keras"):
        raise typer.BadParameter("it sizes the Keras table only", param_hint="--width")
    return chosen


def _refuse_ignored(
    chosen: str,
    style: str,
    costs: bool,
    given: Settings,
    show_trainable: bool,
    layer_range: tuple[str, str] | None,
    name: str | None,
) -> None:
    """Options the chosen output would silently ignore are refused, each with its reason."""
    if style == "torchinfo":
        _refuse_for_torchinfo(costs, given, show_trainable, layer_range, name)
    if style == "classic" and (
        costs or given != Settings(batch=given.batch, flops_convention=given.flops_convention)
    ):
        raise typer.BadParameter("tf.keras 2's text has no costs, optimizer or dtype", param_hint="--style")
    if style == "classic" and (show_trainable or layer_range is not None):
        raise typer.BadParameter(
            "tf.keras 2.6's summary() takes no show_trainable or layer_range", param_hint="--style"
        )
    if chosen == "json" and show_trainable:
        raise typer.BadParameter(
            "the JSON always carries each layer's trainable_params", param_hint="--show-trainable"
        )
    if chosen == "json" and layer_range is not None:
        raise typer.BadParameter(
            "the JSON always describes every layer: pick from its layers list", param_hint="--layer-range"
        )
    if given.flops_convention != MLPCALC and not (costs or chosen == "json"):
        raise typer.BadParameter(
            f"received {given.flops_convention}, but FLOPs show only with --costs or --json",
            param_hint="--flops-convention",
        )
    if costs and chosen == "json":
        raise typer.BadParameter("the JSON always carries the costs", param_hint="--costs")
    if given.mixed_precision and given.optimizer is None and chosen != "json":
        raise typer.BadParameter(
            "in a table it changes only the optimizer's line: add --optimizer", param_hint="--mixed-precision"
        )


def _refuse_for_torchinfo(
    costs: bool, given: Settings, show_trainable: bool, layer_range: tuple[str, str] | None, name: str | None
) -> None:
    """torchinfo.summary() with its defaults shows neither Keras's options nor mlpcalc's costs."""
    if costs or given != Settings(batch=given.batch):
        raise typer.BadParameter(
            "torchinfo's summary counts float32 parameters and its own mult-adds: it takes no --costs, "
            "--dtype, --optimizer, --mixed-precision or --flops-convention",
            param_hint="--style",
        )
    if show_trainable or layer_range is not None:
        raise typer.BadParameter(
            "torchinfo's summary shows every module and no Trainable column: it takes no "
            "--show-trainable or --layer-range",
            param_hint="--style",
        )
    if name is not None:
        raise typer.BadParameter(
            "torchinfo shows no model name, only its class, Sequential: drop --name or --style torchinfo",
            param_hint="--name",
        )


def _pictures(
    svg: Path | None, html: Path | None, force: bool, json_flag: bool, output_format: str, style: str
) -> dict[str, Path]:
    """The files --svg and --html ask for, by kind; refused: what they would contradict (each
    draws Keras 3's table, and writes nothing else), one path for both, --force alone."""
    pictures = {kind: path for kind, path in (("svg", svg), ("html", html)) if path is not None}
    if not pictures:
        if force:
            raise typer.BadParameter(
                "it lets --svg or --html replace a file, and neither is given", param_hint="--force"
            )
        return pictures
    option = "--" + next(iter(pictures))
    other = (
        "--json" if json_flag
        else f"--format {output_format}" if output_format != "table"
        else f"--style {style}" if style != "keras"
        else None
    )  # fmt: skip
    if other is not None:
        raise typer.BadParameter(
            f"it draws Keras 3's table, which {other} replaces: drop one of them", param_hint=option
        )
    if svg is not None and html is not None and os.path.realpath(svg) == os.path.realpath(html):
        raise typer.BadParameter(f"{shown(html)} is the file --svg writes already", param_hint="--html")
    return pictures


LAYER_RANGE = "--layer-range"


@app.command(**SPEC_COMMAND)
def summary(
    ctx: typer.Context,
    spec: SpecArg,
    width: Annotated[
        int | None,
        typer.Option(
            "--width",
            help="Table width, 16 to 1000 (31 with --show-trainable); default as Keras: "
            "min(88, terminal columns - 4), with --show-trainable min(100, ...).",
            show_default=False,
        ),
    ] = None,
    style: Annotated[
        StyleChoice,
        typer.Option(
            "--style",
            help="keras: Keras 3's table; classic: tf.keras 2's text; torchinfo: torchinfo.summary() of "
            "the PyTorch model export --to pytorch writes, run on --batch samples (default 1).",
        ),
    ] = "keras",
    output_format: Annotated[
        FormatChoice, typer.Option("--format", help="table (as Keras prints it), markdown or json.")
    ] = "table",
    json_flag: JsonOpt = False,
    name: NameOpt = None,
    batch: BatchOpt = None,
    show_trainable: Annotated[
        bool,
        typer.Option(
            "--show-trainable",
            help="Add Keras's Trainable column (show_trainable=True): Y for a layer with weights, "
            "- for one without.",
        ),
    ] = False,
    layer_range: Annotated[
        tuple[str, str] | None,
        typer.Option(
            LAYER_RANGE,
            metavar="FIRST LAST",
            show_default=False,
            help="Show the layers from FIRST to LAST (layer_range=(FIRST, LAST)); Keras matches each "
            "as a regular expression at a name's start: dense_1 matches dense_10, dense_1$ does not. "
            "The totals stay the whole model's.",
        ),
    ] = None,
    costs: Annotated[
        bool,
        typer.Option("--costs", help="Add columns: MACs, FLOPs and each layer's share of the parameters."),
    ] = False,
    convention: ConventionOpt = MLPCALC,
    dtype: SizeDTypeOpt = DEFAULT_DTYPE,
    optimizer: Annotated[
        OptimizerChoice | None,
        typer.Option(
            "--optimizer", help="Add Keras's ` Optimizer params:` line, as after compile(optimizer=...)."
        ),
    ] = None,
    mixed_precision: MixedOpt = False,
    svg: Annotated[
        Path | None,
        typer.Option(
            "--svg",
            metavar="FILE",
            show_default=False,
            help="Write the table to FILE as a picture of a terminal showing it, in Keras's colours "
            "(SVG); stdout says what was written.",
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            show_default=False,
            help="Write the table to FILE as a web page in Keras's colours, whole in itself (styles "
            "inline, nothing fetched); stdout says what was written.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Let --svg or --html replace a file that is not one mlpcalc wrote."),
    ] = False,
) -> None:
    """Print what Keras's model.summary() prints for SPEC.

    A note on stderr points out what Keras allows but may not be meant: a
    Dense given more than one feature axis acts on the last one alone
    (28x28->128 gives (None, 28, 128), 28x28->flatten->128 (None, 128)).

    Examples:

      mlpcalc summary "784->512->10 relu"

      mlpcalc summary "28x28->flatten->128:gelu->dropout(0.25)->10" --width 76

      mlpcalc summary "3->2->2->2 relu" --style classic

      mlpcalc summary "784->512->10 relu" --json

      mlpcalc summary "784->512->10 relu" --costs --optimizer adam

      mlpcalc summary "64->256:nobias->bn->relu->10" --show-trainable

      mlpcalc summary "784->512*4->10 relu" --layer-range dense_1 dense_3

      mlpcalc summary "784->512->10 relu" --svg summary.svg --html summary.html

    {cheatsheet}
    """
    chosen = _resolve_format(json_flag, output_format, style, width)
    given = settings(
        dtype=dtype,
        optimizer=optimizer,
        mixed_precision=mixed_precision,
        flops_convention=convention,
        batch=batch,
    )
    _refuse_ignored(chosen, style, costs, given, show_trainable, layer_range, name)
    pictures = _pictures(svg, html, force, json_flag, output_format, style)
    model = model_from(spec, name=name, batch=batch)
    targets = _picture_targets(pictures, inputs_of(ctx, spec), force)
    selected = _selected(model, layer_range)
    rows = range(selected.start, selected.stop) if selected else None
    figures = Figures(model, given)
    keras_table = chosen == "table" and style == "keras"
    if keras_table:
        from mlpcalc.render.keras_table import PICTURE_COLUMNS

        width = _keras_width(
            width,
            show_trainable,
            fitted=(figures, rows) if costs and width is None else None,
            # A picture is drawn as a terminal as wide as it needs shows it: the same file
            # whatever the terminal the command runs in.
            terminal=PICTURE_COLUMNS if targets else None,
        )
    if chosen != "json":  # the JSON carries the model's notes itself
        print_notes(*model.notes, *(selected.notes if selected else ()))
    if targets:
        assert width is not None
        _write_pictures(targets, figures, width, costs, show_trainable, rows)
    elif chosen == "json":
        from mlpcalc.documents import summary_document, to_json

        emit(to_json(summary_document(figures), ascii_only=ascii_only()))
    elif chosen == "markdown":
        from mlpcalc.render.text import markdown_summary

        emit(markdown_summary(figures, costs, show_trainable=show_trainable, rows=rows))
    elif style == "torchinfo":
        from mlpcalc.render.torchinfo import torchinfo_summary

        emit(torchinfo_summary(model, ascii_only=ascii_only()))
    elif style == "classic":
        from mlpcalc.render.keras import classic_summary

        emit(classic_summary(figures.model))
    else:
        assert width is not None
        _print_keras_table(figures, width, costs, show_trainable, rows)


# The spec's cheat-sheet, kept in one place (base.py), closes summary's --help too.
summary.__doc__ = (summary.__doc__ or "").replace(
    "{cheatsheet}", textwrap.indent(SPEC_CHEATSHEET, "    ").lstrip()
)


def _selected(model: Model, layer_range: tuple[str, str] | None) -> LayerRange | None:
    """Keras's rows for --layer-range (the core's rule); a name that matches no layer, or is no
    regular expression, is a usage error."""
    if layer_range is None:
        return None
    try:
        return model.layer_range(*layer_range)
    except ModelError as error:
        raise typer.BadParameter(str(error), param_hint=LAYER_RANGE) from None


def _keras_width(
    width: int | None,
    show_trainable: bool,
    fitted: tuple[Figures, range | None] | None = None,
    terminal: int | None = None,
) -> int:
    """The table's width: as given (checked), or Keras's default for the terminal (`terminal`
    columns, else the real one's); with the cost columns (`fitted`), Keras's part narrows so that
    the whole table fits the terminal."""
    from mlpcalc.render.keras_table import MAX_WIDTH, default_width, layout

    columns = layout(show_trainable)
    terminal = terminal or terminal_columns()
    if width is None:
        chosen = default_width(terminal, columns)
        if fitted is not None:  # the cost columns add to the width: take it off Keras's part
            from mlpcalc.render.keras import table_width

            excess = table_width(fitted[0], chosen, True, fitted[1]) - terminal
            chosen = max(columns.min_width, chosen - max(excess, 0))
        return chosen
    if not columns.min_width <= width <= MAX_WIDTH:
        with_trainable = " with --show-trainable" if show_trainable else ""
        raise typer.BadParameter(
            f"must be from {columns.min_width} to {MAX_WIDTH}{with_trainable}, received {width}",
            param_hint="--width",
        )
    return width


def _print_keras_table(
    figures: Figures, width: int, costs: bool, show_trainable: bool, rows: range | None
) -> None:
    if not costs and not ascii_only() and not may_be_terminal():  # plain text, without importing rich
        from mlpcalc.render.keras_table import plain_summary

        text = plain_summary(
            figures, width, max(terminal_columns(), width), show_trainable=show_trainable, rows=rows
        )
        if text is not None:
            emit(text)
            return
    from rich.console import Console

    from mlpcalc.render.keras import keras_renderables, keras_text, table_width

    console_width = max(terminal_columns(), table_width(figures, width, costs, rows))
    console = Console(highlight=False, width=console_width)
    if console.is_terminal:  # Keras's colours on a terminal; plain text anywhere else
        for renderable in keras_renderables(figures, width, costs, show_trainable=show_trainable, rows=rows):
            console.print(renderable)
        return
    text = keras_text(
        figures,
        width,
        costs,
        console_width,
        show_trainable=show_trainable,
        rows=rows,
        ascii_only=ascii_only(),
    )
    emit(text)


def _picture_targets(
    pictures: dict[str, Path], inputs: tuple[Path, ...], force: bool
) -> dict[str, tuple[Path, Path]]:
    """Each picture's path as given and the file it replaces (a link's target), refused before
    any drawing: the model file SPEC, anything but a regular file, and (without --force) a file
    that is not an earlier picture of the same kind."""
    if not pictures:  # rich's tables stay unimported for --json
        return {}
    from mlpcalc.core.outputs import output_target
    from mlpcalc.render.keras import PICTURE_KINDS

    return {
        kind: (path, output_target(path, PICTURE_KINDS[kind], inputs, force))
        for kind, path in pictures.items()
    }


def _write_pictures(
    targets: dict[str, tuple[Path, Path]],
    figures: Figures,
    width: int,
    costs: bool,
    show_trainable: bool,
    rows: range | None,
) -> None:
    """Draw the table as the terminal would show it and write each picture atomically, saying so
    on stdout, a line a file."""
    from mlpcalc.core.outputs import write_bytes
    from mlpcalc.render.keras import summary_picture

    model = figures.model
    layers = f"{len(model.layers):,} layer" + ("s" if len(model.layers) != 1 else "")
    shown_rows = f"{len(rows):,} of {layers} shown" if rows is not None else layers
    for kind, (given, target) in targets.items():
        what = "an SVG picture" if kind == "svg" else "a web page"
        drawn = summary_picture(kind, figures, width, costs, show_trainable=show_trainable, rows=rows)
        write_bytes(target, drawn.encode())
        emit(
            f"wrote {shown(given)}: the summary table as {what}, {shown_rows}, "
            f"{model.total_params:,} parameters\n"
        )


@app.command(**SPEC_COMMAND)
def variables(
    spec: SpecArg,
    style: Annotated[
        TableStyleChoice,
        typer.Option(
            "--style", help="keras: a table of every variable; classic: TF 2's trainable_variables."
        ),
    ] = "keras",
    json_flag: JsonOpt = False,
    name: NameOpt = None,
) -> None:
    """List every weight variable of SPEC: name, shape, trainable, count.

    The names (dense/kernel, batch_normalization/moving_mean, ...) are the keys
    mlpcalc's weights files use, in the order of Keras's layer.get_weights().

    Examples:

      mlpcalc variables "784->512->10 relu"

      mlpcalc variables "64->256:nobias->bn->relu->10" --json

      mlpcalc variables "3->2->2->2 relu" --style classic
    """
    from mlpcalc.render.text import classic_variables, variables_table

    if json_flag and style == "classic":
        raise typer.BadParameter(
            "the classic style is text; it does not go with --json", param_hint="--style"
        )
    model = model_from(spec, name=name)
    if json_flag:
        from mlpcalc.documents import to_json, variables_document  # the table starts without them

        emit(to_json(variables_document(model), ascii_only=ascii_only()))
    elif style == "classic":
        emit(classic_variables(model))
    else:
        emit(variables_table(model))


@app.command(**SPEC_COMMAND)
def costs(
    spec: SpecArg,
    batch: SamplesOpt = None,
    dtype: SizeDTypeOpt = DEFAULT_DTYPE,
    optimizer: Annotated[
        OptimizerChoice | None,
        typer.Option("--optimizer", help="Optimizer whose states training keeps. \\[default: adam]"),
    ] = None,
    mixed_precision: MixedOpt = False,
    convention: ConventionOpt = MLPCALC,
    train: Annotated[
        bool, typer.Option("--train", help="Add the FLOPs of training: a step, an epoch, the run.")
    ] = False,
    samples: Annotated[
        int | None,
        typer.Option("--samples", min=1, max=MAX_SIZE, help="Training samples in an epoch (--train)."),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, max=MAX_SIZE, help="Epochs of the run. \\[default: 1]")
    ] = None,
    rate: Annotated[
        str | None,
        typer.Option("--throughput", help="FLOP/s the training reaches, for the time: 50TFLOPS."),
    ] = None,
    device_peak: Annotated[
        str | None, typer.Option("--device-peak", help="The device's peak FLOP/s (with --utilization).")
    ] = None,
    utilization: Annotated[
        str | None, typer.Option("--utilization", help="Share of the peak reached: 0.4 or 40%.")
    ] = None,
    json_flag: JsonOpt = False,
    name: NameOpt = None,
) -> None:
    """Compute and memory of SPEC: MACs, FLOPs (as each tool counts), memory.

    Costs are per sample, and per batch with --batch. Inference memory holds
    the weights and the largest layer's input and output; training memory is
    one step on a batch: weights, gradients, optimizer states and the
    activations kept for the backward pass. With --train, the FLOPs of a
    training step (forward, backward, the optimizer's update), of an epoch
    of --samples and of --epochs, and with a throughput, their time.

    Examples:

      mlpcalc costs "784->512->10 relu"

      mlpcalc costs "784->512->10 relu" --batch 32 --optimizer sgd

      mlpcalc costs "20x16->32:gelu->8" --flops-convention fvcore --json

      mlpcalc costs "784->512->10" --train --samples 60000 --throughput 50T
    """
    given = settings(
        dtype=dtype,
        optimizer=optimizer,
        mixed_precision=mixed_precision,
        flops_convention=convention,
        batch=batch,
    )
    training_options = {"--samples": samples, "--epochs": epochs, "--throughput": rate}
    training_options |= {"--device-peak": device_peak, "--utilization": utilization}
    if not train and (named := [option for option, value in training_options.items() if value is not None]):
        raise typer.BadParameter("it sets up training: add --train", param_hint=named[0])
    if epochs is not None and samples is None:
        raise typer.BadParameter("an epoch is --samples samples: give them too", param_hint="--epochs")
    figures = Figures(model_from(spec, name=name, batch=batch), given)
    cost, flops_per_second = _training(figures, train, samples, epochs, rate, device_peak, utilization)
    if json_flag:
        from mlpcalc.documents import summary_document, to_json, training_dict

        training = None if cost is None else training_dict(cost, flops_per_second, samples is not None)
        document = summary_document(figures, with_optimizer=True, training=training)
        emit(to_json(document, ascii_only=ascii_only()))
        return
    from mlpcalc.render.costs import costs_text, training_text

    print_notes(*figures.model.notes)
    text = costs_text(figures)
    if cost is not None:
        text += training_text(cost, flops_per_second, samples is not None, ascii_only())
    emit(text)


def _training(
    figures: Figures,
    train: bool,
    samples: int | None,
    epochs: int | None,
    rate: str | None,
    device_peak: str | None,
    utilization: str | None,
) -> tuple[TrainingCost | None, Fraction | None]:
    """The training cost `costs --train` prints, and the FLOP/s its time is for, if given."""
    if not train:
        return None, None
    from mlpcalc.costs import training

    try:
        cost = training.training_cost(
            figures.model, figures.settings, samples or figures.settings.samples, epochs or 1
        )
        given = rate is not None or device_peak is not None or utilization is not None
        return cost, training.throughput(rate, device_peak, utilization) if given else None
    except SettingsError as error:
        raise option_error(str(error), error.key) from None


@app.command(**SPEC_COMMAND)
def diff(
    spec_a: Annotated[str, typer.Argument(help="The first model.", metavar="SPEC_A", callback=read_spec)],
    spec_b: Annotated[str, typer.Argument(help="The second model.", metavar="SPEC_B", callback=read_spec)],
    batch: SamplesOpt = None,
    dtype: SizeDTypeOpt = DEFAULT_DTYPE,
    optimizer: Annotated[
        OptimizerChoice | None,
        typer.Option("--optimizer", help="Optimizer for the training memory. \\[default: adam]"),
    ] = None,
    mixed_precision: MixedOpt = False,
    convention: ConventionOpt = MLPCALC,
    json_flag: JsonOpt = False,
) -> None:
    """Compare two models layer by layer and in total: params, MACs, memory.

    Layers are matched as lines in a text diff: + added in B, - removed,
    ~ changed. MACs and FLOPs are for the batch (--batch; one sample by
    default) in both tables.

    Examples:

      mlpcalc diff "784->512->10 relu" "784->1024->10 relu"

      mlpcalc diff "784->512->10 relu" "784->512->bn->10 relu" --json
    """
    from mlpcalc.diff import Diff
    from mlpcalc.documents import diff_document, to_json
    from mlpcalc.render.diff import diff_text

    given = settings(
        dtype=dtype,
        optimizer=optimizer,
        mixed_precision=mixed_precision,
        flops_convention=convention,
        batch=batch,
    )
    compared = Diff(model_from(spec_a, batch=batch), model_from(spec_b, batch=batch), given)
    if json_flag:
        emit(to_json(diff_document(compared), ascii_only=ascii_only()))
    else:
        emit(diff_text(compared, terminal_columns()))


@app.command(name="spec", **SPEC_COMMAND)
def spec_of(
    model_file: Annotated[
        str,
        typer.Argument(
            help="A model file (model.keras, model.json, model.onnx), or a spec to write canonically.",
            metavar="FILE",
            show_default=False,
            callback=read_spec,
        ),
    ],
    json_flag: JsonOpt = False,
) -> None:
    """Print the spec of a model file: the text the other commands take for the same model.

    What a spec does not say (layer names other than Keras's own, the model's name) is
    said on stderr, so that `mlpcalc summary "$(mlpcalc spec model.keras)"` prints
    Keras's table for the file whenever its names are Keras's defaults.

    Examples:

      mlpcalc spec model.keras

      mlpcalc spec model.onnx --json
    """
    from mlpcalc.documents import spec_document, to_json

    model = model_from(model_file)
    if json_flag:
        emit(to_json(spec_document(model), ascii_only=ascii_only()))
        return
    unsaid = []
    if model.name != DEFAULT_NAME:
        unsaid.append(f"the model's name, {model.name} (--name)")
    if not model.has_automatic_names:
        unsaid.append("its layer names, " + ", ".join(layer.name for layer in model.layers))
    if model.batch is not None:
        unsaid.append(f"its fixed batch size, {model.batch} (--batch)")
    if unsaid:
        print_notes("the spec does not say " + "; ".join(unsaid))
    emit(str(model.spec) + "\n")
