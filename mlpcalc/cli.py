"""The `mlpcalc` command: parse arguments, call the core, hand results to render.

No arithmetic here. Renderers are imported inside the commands that use them, so
that `--json` never pays for rich, and nothing here ever imports numpy.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import shutil
import sys
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperCommand

from mlpcalc import __version__
from mlpcalc.engine.names import Init  # numpy-free: --help lists the initializers
from mlpcalc.errors import ExitCode, MlpcalcError
from mlpcalc.model import DEFAULT_NAME, Model, parse
from mlpcalc.spec import MAX_SIZE

app = typer.Typer(
    name="mlpcalc",
    help=(
        "Shapes, parameter counts and Keras summaries of MLPs, from a one-line spec, "
        "without TensorFlow, Keras or PyTorch.\n\n"
        'Example: mlpcalc summary "784->512->10 relu"'
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Style(StrEnum):
    keras = "keras"
    classic = "classic"


class Format(StrEnum):
    table = "table"
    markdown = "markdown"
    json = "json"


SPEC_HELP = "The model, e.g. '784->512->10 relu'; '-' reads it from stdin, '@FILE' from a file."


class SpecCommand(TyperCommand):
    """A command whose SPEC may start with '-' (so that '->10' gets the spec's own error,
    caret and all), while a mistyped option is still refused as an option."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        options = [opt for param in self.get_params(ctx) for opt in param.opts if opt.startswith("-")]
        takes_value = {
            opt for param in self.get_params(ctx) if not getattr(param, "is_flag", True) for opt in param.opts
        }
        skip = False
        for arg in args:
            if arg == "--":
                break
            name = arg.split("=", 1)[0]
            if skip or name in options:
                skip = name in takes_value and "=" not in arg and not skip
                continue
            if re.fullmatch(r"--?[A-Za-z][\w-]*", name):
                close = difflib.get_close_matches(name, options, n=1)
                ctx.fail(f"No such option: {name}" + (f". Did you mean {close[0]}?" if close else ""))
        return super().parse_args(ctx, args)


def read_spec(value: str | None) -> str | None:
    """A spec as given, or read from stdin ("-") or from a file ("@path"), as UTF-8 text."""
    global _stdin_taken
    if value == "-":
        if _stdin_taken:
            raise typer.BadParameter("stdin holds one spec, read already: give this one as text or @FILE")
        _stdin_taken = True
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        try:
            return data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise typer.BadParameter("stdin is not UTF-8 text", param_hint="SPEC") from None
    if value is not None and value.startswith("@"):
        path = Path(value[1:])
        try:
            return path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or error
            raise typer.BadParameter(
                f"cannot read the spec from {path}: {reason}", param_hint="SPEC"
            ) from None
    return value


