"""`mlpcalc check`: models against their budgets, for CI."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from mlpcalc.cli.base import (
    SPEC_COMMAND,
    ConventionName,
    JsonOpt,
    MixedOpt,
    OptimizerName,
    SamplesOpt,
    SizeDType,
    app,
    ascii_only,
    emit,
    exit_on_closed_pipe,
    handles_errors,
    read_spec,
)
from mlpcalc.errors import ExitCode


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
    exit_on_closed_pipe(
        ExitCode.CHECK_FAILED if failed else ExitCode.OK
    )  # a reader that stops early changes nothing
    if json_flag:
        emit(to_json(check_document(results, source), ascii_only=ascii_only()))
    elif not quiet:
        emit(check_text(results, source))
    if failed:
        raise typer.Exit(ExitCode.CHECK_FAILED)
