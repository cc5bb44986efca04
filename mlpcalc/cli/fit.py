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
    inline_budget,
    option_error,
    print_notes,
    read_spec,
    settings,
    terminal_columns,
)
from mlpcalc.cli.streams import ascii_only, emit
from mlpcalc.core.conventions import MLPCALC
from mlpcalc.core.dtypes import DEFAULT_DTYPE
from mlpcalc.core.quantities import received
from mlpcalc.core.spec import MAX_SIZE

if TYPE_CHECKING:
    from mlpcalc.design.fit import Fit, Range

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
    from mlpcalc.design.fit import FitError, Frontier, fit, frontier
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
    if frontier_name is not None and maximize != "params":
        raise typer.BadParameter(
            "a frontier shows every best design: --maximize chooses one", param_hint="--maximize"
        )
    template = parse_template(template_text)
    step, by_name = _multiples(multiples or [])
    if unknown := [name for name in by_name if name not in template.names]:
        free = ", ".join(template.names)
        raise typer.BadParameter(
            f"{unknown[0]} is not a free size of {template} (its free sizes: {free})",
            param_hint="--multiple-of",
        )
    bounds = _ranges(ranges or [], by_name)
    try:
        if frontier_name is not None:
            found: Fit | Frontier = frontier(template, budget, frontier_name, bounds, multiple_of=step)
        else:
            found = fit(template, budget, bounds, multiple_of=step, maximize=maximize)
    except FitError as error:  # one of the options makes no sense for the template: name it
        if error.key is None:
            raise
        raise option_error(str(error), error.key) from None
    if json_flag:
        from mlpcalc.documents import fit_document, frontier_document, to_json

        document = frontier_document(found) if isinstance(found, Frontier) else fit_document(found)
        emit(to_json(document, ascii_only=ascii_only()))
        return
    from mlpcalc.render.fit import fit_text, frontier_text

    if isinstance(found, Frontier):
        emit(frontier_text(found))
        return
    from mlpcalc.render.keras import keras_summary

    model = found.design.model
    print_notes(*model.notes, *_unbounded(found, bounds))
    summary = keras_summary(model, None, terminal_columns(), given, ascii_only=ascii_only())
    emit(fit_text(found) + "\n" + summary)


def _unbounded(found: Fit, bounds: dict[str, Range]) -> list[str]:
    """A note for each free size that took the largest value a spec holds: no limit given
    depends on it, and a range (or a limit that counts it) is surely what was meant."""
    from mlpcalc.design.fit import PAST_RANGE

    return [
        f"no limit given holds {name} back: it took the largest value a spec holds; "
        f"give it a range (--range {name}=LOW..HIGH) or a limit it counts in"
        for name, keys in found.binds.items()
        if keys == (PAST_RANGE,) and (name not in bounds or bounds[name].upper is None)
    ]


def _integer(text: str, option: str, what: str) -> int:
    """A whole number of a --range or --multiple-of, at most MAX_SIZE."""
    digits = text.replace("_", "")
    if not digits.isdigit() or len(digits) > len(str(MAX_SIZE)) or not 1 <= int(digits) <= MAX_SIZE:
        raise typer.BadParameter(
            f"{what} is a whole number from 1 to {MAX_SIZE:,}, received {received(text)}", param_hint=option
        )
    return int(digits)


def _multiples(given: list[str]) -> tuple[int | None, dict[str, int]]:
    """--multiple-of: one step for every free size (N), and steps by name (NAME=N), each once."""
    step: int | None = None
    by_name: dict[str, int] = {}
    for text in given:
        match = MULTIPLE_RE.fullmatch(text)
        if match is None:
            raise typer.BadParameter(
                f"expected N or NAME=N, such as 8 or W=8, received {received(text)}",
                param_hint="--multiple-of",
            )
        name, value = match.group(1), _integer(match.group(2), "--multiple-of", "a multiple")
        if (name is None and step is not None) or name in by_name:
            raise typer.BadParameter(
                f"given twice for {name or 'every free size'}: give each once", param_hint="--multiple-of"
            )
        if name is None:
            step = value
        else:
            by_name[name] = value
    return step, by_name


def _ranges(given: list[str], multiples: dict[str, int]) -> dict[str, Range]:
    """--range NAME=LOW..HIGH for each name given (either end may be left out), with its step."""
    from mlpcalc.design.fit import Range

    bounds: dict[str, tuple[int, int | None]] = {}
    for text in given:
        match = RANGE_RE.fullmatch(text)
        if match is None:
            raise typer.BadParameter(
                f"expected NAME=LOW..HIGH, as W=16..8192 (an end may be left out), received {received(text)}",
                param_hint="--range",
            )
        name, low, high = match.groups()
        if name in bounds:
            raise typer.BadParameter(f"{name}'s range is given twice: give it once", param_hint="--range")
        lower = _integer(low, "--range", "a range's end") if low else 1
        upper = _integer(high, "--range", "a range's end") if high else None
        bounds[name] = (lower, upper)
    return {
        name: Range(*bounds.get(name, (1, None)), multiple_of=multiples.get(name))
        for name in (*bounds, *multiples)
    }
