"""Formatting the renderers share, without rich: shapes, and sizes as Keras states them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from mlpcalc.core.conventions import CONVENTIONS, MLPCALC
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings


def shape_text(shape: tuple[int | None, ...]) -> str:
    """A shape as Python and TensorFlow print it: (None, 512), (512,)."""
    return str(tuple(shape))


def readable_size(size: float) -> str:
    """Keras's `readable_memory_size`: 1024-based, two decimals, B to PB."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    # Past 1024 PB Keras has divided once more than it labels: kept, to print what Keras prints.
    return f"{size:.2f} PB"


def flops_header(convention: str) -> str:
    """A FLOPs column's header: the convention's unit, and its name unless it is mlpcalc's."""
    unit = CONVENTIONS[convention].unit
    return unit if convention == MLPCALC else f"{unit} ({convention})"


def cost_cells(figures: Figures) -> dict[str, list[str]]:
    """The cost columns of a table, by header: MACs, FLOPs (in the settings' convention), share of params."""
    layers = figures.model.layers
    flops = [f"{figures.layer_flops(layer):,}" for layer in layers]
    return {
        "MACs": [f"{layer.macs:,}" for layer in layers],
        flops_header(figures.settings.flops_convention): flops,
        "% params": [f"{figures.params_percent(layer):.1f}%" for layer in layers],
    }


def settings_text(settings: Settings) -> str:
    """The settings a table's figures are for: batch 32, float16, mixed precision, adam."""
    parts = [f"batch {settings.samples:,}", settings.dtype, settings.training_optimizer.name]
    if settings.mixed_precision:
        parts.insert(2, "mixed precision")
    return ", ".join(parts)


def columns_text(rows: Sequence[Sequence[str]], left: Collection[int], indent: str = "") -> list[str]:
    """Rows in columns two spaces apart: the columns in `left` left-aligned, the others (numbers)
    right-aligned; each line indented, without trailing spaces."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        (indent + "  ".join(
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )).rstrip()
        for row in rows
    ]  # fmt: skip
