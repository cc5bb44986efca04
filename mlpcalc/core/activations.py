"""The activation functions of the spec language, with Keras 3's names and defaults.

Only what a spec can say lives here (names, the one argument some take, its Keras
default); the numerical formulas belong to the forward engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from mlpcalc.core.conventions import MLPCALC

Count = tuple[int, int]  # operations per element and per vector (a vector: the C values of one position)


@dataclass(frozen=True)
class ActivationKind:
    """One activation function: its Keras name, the single argument it may take, and what
    each FLOP convention counts for it (a convention it does not name counts it as 0)."""

    name: str
    counts: Mapping[str, Count]  # by convention; "mlpcalc": a transcendental counts as one
    # FLOPs per element of the backward pass: its derivative times the incoming gradient g, as
    # torch's backward formulas compute it (x its input, y its output), in mlpcalc's convention.
    derivative: int
    parameter: str | None = None  # Keras keyword argument, e.g. "negative_slope"
    default: float | bool | None = None  # Keras's default for it
    # What changes when the argument is not the default: gelu(tanh), elu(alpha != 1).
    other_argument: Mapping[str, Count] = field(default_factory=dict)
    other_derivative: int | None = None


def _counts(mlpcalc: int, **tools: Count) -> dict[str, Count]:
    return {MLPCALC: (mlpcalc, 0), **{tool.replace("_", "-"): count for tool, count in tools.items()}}


# ptflops counts ReLU, GELU and ELU both as a module and as a functional call: twice.
# calflops patches the torch.nn.functional calls of relu, gelu, elu, silu, leaky_relu and
# softmax, not those of selu, softplus, sigmoid and tanh. The TF profiler counts only ops with
# registered statistics (Mul, Add, Neg, ...): relu, sigmoid, tanh, elu, selu, softplus and
# leaky_relu are single ops without, so 0; Keras builds elu with alpha != 1 from Greater, Mul
# and Select, which count 2. thop counts softmax alone: 3C - 1 per vector.
ONE: Count = (1, 0)  # one operation per element
KINDS: dict[str, ActivationKind] = {
    kind.name: kind
    for kind in (
        # max(x, 0); back: g where y > 0, one compare-and-select
        ActivationKind("relu", _counts(1, ptflops=ONE, ptflops_module=ONE, calflops=ONE), 1),
        ActivationKind("sigmoid", _counts(4), 3),  # negate, exp, add 1, divide; back: g x y x (1 - y)
        ActivationKind("tanh", _counts(1), 3),  # back: g x (1 - y^2)
        ActivationKind(  # row max, subtract, exp, row sum, divide; back: y x (g - sum(g x y))
            "softmax", _counts(5, thop=(3, -1), ptflops=ONE, calflops=ONE, tf_profiler=(5, 0)), 4
        ),
        ActivationKind("linear", _counts(0), 0),  # back: g passes through
        ActivationKind(  # scale, erf, add 1, times x, halve
            "gelu",
            _counts(5, ptflops=ONE, ptflops_module=ONE, calflops=ONE, tf_profiler=(4, 0)),
            # back: g x (cdf + x pdf), cdf = (1 + erf(x / sqrt 2)) / 2 (4), pdf = exp(-x^2 / 2) /
            # sqrt(2 pi) (4), then 3
            11,
            "approximate",
            False,
            # cube, scale, add x, scale, tanh, add 1, times x, halve (the cube is 2)
            other_argument={MLPCALC: (9, 0), "tf-profiler": (7, 0)},
            # back, torch's formula: x^2, x^3, kappa x^3, add x, times beta, tanh (6); x / 2, 1 + t,
            # halved, t^2, 1 - t^2, 3 kappa x^2, + 1, times beta, two products, a sum, times g (12)
            other_derivative=18,
        ),
        ActivationKind(  # compare, exp, subtract 1, times alpha; back: select, exp, x alpha, x g
            "elu",
            _counts(4, ptflops=ONE, ptflops_module=ONE, calflops=ONE),
            4,
            "alpha",
            1.0,
            other_argument={"tf-profiler": (2, 0)},
        ),
        ActivationKind("selu", _counts(5), 4),  # elu, then the scale; back: elu's, with the scales
        ActivationKind("softplus", _counts(3), 4),  # exp, add 1, log; back: g x e^x / (1 + e^x)
        # sigmoid, times x; back: g x s x (1 + x (1 - s)), s = sigmoid(x) (4), then 5
        ActivationKind("swish", _counts(5, ptflops=ONE, calflops=ONE, tf_profiler=(2, 0)), 9),
        ActivationKind("silu", _counts(5, ptflops=ONE, calflops=ONE, tf_profiler=(2, 0)), 9),
        # 0.2 is the default of the activation function; the LeakyReLU *layer* uses 0.3.
        ActivationKind(  # compare, multiply; back: g or g x slope, compare-and-select, multiply
            "leaky_relu", _counts(2, ptflops_module=ONE, calflops=ONE), 2, "negative_slope", 0.2
        ),
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
        """FLOPs per element in mlpcalc's convention; gelu's tanh form costs more than its erf form."""
        return self.count(MLPCALC)[0]

    @property
    def derivative_flops(self) -> int:
        """FLOPs per element of the backward pass: the derivative times the incoming gradient."""
        kind = self.kind
        if self.argument != kind.default and kind.other_derivative is not None:
            return kind.other_derivative
        return kind.derivative

    def count(self, convention: str) -> Count:
        """What `convention` counts per element and per vector of this activation."""
        kind = self.kind
        if self.argument != kind.default and convention in kind.other_argument:
            return kind.other_argument[convention]
        return kind.counts.get(convention, (0, 0))

    def counted(self, convention: str, positions: int, channels: int) -> int:
        """What `convention` counts for this activation over `positions` vectors of `channels`."""
        per_element, per_vector = self.count(convention)
        return positions * (channels * per_element + per_vector)

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
