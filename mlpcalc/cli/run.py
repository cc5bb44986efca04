"""Commands that run the NumPy engine: forward, init."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mlpcalc.cli.base import (
    SPEC_COMMAND,
    ComputeDTypeChoice,
    InitChoice,
    JsonOpt,
    NameOpt,
    SpecArg,
    TableStyleChoice,
    app,
    model_file_weights,
    model_from,
    plain,
    print_notes,
)
from mlpcalc.cli.streams import ascii_only, emit
from mlpcalc.core.dtypes import DEFAULT_DTYPE
from mlpcalc.core.spec import MAX_SIZE
from mlpcalc.engine.names import DEFAULT_INITIALIZER

SeedOpt = Annotated[
    int | None, typer.Option("--seed", min=0, help="Seed of the weights and the random input. [default: 0]")
]
InitSeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of the weights.")]
InitOpt = Annotated[
    InitChoice | None,
    typer.Option("--init", help="Kernel initializer (Keras's formulas). [default: glorot_uniform]"),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Replace an existing --output even if it is not the kind of file written."),
]


@app.command(**SPEC_COMMAND)
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
    dtype: Annotated[ComputeDTypeChoice, typer.Option("--dtype", help="Compute dtype.")] = DEFAULT_DTYPE,
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
        TableStyleChoice,
        typer.Option("--style", help="keras: mlpcalc's view; classic: the output as TF 2 prints it."),
    ] = "keras",
    json_flag: JsonOpt = False,
    quiet: QuietOpt = False,
    name: NameOpt = None,
    force: ForceOpt = False,
) -> None:
    """Run SPEC forward with NumPy, as Keras's model(x, training=False) does.

    Examples:

      mlpcalc forward "784->512->10 relu"

      mlpcalc forward "784->512->10 relu" --batch 1000 --seed 1 --stats

      mlpcalc forward "784->512" --style classic

      mlpcalc forward "784->512->10" --weights w.npz --input x.npy -o y.npy
    """
    if weights is not None and initializer is not None:
        raise typer.BadParameter(
            "the weights come from --weights or from --init, not both", param_hint="--init"
        )
    if force and output_path is None:
        raise typer.BadParameter(
            "it lets --output replace a file, and there is no --output", param_hint="--force"
        )
    if input_path is not None and batch is not None:
        raise typer.BadParameter("the rows come from --input or from --batch, not both", param_hint="--batch")
    if style == "classic" and (json_flag or stats):
        raise typer.BadParameter("the classic style prints the tensor alone", param_hint="--style")
    if quiet and (json_flag or stats or style == "classic"):
        raise typer.BadParameter(
            "it prints nothing, so --json, --stats and --style mean nothing", param_hint="--quiet"
        )
    if seed is not None and weights is not None and input_path is not None:
        raise typer.BadParameter(
            "nothing is drawn: the weights and the input come from files", param_hint="--seed"
        )
    from mlpcalc.cli.progress import Progress
    from mlpcalc.documents import forward_document, to_json
    from mlpcalc.engine.run import run_forward
    from mlpcalc.render.forward import classic_text, forward_text

    model = model_from(spec, name=name)
    progress = Progress(enabled=not quiet and sys.stderr.isatty())
    try:
        run = run_forward(
            model, seed=seed or 0, init=plain(initializer) or DEFAULT_INITIALIZER, weights_path=weights,
            weights_from_model_file=None if weights is not None else model_file_weights(spec, model),
            rows=batch, input_path=input_path, dtype=plain(dtype), output_path=output_path, chunk=chunk,
            stats=stats, progress=progress, force=force,
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
    if not json_flag:  # the JSON carries the model's notes itself
        print_notes(*model.notes)
    if json_flag:
        emit(to_json(forward_document(run), ascii_only=ascii_only()))
    elif style == "classic":
        emit(classic_text(run))
    else:
        emit(forward_text(run))


@app.command(**SPEC_COMMAND)
def init(
    spec: SpecArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The .npz file to write.")],
    seed: InitSeedOpt = 0,
    initializer: InitOpt = None,
    json_flag: JsonOpt = False,
    quiet: QuietOpt = False,
    force: ForceOpt = False,
) -> None:
    """Write initial weights for SPEC to a .npz file, one array per variable.

    The keys are the names `mlpcalc variables` prints (dense/kernel of shape
    (in, units), dense/bias, ...): Keras's layer.get_weights() layout.

    Examples:

      mlpcalc init "784->512->10 relu" -o weights.npz

      mlpcalc init "784->512->10 relu" -o w.npz --seed 7 --init he_normal
    """
    if quiet and json_flag:
        raise typer.BadParameter("it prints nothing, so --json means nothing", param_hint="--quiet")
    from mlpcalc.documents import init_document, to_json
    from mlpcalc.engine.run import run_init
    from mlpcalc.render.forward import init_text

    model = model_from(spec)
    chosen = plain(initializer) or DEFAULT_INITIALIZER
    run_init(model, output, seed=seed, init=chosen, force=force)
    if quiet:
        return
    if json_flag:
        emit(to_json(init_document(model, str(output), chosen, seed), ascii_only=ascii_only()))
    else:
        emit(init_text(model, str(output), chosen, seed))
