"""The engine's closed choices, importable without numpy (the CLI's --help needs them)."""

from __future__ import annotations

from enum import StrEnum


class Init(StrEnum):
    """The kernel initializers `--init` offers, with Keras's names."""

    glorot_uniform = "glorot_uniform"
    glorot_normal = "glorot_normal"
    he_uniform = "he_uniform"
    he_normal = "he_normal"
    lecun_uniform = "lecun_uniform"
    lecun_normal = "lecun_normal"
    orthogonal = "orthogonal"
    zeros = "zeros"
