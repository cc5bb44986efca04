"""`mlpcalc compare`: many designs in one table, from specs, lists of specs and sweeps."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
    OutputShapeOpt,
    ParamsOpt,
    SamplesOpt,
    SizeDTypeOpt,
    app,
    closed_choice,
    inline_budget,
    is_model_file,
    model_from,
    plain,
    print_notes,
    read_input,
    settings,
)
from mlpcalc.cli.streams import ascii_only, emit
from mlpcalc.core.conventions import MLPCALC
from mlpcalc.core.dtypes import DEFAULT_DTYPE
from mlpcalc.core.errors import FileError, SpecError
from mlpcalc.core.text import shown
from mlpcalc.design.sweep import (
    MAX_DESIGNS,
    MAX_TOTAL_LAYERS,
    SORTS,
    ComparedDesign,
    expand,
    sorted_designs,
    spec_lines,
)
from mlpcalc.render import COMPARE_FORMATS

if TYPE_CHECKING:
    from mlpcalc.budgets import Budget
    from mlpcalc.core.model import Model
    from mlpcalc.costs.settings import Settings

    SortChoice = str
    CompareFormatChoice = str
else:
    SortChoice = closed_choice("Sort", SORTS)
    CompareFormatChoice = closed_choice("CompareFormat", COMPARE_FORMATS)

LIST_BYTES = 16 * 2**20  # a list of 10,000 long specs fits; /dev/zero does not
PROGRESS_AFTER = 0.5  # seconds of work before the progress bar shows (on a terminal only)


@app.command(**SPEC_COMMAND)
def compare(
    specs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Designs: a spec, @FILE (one spec a line, # comments), or - (the same on stdin).",
            metavar="[SPEC...]",
            show_default=False,
        ),
    ] = None,
    sweeps: Annotated[
        list[str] | None,
        typer.Option(
            "--sweep",
            metavar="PATTERN",
            show_default=False,
            help="A spec with braces, as {256,512}: every combination of their choices (ranges too: "
            "{1..4}, {25..100..25}, {64..1024..x2}); repeatable.",
        ),
    ] = None,
    sort: Annotated[
        SortChoice,
        typer.Option("--sort", help="Order the rows by this column, smallest first (fits: fitting first)."),
    ] = "index",
    reverse: Annotated[
        bool, typer.Option("--reverse", help="Largest first (designs that tie keep their order).")
    ] = False,
    output_format: Annotated[
        CompareFormatChoice,
        typer.Option("--format", help="table (aligned text), markdown, csv (exact integers) or json."),
    ] = "table",
    json_flag: JsonOpt = False,
    batch: SamplesOpt = None,
    dtype: SizeDTypeOpt = DEFAULT_DTYPE,
    optimizer: Annotated[
        OptimizerChoice | None,
        typer.Option("--optimizer", help="Optimizer whose states training keeps. \\[default: adam]"),
    ] = None,
    mixed_precision: MixedOpt = False,
    convention: ConventionOpt = MLPCALC,
    params: ParamsOpt = None,
    max_params: MaxParamsOpt = None,
    max_trainable_params: MaxTrainableParamsOpt = None,
    output_shape: OutputShapeOpt = None,
    max_weights_bytes: MaxWeightsBytesOpt = None,
    max_macs: MaxMacsOpt = None,
    max_flops: MaxFlopsOpt = None,
    max_training_bytes: MaxTrainingBytesOpt = None,
    max_inference_bytes: MaxInferenceBytesOpt = None,
) -> None:
    """Compare many designs in one table: params, weights, MACs, FLOPs, memory.

    A row a design: the SPECs in order, then each --sweep's designs. The
    limits of check (--max-params, ...) add a fits column: which designs
    hold them all. The exit code is 0 either way: `check` is the gate.

    Examples:

      mlpcalc compare "784->512->10 relu" "784->256*3->10 relu"

      mlpcalc compare --sweep "784->{256,512,1024}*{2,3}->10 relu" --sort params

      mlpcalc compare --sweep "784->{64..1024..x2}->10 relu" --max-params 200K
    """
    chosen = _resolve_format(json_flag, plain(output_format))
    given = settings(
        dtype=dtype,
        optimizer=optimizer,
        mixed_precision=mixed_precision,
        flops_convention=convention,
        batch=batch,
    )
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
    budget = inline_budget("compare", limits, given)
    sort_by = plain(sort)
    if sort_by == "fits" and budget is None:
        raise typer.BadParameter("fits needs a limit, such as --max-params", param_hint="--sort")
    candidates = _candidates(specs or [], sweeps or [])
    designs = sorted_designs(_measured(candidates, given, budget), sort_by, reverse)
    shown_limits = None if budget is None else budget.limits
    if chosen == "json":
        from mlpcalc.documents import compare_document, to_json

        document = compare_document(designs, given, shown_limits, sort_by, reverse)
        emit(to_json(document, ascii_only=ascii_only()))
        return
    _print_notes(designs)
    from mlpcalc.render.compare import compare_csv, compare_markdown, compare_table

    if chosen == "csv":
        emit(compare_csv(designs, shown_limits))
    elif chosen == "markdown":
        emit(compare_markdown(designs, given, shown_limits))
    else:
        emit(compare_table(designs, given, shown_limits))


def _resolve_format(json_flag: bool, output_format: str) -> str:
    if json_flag and output_format not in ("table", "json"):
        raise typer.BadParameter(
            f"--json and --format {output_format} contradict each other", param_hint="--json"
        )
    return "json" if json_flag else output_format


# ------------------------------------------------------------------ the designs


@dataclass(frozen=True)
class Candidate:
    """A design as given, before it is parsed: where it came from, its text, and the folder a
    model file it names is relative to (a list file's)."""

    origin: str
    source: str
    folder: Path | None = None


def _candidates(specs: list[str], sweeps: list[str]) -> list[Candidate]:
    """Every design of the command line, in order: the SPECs (lists read), then the sweeps."""
    found: list[Candidate] = []
    stdin_read = False
    for number, spec in enumerate(specs, 1):
        if spec == "-":
            if stdin_read:
                raise typer.BadParameter("stdin holds one list of specs, read already", param_hint="SPEC")
            stdin_read = True
            found += [Candidate(f"stdin:{line}", text) for line, text in spec_lines(_read_list(None))]
        elif spec.startswith("@"):
            if spec == "@":
                raise typer.BadParameter("'@' names no file: write @FILE, or - for stdin", param_hint="SPEC")
            path = Path(spec[1:])
            lines = spec_lines(_read_list(path))
            if not lines:
                raise typer.BadParameter(
                    f"{shown(path)} holds no spec: one a line, '#' starts a comment", param_hint="SPEC"
                )
            found += [Candidate(f"{shown(path)}:{line}", text, path.parent) for line, text in lines]
        else:
            found.append(Candidate(f"argument {number}", spec))
        _refuse_too_many(len(found))
    for number, pattern in enumerate(sweeps, 1):
        where = f"sweep {number}, design" if len(sweeps) > 1 else "sweep design"
        found += [Candidate(f"{where} {k}", text) for k, text in enumerate(expand(pattern), 1)]
        _refuse_too_many(len(found))
    if not found:
        raise typer.BadParameter(
            "no designs: give SPECs, @FILE (one spec a line), - (stdin) or --sweep PATTERN", param_hint="SPEC"
        )
    return found


def _refuse_too_many(count: int) -> None:
    if count > MAX_DESIGNS:
        raise typer.BadParameter(
            f"more than {MAX_DESIGNS:,} designs: compare them in parts", param_hint="SPEC"
        )


def _read_list(path: Path | None) -> str:
    """A list of specs from a file, or stdin (None), as UTF-8 text; its problems as usage errors."""
    where = "stdin" if path is None else shown(path)
    return read_input(path, where, LIST_BYTES, "the specs", "Reading specs from stdin, one a line")


def _model(candidate: Candidate) -> Model:
    """A candidate's model; an error says which design it is."""
    source = candidate.source
    if candidate.folder is not None and is_model_file(source):  # named relative to its list
        source = str(candidate.folder / source)
    try:
        return model_from(source)
    except SpecError as error:
        hint = error.hint
        if hint is None and "{" in error.source:
            hint = "braces expand in a --sweep pattern, not in a SPEC"
        raise SpecError(
            f"{candidate.origin}: {error.message}",
            error.source,
            error.start,
            error.end,
            expected=error.expected,
            hint=hint,
        ) from None
    except FileError as error:
        raise FileError(f"{candidate.origin}: {error}") from None


def _measured(candidates: list[Candidate], given: Settings, budget: Budget | None) -> list[ComparedDesign]:
    """Each candidate's design, in order; a progress bar on a terminal when it takes a while."""
    designs: list[ComparedDesign] = []
    started, bar, layers = time.perf_counter(), None, 0
    try:
        for index, candidate in enumerate(candidates, 1):
            model = _model(candidate)
            layers += len(model.layers)
            if layers > MAX_TOTAL_LAYERS:
                raise typer.BadParameter(
                    f"the designs up to {candidate.origin} hold {layers:,} layers in all: at most "
                    f"{MAX_TOTAL_LAYERS:,} are compared at once; compare fewer or shallower designs",
                    param_hint="SPEC...",
                )
            designs.append(ComparedDesign.of(index, candidate.origin, candidate.source, model, given, budget))
            if index % 32:
                continue
            if bar is None and time.perf_counter() - started > PROGRESS_AFTER and _terminal():
                bar = _bar(len(candidates))
            if bar is not None:
                bar.update(bar.task_ids[0], completed=index)
    finally:
        if bar is not None:
            bar.stop()
    return designs


def _terminal() -> bool:
    """Whether stderr is a terminal: only there does a progress bar show."""
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _bar(total: int, console: Any = None) -> Any:
    """A progress bar on stderr, erased when it stops."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "compare",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=True,
    )
    bar.add_task("compare", total=total)
    bar.start()
    return bar


def _print_notes(designs: list[ComparedDesign]) -> None:
    """The first design's notes (a Dense on more than one feature axis), and how many more have
    some: a sweep would repeat the same note a thousand times."""
    noted = [design for design in designs if design.figures.model.notes]
    if not noted:
        return
    first = min(noted, key=lambda design: design.index)
    print_notes(*(f"{first.origin}: {note}" for note in first.figures.model.notes))
    if len(noted) > 1:
        more = len(noted) - 1
        print_notes(f"{more:,} more design{'s' if more > 1 else ''} with notes: --json lists each design's")
