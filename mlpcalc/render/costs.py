"""What `mlpcalc costs` prints: compute per sample and per batch, every tool's FLOPs, and memory."""

from __future__ import annotations

from collections.abc import Sequence

from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.core.text import binary_size
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.flops import by_convention
from mlpcalc.render.formats import flops_header


def _rows(rows: Sequence[Sequence[str]], right_from: int = 1) -> list[str]:
    """Aligned columns, indented: the first `right_from` left-aligned, the rest right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i >= right_from else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return lines


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
