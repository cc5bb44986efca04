"""The `mlpcalc` command: parse arguments, call the core, hand results to render.

No arithmetic here. Renderers are imported inside the commands that use them, so
that `--json` never pays for rich, and nothing here ever imports numpy.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from mlpcalc import __version__
from mlpcalc.errors import ExitCode, MlpcalcError
from mlpcalc.model import DEFAULT_NAME, Model, parse

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


SPEC_HELP = "The model, e.g. '784->512->10 relu' (see the README for the language)."


def _spec_not_option(value: str) -> str:
    # Commands let unknown '-...' words through so that a spec such as '->10' gets the
    # spec's own error with a caret; a word that reads as an option is refused as one.
    if value.startswith("--") or (value[:1] == "-" and value[1:2].isalpha()):
        raise typer.BadParameter(f"no such option: {value}", param_hint="SPEC")
    return value


SpecArg = Annotated[
    str, typer.Argument(help=SPEC_HELP, show_default=False, metavar="SPEC", callback=_spec_not_option)
]
SPEC_CONTEXT = {"ignore_unknown_options": True}
NameOpt = Annotated[str, typer.Option("--name", help="Model name, as Sequential(name=...).")]
BatchOpt = Annotated[
    int | None, typer.Option("--batch", min=1, help="Fix the batch size: (N, 512) instead of (None, 512).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document, nothing else.")]

_debug = False  # set by --debug: let tracebacks through


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
    global _debug
    _debug = debug


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
                raise
            from mlpcalc.render.errors import format_error

            sys.stderr.write(format_error(error))
            raise typer.Exit(ExitCode.USAGE) from None
        except KeyboardInterrupt:
            raise typer.Exit(ExitCode.INTERRUPTED) from None

    return wrapper  # type: ignore[return-value]


def emit(text: str) -> None:
    """Write a result to stdout; a reader that went away (`| head -1`) ends us quietly."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise typer.Exit(ExitCode.OK) from None


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that flush is quiet.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _resolve_format(json_flag: bool, output_format: Format) -> Format:
    if json_flag and output_format not in (Format.table, Format.json):
        raise typer.BadParameter("--json and --format markdown contradict each other", param_hint="--json")
    return Format.json if json_flag else output_format


def _terminal_columns() -> int:
    # Keras sizes its table from the same number (COLUMNS, else the terminal, else 80).
    return shutil.get_terminal_size().columns


# ---------------------------------------------------------------- commands


@app.command(context_settings=SPEC_CONTEXT)
@handles_errors
def summary(
    spec: SpecArg,
    width: Annotated[
        int | None,
        typer.Option(
            "--width",
            help="Table width; default as Keras: min(88, terminal columns - 4).",
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
) -> None:
    """Print what Keras's model.summary() prints for SPEC.

    Examples:

      mlpcalc summary "784->512->10 relu"

      mlpcalc summary "20x16->32:gelu->bn->dropout(0.25)->8:softmax" --width 76

      mlpcalc summary "3->2->2->2 relu" --style classic

      mlpcalc summary "784->512->10 relu" --json
    """
    chosen = _resolve_format(json_flag, output_format)
    model = parse(spec, name=name, batch=batch)
    if chosen is Format.json:
        from mlpcalc.render.text import to_json

        emit(to_json(model.to_dict()))
    elif chosen is Format.markdown:
        from mlpcalc.render.text import markdown_summary

        emit(markdown_summary(model))
    elif style is Style.classic:
        from mlpcalc.render.keras import classic_summary

        emit(classic_summary(model))
    else:
        _print_keras_table(model, width)


def _print_keras_table(model: Model, width: int | None) -> None:
    from rich.console import Console

    from mlpcalc.render.keras import default_width, keras_renderables, min_width, render_plain

    columns = _terminal_columns()
    if width is None:
        width = default_width(columns)
    elif width < min_width():
        raise typer.BadParameter(f"must be at least {min_width()}, received {width}", param_hint="--width")
    renderables = keras_renderables(model, width)
    console_width = max(columns, width)
    console = Console(highlight=False, width=console_width)
    if console.is_terminal:  # Keras's colours on a terminal; plain text anywhere else
        try:
            for renderable in renderables:
                console.print(renderable)
        except BrokenPipeError:
            _silence_stdout()
        return
    emit(render_plain(renderables, console_width))


@app.command(context_settings=SPEC_CONTEXT)
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
    of the weights files that Keras's layer.get_weights() lays out.

    Examples:

      mlpcalc variables "784->512->10 relu"

      mlpcalc variables "64->256:nobias->bn->relu->10" --json

      mlpcalc variables "3->2->2->2 relu" --style classic
    """
    from mlpcalc.render.text import classic_variables, to_json, variables_document, variables_table

    model = parse(spec, name=name)
    if json_flag:
        emit(to_json(variables_document(model)))
    elif style is Style.classic:
        emit(classic_variables(model))
    else:
        emit(variables_table(model))


def main() -> NoReturn:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # before or after a command's own handler
        sys.exit(ExitCode.INTERRUPTED)
    sys.exit(ExitCode.OK)  # pragma: no cover - app() always exits
