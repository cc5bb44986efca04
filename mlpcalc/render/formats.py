"""Formatting the renderers share, without rich: shapes, and sizes as Keras states them."""

from __future__ import annotations

from mlpcalc.conventions import CONVENTIONS, layer_count
from mlpcalc.memory import DTYPE_BYTES, optimizer_bytes, optimizer_params
from mlpcalc.model import Model


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


def _size(count: int, item_bytes: int) -> float:
    # Keras sums the bits of each weight and divides by 8 as a float: do the same,
    # so that rounding at the second decimal agrees at every size.
    return count * item_bytes * 8 / 8


def totals(
    model: Model, dtype: str = "float32", optimizer: str | None = None, mixed_precision: bool = False
) -> list[tuple[str, int, float]]:
    """The lines under Keras's table: label, count and bytes; with an optimizer, its line too,
    as Keras prints them once `compile(optimizer=...)` has built the optimizer."""
    item = DTYPE_BYTES[dtype]
    trainable = _size(model.trainable_params, item)
    non_trainable = _size(model.non_trainable_params, item)
    lines = [
        ("Trainable params", model.trainable_params, trainable),
        ("Non-trainable params", model.non_trainable_params, non_trainable),
    ]
    total_count, total_size = model.total_params, trainable + non_trainable
    if optimizer is not None:
        count = optimizer_params(model, optimizer, mixed_precision)
        size = float(optimizer_bytes(model, optimizer, dtype, mixed_precision))  # Keras: bits / 8, a float
        lines.append(("Optimizer params", count, size))
        total_count, total_size = total_count + count, total_size + size
    return [("Total params", total_count, total_size), *lines]


def cost_cells(model: Model, convention: str) -> dict[str, list[str]]:
    """The cost columns of a table, by header: MACs, FLOPs (in `convention`), share of params."""
    unit = CONVENTIONS[convention].unit
    total = model.total_params or 1
    return {
        "MACs": [f"{layer.macs:,}" for layer in model.layers],
        unit if convention == "mlpcalc" else f"{unit} ({convention})": [
            f"{layer_count(layer, convention):,}" for layer in model.layers
        ],
        "% params": [f"{100 * layer.params / total:.1f}%" for layer in model.layers],
    }
