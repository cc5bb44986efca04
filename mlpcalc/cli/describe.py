"""Commands that describe a model: summary, variables, costs, diff."""

from __future__ import annotations

from typing import Annotated

import typer

from mlpcalc.cli.base import (
    SPEC_COMMAND,
    BatchOpt,
    ConventionName,
    ConventionOpt,
    Format,
    JsonOpt,
    MixedOpt,
    NameOpt,
    OptimizerName,
    SamplesOpt,
    SizeDType,
    SizeDTypeOpt,
    SpecArg,
    Style,
    app,
    ascii_only,
    check_precision,
    emit,
    handles_errors,
    read_spec,
    terminal_columns,
)
from mlpcalc.model import DEFAULT_NAME, Model, parse


def _resolve_format(json_flag: bool, output_format: Format, style: Style, width: int | None) -> Format:
    """The one output the options ask for; options that would be silently ignored are refused."""
    if json_flag and output_format not in (Format.table, Format.json):
        raise typer.BadParameter(
            f"--json and --format {output_format} contradict each other", param_hint="--json"
        )
    chosen = Format.json if json_flag else output_format
    if style is Style.classic and chosen is not Format.table:
        raise typer.BadParameter(
            f"the classic style is a table; it does not go with {chosen}", param_hint="--style"
        )
    if width is not None and (chosen is not Format.table or style is Style.classic):
        raise typer.BadParameter("it sizes the Keras table only", param_hint="--width")
    return chosen


@app.command(**SPEC_COMMAND)
@handles_errors
def summary(
    spec: SpecArg,
    width: Annotated[
        int | None,
        typer.Option(
            "--width",
            help="Table width, 16 to 1000; default as Keras: min(88, terminal columns - 4).",
            show_default=False,
        ),
    ] = None,
    style: Annotated[
        Style, typer.Option("--style", help="keras: Keras 3's table; classic: tf.keras 2's text.")
    ] = Style.keras,
    output_format: Annotated[
        Format, typer.Option("--format", help="table (as Keras prints it), markdown or json.")
    ] = Format.table,
    json_flag: JsonOpt = False,
    name: NameOpt = DEFAULT_NAME,
    batch: BatchOpt = None,
    costs: Annotated[
        bool,
        typer.Option("--costs", help="Add columns: MACs, FLOPs and each layer's share of the parameters."),
    ] = False,
    convention: ConventionOpt = ConventionName.mlpcalc,
    dtype: SizeDTypeOpt = SizeDType.float32,
    optimizer: Annotated[
        OptimizerName | None,
        typer.Option(
            "--optimizer", help="Add Keras's ` Optimizer params:` line, as after compile(optimizer=...)."
        ),
    ] = None,
    mixed_precision: MixedOpt = False,
) -> None:
    """Print what Keras's model.summary() prints for SPEC.

    Examples:

      mlpcalc summary "784->512->10 relu"

      mlpcalc summary "20x16->32:gelu->bn->dropout(0.25)->8:softmax" --width 76

      mlpcalc summary "3->2->2->2 relu" --style classic

      mlpcalc summary "784->512->10 relu" --json

      mlpcalc summary "784->512->10 relu" --costs --optimizer adam
    """
    chosen = _resolve_format(json_flag, output_format, style, width)
    check_precision(dtype, mixed_precision)
    if style is Style.classic and (costs or optimizer or dtype != "float32" or mixed_precision):
        raise typer.BadParameter("tf.keras 2's text has no costs, optimizer or dtype", param_hint="--style")
    if convention != "mlpcalc" and not (costs or chosen is Format.json):
        raise typer.BadParameter(
            f"received {convention}, but FLOPs show only with --costs or --json",
            param_hint="--flops-convention",
        )
    if costs and chosen is Format.json:
        raise typer.BadParameter("the JSON always carries the costs", param_hint="--costs")
    if mixed_precision and optimizer is None and chosen is not Format.json:
        raise typer.BadParameter(
            "in a table it changes only the optimizer's line: add --optimizer", param_hint="--mixed-precision"
        )
    if optimizer is not None and dtype == "int8":
        raise typer.BadParameter(
            "Keras cannot build int8 layers to compile: int8 sizes the weights only", param_hint="--optimizer"
        )
    model = parse(spec, name=name, batch=batch)
    opt = optimizer.value if optimizer else None
    if chosen is Format.json:
        from mlpcalc.render.text import to_json
        from mlpcalc.report import summary_document

        document = summary_document(
            model,
            dtype=dtype.value,
            optimizer=opt,
            mixed_precision=mixed_precision,
            convention=convention.value,
        )
        emit(to_json(document, ascii_only=ascii_only()))
    elif chosen is Format.markdown:
        from mlpcalc.render.text import markdown_summary

        emit(markdown_summary(model, dtype.value, opt, convention.value if costs else None, mixed_precision))
    elif style is Style.classic:
        from mlpcalc.render.keras import classic_summary

        emit(classic_summary(model))
    else:
        _print_keras_table(
            model, width, dtype.value, opt, convention.value if costs else None, mixed_precision
        )


