"""The layers of the spec language: each one's configuration, shape rule and variables.

A layer here is what Keras calls its config plus `compute_output_shape` and the
variables `build` would create, and its compute cost at inference: shapes, sizes and
costs come from arithmetic, no weights are ever allocated. Shapes are feature shapes,
without the batch axis; like Keras, every layer acts on the last axis, once per
"position" (the product of the leading dims: 20 for an input of 20x16).

Costs are per sample. MACs count the multiply-accumulates of matrix products alone;
FLOPs count every arithmetic operation, a multiply-accumulate as two and an exp, log,
tanh or erf as one (mlpcalc's convention; other tools' are in conventions.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from mlpcalc.activations import LINEAR, Activation, format_number

Shape = tuple[int, ...]


def positions(input_shape: Shape) -> int:
    """How many vectors a layer acting on the last axis sees per sample."""
    return math.prod(input_shape[:-1])


@dataclass(frozen=True)
class VariableShape:
    """A weight a layer creates: its Keras name, shape, and whether training updates it."""

    name: str
    shape: Shape
    trainable: bool = True

    @property
    def count(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Dense:
    """`keras.layers.Dense`: y = activation(x @ kernel + bias) on the last axis."""

    units: int
    activation: Activation = LINEAR
    use_bias: bool = True

    keras_class: ClassVar[str] = "Dense"

    def output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def variables(self, input_shape: Shape) -> tuple[VariableShape, ...]:
        kernel = VariableShape("kernel", (input_shape[-1], self.units))
        if not self.use_bias:
            return (kernel,)
        return (kernel, VariableShape("bias", (self.units,)))

    def macs(self, input_shape: Shape) -> int:
        return positions(input_shape) * input_shape[-1] * self.units

    def flops(self, input_shape: Shape) -> int:
        outputs = positions(input_shape) * self.units
        return 2 * self.macs(input_shape) + outputs * (self.use_bias + self.activation.flops)

    def config(self) -> dict[str, object]:
        return {
            "units": self.units,
            "activation": self.activation.name,
            "activation_args": self.activation.arguments,
            "use_bias": self.use_bias,
        }

    def __str__(self) -> str:
        return self.spec_text(repeat=1)

    def spec_text(self, repeat: int) -> str:
        """Canonical spec form, e.g. `512:relu`, `128*3:selu:nobias`."""
        text = str(self.units) if repeat == 1 else f"{self.units}*{repeat}"
        if not self.activation.is_linear:
            text += f":{self.activation}"
        if not self.use_bias:
            text += ":nobias"
        return text


@dataclass(frozen=True)
class BatchNormalization:
    """`keras.layers.BatchNormalization()` over the last axis: gamma, beta and two statistics."""

    keras_class: ClassVar[str] = "BatchNormalization"

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def variables(self, input_shape: Shape) -> tuple[VariableShape, ...]:
        channels = (input_shape[-1],)
        return (
            VariableShape("gamma", channels),
            VariableShape("beta", channels),
            # The moving statistics are updated by the forward pass, not by gradients.
            VariableShape("moving_mean", channels, trainable=False),
            VariableShape("moving_variance", channels, trainable=False),
        )

    def macs(self, input_shape: Shape) -> int:
        return 0

    def flops(self, input_shape: Shape) -> int:
        # At inference the statistics, gamma and beta fold into one scale and one shift.
        return 2 * math.prod(input_shape)

    def config(self) -> dict[str, object]:
        return {"axis": -1, "momentum": 0.99, "epsilon": 0.001}

    def __str__(self) -> str:
        return "bn"


@dataclass(frozen=True)
class LayerNormalization:
    """`keras.layers.LayerNormalization()` over the last axis: gamma and beta."""

    keras_class: ClassVar[str] = "LayerNormalization"

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def variables(self, input_shape: Shape) -> tuple[VariableShape, ...]:
        channels = (input_shape[-1],)
        return (VariableShape("gamma", channels), VariableShape("beta", channels))

    def macs(self, input_shape: Shape) -> int:
        return 0

    def flops(self, input_shape: Shape) -> int:
        # Per vector of C: mean (C + 1), centre (C), square (C), variance (C + 1),
        # epsilon, square root and reciprocal (3), normalise, gamma, beta (3C).
        return positions(input_shape) * (7 * input_shape[-1] + 5)

    def config(self) -> dict[str, object]:
        return {"axis": -1, "epsilon": 0.001}

    def __str__(self) -> str:
        return "ln"


@dataclass(frozen=True)
class Dropout:
    """`keras.layers.Dropout(rate)`: the identity at inference, no weights."""

    rate: float

    keras_class: ClassVar[str] = "Dropout"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", self.rate + 0.0)  # -0.0 -> 0.0: one canonical zero

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def variables(self, input_shape: Shape) -> tuple[VariableShape, ...]:
        return ()

    def macs(self, input_shape: Shape) -> int:
        return 0

    def flops(self, input_shape: Shape) -> int:
        return 0  # the identity at inference

    def config(self) -> dict[str, object]:
        return {"rate": self.rate}

    def __str__(self) -> str:
        return f"dropout({format_number(self.rate)})"


@dataclass(frozen=True)
class ActivationLayer:
    """`keras.layers.Activation(name)`: an activation as a layer of its own, no weights."""

    activation: Activation

    keras_class: ClassVar[str] = "Activation"

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def variables(self, input_shape: Shape) -> tuple[VariableShape, ...]:
        return ()

    def macs(self, input_shape: Shape) -> int:
        return 0

    def flops(self, input_shape: Shape) -> int:
        return math.prod(input_shape) * self.activation.flops

    def config(self) -> dict[str, object]:
        return {"activation": self.activation.name, "activation_args": self.activation.arguments}

    def __str__(self) -> str:
        return str(self.activation)


Layer = Dense | BatchNormalization | LayerNormalization | Dropout | ActivationLayer
