"""What the Keras and the PyTorch code have in common: the line that marks a script as one
`mlpcalc export` wrote, and Python literals that read back exactly.

Every literal is ASCII (other characters escaped), so a script survives any terminal or
encoding on its way to a file, and floats are written by repr, which round-trips.
"""

from __future__ import annotations

MARK = "# Made by mlpcalc export"  # the start of every script: how --output knows one it may replace


def first_line(target: str) -> str:
    return f"{MARK} --to {target}"


def text(value: str) -> str:
    """A string literal for `value`, in double quotes unless it holds one: "dense"."""
    written = ascii(value)
    if written.startswith("'") and '"' not in value:  # then it holds no ' either: nothing escaped
        return f'"{written[1:-1]}"'
    return written


def number(value: float) -> str:
    """A float literal that reads back as exactly `value`: 0.001, 1e-05."""
    return repr(float(value))


def shape(values: tuple[int, ...]) -> str:
    """A tuple of ints: (784,), (28, 28)."""
    return repr(tuple(values))
