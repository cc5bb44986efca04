"""Quantities as people write them: 1.5M parameters, 2 MiB, 50TFLOPS; read exactly.

A number (digits, `_` between them, a fraction, an exponent) and a unit; what each unit is
worth belongs to the reader (budgets.py: counts and sizes; costs/training.py: FLOP/s).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from mlpcalc.core.text import V1_COMMAND

if TYPE_CHECKING:
    from fractions import Fraction

NUMBER = r"[0-9](?:_?[0-9])*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,3})?"  # a regular expression
SI_PREFIXES = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
SI_PREFIXES |= {"Z": 10**21, "Y": 10**24}


def exact(number: str) -> Decimal:
    """A NUMBER's value, exactly (no float between the text and the figure)."""
    return Decimal(number.replace("_", ""))


def received(value: object) -> str:
    """A received value in a message: its repr, at most 40 characters, no workflow command in it."""
    text = repr(value).replace(V1_COMMAND, "\\x23#[")
    return text if len(text) <= 40 else text[:39] + "…"


def si_text(value: Fraction, unit: str) -> str:
    """`value` with the largest SI prefix that keeps it at least 1, four figures: 50 TFLOP/s."""
    for prefix, scale in reversed(SI_PREFIXES.items()):
        if value >= scale or not prefix:  # compared exactly: 1e24 as a float is below 10**24
            return f"{float(value / scale):.4g} {prefix}{unit}"
    raise AssertionError("unreachable")  # pragma: no cover - the empty prefix is last
