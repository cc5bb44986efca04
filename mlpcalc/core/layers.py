"""The layers of the spec language: each one's configuration, shape rule and variables.

A layer here is what Keras calls its config plus `compute_output_shape` and the
variables `build` would create, and its compute cost at inference: shapes, sizes and
costs come from arithmetic, no weights are ever allocated. Shapes are feature shapes,
without the batch axis; like Keras, every layer but Flatten acts on the last axis, once
per "position" (the product of the leading dims: 20 for an input of 20x16); Flatten folds
the positions into the features.

Costs are per sample. MACs count the multiply-accumulates of matrix products alone;
FLOPs count every arithmetic operation, a multiply-accumulate as two and an exp, log,
tanh or erf as one (mlpcalc's convention). `counted` gives what each FLOP-counting tool
(core/conventions.py) reports for the layer: what scales with the batch, and what does not.
`kept_for_backward` is what training holds for the backward pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

from mlpcalc.core.activations import LINEAR, Activation, format_number
from mlpcalc.core.conventions import MLPCALC, PTFLOPS_MODULE

Shape = tuple[int, ...]
Counted = tuple[int, int]  # (scales with the batch, does not)
Kept = tuple[int, int]  # (values in the activations' dtype, bytes of boolean masks)
EPSILON = 1e-3  # Keras's default for BatchNormalization and LayerNormalization
MOMENTUM = 0.99  # Keras's default for BatchNormalization
DATA_FORMAT = "channels_last"  # Keras's default image_data_format(): Flatten keeps the axes' order


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
    output_is_view: ClassVar[bool] = False

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

    def counted(self, convention: str, input_shape: Shape) -> Counted:
        if convention == MLPCALC:
            return self.flops(input_shape), 0
        p, i, c = positions(input_shape), input_shape[-1], self.units
        weights = i * c + c * self.use_bias
        activation = self.activation.counted(convention, p, c)
        scaled = {
            "torchinfo": weights,  # weights and bias, times the batch: the positions are not counted
            "fvcore": p * i * c,
            "thop": p * i * c + activation,
            "ptflops": activation,
            "calflops": 2 * p * i * c + activation,
            "tf-profiler": 2 * p * i * c + p * c * self.use_bias + activation,
        }
        if convention == "ptflops":
            return scaled["ptflops"], p * weights + self.activation.counted(PTFLOPS_MODULE, p, c)
        return scaled[convention], 0

    def kept_for_backward(self, input_shape: Shape) -> Kept:
        # Its input, and its result before a non-linear activation, as an Activation layer would keep.
        outputs = 0 if self.activation.is_linear else positions(input_shape) * self.units
        return math.prod(input_shape) + outputs, 0

    def config(self) -> dict[str, object]:
        return {
            "units": self.units,
            "activation": self.activation.name,
            "activation_args": self.activation.arguments,
            "use_bias": self.use_bias,
        }

    def __str__(self) -> str:
        return self._text

    @cached_property  # a long model asks a Dense for its text thousands of times (diff compares texts)
    def _text(self) -> str:
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
    """`keras.layers.BatchNormalization(epsilon=...)` over the last axis: gamma, beta and two
    statistics; epsilon is added to the variance (Keras's 1e-3 unless the spec says, as PyTorch
    models' 1e-5: `bn(1e-5)`)."""

    epsilon: float = EPSILON

    keras_class: ClassVar[str] = "BatchNormalization"
    output_is_view: ClassVar[bool] = False
    words: ClassVar[tuple[str, ...]] = ("bn", "batchnorm")  # how a spec names it

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

    def counted(self, convention: str, input_shape: Shape) -> Counted:
        elements, channels = math.prod(input_shape), input_shape[-1]
        return {
            MLPCALC: (self.flops(input_shape), 0),
            "torchinfo": (2 * channels, 0),
            "fvcore": (2 * elements, 0),
            "thop": (4 * elements, 0),
            "ptflops": (0, 2 * elements),
            "calflops": (2 * elements, 0),
            "tf-profiler": (2 * elements, 6 * channels),
        }[convention]

    def kept_for_backward(self, input_shape: Shape) -> Kept:
        return math.prod(input_shape), 0

    def config(self) -> dict[str, object]:
        return {"axis": -1, "momentum": MOMENTUM, "epsilon": self.epsilon}

    def __str__(self) -> str:
        return _norm_text(self.words[0], self.epsilon)


@dataclass(frozen=True)
class LayerNormalization:
    """`keras.layers.LayerNormalization(epsilon=...)` over the last axis: gamma and beta."""

    epsilon: float = EPSILON

    keras_class: ClassVar[str] = "LayerNormalization"
    output_is_view: ClassVar[bool] = False
    words: ClassVar[tuple[str, ...]] = ("ln", "layernorm")

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

    def counted(self, convention: str, input_shape: Shape) -> Counted:
        elements, vectors = math.prod(input_shape), positions(input_shape)
        return {
            MLPCALC: (self.flops(input_shape), 0),
            "torchinfo": (2 * input_shape[-1], 0),
            "fvcore": (5 * elements, 0),
            "thop": (4 * elements, 0),
            "ptflops": (0, elements),
            "calflops": (5 * elements, 0),
            "tf-profiler": (9 * elements + 4 * vectors, 0),
        }[convention]

    def kept_for_backward(self, input_shape: Shape) -> Kept:
        return math.prod(input_shape), 0

    def config(self) -> dict[str, object]:
        return {"axis": -1, "epsilon": self.epsilon}

    def __str__(self) -> str:
        return _norm_text(self.words[0], self.epsilon)


def _norm_text(word: str, epsilon: float) -> str:
    """`bn`, or `bn(1e-05)` for an epsilon other than Keras's."""
    return word if epsilon == EPSILON else f"{word}({format_number(epsilon)})"


@dataclass(frozen=True)
class Dropout:
    """`keras.layers.Dropout(rate)`: the identity at inference, no weights."""

    rate: float

    keras_class: ClassVar[str] = "Dropout"
    output_is_view: ClassVar[bool] = False

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

    def counted(self, convention: str, input_shape: Shape) -> Counted:
        return 0, 0

    def kept_for_backward(self, input_shape: Shape) -> Kept:
        return 0, math.prod(input_shape)  # its mask, a byte an element

    def config(self) -> dict[str, object]:
        return {"rate": self.rate}

    def __str__(self) -> str:
        return f"dropout({format_number(self.rate)})"


@dataclass(frozen=True)
class ActivationLayer:
    """`keras.layers.Activation(name)`: an activation as a layer of its own, no weights."""

    activation: Activation

    keras_class: ClassVar[str] = "Activation"
    output_is_view: ClassVar[bool] = False

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def variables(self, input_shape: Shape) -> tuple[VariableShape, ...]:
        return ()

    def macs(self, input_shape: Shape) -> int:
        return 0

    def flops(self, input_shape: Shape) -> int:
        return math.prod(input_shape) * self.activation.flops

    def counted(self, convention: str, input_shape: Shape) -> Counted:
        p, c = positions(input_shape), input_shape[-1]
        if convention == "ptflops":
            return self.activation.counted("ptflops", p, c), self.activation.counted(PTFLOPS_MODULE, p, c)
        return self.activation.counted(convention, p, c), 0

    def kept_for_backward(self, input_shape: Shape) -> Kept:
        return math.prod(input_shape), 0

    def config(self) -> dict[str, object]:
        return {"activation": self.activation.name, "activation_args": self.activation.arguments}

    def __str__(self) -> str:
        return str(self.activation)


@dataclass(frozen=True)
class Flatten:
    """`keras.layers.Flatten()`: every feature axis into one, (None, 28, 28) -> (None, 784).

    A reshape, no weights, no arithmetic: every FLOP-counting tool counts 0 for torch's
    nn.Flatten and TensorFlow's Reshape (tests/golden/flops_facts.json), and the backward
    pass keeps nothing (the output is a view of the input).
    """

    keras_class: ClassVar[str] = "Flatten"
    output_is_view: ClassVar[bool] = True  # its output is its input, reshaped: no memory of its own
    words: ClassVar[tuple[str, ...]] = ("flatten",)

    def output_shape(self, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def variables(self, input_shape: Shape) -> tuple[VariableShape, ...]:
        return ()

    def macs(self, input_shape: Shape) -> int:
        return 0

    def flops(self, input_shape: Shape) -> int:
        return 0

    def counted(self, convention: str, input_shape: Shape) -> Counted:
        return 0, 0

    def kept_for_backward(self, input_shape: Shape) -> Kept:
        return 0, 0

    def config(self) -> dict[str, object]:
        return {"data_format": DATA_FORMAT}

    def __str__(self) -> str:
        return self.words[0]


Layer = Dense | BatchNormalization | LayerNormalization | Dropout | ActivationLayer | Flatten
LAYER_KINDS: tuple[type[Layer], ...] = (
    Dense,
    BatchNormalization,
    LayerNormalization,
    Dropout,
    ActivationLayer,
    Flatten,
)

# The layers a spec names by a word alone: bn, ln and their long forms, flatten.
NAMED_LAYERS: dict[str, type[BatchNormalization | LayerNormalization | Flatten]] = {
    word: kind for kind in (BatchNormalization, LayerNormalization, Flatten) for word in kind.words
}
