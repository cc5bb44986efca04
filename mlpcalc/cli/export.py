"""The export command: a model as another framework's code or file."""

from __future__ import annotations

import importlib.util
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeAlias

import typer

from mlpcalc.cli.base import (
    ONNX_EXTRA,
    SPEC_COMMAND,
    JsonOpt,
    NameOpt,
    SpecArg,
    app,
    closed_choice,
    holds_weights,
    inputs_of,
    model_file_weights,
    model_from,
    plain,
    print_notes,
)
from mlpcalc.cli.run import ForceOpt, InitOpt, InitSeedOpt, QuietOpt
from mlpcalc.cli.streams import ascii_only, emit
from mlpcalc.core.errors import FileError
from mlpcalc.core.model import Model
from mlpcalc.core.outputs import OutputKind, output_target, write_bytes
from mlpcalc.core.text import shown
from mlpcalc.engine.names import DEFAULT_INITIALIZER
from mlpcalc.interop.opsets import DEFAULT_OPSET, OPSETS
from mlpcalc.interop.script import MARK

if TYPE_CHECKING:
    from mlpcalc.engine.weights import Weights

KERAS_EXTRA = "pip install 'mlpcalc[keras]'"
# The ONNX opsets written: 17 is the oldest with LayerNormalization as one operator.
# How an earlier output of each kind starts (an .npz is engine/arrays.py's to tell): a script
# with mlpcalc's mark, a serialized ONNX ModelProto with its field 1, ir_version (a varint), and
# a .keras archive as any zip archive.
KINDS = {
    "code": OutputKind("a script mlpcalc export wrote", (MARK.encode(),)),
    "onnx": OutputKind("an ONNX model", (b"\x08",)),
    "keras": OutputKind("a zip archive (.keras)", (b"PK",)),
}


@dataclass(frozen=True)
class Job:
    """What the options ask of a target: the model, and where its weights come from."""

    model: Model
    weights_path: Path | None
    seed: int
    init: str
    opset: int
    spec: str = ""  # the SPEC argument: a model file that holds weights gives them

    def weights(self) -> Weights:
        """The weights from --weights, else a model file's own (.keras, .onnx), else drawn with
        --init and --seed as `mlpcalc init` draws them."""
        from mlpcalc.engine.forward import check_memory
        from mlpcalc.engine.weights import generators, init_weights, load_weights, weights_file_bytes

        if self.weights_path is None and (held := model_file_weights(self.spec, self.model)) is not None:
            return held[0]
        if self.weights_path is not None:
            check_memory({"weights": weights_file_bytes(self.weights_path)}, "the weights")
            return load_weights(self.weights_path, self.model)
        check_memory({"weights": self.model.params_bytes}, "the weights")
        return init_weights(self.model, generators(self.seed)[0], self.init)


@dataclass(frozen=True)
class Target:
    """One --to: what it makes (code as text, a file as bytes, or the weights themselves), what
    it is called, and what an existing --output must be to be replaced without --force."""

    make: Callable[[Job], str | bytes | Weights]
    what: str
    binary: bool
    kind: str  # "npz", or one of KINDS
    library: tuple[str, str] | None = None  # the package it needs and the extra that brings it


def _keras_code(job: Job) -> str:
    from mlpcalc.interop.keras_code import keras_code

    if job.weights_path is not None:
        job.weights()  # the file must fit the model now, not when the script runs
    return keras_code(job.model, None if job.weights_path is None else str(job.weights_path))


def _pytorch_code(job: Job) -> str:
    from mlpcalc.interop.pytorch_code import pytorch_code

    if job.weights_path is not None:
        job.weights()
    return pytorch_code(job.model, None if job.weights_path is None else str(job.weights_path))


def _onnx(job: Job) -> bytes:
    from mlpcalc.interop.onnx_export import onnx_bytes

    return onnx_bytes(job.model, job.weights(), job.opset)


def _keras_archive(job: Job) -> bytes:
    from mlpcalc.interop.keras_weights import keras_archive_bytes

    return keras_archive_bytes(job.model, job.weights())


