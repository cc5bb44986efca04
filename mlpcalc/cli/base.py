"""The CLI's plumbing: the typer app, how a spec is read, how results and errors leave.

No arithmetic here; the commands live beside this module, one module a family:
describe.py (summary, variables, costs, diff), check.py, run.py (forward, init).
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
from mlpcalc.errors import ExitCode, MlpcalcError
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


def terminal_columns() -> int:
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


def check_precision(dtype: str, mixed_precision: bool) -> None:
    if mixed_precision and dtype != "float32":
        raise typer.BadParameter(
            f"mixed precision keeps float32 weights, received --dtype {dtype}: drop one of the two",
            param_hint="--dtype",
        )


def exit_on_closed_pipe(code: ExitCode) -> None:
    """What a closed stdout ends the process with: `check` keeps its verdict."""
    global _exit_on_closed_pipe
    _exit_on_closed_pipe = code


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
