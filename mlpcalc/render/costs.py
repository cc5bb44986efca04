"""What `mlpcalc costs` prints: compute per sample and per batch, every tool's FLOPs, and memory."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.core.quantities import si_text
from mlpcalc.core.text import binary_size
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.flops import by_convention
from mlpcalc.costs.optimizers import OPTIMIZERS
from mlpcalc.costs.training import TrainingCost, time_seconds
from mlpcalc.render.formats import columns_text, flops_header


def _rows(rows: Sequence[Sequence[str]], right_from: int = 1) -> list[str]:
    """Aligned columns, indented: the first `right_from` left-aligned, the rest right-aligned."""
    return columns_text(rows, left=range(right_from), indent="  ")


def costs_text(figures: Figures) -> str:
    model, memory = figures.model, figures.memory
    batch = memory.batch
    per_batch = batch > 1
    lines = [f"Costs of {model.spec} ({model.total_params:,} parameters)", "", "Compute"]
    header = ("", "per sample", f"per batch of {batch:,}") if per_batch else ("", "per sample")
    rows = [
        ("MACs (multiply-accumulates)", figures.macs, figures.batch_macs),
        (flops_header(figures.settings.flops_convention), figures.flops, figures.batch_flops),
    ]
    table: list[tuple[str, ...]] = [header]
    for label, sample, whole in rows:
        table.append((label, f"{sample:,}", f"{whole:,}") if per_batch else (label, f"{sample:,}"))
    lines += _rows(table)
    lines += ["", "FLOPs as each tool counts them (--flops-convention; docs/costs.md has every rule)"]
    others = [("tool", "per sample", "unit")] + [
        (name, f"{count:,}", CONVENTIONS[name].unit) for name, count in by_convention(model).items()
    ]
    lines += _rows(others, right_from=1)
    mixed = ", mixed precision" if memory.mixed_precision else ""
    item = figures.item_bytes
    states = figures.settings.training_optimizer.states
    lines += ["", f"Memory ({memory.dtype}{mixed}, batch {batch:,}, {memory.optimizer})"]
    table = [
        ("parameters", f"{model.total_params:,} x {item} B", binary_size(memory.params)),
        (
            "inference: peak activations",
            "a layer's input and output",
            binary_size(memory.inference_activations),
        ),
        ("inference: total", "", binary_size(memory.inference)),
        ("training: weights", "", binary_size(memory.weights)),
        ("training: gradients", f"{model.trainable_params:,} trainable", binary_size(memory.gradients)),
        (f"training: optimizer ({states})", "", binary_size(memory.optimizer_states)),
        ("training: activations for backward", "each layer's input", binary_size(memory.saved_activations)),
        ("training: total", "", binary_size(memory.training)),
    ]
    lines += _rows(table, right_from=2)
    return "\n".join(line.rstrip() for line in lines) + "\n"


SMALL_UNITS = [
    ("s", Fraction(1)),
    ("ms", Fraction(1, 10**3)),
    ("µs", Fraction(1, 10**6)),
    ("ns", Fraction(1, 10**9)),
]
YEAR = 365 * 86400 + 86400 // 4  # a Julian year, as astronomers count one


def duration_text(seconds: Fraction, ascii_only: bool = False) -> str:
    """A time as people read it: 840 µs, 20.1 ms, 12.3 s, 4 min 12 s, 3 h 12 min, 2 d 3 h,
    30,400 years; three figures below a minute, in the unit that keeps them at 1 or more."""
    if seconds < Fraction(1, 10**9):
        return "under 1 ns"
    for unit, scale in SMALL_UNITS:
        # The first unit whose three figures, rounded, make 1 or more: 999.6 ms is 1 s.
        shown = f"{float(seconds / scale):.3g}"
        if float(shown) >= 1:
            if unit == "s" and float(shown) >= 60:
                break  # a minute or more, rounded: minutes and seconds
            return f"{shown} {'us' if ascii_only and unit == 'µs' else unit}"
    if seconds >= YEAR:
        years = float(seconds / YEAR)
        return f"{float(f'{years:.3g}'):,.0f} years" if years >= 100 else f"{years:.3g} years"
    whole = round(seconds)
    for big, big_size, small, small_size in (
        ("d", 86400, "h", 3600),
        ("h", 3600, "min", 60),
        ("min", 60, "s", 1),
    ):
        if whole >= big_size:
            return f"{whole // big_size:,} {big} {whole % big_size // small_size} {small}"
    raise AssertionError("unreachable")  # pragma: no cover - a minute or more, rounded, is above


def training_text(
    cost: TrainingCost, rate: Fraction | None, samples_given: bool, ascii_only: bool = False
) -> str:
    """A training step's FLOPs by phase, in mlpcalc's convention; with `samples_given`, an epoch's
    and the run's; with `rate` (FLOP/s), how long each takes."""
    step = cost.step
    optimizer = OPTIMIZERS[step.optimizer_name]
    settings = f"batch {step.batch:,}, {optimizer.name}, as mlpcalc counts; docs/costs.md has the rule"
    lines = ["", f"Training FLOPs ({settings})"]
    rows: list[tuple[str, ...]] = [
        ("forward", f"{step.forward:,}"),
        ("backward: gradients of inputs", f"{step.backward_inputs:,}"),
        ("backward: gradients of weights", f"{step.backward_weights:,}"),
        (f"optimizer update ({optimizer.update_flops} per weight)", f"{step.optimizer:,}"),
        ("one step", f"{step.total:,}"),
        ("  of which matrix products", f"{step.matmul:,}"),
    ]
    spans = [("one step", step.total)]
    if samples_given:
        last = f", the last of {cost.samples % cost.batch:,}" if cost.last_step else ""
        steps = f"{cost.steps_per_epoch:,} step{'s' if cost.steps_per_epoch > 1 else ''}"
        samples = f"{cost.samples:,} sample{'s' if cost.samples > 1 else ''}"
        rows.append((f"one epoch ({samples}: {steps}{last})", f"{cost.per_epoch:,}"))
        spans.append(("one epoch", cost.per_epoch))
        if cost.epochs > 1:
            rows.append((f"the run ({cost.epochs:,} epochs)", f"{cost.total:,}"))
            spans.append(("the run", cost.total))
    lines += _rows(rows)
    if rate is not None:
        lines += ["", f"Time at {si_text(rate, 'FLOP/s')}"]
        times = [(what, duration_text(time_seconds(flops, rate), ascii_only)) for what, flops in spans]
        lines += _rows(times)
    return "\n".join(line.rstrip() for line in lines) + "\n"
