"""The CLI's plumbing: the typer app, how a spec is read, how results and errors leave.

No arithmetic here; the commands live beside this module, one module a family:
describe.py (summary, variables, costs, diff), check.py, compare.py, fit.py, run.py (forward,
init), export.py, diagram.py, completions.py.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import itertools
import re
import shutil
import sys
import traceback
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeAlias

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_name
from typer.models import CommandInfo

from mlpcalc.cli.streams import GuardedStdout, ascii_only
from mlpcalc.core.activations import KINDS
from mlpcalc.core.errors import ExitCode, FileError, MlpcalcError, SettingsError, SpecError
from mlpcalc.core.model import DEFAULT_NAME, Model, parse
from mlpcalc.core.spec import MAX_SIZE
from mlpcalc.core.text import TooLong, read_text, shown
from mlpcalc.costs.settings import CHOICES, Settings
from mlpcalc.engine.names import COMPUTE_DTYPES, INITIALIZERS
from mlpcalc.interop import KERAS_SUFFIXES
from mlpcalc.render import FORMATS, STYLES, TABLE_STYLES
from mlpcalc.render.errors import format_error, format_usage_error
from mlpcalc.version import __version__

# click's UsageError, base of every command-line mistake (typer vendors click and exports
# only its subclass BadParameter).
UsageError: Any = typer.BadParameter.__mro__[1]


def _cut_by_the_shell(error: SpecError) -> bool:
    """Whether a spec reads as the shell leaves an unquoted one: cut just before its first '>'."""
    return error.source.endswith("-") and ">" not in error.source


class Group(TyperGroup):
    """The app's group: every error leaves one way. mlpcalc's own errors become a message on
    stderr and exit 2 (a traceback too with --debug); usage errors (a bad option, a missing
    argument) print in the same look, `Error: ...`, instead of typer's box; Ctrl-C exits 130."""

    def invoke(self, ctx: Any) -> Any:  # click's Context, which typer does not export
        try:
            return super().invoke(ctx)
        except MlpcalcError as error:
            if ctx.meta.get(DEBUG):
                traceback.print_exc()
            if isinstance(error, SpecError) and _cut_by_the_shell(error) and error.hint is None:
                # `mlpcalc summary 784->512->10` unquoted: the shell took >512- and >10 as redirections.
                error.hint = (
                    "quote the spec: unquoted, the shell reads '>' as a redirection (\"784->512->10\")"
                )
            sys.stderr.write(format_error(error))
            raise typer.Exit(ExitCode.USAGE) from None
        except OSError as error:  # a file the machine refused (permissions, a full disk): not a bug
            if error.filename is None or isinstance(error, BrokenPipeError):
                raise
            if ctx.meta.get(DEBUG):
                traceback.print_exc()
            sys.stderr.write(f"Error: {shown(error.filename)}: {error.strerror or error}\n")
            raise typer.Exit(ExitCode.USAGE) from None
        except KeyboardInterrupt:
            raise typer.Exit(ExitCode.INTERRUPTED) from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if ascii_only():  # rich's help cuts text with '…': an ASCII-only output gets click's plain help
            for command in (self, *self.commands.values()):
                command.rich_markup_mode = None  # type: ignore[attr-defined]
        passed = {"args": args, "prog_name": prog_name, "complete_var": complete_var, **extra}
        if not standalone_mode:
            return super().main(**passed, standalone_mode=False, windows_expand_args=windows_expand_args)
        try:
            result = super().main(**passed, standalone_mode=False, windows_expand_args=windows_expand_args)
        except typer.Abort as abort:  # click turns any EOFError into Abort: mlpcalc never prompts,
            raise abort.__cause__ or abort from None  # so it is a bug, reported as one by main()
        except UsageError as error:
            if type(error).__name__ != "NoArgsIsHelpError":  # that one printed the help already
                sys.stderr.write(format_usage_error(error.format_message(), getattr(error, "ctx", None)))
            sys.exit(error.exit_code)
        sys.exit(result if isinstance(result, int) else ExitCode.OK)