def _npz(job: Job) -> Weights:
    return job.weights()


TARGETS = {
    "keras": Target(_keras_code, "Keras code", binary=False, kind="code"),
    "pytorch": Target(_pytorch_code, "PyTorch code", binary=False, kind="code"),
    "onnx": Target(_onnx, "an ONNX model", binary=True, kind="onnx", library=("onnx", ONNX_EXTRA)),
    "npz": Target(_npz, "weights (.npz)", binary=True, kind="npz"),
    "keras-archive": Target(
        _keras_archive, "a Keras archive (.keras)", binary=True, kind="keras", library=("h5py", KERAS_EXTRA)
    ),
}

if TYPE_CHECKING:
    TargetChoice: TypeAlias = str
else:
    TargetChoice = closed_choice("Target", TARGETS)


@app.command(**SPEC_COMMAND)
def export(
    ctx: typer.Context,
    spec: SpecArg,
    to: Annotated[
        TargetChoice | None,
        typer.Option(
            "--to",
            help="keras, pytorch: code that builds the model; onnx, npz (weights), keras-archive: files.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file. \\[default: stdout, for code alone]"),
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(
            "--weights",
            help="The weights, from this .npz (as `mlpcalc init` writes); code loads it when it runs.",
        ),
    ] = None,
    seed: InitSeedOpt = 0,
    initializer: InitOpt = None,
    opset: Annotated[
        int | None,
        typer.Option(
            "--opset",
            min=OPSETS[0],
            max=OPSETS[-1],
            help=f"The ONNX opset of --to onnx. \\[default: {DEFAULT_OPSET}]",
            show_default=False,
        ),
    ] = None,
    name: NameOpt = None,
    json_flag: JsonOpt = False,
    quiet: QuietOpt = False,
    force: ForceOpt = False,
) -> None:
    """Write SPEC as Keras or PyTorch code, an ONNX model, weights or a .keras file.

    The code (keras, pytorch) builds the model layer for layer, with Keras's
    layer names, and loads the weights of --weights when it runs. The files
    (onnx, npz, keras-archive) hold weights: those of --weights, or drawn as
    `mlpcalc init` draws them (--init, --seed).

    Examples:

      mlpcalc export "784->512->10 relu" --to pytorch

      mlpcalc export "784->512->10 relu" --to keras --weights w.npz -o model.py

      mlpcalc export "784->512->10 relu" --to onnx -o model.onnx --seed 7
    """
    if to is None:
        ctx.fail("Missing option '--to': one of " + ", ".join(TARGETS))
    target = TARGETS[plain(to)]
    if output is None and target.binary:
        ctx.fail(f"Missing option '--output' / '-o': --to {plain(to)} writes a file, never to stdout")
    source = ctx.get_parameter_source("seed")  # click's ParameterSource, which typer does not export
    seed_given = source is not None and source.name != "DEFAULT"
    _refuse_contradictions(
        plain(to), target, output, weights, seed_given, initializer, opset, name, quiet, force
    )
    model = model_from(spec, name=name)
    if not quiet:
        print_notes(*model.notes)
        if not target.binary and weights is None and holds_weights(spec):
            print_notes(_weights_left_behind(spec))
    inputs = (weights, *inputs_of(ctx, spec))
    destination = None if output is None else _destination(output, target, inputs, force)
    if target.library is not None:
        _needs(plain(to), *target.library)
    job = Job(model, weights, seed, plain(initializer) or DEFAULT_INITIALIZER, opset or DEFAULT_OPSET, spec)
    made = target.make(job)
    if destination is None and not isinstance(made, str):  # pragma: no cover - refused above
        raise TypeError(f"--to {plain(to)} made {type(made).__name__}, not text")
    if destination is not None:
        _write(destination, made)
    if json_flag:
        from mlpcalc.documents import export_document, to_json

        code = made if destination is None and isinstance(made, str) else None
        written = None if output is None else str(output)
        document = export_document(job.model, plain(to), written, code, _weights_source(target, job))
        emit(to_json(document, ascii_only=ascii_only()))
    elif destination is None and isinstance(made, str):
        emit(made)
    elif not quiet:
        emit(f"wrote {shown(output)}: {_described(target, job)}\n")