def _print_keras_table(
    model: Model,
    width: int | None,
    dtype: str = "float32",
    optimizer: str | None = None,
    costs: str | None = None,
    mixed_precision: bool = False,
) -> None:
    from rich.console import Console

    from mlpcalc.render.keras import (
        MAX_WIDTH,
        MIN_WIDTH,
        default_width,
        keras_renderables,
        render_plain,
        table_width,
    )

    columns = terminal_columns()
    if width is None:
        width = default_width(columns)
    elif not MIN_WIDTH <= width <= MAX_WIDTH:
        raise typer.BadParameter(
            f"must be from {MIN_WIDTH} to {MAX_WIDTH}, received {width}", param_hint="--width"
        )
    renderables = keras_renderables(model, width, dtype, optimizer, costs, mixed_precision)
    console_width = max(columns, table_width(model, width, costs))
    console = Console(highlight=False, width=console_width)
    if console.is_terminal:  # Keras's colours on a terminal; plain text anywhere else
        for renderable in renderables:
            console.print(renderable)
        return
    emit(render_plain(renderables, console_width, ascii_only=ascii_only()))


@app.command(**SPEC_COMMAND)
@handles_errors
def variables(
    spec: SpecArg,
    style: Annotated[
        Style,
        typer.Option(
            "--style", help="keras: a table of every variable; classic: TF 2's trainable_variables."
        ),
    ] = Style.keras,
    json_flag: JsonOpt = False,
    name: NameOpt = DEFAULT_NAME,
) -> None:
    """List every weight variable of SPEC: name, shape, trainable, count.

    The names (dense/kernel, batch_normalization/moving_mean, ...) are the keys
    mlpcalc's weights files use, in the order of Keras's layer.get_weights().

    Examples:

      mlpcalc variables "784->512->10 relu"

      mlpcalc variables "64->256:nobias->bn->relu->10" --json

      mlpcalc variables "3->2->2->2 relu" --style classic
    """
    from mlpcalc.render.text import classic_variables, to_json, variables_table

    if json_flag and style is Style.classic:
        raise typer.BadParameter(
            "the classic style is text; it does not go with --json", param_hint="--style"
        )
    model = parse(spec, name=name)
    if json_flag:
        emit(to_json(model.variables_to_dict(), ascii_only=ascii_only()))
    elif style is Style.classic:
        emit(classic_variables(model))
    else:
        emit(variables_table(model))


@app.command(**SPEC_COMMAND)
@handles_errors
def costs(
    spec: SpecArg,
    batch: SamplesOpt = None,
    dtype: SizeDTypeOpt = SizeDType.float32,
    optimizer: Annotated[
        OptimizerName, typer.Option("--optimizer", help="Optimizer whose states training keeps.")
    ] = OptimizerName.adam,
    mixed_precision: MixedOpt = False,
    convention: ConventionOpt = ConventionName.mlpcalc,
    json_flag: JsonOpt = False,
    name: NameOpt = DEFAULT_NAME,
) -> None:
    """Compute and memory of SPEC: MACs, FLOPs (as each tool counts them), inference and training memory.

    Costs are per sample, and per batch with --batch; training memory is for one step
    on a batch: weights, gradients, optimizer states and the activations kept for the
    backward pass.

    Examples:

      mlpcalc costs "784->512->10 relu"

      mlpcalc costs "784->512->10 relu" --batch 32 --optimizer sgd --dtype bfloat16

      mlpcalc costs "20x16->32:gelu->bn->8:softmax" --flops-convention fvcore --mixed-precision --json
    """
    check_precision(dtype, mixed_precision)
    from mlpcalc.memory import memory_report
    from mlpcalc.render.costs import costs_text
    from mlpcalc.render.text import to_json
    from mlpcalc.report import summary_document

    model = parse(spec, name=name, batch=batch)
    if json_flag:
        document = summary_document(
            model,
            dtype=dtype.value,
            optimizer=optimizer.value,
            mixed_precision=mixed_precision,
            convention=convention.value,
        )
        emit(to_json(document, ascii_only=ascii_only()))
        return
    report = memory_report(model, batch or 1, dtype.value, optimizer.value, mixed_precision)
    emit(costs_text(model, report, convention.value))


@app.command(**SPEC_COMMAND)
@handles_errors
def diff(
    spec_a: Annotated[str, typer.Argument(help="The first model.", metavar="SPEC_A", callback=read_spec)],
    spec_b: Annotated[str, typer.Argument(help="The second model.", metavar="SPEC_B", callback=read_spec)],
    batch: SamplesOpt = None,
    dtype: SizeDTypeOpt = SizeDType.float32,
    optimizer: Annotated[
        OptimizerName, typer.Option("--optimizer", help="Optimizer for the training memory.")
    ] = OptimizerName.adam,
    json_flag: JsonOpt = False,
) -> None:
    """Compare two models layer by layer and in total: shapes, params, MACs, FLOPs, memory.

    Layers are matched as lines in a text diff: + added in B, - removed, ~ changed.

    Examples:

      mlpcalc diff "784->512->10 relu" "784->1024->10 relu"

      mlpcalc diff "784->512->10 relu" "784->512->bn->10 relu" --batch 64 --json
    """
    from mlpcalc.compare import Diff
    from mlpcalc.render.diff import diff_text
    from mlpcalc.render.text import to_json

    compared = Diff(
        parse(spec_a, batch=batch), parse(spec_b, batch=batch), batch or 1, dtype.value, optimizer.value
    )
    emit(to_json(compared.to_dict(), ascii_only=ascii_only()) if json_flag else diff_text(compared))
