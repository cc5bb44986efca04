"""What `mlpcalc costs` prints: compute per sample and per batch, every tool's FLOPs, and memory."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from mlpcalc.core.conventions import CONVENTIONS
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


def duration_text(seconds: Fraction) -> str:
    """A time as people read it: 840 µs, 20.1 ms, 12.3 s, 4 min 12 s, 3 h 12 min, 2 d 3 h."""
    if seconds < 60:
        for unit, scale in (("s", 1), ("ms", Fraction(1, 1000)), ("µs", Fraction(1, 10**6))):
            if seconds >= scale or unit == "µs":
                return f"{float(seconds / scale):.3g} {unit}"
    whole = round(seconds)
    for big, big_size, small, small_size in (
        ("d", 86400, "h", 3600),
        ("h", 3600, "min", 60),
        ("min", 60, "s", 1),
    ):
        if whole >= big_size:
            return f"{whole // big_size:,} {big} {whole % big_size // small_size} {small}"
    return f"{whole} s"  # pragma: no cover - 60 s and more is above


def training_text(cost: TrainingCost, rate: Fraction | None, samples_given: bool) -> str:
    """A training step's FLOPs by phase; with `samples_given`, an epoch's and the run's; with
    `rate` (FLOP/s), how long each takes."""
    step = cost.step
    optimizer = OPTIMIZERS[step.optimizer_name]
    lines = ["", f"Training FLOPs (batch {step.batch:,}, {optimizer.name}; docs/costs.md has the rule)"]
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
        rows.append((f"one epoch ({cost.samples:,} samples: {steps}{last})", f"{cost.per_epoch:,}"))
        spans.append(("one epoch", cost.per_epoch))
        if cost.epochs > 1:
            rows.append((f"the run ({cost.epochs:,} epochs)", f"{cost.total:,}"))
            spans.append(("the run", cost.total))
    lines += _rows(rows)
    if rate is not None:
        lines += ["", f"Time at {_rate_text(rate)}"]
        lines += _rows([(what, duration_text(time_seconds(flops, rate))) for what, flops in spans])
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _rate_text(rate: Fraction) -> str:
    """FLOP/s with an SI prefix: 20 TFLOP/s, 1.5 GFLOP/s."""
    for prefix, scale in (("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if rate >= scale:
            return f"{float(rate / scale):.4g} {prefix}FLOP/s"
    return f"{float(rate):.4g} FLOP/s"