def _refuse_contradictions(
    to: str,
    target: Target,
    output: Path | None,
    weights: Path | None,
    seed_given: bool,
    initializer: str | None,
    opset: int | None,
    name: str | None,
    quiet: bool,
    force: bool,
) -> None:
    """Options that contradict each other or that --to would ignore: usage errors, before any work."""
    if force and output is None:
        raise typer.BadParameter(
            "it lets --output replace a file, and there is no --output", param_hint="--force"
        )
    if quiet and output is None:
        raise typer.BadParameter(
            "it prints nothing, and without --output the code goes to stdout", param_hint="--quiet"
        )
    drawn = [option for option, given in (("--init", initializer), ("--seed", seed_given)) if given]
    if drawn and weights is not None:
        raise typer.BadParameter(
            "the weights come from --weights or are drawn (--init, --seed), not both", param_hint=drawn[0]
        )
    if drawn and not target.binary:
        raise typer.BadParameter(
            f"--to {to} writes code, which leaves the initial weights to the framework; "
            "give --weights FILE to load some, or draw them into a file (--to npz, onnx, keras-archive)",
            param_hint=drawn[0],
        )
    if opset is not None and to != "onnx":
        raise typer.BadParameter(f"it sets the opset of --to onnx, not of --to {to}", param_hint="--opset")
    if name is not None and to == "npz":
        raise typer.BadParameter(
            "an .npz of weights holds no model name (its keys are LAYER/VARIABLE)", param_hint="--name"
        )


def _needs(to: str, library: str, extra: str) -> None:
    """Refuse a target whose optional package is missing, before any weight is drawn."""
    if importlib.util.find_spec(library) is None:
        raise FileError(f"--to {to} needs the {library} package: {extra}")


def _destination(output: Path, target: Target, inputs: tuple[Path | None, ...], force: bool) -> Path:
    """The file --output replaces (a link's target), refused before any work as forward's and
    init's are: an input, anything but a regular file, or (without --force) a file of another kind."""
    if target.kind == "npz":
        from mlpcalc.engine.arrays import output_target as npz_target

        return npz_target(output, "npz", inputs, force)
    return output_target(output, KINDS[target.kind], inputs, force)


def _write(destination: Path, made: str | bytes | Weights) -> None:
    """Write atomically: a failure or a signal never leaves a partial file."""
    from mlpcalc.engine.weights import save_weights

    if isinstance(made, dict):
        save_weights(destination, made, force=True)  # the destination was checked already
        return
    write_bytes(destination, made.encode() if isinstance(made, str) else made)


def _weights_left_behind(spec: str) -> str:
    """Code loads an .npz alone: the note on how to carry a model file's weights into it."""
    return (
        f"the code starts from the framework's initial weights; the weights in {shown(spec)} go into "
        f"code through an .npz: mlpcalc export {shown(shlex.quote(spec))} --to npz -o weights.npz, "
        "then --weights weights.npz"
    )


def _weights_source(target: Target, job: Job) -> str:
    """Where the weights of what was made come from, in words."""
    if job.weights_path is not None:
        return f"from {shown(job.weights_path)}"
    if target.binary and holds_weights(job.spec):
        return f"from {shown(job.spec)}"
    if target.binary:
        return f"drawn with {job.init}, seed {job.seed}"
    return "the framework's initial weights"


def _described(target: Target, job: Job) -> str:
    """What was written, for the line on stdout."""
    model = job.model
    layers = f"{len(model.layers):,} layer" + ("s" if len(model.layers) != 1 else "")
    source = _weights_source(target, job)
    return f"{target.what}, {layers}, {model.total_params:,} parameters, " + (
        f"weights {source}" if source.startswith("from") else source
    )
