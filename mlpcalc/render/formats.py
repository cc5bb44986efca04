"""Formatting the renderers share, without rich: shapes, and sizes as Keras states them."""

from __future__ import annotations

from mlpcalc.model import BYTES_PER_PARAM, Model


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


def _size(count: int) -> float:
    # Keras sums the bits of each weight and divides by 8 as a float: do the same,
    # so that rounding at the second decimal agrees at every size.
    return count * BYTES_PER_PARAM * 8 / 8


def totals(model: Model) -> list[tuple[str, int, float]]:
    """The lines under the table: label, parameter count and size in bytes."""
    trainable, non_trainable = _size(model.trainable_params), _size(model.non_trainable_params)
    return [
        ("Total params", model.total_params, trainable + non_trainable),
        ("Trainable params", model.trainable_params, trainable),
        ("Non-trainable params", model.non_trainable_params, non_trainable),
    ]
