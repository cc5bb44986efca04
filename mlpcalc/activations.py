"""The activation functions of the spec language, with Keras 3's names and defaults.

Only what a spec can say lives here (names, the one argument some take, its Keras
default); the numerical formulas belong to the forward engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ActivationKind:
    """One activation function: its Keras name and the single argument it may take."""

    name: str
    flops: int  # per element, a transcendental (exp, log, tanh, erf) counting as one
    parameter: str | None = None  # Keras keyword argument, e.g. "negative_slope"
    default: float | bool | None = None  # Keras's default for it


KINDS: dict[str, ActivationKind] = {
    kind.name: kind
    for kind in (
        ActivationKind("relu", 1),  # max(x, 0)
        ActivationKind("sigmoid", 4),  # negate, exp, add 1, divide
        ActivationKind("tanh", 1),
        ActivationKind("softmax", 5),  # row max, subtract, exp, row sum, divide
        ActivationKind("linear", 0),
        ActivationKind("gelu", 5, "approximate", False),  # scale, erf, add 1, times x, halve
        ActivationKind("elu", 4, "alpha", 1.0),  # compare, exp, subtract 1, times alpha
        ActivationKind("selu", 5),  # elu, then the scale
        ActivationKind("softplus", 3),  # exp, add 1, log
        ActivationKind("swish", 5),  # sigmoid, times x
        ActivationKind("silu", 5),  # sigmoid, times x
        # 0.2 is the default of the activation function; the LeakyReLU *layer* uses 0.3.
        ActivationKind("leaky_relu", 2, "negative_slope", 0.2),  # compare, multiply
    )
}

# What gelu's argument is written as in a spec: gelu(tanh) / gelu(erf).
GELU_FORMS = {"erf": False, "tanh": True}


@dataclass(frozen=True)
class Activation:
    """An activation as a layer uses it: a name and the value of its argument, if any.

    The argument is always filled in (with Keras's default when the spec omits it),
    so that `leaky_relu` and `leaky_relu(0.2)` are the same activation.
    """

    name: str
    argument: float | bool | None = None

    def __post_init__(self) -> None:
        kind = KINDS[self.name]
        if self.argument is None and kind.default is not None:
            object.__setattr__(self, "argument", kind.default)
        if isinstance(self.argument, float):
            if not math.isfinite(self.argument):
                raise ValueError(f"activation argument must be finite, got {self.argument}")
            object.__setattr__(self, "argument", self.argument + 0.0)  # -0.0 -> 0.0: one canonical zero

    @property
    def kind(self) -> ActivationKind:
        return KINDS[self.name]

    @property
    def flops(self) -> int:
        """FLOPs per element; gelu's tanh form costs more than its erf form."""
        if self.name == "gelu" and self.argument:
            return 9  # cube, scale, add x, scale, tanh, add 1, times x, halve (the cube is 2)
        return self.kind.flops

    @property
    def is_linear(self) -> bool:
        return self.name == "linear"

    @property
    def arguments(self) -> dict[str, float | bool]:
        """Keras keyword arguments, defaults included: {"negative_slope": 0.2}."""
        kind = self.kind
        if kind.parameter is None or self.argument is None:
            return {}
        return {kind.parameter: self.argument}

    def __str__(self) -> str:
        """Canonical spec form: the argument is written only when it is not the default."""
        kind, argument = self.kind, self.argument
        if kind.parameter is None or argument is None or argument == kind.default:
            return self.name
        if isinstance(argument, bool):  # gelu's approximate flag
            return "gelu(tanh)" if argument else "gelu(erf)"
        return f"{self.name}({format_number(argument)})"


LINEAR = Activation("linear")


def format_number(value: float) -> str:
    """The shortest text that parses back to exactly `value` (repr, without a '.0' tail)."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text
