"""A built model: Keras's layer names, output shapes and parameter counts, by arithmetic.

Nothing here allocates a weight: counts are Python integers, exact at any size.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from functools import cached_property

from mlpcalc.core.dtypes import DEFAULT_DTYPE, DTYPE_BYTES
from mlpcalc.core.errors import ModelError
from mlpcalc.core.layers import Dense, Flatten, Layer, Shape, VariableShape
from mlpcalc.core.spec import Spec, parse_spec

DEFAULT_NAME = "sequential"

BatchShape = tuple[int | None, ...]  # a shape with the batch axis first (None: any batch)


@dataclass(frozen=True)
class Variable:
    """One weight of a built model: `dense/kernel`, shape (784, 512), trainable."""

    layer: str
    name: str
    shape: Shape
    trainable: bool

    @property
    def path(self) -> str:
        """The key in a weights file and the name `mlpcalc variables` prints."""
        return f"{self.layer}/{self.name}"

    @property
    def count(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class BuiltLayer:
    """A layer placed in a model: its Keras name and the shapes it sees."""

    name: str
    layer: Layer
    input_shape: Shape  # feature shape, without the batch
    batch: int | None

    @property
    def keras_class(self) -> str:
        return self.layer.keras_class

    @cached_property
    def output_features(self) -> Shape:
        """The output shape without the batch axis."""
        return self.layer.output_shape(self.input_shape)

    @property
    def output_shape(self) -> BatchShape:
        return (self.batch, *self.output_features)

    @cached_property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(_placed(self.name, v) for v in self.layer.variables(self.input_shape))

    @cached_property
    def params(self) -> int:
        return sum(v.count for v in self.layer.variables(self.input_shape))

    @cached_property
    def trainable_params(self) -> int:
        return sum(v.count for v in self.layer.variables(self.input_shape) if v.trainable)

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params

    @property
    def macs(self) -> int:
        """Multiply-accumulates per sample (matrix products only)."""
        return self.layer.macs(self.input_shape)

    @property
    def flops(self) -> int:
        """Arithmetic operations per sample, in mlpcalc's convention (see layers.py)."""
        return self.layer.flops(self.input_shape)


def _placed(layer_name: str, variable: VariableShape) -> Variable:
    return Variable(layer_name, variable.name, variable.shape, variable.trainable)


@dataclass(frozen=True)
class Model:
    """A Keras `Sequential` model as the spec describes it, with its derived numbers."""

    spec: Spec
    name: str = DEFAULT_NAME
    batch: int | None = None

    def __post_init__(self) -> None:
        if "/" in self.name:  # Keras refuses it too: '/' separates a variable's path
            raise ModelError(f"the model name cannot contain '/', received {self.name!r}")
        if not self.name.isprintable():  # a newline or an escape code would garble the output
            raise ModelError(f"the model name must be printable text, received {self.name!r}")
        if self.batch is not None and self.batch < 1:
            raise ModelError(f"the batch size must be a positive integer, received {self.batch}")

    @cached_property
    def layers(self) -> tuple[BuiltLayer, ...]:
        """Each layer with Keras's automatic name (dense, dense_1, ...) and its input shape."""
        seen: dict[str, int] = {}
        built: list[BuiltLayer] = []
        shape = self.spec.input_shape
        for layer in self.spec.layers:
            prefix = _snake_case(layer.keras_class)
            count = seen.get(prefix, 0)
            seen[prefix] = count + 1
            name = prefix if count == 0 else f"{prefix}_{count}"
            built.append(BuiltLayer(name, layer, shape, self.batch))
            shape = layer.output_shape(shape)
        return tuple(built)

    @property
    def input_shape(self) -> BatchShape:
        return (self.batch, *self.spec.input_shape)

    @property
    def output_shape(self) -> BatchShape:
        return self.layers[-1].output_shape

    @property
    def output_features(self) -> Shape:
        """The output shape without the batch axis."""
        return self.layers[-1].output_features

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(v for layer in self.layers for v in layer.variables)

    def keras_path(self, variable: Variable) -> str:
        """Keras 3's path of a variable: sequential/dense/kernel (no prefix for a model named "")."""
        return f"{self.name}/{variable.path}" if self.name else variable.path

    @cached_property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @cached_property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable_params for layer in self.layers)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def total_flops(self) -> int:
        return sum(layer.flops for layer in self.layers)

    @property
    def params_bytes(self) -> int:
        """The weights' size in float32, Keras's default dtype."""
        return self.total_params * DTYPE_BYTES[DEFAULT_DTYPE]

    @cached_property
    def notes(self) -> tuple[str, ...]:
        """Hints about a valid model that may not do what was meant, for the CLI to print on
        stderr (the core never prints): a Dense given more than one feature axis acts on the
        last one alone, as Keras's does, and 28x28->128 gives (None, 28, 128)."""
        for index, layer in enumerate(self.layers):
            if isinstance(layer.layer, Dense) and len(layer.input_shape) > 1:
                layers = self.spec.layers
                flattened = Spec(self.spec.input_shape, (*layers[:index], Flatten(), *layers[index:]))
                return (
                    f"{layer.name} acts on the last axis of its input {(self.batch, *layer.input_shape)} "
                    f"and gives {layer.output_shape}, as Keras's Dense does; for one vector of "
                    f"{math.prod(layer.input_shape):,} values per sample, flatten first: {flattened}",
                )
        return ()


@functools.cache
def _snake_case(class_name: str) -> str:
    """Keras's automatic name prefix: BatchNormalization -> batch_normalization."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def parse(spec: str, *, name: str = DEFAULT_NAME, batch: int | None = None) -> Model:
    """Parse a spec into a Model: `parse("784->512->10 relu").total_params == 407050`."""
    return Model(parse_spec(spec), name=name, batch=batch)
