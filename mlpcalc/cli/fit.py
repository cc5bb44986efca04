"""`mlpcalc fit`: the largest design of a template within a budget."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from mlpcalc.cli.base import (
    SPEC_COMMAND,
    ConventionOpt,
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
    SamplesOpt,
    SizeDTypeOpt,
    app,
    ascii_only,
    emit,
    inline_budget,
    print_notes,
    read_spec,
    settings,
    terminal_columns,
)
from mlpcalc.core.conventions import MLPCALC
from mlpcalc.core.dtypes import DEFAULT_DTYPE
from mlpcalc.core.spec import MAX_SIZE

if TYPE_CHECKING:
    from mlpcalc.design.fit import Range

# NAME=LOW..HIGH, either end may be left out: W=16..8192, W=16.., W=..8192
RANGE_RE = re.compile(r"\s*([A-Z][A-Z0-9_]*)\s*=\s*([0-9_]*)\s*\.\.\s*([0-9_]*)\s*")
MULTIPLE_RE = re.compile(r"\s*(?:([A-Z][A-Z0-9_]*)\s*=\s*)?([0-9_]+)\s*")


@app.command(**SPEC_COMMAND)
def fit(
    template_text: Annotated[
        str,
        typer.Argument(
            help="A spec whose sizes may be expressions of free sizes in capitals: '784->W*3->10 relu', "
            "'784->W->W/2->10', '784->W*D->10'; '-' reads it from stdin, '@FILE' from a file.",
            metavar="TEMPLATE",
            show_default=False,
            callback=read_spec,
        ),
    ],
    max_params: MaxParamsOpt = None,
    max_trainable_params: MaxTrainableParamsOpt = None,
    max_weights_bytes: MaxWeightsBytesOpt = None,
    max_macs: MaxMacsOpt = None,
    max_flops: MaxFlopsOpt = None,
    max_training_bytes: MaxTrainingBytesOpt = None,
    max_inference_bytes: MaxInferenceBytesOpt = None,
    ranges: Annotated[
        list[str] | None,
        typer.Option(
            "--range",
            metavar="NAME=LOW..HIGH",
            show_default=False,
            help="The values a free size may take: W=16..8192, W=16.., W=..512; repeatable. "
            "\\[default: from 1 to what a spec holds]",
        ),
    ] = None,
    multiples: Annotated[
        list[str] | None,
        typer.Option(
            "--multiple-of",
            metavar="[NAME=]N",
            show_default=False,
            help="Only multiples of N (8 for tensor cores), for every free size or NAME's; repeatable.",
        ),
    ] = None,
    maximize: Annotated[
        str,
        typer.Option(
            "--maximize",
            metavar="params|NAME",
            help="What the design found has the most of: parameters, or one free size (then parameters).",
        ),
    ] = "params",
    frontier_name: Annotated[
        str | None,
        typer.Option(
            "--frontier",
            metavar="NAME",
            show_default=False,
            help="With two free sizes: for each value of NAME, the other's largest, as a table.",
        ),
    ] = None,
    batch: SamplesOpt = None,
    dtype: SizeDTypeOpt = DEFAULT_DTYPE,
    optimizer: Annotated[
        OptimizerChoice | None,
        typer.Option("--optimizer", help="Optimizer for --max-training-bytes. \\[default: adam]"),
    ] = None,
    mixed_precision: MixedOpt = False,
    convention: ConventionOpt = MLPCALC,
    json_flag: JsonOpt = False,
) -> None:
    """Find the largest design of TEMPLATE within every limit given.

    The free sizes of TEMPLATE (W, D, ...) are searched exactly, over integers:
    every figure grows with every size, so the largest design that fits is
    found by binary search. With several free sizes, the design with the most
    parameters (--maximize a size for the largest of it), or, with two, the
    frontier: each value of one size and the other's largest. Then the limits'
    slack, what binds each size, and the summary of the design found.

    Examples:

      mlpcalc fit "784->W*3->10 relu" --max-params 1M

      mlpcalc fit "784->W->W/2->10" --max-weights-bytes 4MiB --range W=2..

      mlpcalc fit "784->W*D->10 relu" --max-flops 2M --range D=1..8 --json

      mlpcalc fit "784->W->V->10" --max-params 500K --range V=1..64 --frontier V

      mlpcalc fit "784->W*2->10" --max-training-bytes 8GiB --batch 256
    """
    from mlpcalc.design.fit import Range, fit, frontier
    from mlpcalc.design.template import parse_template

    given = settings(
        dtype=dtype,
        optimizer=optimizer,
        mixed_precision=mixed_precision,
        flops_convention=convention,
        batch=batch,
    )
    limits = {
        "max_params": max_params,
        "max_trainable_params": max_trainable_params,
        "max_weights_bytes": max_weights_bytes,
        "max_macs": max_macs,
        "max_flops": max_flops,
        "max_training_bytes": max_training_bytes,
        "max_inference_bytes": max_inference_bytes,
    }
    budget = inline_budget("fit", limits, given)
    if budget is None:
        raise typer.BadParameter(
            "fit needs a limit to fit within, such as --max-params 1M", param_hint="TEMPLATE"
        )
    template = parse_template(template_text)
    step, by_name = _multiples(multiples or [], template.names)
    bounds = _ranges(ranges or [], template.names, by_name, Range)
    if frontier_name is not None:
        _check_name(frontier_name, template.names, "--frontier")
        if maximize != "params":
            raise typer.BadParameter(
                "a frontier shows every best design: --maximize chooses one", param_hint="--maximize"
            )
        staircase = frontier(template, budget, frontier_name, bounds, multiple_of=step)
        if json_flag:
            from mlpcalc.documents import frontier_document, to_json

            emit(to_json(frontier_document(staircase), ascii_only=ascii_only()))
            return
        from mlpcalc.render.fit import frontier_text

        emit(frontier_text(staircase))
        return
    if maximize != "params":
        _check_name(maximize, template.names, "--maximize")
    found = fit(template, budget, bounds, multiple_of=step, maximize=maximize)
    if json_flag:
        from mlpcalc.documents import fit_document, to_json

        emit(to_json(fit_document(found), ascii_only=ascii_only()))
        return
    from mlpcalc.costs.figures import Figures
    from mlpcalc.render.fit import fit_text
    from mlpcalc.render.keras import keras_text
    from mlpcalc.render.keras_table import default_width

    print_notes(*found.design.model.notes)
    columns = terminal_columns()
    summary = keras_text(Figures(found.design.model, given), default_width(columns), False, columns)
    emit(fit_text(found) + "\n" + summary)


def _check_name(name: str, names: tuple[str, ...], option: str) -> None:
    if name not in names:
        choices = ", ".join(names)
        raise typer.BadParameter(
            f"expected a free size of the template ({choices}), received {name!r}", param_hint=option
        )


def _integer(text: str, option: str, what: str) -> int:
    """A whole number of a --range or --multiple-of, at most MAX_SIZE."""
    digits = text.replace("_", "")
    if not digits.isdigit() or len(digits) > len(str(MAX_SIZE)) or not 1 <= int(digits) <= MAX_SIZE:
        raise typer.BadParameter(
            f"{what} is a whole number from 1 to {MAX_SIZE:,}, received {text!r}", param_hint=option
        )
    return int(digits)


def _multiples(given: list[str], names: tuple[str, ...]) -> tuple[int | None, dict[str, int]]:
    """--multiple-of: one step for every free size (N), and steps by name (NAME=N)."""
    step: int | None = None
    by_name: dict[str, int] = {}
    for text in given:
        match = MULTIPLE_RE.fullmatch(text)
        if match is None:
            raise typer.BadParameter(
                f"expected N or NAME=N, such as 8 or W=8, received {text!r}", param_hint="--multiple-of"
            )
        name, value = match.group(1), _integer(match.group(2), "--multiple-of", "a multiple")
        if name is None:
            step = value
        else:
            _check_name(name, names, "--multiple-of")
            by_name[name] = value
    return step, by_name


def _ranges(
    given: list[str], names: tuple[str, ...], multiples: dict[str, int], make: type[Range]
) -> dict[str, Range]:
    """--range NAME=LOW..HIGH for each name given (either end may be left out), with its step."""
    bounds: dict[str, tuple[int, int | None]] = {}
    for text in given:
        match = RANGE_RE.fullmatch(text)
        if match is None:
            raise typer.BadParameter(
                f"expected NAME=LOW..HIGH, as W=16..8192 (either end may be left out), received {text!r}",
                param_hint="--range",
            )
        name, low, high = match.groups()
        _check_name(name, names, "--range")
        lower = _integer(low, "--range", "a range's end") if low else 1
        upper = _integer(high, "--range", "a range's end") if high else None
        bounds[name] = (lower, upper)
    return {
        name: make(*bounds.get(name, (1, None)), multiple_of=multiples.get(name))
        for name in names
        if name in bounds or name in multiples
    }
