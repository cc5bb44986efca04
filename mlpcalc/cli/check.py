"""`mlpcalc check`: models against their budgets, for CI."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlpcalc.cli.base import (
    SPEC_COMMAND,
    ConventionChoice,
    DTypeChoice,
    JsonOpt,
    MaxFlopsOpt,
    MaxInferenceBytesOpt,
    MaxMacsOpt,
    MaxParamsOpt,
    MaxTrainableParamsOpt,
    MaxTrainingBytesOpt,
    MaxWeightsBytesOpt,
    MixedOpt,
    OptimizerChoice,
    OutputShapeOpt,
    ParamsOpt,
    SamplesOpt,
    app,
    exit_on_closed_pipe,
    is_model_file,
    model_from,
    plain,
    read_spec,
)
from mlpcalc.cli.streams import ascii_only, emit
from mlpcalc.core.errors import ExitCode, FileError
from mlpcalc.core.text import shown

if TYPE_CHECKING:
    from collections.abc import Callable

    from mlpcalc.budgets import Budget, BudgetError, Results
    from mlpcalc.core.model import Model


@app.command(**SPEC_COMMAND)
def check(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help=(
                "Budget files (.toml) to check, or one SPEC with its limits inline; "
                "without either, the budget file found upwards."
            ),
            show_default=False,
            metavar="[SPEC|FILE...]",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Budget file: pyproject.toml or mlpcalc.toml. \\[default: found upwards]"
        ),
    ] = None,
    params: ParamsOpt = None,
    max_params: MaxParamsOpt = None,
    max_trainable_params: MaxTrainableParamsOpt = None,
    output_shape: OutputShapeOpt = None,
    max_weights_bytes: MaxWeightsBytesOpt = None,
    max_macs: MaxMacsOpt = None,
    max_flops: MaxFlopsOpt = None,
    max_training_bytes: MaxTrainingBytesOpt = None,
    max_inference_bytes: MaxInferenceBytesOpt = None,
    batch: SamplesOpt = None,
    optimizer: Annotated[
        OptimizerChoice | None,
        typer.Option("--optimizer", help="Optimizer for --max-training-bytes. \\[default: adam]"),
    ] = None,
    dtype: Annotated[
        DTypeChoice | None,
        typer.Option("--dtype", help="Dtype of weights and activations. \\[default: float32]"),
    ] = None,
    convention: Annotated[
        ConventionChoice | None,
        typer.Option("--flops-convention", help="Count FLOPs as this tool does. \\[default: mlpcalc]"),
    ] = None,
    mixed_precision: MixedOpt = False,
    json_flag: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing; the exit code tells.")] = False,
) -> None:
    """Check models against budgets: exit 0 if all hold, 1 if any fails.

    Exit 2 when a budget is wrong. Budgets live in pyproject.toml under
    \\[tool.mlpcalc.models.NAME], or in mlpcalc.toml under \\[models.NAME]
    (docs/ci.md), in any folder; or give one spec and its limits inline.

    Examples:

      mlpcalc check

      mlpcalc check models/mlpcalc.toml sub/pyproject.toml --json

      mlpcalc check "784->512->10 relu" --max-params 1M --output-shape 10
    """
    limits = {
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
    inline_settings = {
        "batch": batch, "optimizer": optimizer, "dtype": dtype, "flops_convention": convention,
        "mixed_precision": mixed_precision or None,
    }  # fmt: skip
    if quiet and json_flag:
        raise typer.BadParameter("it prints nothing, so --json means nothing", param_hint="--quiet")
    given = {key: plain(value) for key, value in (limits | inline_settings).items() if value is not None}
    github = (
        GitHub(os.environ.get("GITHUB_WORKSPACE")) if os.environ.get("GITHUB_ACTIONS") == "true" else None
    )
    budgets, source = _budgets(ctx, targets or [], config, given, github)
    results = _check_all(budgets, github)
    failed = any(not outcome.ok for _, _, outcomes in results for outcome in outcomes)
    exit_on_closed_pipe(
        ExitCode.CHECK_FAILED if failed else ExitCode.OK
    )  # a reader that stops early changes nothing
    _report(results, source, json_flag, quiet)
    if failed:
        raise typer.Exit(ExitCode.CHECK_FAILED)


@dataclass(frozen=True)
class GitHub:
    """Running in GitHub Actions: failures are also annotations, with paths relative to the workspace."""

    workspace: str | None


def _budgets(
    ctx: typer.Context,
    targets: list[str],
    config: Path | None,
    given: dict[str, object],
    github: GitHub | None,
) -> tuple[list[Budget], str]:
    """The budgets to check and where they come from: inline (a SPEC and its limits) or files."""
    from mlpcalc.budgets import BudgetError

    try:
        if given or (len(targets) == 1 and not _is_budget_file(targets[0])):
            return _inline_budget(ctx, targets, config, given)
        return _budgets_from_files([Path(target) for target in targets], config)
    except BudgetError as error:
        _annotate_error(error, github)
        raise


def _is_budget_file(target: str) -> bool:
    """Whether an argument names a budget file rather than a spec: a .toml name, or a file."""
    if is_model_file(target):  # model.keras, model.onnx: a model, checked against inline limits
        return False
    if target.endswith(".toml"):
        return True
    try:
        return not target.startswith(("@", "-")) and Path(target).is_file()
    except OSError:  # a name too long for a file: surely a spec
        return False


def _inline_budget(
    ctx: typer.Context, targets: list[str], config: Path | None, given: dict[str, object]
) -> tuple[list[Budget], str]:
    """One SPEC and the limits and settings given as options."""
    from mlpcalc.budgets import LIMITS, inline_values, make_budget

    options = ", ".join("--" + key.replace("_", "-") for key in given)
    if len(targets) != 1 or _is_budget_file(targets[0]):
        raise typer.BadParameter(
            f"{options} set an inline check and need a SPEC; a budget file sets its own", param_hint="SPEC"
        )
    if config is not None:
        raise typer.BadParameter("a SPEC is checked inline, not against --config", param_hint="--config")
    if not any(key in LIMITS for key in given):
        raise typer.BadParameter("nothing to check: give a limit such as --max-params", param_hint="SPEC")
    spec = read_spec(ctx, targets[0])  # '-' and '@FILE' as every command reads them
    limits = {key: str(value) for key, value in given.items() if key in LIMITS}
    values: dict[str, object] = {"spec": spec, **inline_values(limits)}
    values |= {key: value for key, value in given.items() if key not in LIMITS}
    return [make_budget("inline", values)], "inline"


def _budgets_from_files(files: list[Path], config: Path | None) -> tuple[list[Budget], str]:
    """Every budget of the files given (a pyproject.toml without [tool.mlpcalc] has none, and is
    passed over: a pre-commit hook hands every changed one), of --config, or of the file found
    upwards (those two must hold budgets)."""
    from mlpcalc.budgets import find_config, load_budgets

    required = {config} if config is not None else set()  # asked for by name: it must hold budgets
    if not files and config is None:
        found = find_config(Path.cwd())
        if found is None:
            raise typer.BadParameter(
                "no mlpcalc.toml, nor pyproject.toml with [tool.mlpcalc], here or above: give a budget file",
                param_hint="FILE",
            )
        required = {found}
    paths = [*files, *required]
    sources = [
        os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path) for path in paths
    ]
    budgets = [
        budget
        for path, source in zip(paths, sources, strict=True)
        for budget in load_budgets(Path(source), required=path in required)
    ]
    return budgets, ", ".join(sources)


def _check_all(budgets: list[Budget], github: GitHub | None) -> Results:
    """Each budget's model and outcomes; failures (and wrong budgets) annotated for GitHub."""
    from mlpcalc.budgets import BudgetError
    from mlpcalc.budgets import check as check_budget
    from mlpcalc.render.check import github_annotations

    try:
        results = [(budget, *check_budget(budget, _loader(budget))) for budget in budgets]
    except BudgetError as error:
        _annotate_error(error, github)
        raise
    if github is not None:
        sys.stderr.write(github_annotations(results, github.workspace))
    return results


