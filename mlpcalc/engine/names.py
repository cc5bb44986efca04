"""The engine's closed choices, importable without numpy (the CLI's --help needs them)."""

from __future__ import annotations

# Keras's kernel initializers: variance scaling as (scale, fan, distribution), or None for
# those with a formula of their own (engine/initializers.py). glorot = scale 1 over fan_avg,
# he = scale 2 over fan_in, lecun = scale 1 over fan_in.
INITIALIZERS: dict[str, tuple[float, str, str] | None] = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
    "orthogonal": None,
    "zeros": None,
}
DEFAULT_INITIALIZER = "glorot_uniform"  # Keras's Dense default
# What a forward pass can compute in (float16 is stored in float16, computed in float32).
COMPUTE_DTYPES = ("float32", "float64", "float16")