SpecArg = Annotated[
    str, typer.Argument(help=SPEC_HELP, show_default=False, metavar="SPEC", callback=read_spec)
]
SPEC_COMMAND: dict[str, Any] = {"cls": SpecCommand, "context_settings": {"ignore_unknown_options": True}}
NameOpt = Annotated[str, typer.Option("--name", help="Model name, as Sequential(name=...).")]
BatchOpt = Annotated[
    int | None,
    typer.Option("--batch", min=1, max=MAX_SIZE, help="Fix the batch size: (N, 512) instead of (None, 512)."),
]
SamplesOpt = Annotated[
    int | None,
    typer.Option(
        "--batch", min=1, max=MAX_SIZE, help="Samples per batch: per-batch figures and memory are for it."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document, nothing else.")]

_debug = False  # set by --debug: let tracebacks through
_stdin_taken = False  # a spec was read from stdin already: there is no second one
_exit_on_closed_pipe = ExitCode.OK  # what a closed stdout ends with (check keeps its verdict)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlpcalc {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback for errors.")] = False,
) -> None:
    """Shapes, parameter counts and Keras summaries of MLPs, from a one-line spec."""
    global _debug, _stdin_taken
    _debug, _stdin_taken = debug, False


# ---------------------------------------------------------------- plumbing

F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(command: F) -> F:
    """Map user errors to a message on stderr and exit code 2; Ctrl-C to 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MlpcalcError as error:
            if _debug:
                traceback.print_exc()
            from mlpcalc.render.errors import format_error

            sys.stderr.write(format_error(error))
            raise typer.Exit(ExitCode.USAGE) from None
        except KeyboardInterrupt:
            raise typer.Exit(ExitCode.INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


def ascii_only() -> bool:
    """Whether stdout cannot take the table's box characters (LANG=C, PYTHONIOENCODING=ascii)."""
    try:
        "┏━│…".encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return True
    return False


def emit(text: str) -> None:
    """Write a result to stdout; a character the output cannot encode becomes '?', not a crash."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout.write(text.encode(encoding, "replace").decode(encoding))
    sys.stdout.flush()


class GuardedStdout:
    """stdout that ends the process quietly when its reader goes away (`| head -1`),
    and with a one-line reason when it cannot be written (a full disk)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as error:
            _output_failed(error)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            _output_failed(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _output_failed(error: OSError) -> NoReturn:
    # Python flushes stdout again at exit; point it at /dev/null so that flush is quiet.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
    if isinstance(error, BrokenPipeError):
        raise SystemExit(_exit_on_closed_pipe)
    sys.stderr.write(f"Error: cannot write the output: {error.strerror or error}\n")
    raise SystemExit(ExitCode.OUTPUT_ERROR)


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


def _terminal_columns() -> int:
    # Keras sizes its table from the same number (COLUMNS, else the terminal, else 80).
    return shutil.get_terminal_size().columns


# ---------------------------------------------------------------- commands


class SizeDType(StrEnum):  # memory.DTYPE_BYTES, as a closed choice for typer (a test checks)
    float32 = "float32"
    bfloat16 = "bfloat16"
    float16 = "float16"
    int8 = "int8"
    float64 = "float64"


class OptimizerName(StrEnum):  # memory.OPTIMIZERS (a test checks)
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"
    adamw = "adamw"
    rmsprop = "rmsprop"
    adagrad = "adagrad"
    nadam = "nadam"
    adamax = "adamax"
    lion = "lion"
    adadelta = "adadelta"
    ftrl = "ftrl"


class ConventionName(StrEnum):  # conventions.CONVENTIONS (a test checks)
    mlpcalc = "mlpcalc"
    torchinfo = "torchinfo"
    fvcore = "fvcore"
    thop = "thop"
    ptflops = "ptflops"
    calflops = "calflops"
    tf_profiler = "tf-profiler"


SizeDTypeOpt = Annotated[
    SizeDType, typer.Option("--dtype", help="Dtype of weights and activations: the byte sizes follow it.")
]
ConventionOpt = Annotated[
    ConventionName, typer.Option("--flops-convention", help="Count FLOPs as this tool does (README: rules).")
]
MixedOpt = Annotated[
    bool,
    typer.Option("--mixed-precision", help="Keras's mixed_float16: float32 weights, float16 activations."),
]


def _check_precision(dtype: str, mixed_precision: bool) -> None:
    if mixed_precision and dtype != "float32":
        raise typer.BadParameter(
            f"mixed precision keeps float32 weights, received --dtype {dtype}: drop one of the two",
            param_hint="--dtype",
        )


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
    _check_precision(dtype, mixed_precision)
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

    columns = _terminal_columns()
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
    _check_precision(dtype, mixed_precision)
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
def check(
    spec: Annotated[
        str | None,
        typer.Argument(
            help="A spec to check inline; without it, every model of the config file.",
            show_default=False,
            metavar="[SPEC]",
            callback=read_spec,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Budget file: pyproject.toml or mlpcalc.toml. \\[default: found upwards]"
        ),
    ] = None,
    params: Annotated[str | None, typer.Option("--params", help="Exact parameter count.")] = None,
    max_params: Annotated[
        str | None, typer.Option("--max-params", help="At most this many parameters.")
    ] = None,
    max_trainable_params: Annotated[
        str | None, typer.Option("--max-trainable-params", help="At most this many trainable parameters.")
    ] = None,
    output_shape: Annotated[
        str | None, typer.Option("--output-shape", help="Output shape without the batch: 10 or 20x8.")
    ] = None,
    max_weights_bytes: Annotated[
        str | None, typer.Option("--max-weights-bytes", help='Weights size: bytes or "2 MiB", "1.5 GB".')
    ] = None,
    max_macs: Annotated[str | None, typer.Option("--max-macs", help="MACs for the batch.")] = None,
    max_flops: Annotated[
        str | None, typer.Option("--max-flops", help="FLOPs for the batch (--flops-convention).")
    ] = None,
    max_training_bytes: Annotated[
        str | None,
        typer.Option("--max-training-bytes", help="Memory of a training step (--batch, --optimizer)."),
    ] = None,
    max_inference_bytes: Annotated[
        str | None, typer.Option("--max-inference-bytes", help="Memory of inference on the batch.")
    ] = None,
    batch: SamplesOpt = None,
    optimizer: Annotated[
        OptimizerName | None,
        typer.Option("--optimizer", help="Optimizer for --max-training-bytes. \\[default: adam]"),
    ] = None,
    dtype: Annotated[
        SizeDType | None,
        typer.Option("--dtype", help="Dtype of weights and activations. \\[default: float32]"),
    ] = None,
    convention: Annotated[
        ConventionName | None,
        typer.Option("--flops-convention", help="Count FLOPs as this tool does. \\[default: mlpcalc]"),
    ] = None,
    mixed_precision: MixedOpt = False,
    json_flag: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing; the exit code tells.")] = False,
) -> None:
    """Check models against budgets: exit 0 when all hold, 1 when any fails, 2 when the budgets are wrong.

    Budgets live in pyproject.toml under \\[tool.mlpcalc.models.NAME], or in mlpcalc.toml
    under \\[models.NAME] (see the README); or give one spec and its limits inline.

    Examples:

      mlpcalc check

      mlpcalc check --config budgets/mlpcalc.toml --json

      mlpcalc check "784->512->10 relu" --params 407050 --max-params 1e6 --output-shape 10
    """
    from mlpcalc.budgets import BudgetError, find_config, inline_values, load_budgets, make_budget
    from mlpcalc.budgets import check as check_budget
    from mlpcalc.render.check import annotation, check_document, check_text, github_annotations
    from mlpcalc.render.text import to_json

    given = {
        "params": params,
        "max_params": max_params,
        "max_trainable_params": max_trainable_params,
        "output_shape": output_shape,
        "max_weights_bytes": max_weights_bytes,
        "max_macs": max_macs,
        "max_flops": max_flops,
        "max_training_bytes": max_training_bytes,
        "max_inference_bytes": max_inference_bytes,
    }
    limits = {key: value for key, value in given.items() if value is not None}
    if quiet and json_flag:
        raise typer.BadParameter("it prints nothing, so --json means nothing", param_hint="--quiet")
    inline_settings = {
        "batch": batch, "optimizer": optimizer, "dtype": dtype, "flops_convention": convention,
        "mixed_precision": mixed_precision or None,
    }  # fmt: skip
    given_settings = {key: value for key, value in inline_settings.items() if value is not None}
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    workspace = os.environ.get("GITHUB_WORKSPACE")
    try:
        if spec is None:
            if limits or given_settings:
                options = ", ".join("--" + key.replace("_", "-") for key in (*limits, *given_settings))
                raise typer.BadParameter(
                    f"{options} set an inline check and need a SPEC; a config file sets its own",
                    param_hint="SPEC",
                )
            path = config or find_config(Path.cwd())
            if path is None:
                raise typer.BadParameter(
                    "no mlpcalc.toml, nor pyproject.toml with [tool.mlpcalc], here or above: give --config",
                    param_hint="--config",
                )
            source = os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
            budgets = load_budgets(Path(source))
        else:
            if config is not None:
                raise typer.BadParameter(
                    "a SPEC is checked inline, not against --config", param_hint="--config"
                )
            if not limits:
                raise typer.BadParameter(
                    "nothing to check: give a limit such as --max-params", param_hint="SPEC"
                )
            values: dict[str, object] = {"spec": spec, **inline_values(limits)}
            values |= {key: getattr(value, "value", value) for key, value in given_settings.items()}
            budgets = [make_budget("inline", values)]
            source = "inline"
        results = [(budget, *check_budget(budget)) for budget in budgets]
    except BudgetError as error:
        if github:  # a wrong budget file shows on the pull request too
            sys.stderr.write(annotation(str(error), error.file, error.line, workspace))
        raise
    if github:
        sys.stderr.write(github_annotations(results, workspace))
    failed = any(not outcome.ok for _, _, outcomes in results for outcome in outcomes)
    global _exit_on_closed_pipe
    _exit_on_closed_pipe = (
        ExitCode.CHECK_FAILED if failed else ExitCode.OK
    )  # a reader that stops early changes nothing
    if json_flag:
        emit(to_json(check_document(results, source), ascii_only=ascii_only()))
    elif not quiet:
        emit(check_text(results, source))
    if failed:
        raise typer.Exit(ExitCode.CHECK_FAILED)


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


class DType(StrEnum):
    float32 = "float32"
    float64 = "float64"
    float16 = "float16"


SeedOpt = Annotated[
    int | None, typer.Option("--seed", min=0, help="Seed of the weights and the random input. [default: 0]")
]
InitSeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of the weights.")]
InitOpt = Annotated[
    Init | None,
    typer.Option("--init", help="Kernel initializer (Keras's formulas). [default: glorot_uniform]"),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


@app.command(**SPEC_COMMAND)
@handles_errors
def forward(
    spec: SpecArg,
    weights: Annotated[
        Path | None,
        typer.Option("--weights", help="Load the weights from this .npz (as `mlpcalc init` writes)."),
    ] = None,
    initializer: InitOpt = None,
    seed: SeedOpt = None,
    batch: Annotated[
        int | None,
        typer.Option("--batch", min=1, max=MAX_SIZE, help="Rows of standard-normal input. [default: 4]"),
    ] = None,
    input_path: Annotated[
        Path | None, typer.Option("--input", help="Input rows from this .npy (memory-mapped, any size).")
    ] = None,
    dtype: Annotated[DType, typer.Option("--dtype", help="Compute dtype.")] = DType.float32,
    output_path: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Save the output to this .npy (written as it is computed)."),
    ] = None,
    chunk: Annotated[
        int | None,
        typer.Option("--chunk", min=1, help="Rows per chunk. [default: buffers of about 64 MiB]"),
    ] = None,
    stats: Annotated[
        bool, typer.Option("--stats", help="Per layer: mean, std, min, max, zeros (dead ReLUs), NaN, Inf.")
    ] = False,
    style: Annotated[
        Style, typer.Option("--style", help="keras: mlpcalc's view; classic: the output as TF 2 prints it.")
    ] = Style.keras,
    json_flag: JsonOpt = False,
    quiet: QuietOpt = False,
    name: NameOpt = DEFAULT_NAME,
) -> None:
    """Run SPEC forward with NumPy, as Keras's model(x, training=False) does.

    Examples:

      mlpcalc forward "784->512->10 relu"

      mlpcalc forward "784->512->10 relu" --batch 1000 --seed 1 --stats

      mlpcalc forward "784->512" --style classic

      mlpcalc forward "784->512->10 relu" --weights weights.npz --input x.npy --output y.npy
    """
    if weights is not None and initializer is not None:
        raise typer.BadParameter(
            "the weights come from --weights or from --init, not both", param_hint="--init"
        )
    if input_path is not None and batch is not None:
        raise typer.BadParameter("the rows come from --input or from --batch, not both", param_hint="--batch")
    if style is Style.classic and (json_flag or stats):
        raise typer.BadParameter("the classic style prints the tensor alone", param_hint="--style")
    if quiet and (json_flag or stats or style is Style.classic):
        raise typer.BadParameter(
            "it prints nothing, so --json, --stats and --style mean nothing", param_hint="--quiet"
        )
    if seed is not None and weights is not None and input_path is not None:
        raise typer.BadParameter(
            "nothing is drawn: the weights and the input come from files", param_hint="--seed"
        )
    from mlpcalc.engine.run import run_forward
    from mlpcalc.render.forward import Progress, classic_text, forward_document, forward_text
    from mlpcalc.render.text import to_json

    model = parse(spec, name=name)
    progress = Progress(enabled=not quiet and sys.stderr.isatty())
    try:
        run = run_forward(
            model, seed=seed or 0, init=initializer or Init.glorot_uniform, weights_path=weights,
            rows=batch, input_path=input_path, dtype=dtype.value, output_path=output_path, chunk=chunk,
            stats=stats, progress=progress,
        )  # fmt: skip
    finally:
        progress.close()
    summary = run.output_stats.to_dict()
    if (summary["nan"] or summary["inf"]) and not quiet:
        sys.stderr.write(
            f"Warning: the output has {summary['nan']:,} NaN and {summary['inf']:,} Inf values\n"
        )
    if quiet:
        return
    if json_flag:
        emit(to_json(forward_document(run), ascii_only=ascii_only()))
    elif style is Style.classic:
        emit(classic_text(run))
    else:
        emit(forward_text(run))


@app.command(**SPEC_COMMAND)
@handles_errors
def init(
    spec: SpecArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The .npz file to write.")],
    seed: InitSeedOpt = 0,
    initializer: InitOpt = None,
    json_flag: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write initial weights for SPEC to a .npz file, one array per variable.

    The keys are the names `mlpcalc variables` prints (dense/kernel of shape
    (in, units), dense/bias, ...): Keras's layer.get_weights() layout.

    Examples:

      mlpcalc init "784->512->10 relu" -o weights.npz

      mlpcalc init "784->512->10 relu" -o weights.npz --seed 7 --init he_normal
    """
    if quiet and json_flag:
        raise typer.BadParameter("it prints nothing, so --json means nothing", param_hint="--quiet")
    from mlpcalc.engine.run import run_init
    from mlpcalc.render.forward import init_document, init_text
    from mlpcalc.render.text import to_json

    model = parse(spec)
    chosen = initializer or Init.glorot_uniform
    run_init(model, output, seed=seed, init=chosen)
    if quiet:
        return
    if json_flag:
        emit(to_json(init_document(model, str(output), chosen.value, seed), ascii_only=ascii_only()))
    else:
        emit(init_text(model, str(output), chosen.value, seed))


def main() -> NoReturn:
    """Console-script entry point."""
    sys.stdout = GuardedStdout(sys.stdout)
    try:
        app()
    except KeyboardInterrupt:  # before or after a command's own handler
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as error:  # a bug: say so in one line, unless asked for the traceback
        if _debug:
            raise
        sys.stderr.write(
            f"Error: internal error ({type(error).__name__}: {error}). This is a bug in mlpcalc: "
            "please report it with the output of the same command run with --debug.\n"
        )
        sys.exit(ExitCode.INTERNAL_ERROR)
    sys.exit(ExitCode.OK)  # pragma: no cover - app() always exits