# The spec language in a screenful, for --help (docs/spec.md has it whole; the grammar is in
# core/spec.py's docstring, the activations in core/activations.py).
SPEC_CHEATSHEET = "\n".join(
    [
        "Spec language (docs/spec.md):",
        "",
        "  784->512->10            input 784; Dense 512, Dense 10 (no activation)",
        "  784->512:relu->10       an activation after ':'; some take an argument:",
        "                          gelu(tanh), elu(0.5), leaky_relu(0.1)",
        "  784->512->10 relu       after a space: every Dense but the last",
        "  64->256*3:gelu          *3: three identical Dense layers",
        "  64->256:nobias->bn      a Dense without bias; BatchNormalization",
        "  64->ln->relu->10        LayerNormalization; an Activation layer",
        "  64->dropout(0.2)->10    Dropout and its rate",
        "  28x28->flatten->10      input dimensions with x; Flatten",
        "",
        "Activations: " + ", ".join(KINDS) + ".",
    ]
)

app = typer.Typer(
    cls=Group,
    name="mlpcalc",
    help=(
        "Shapes, parameter counts and Keras summaries of MLPs, from a one-line spec, "
        "without TensorFlow, Keras or PyTorch.\n\n"
        'Example: mlpcalc summary "784->512->10 relu"\n\n' + SPEC_CHEATSHEET
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


SPEC_HELP = (
    "The model, e.g. '784->512->10 relu'; '-' reads it from stdin, '@FILE' from a file; "
    "or a model file: Keras's model.keras or model.json (to_json()), an ONNX model.onnx."
)


OPTION_NAME = re.compile(r"--?[A-Za-z][\w-]*")  # what a mistyped option looks like


class SpecCommand(TyperCommand):
    """A command whose SPEC arguments are specs whatever their first character.

    click would read `->512:tanh` as the short options `->512:tanh` (its `h` as -h), so
    before click parses, every argument that is neither an option nor an option's value
    moves behind `--`, in order: `check '->10' --json` is `check --json -- '->10'`, and the
    spec gets its own error, caret and all. A mistyped option (`--jsn`) is still refused as
    an option, and --debug is taken here too, so that it works after the command."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        params = self.get_params(ctx)
        options = [opt for param in params for opt in param.opts if opt.startswith("-")]
        takes = {  # the options that take values: how many (--layer-range: two), and their names
            opt: param for param in params if not getattr(param, "is_flag", True) for opt in param.opts
        }
        before, positional = [], []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                break
            name = arg.split("=", 1)[0]
            if arg == "--debug":
                ctx.find_root().meta[DEBUG] = True
            elif name in options:
                before.append(arg)
                if name in takes and "=" not in arg:  # its values, whatever they look like
                    count = max(1, takes[name].nargs)
                    taken = list(itertools.islice(rest, count))
                    if len(taken) < count:  # else click would take the '--' put before the specs
                        wanted = f"{count} arguments: {takes[name].metavar}" if count > 1 else "an argument"
                        ctx.fail(f"Option '{name}' requires {wanted}")
                    before.extend(taken)
            elif OPTION_NAME.fullmatch(name):
                close = difflib.get_close_matches(name, options, n=1)
                ctx.fail(f"No such option: {name}" + (f". Did you mean {close[0]}?" if close else ""))
            else:
                positional.append(arg)
        return super().parse_args(ctx, [*before, "--", *positional, *rest])


SPEC_BYTES = 2**20  # a spec file or stdin past this is not a spec (10,000 layers take ~250 KiB)


def read_spec(ctx: typer.Context, value: str | None) -> str | None:
    """A spec as given, or read from stdin ("-") or from a file ("@path"), as UTF-8 text."""
    if value == "-":
        if ctx.meta.get(STDIN_TAKEN):
            raise typer.BadParameter("stdin holds one spec, read already: give this one as text or @FILE")
        ctx.meta[STDIN_TAKEN] = True
        return _read_spec_from(None, "stdin")
    if value is not None and value.startswith("@"):
        if value == "@":
            raise typer.BadParameter("'@' names no file: write @FILE, or - for stdin", param_hint="SPEC")
        ctx.meta.setdefault(SPEC_FILES, []).append(Path(value[1:]))
        return _read_spec_from(Path(value[1:]), shown(value[1:]))
    return value


def _read_spec_from(path: Path | None, where: str) -> str:
    """The spec in the file at `path`, or on stdin (None), stripped; its problems as usage errors."""
    return read_input(path, where, SPEC_BYTES, "the spec", "Reading the spec from stdin").strip()


def read_input(path: Path | None, where: str, limit: int, what: str, prompt: str) -> str:
    """`what` (the spec, the specs) from the file at `path`, or stdin (None), as UTF-8 text of at
    most `limit` bytes; its problems as usage errors naming `where` it came from."""
    try:
        if path is not None:
            with path.open("rb") as file:
                return read_text(file, limit)
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None or stdin.closed:
            raise typer.BadParameter(f"stdin is closed: give {what} as text or @FILE", param_hint="SPEC")
        if stdin.isatty():  # a person at a terminal would wait in silence otherwise
            sys.stderr.write(f"{prompt} (end it with Ctrl-D)...\n")
        return read_text(stdin, limit)
    except UnicodeDecodeError:
        raise typer.BadParameter(f"{where} is not UTF-8 text", param_hint="SPEC") from None
    except TooLong as error:
        raise typer.BadParameter(f"{where} is {error}: not {what}", param_hint="SPEC") from None
    except OSError as error:
        reason = error.strerror or error
        raise typer.BadParameter(f"cannot read {what} from {where}: {reason}", param_hint="SPEC") from None


SpecArg = Annotated[
    str, typer.Argument(help=SPEC_HELP, show_default=False, metavar="SPEC", callback=read_spec)
]
SPEC_COMMAND: dict[str, Any] = {"cls": SpecCommand, "context_settings": {"ignore_unknown_options": True}}
NameOpt = Annotated[
    str | None,
    typer.Option(
        "--name",
        help="Model name, as Sequential(name=...).  [default: sequential, or the model file's]",
        show_default=False,
    ),
]
BatchOpt = Annotated[
    int | None,
    typer.Option(
        "--batch",
        min=1,
        max=MAX_SIZE,
        help="Fix the batch size: (N, 512) instead of (None, 512). \\[default: any batch]",
    ),
]
SamplesOpt = Annotated[
    int | None,
    typer.Option(
        "--batch",
        min=1,
        max=MAX_SIZE,
        help="Samples per batch: per-batch figures and memory are for it. \\[default: 1]",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document, nothing else.")]

# Per-invocation state lives in click's context (shared by the whole command line):
DEBUG = "mlpcalc.debug"  # --debug: let tracebacks through
STDIN_TAKEN = "mlpcalc.stdin_taken"  # a spec was read from stdin already: there is no second one
SPEC_FILES = "mlpcalc.spec_files"  # the @FILEs specs were read from: inputs no output may replace


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlpcalc {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback for errors.")] = False,
) -> None:
    """Shapes, parameter counts and Keras summaries of MLPs, from a one-line spec."""
    ctx.meta[DEBUG] = debug


# ---------------------------------------------------------------- plumbing


MODEL_FILES = (*KERAS_SUFFIXES, ".onnx")  # a SPEC ending so names a model file
WEIGHTED_MODEL_FILES = (".keras", ".onnx")  # those that hold weights besides (a .json is a config alone)
ONNX_EXTRA = "pip install 'mlpcalc[onnx]'"


def model_from(spec: str, *, name: str | None = None, batch: int | None = None) -> Model:
    """The Model a SPEC argument gives: a model file (by its extension) or spec text; --name
    and --batch, when given, over what the file says. A file's notes go to stderr."""
    if not is_model_file(spec):
        return parse(spec, name=DEFAULT_NAME if name is None else name, batch=batch)
    path = Path(spec)
    if spec.lower().endswith(".onnx"):
        try:
            from mlpcalc.interop.onnx_import import model_from_onnx
        except ImportError:
            raise FileError(f"{shown(spec)}: reading ONNX needs the onnx package: {ONNX_EXTRA}") from None
        model = model_from_onnx(path)
    else:
        from mlpcalc.interop.keras_config import read_keras_file

        read = read_keras_file(path)
        print_notes(*read.notes)
        model = read.model
    return dataclasses.replace(
        model, name=model.name if name is None else name, batch=model.batch if batch is None else batch
    )


def model_file_weights(spec: str, model: Model) -> tuple[Weights, Path] | None:
    """The weights a model file holds (a .keras archive's, an ONNX graph's), or None for a
    spec or a Keras .json (a config alone)."""
    if not holds_weights(spec):
        return None
    path = Path(spec)
    if spec.lower().endswith(".keras"):
        from mlpcalc.interop.keras_weights import archive_weights

        return archive_weights(path, model), path
    from mlpcalc.interop.onnx_import import onnx_weights

    return onnx_weights(path, model), path


def holds_weights(spec: str) -> bool:
    """Whether a SPEC argument names a model file that holds weights (.keras, .onnx)."""
    return spec.lower().endswith(WEIGHTED_MODEL_FILES)


def inputs_of(ctx: typer.Context, spec: str) -> tuple[Path, ...]:
    """The files a command read its model from, which no output of it may replace: a model file
    given as SPEC, and the @FILEs of the command line."""
    model_file = (Path(spec),) if is_model_file(spec) else ()
    return (*ctx.meta.get(SPEC_FILES, ()), *model_file)


def is_model_file(spec: str) -> bool:
    """Whether a SPEC argument names a model file: no spec ends in these letters."""
    return spec.lower().endswith(MODEL_FILES)


def print_notes(*notes: str) -> None:
    """The core's notes, on stderr: hints beside the result, never part of it."""
    sys.stderr.write("".join(f"Note: {note}\n" for note in notes))


def terminal_columns() -> int:
    # Keras sizes its table from the same number (COLUMNS, else the terminal, else 80).
    return shutil.get_terminal_size().columns


# ---------------------------------------------------------------- commands


def closed_choice(name: str, values: Iterable[str]) -> type[StrEnum]:
    """A closed choice for typer, made from a table of the core: never a copy of it."""
    return StrEnum(name, [(value, value) for value in values])  # type: ignore[return-value]


if TYPE_CHECKING:  # to the type checker a choice is the str it holds
    from mlpcalc.budgets import Budget
    from mlpcalc.engine.weights import Weights

    DTypeChoice: TypeAlias = str
    OptimizerChoice: TypeAlias = str
    ConventionChoice: TypeAlias = str
    InitChoice: TypeAlias = str
    ComputeDTypeChoice: TypeAlias = str
    StyleChoice: TypeAlias = str
    TableStyleChoice: TypeAlias = str
    FormatChoice: TypeAlias = str
else:
    DTypeChoice = closed_choice("DType", CHOICES["dtype"])
    OptimizerChoice = closed_choice("Optimizer", CHOICES["optimizer"])
    ConventionChoice = closed_choice("Convention", CHOICES["flops_convention"])
    InitChoice = closed_choice("Init", INITIALIZERS)
    ComputeDTypeChoice = closed_choice("ComputeDType", COMPUTE_DTYPES)
    StyleChoice = closed_choice("Style", STYLES)
    TableStyleChoice = closed_choice("TableStyle", TABLE_STYLES)
    FormatChoice = closed_choice("Format", FORMATS)

SizeDTypeOpt = Annotated[
    DTypeChoice, typer.Option("--dtype", help="Dtype of weights and activations: the byte sizes follow it.")
]
ConventionOpt = Annotated[
    ConventionChoice,
    typer.Option("--flops-convention", help="Count FLOPs as this tool does (docs/costs.md: rules)."),
]
MixedOpt = Annotated[
    bool,
    typer.Option("--mixed-precision", help="Keras's mixed_float16: float32 weights, float16 activations."),
]


# check's limits, which compare and fit take too (budgets.py reads their text).
ParamsOpt = Annotated[str | None, typer.Option("--params", help="Exact parameter count.")]
MaxParamsOpt = Annotated[str | None, typer.Option("--max-params", help="At most this many parameters.")]
MaxTrainableParamsOpt = Annotated[
    str | None, typer.Option("--max-trainable-params", help="At most this many trainable parameters.")
]
OutputShapeOpt = Annotated[
    str | None, typer.Option("--output-shape", help="Output shape without the batch: 10 or 20x8.")
]
MaxWeightsBytesOpt = Annotated[
    str | None, typer.Option("--max-weights-bytes", help='Weights size: bytes or "2 MiB", "1.5 GB".')
]
MaxMacsOpt = Annotated[str | None, typer.Option("--max-macs", help="MACs for the batch.")]
MaxFlopsOpt = Annotated[
    str | None, typer.Option("--max-flops", help="FLOPs for the batch (--flops-convention).")
]
MaxTrainingBytesOpt = Annotated[
    str | None, typer.Option("--max-training-bytes", help="Memory of a training step (--batch, --optimizer).")
]
MaxInferenceBytesOpt = Annotated[
    str | None, typer.Option("--max-inference-bytes", help="Memory of inference on the batch.")
]


def inline_budget(name: str, limits: dict[str, str | None], given: Settings) -> Budget | None:
    """The limits given (None: not given) as `check` reads them inline, with its errors, under
    the settings given; None when no limit is."""
    values = {key: value for key, value in limits.items() if value is not None}
    if not values:
        return None
    from mlpcalc.budgets import inline_values, make_budget

    budget = make_budget(name, {"spec": "", **inline_values(values)})
    return dataclasses.replace(budget, settings=given)


def plain(value: Any) -> Any:
    """A choice's str (typer hands over enum members), anything else as it is."""
    return str(value) if isinstance(value, StrEnum) else value


def option_error(message: str, key: str) -> typer.BadParameter:
    """A usage error naming the option a core key stands for (mixed_precision: --mixed-precision)."""
    return typer.BadParameter(message, param_hint="--" + key.replace("_", "-"))


def settings(**values: Any) -> Settings:
    """The core's Settings from the options; a contradiction is a usage error naming the option."""
    try:
        return Settings(**{key: plain(value) for key, value in values.items()})
    except SettingsError as error:
        raise option_error(str(error), error.key) from None


def exit_on_closed_pipe(code: ExitCode) -> None:
    """What a closed stdout ends the process with: `check` keeps its verdict."""
    if isinstance(sys.stdout, GuardedStdout):
        sys.stdout.closed_pipe_exit = code


def command_name(info: CommandInfo) -> str:
    """A registered command's name, as typer names it (spec_of is `spec` by its own name)."""
    assert info.callback is not None
    return info.name or get_command_name(info.callback.__name__)


def listed(info: CommandInfo) -> CommandInfo:
    """A command as the command list shows it: its name and help, none of its options (which
    typer would build, option by option, before printing a list that shows none)."""
    assert info.callback is not None
    callback = info.callback

    def stand_in() -> None:  # pragma: no cover - never run: the list is all it is for
        raise AssertionError(f"{command_name(info)} was registered for the command list alone")

    stand_in.__doc__ = callback.__doc__
    shown = copy.copy(info)
    shown.name, shown.callback = command_name(info), stand_in
    return shown


def main() -> NoReturn:
    """Run the app (cli/__init__.py's `main` has taken over the process's streams and signals)."""
    try:
        app()
    except KeyboardInterrupt:  # before or after a command's own handler
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as error:  # a bug: say so in one line, unless asked for the traceback
        if "--debug" in sys.argv[1:]:
            raise
        sys.stderr.write(
            f"Error: internal error ({type(error).__name__}: {error}). This is a bug in mlpcalc: "
            "please report it with the output of the same command run with --debug.\n"
        )
        sys.exit(ExitCode.INTERNAL_ERROR)
    sys.exit(ExitCode.OK)  # pragma: no cover - app() always exits