def _loader(budget: Budget) -> Callable[[str], Model]:
    """How a budget's spec becomes a model: spec text, or a model file named relative to the
    budget file (a FileError there says which budget named it)."""
    from mlpcalc.budgets import BudgetError

    def load(spec: str) -> Model:
        if not is_model_file(spec):
            return model_from(spec)
        path = Path(spec) if budget.file is None else Path(budget.file).parent / spec
        try:
            return model_from(str(path))
        except FileError as error:
            if budget.file is None:
                raise
            where = f"{budget.where('spec')}: [{shown(budget.name)}] spec"
            raise BudgetError(f"{where}: {error}", budget.file, budget.line_of("spec")) from None

    return load


def _annotate_error(error: BudgetError, github: GitHub | None) -> None:
    """A wrong budget file shows on the pull request too."""
    from mlpcalc.render.check import annotation

    if github is not None:
        sys.stderr.write(annotation(str(error), error.file, error.line, github.workspace))


def _report(results: Results, source: str, json_flag: bool, quiet: bool) -> None:
    if json_flag:
        from mlpcalc.documents import check_document, to_json

        emit(to_json(check_document(results, source), ascii_only=ascii_only()))
    elif not quiet:
        from mlpcalc.render.check import check_text

        emit(check_text(results, source))
