"""Memory by arithmetic: parameters by dtype, optimizer states as Keras 3 builds them,
and what inference and training hold for a batch.

Every figure is bytes, an exact Python int. The optimizer table was read off real Keras
3.15 (`model.compile(optimizer=...)`, then `model.optimizer.build(...)`): each keeps some
slots per trainable weight, in the weights' dtype, plus an int32 iteration counter and a
float32 learning rate; Nadam keeps one more scalar in the weights' dtype. Under the
mixed_float16 policy compile() wraps the optimizer in a LossScaleOptimizer, which adds
four scalars of its own (and Keras's summary then leaves Nadam's extra one out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlpcalc.model import Model

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "int8": 1, "float64": 8}
SCALAR_BYTES = 4  # Keras's iteration (int32) and learning_rate (float32)
SCALARS = 2  # the iteration and the learning rate
LOSS_SCALE_SCALARS = 4  # LossScaleOptimizer's iteration, learning rate, step counter, dynamic scale
MASK_BYTES = 1  # Dropout keeps a boolean mask for the backward pass


@dataclass(frozen=True)
class Optimizer:
    """How many values an optimizer keeps per trainable weight, and how many scalars besides."""

    name: str
    keras: str  # what to pass to compile(optimizer=...)
    slots: int  # values per trainable weight, in the weights' dtype
    extra: int = 0  # scalars in the weights' dtype (Nadam's u_product)
    states: str = ""


OPTIMIZERS = {
    optimizer.name: optimizer
    for optimizer in (
        Optimizer("sgd", '"sgd"', 0, states="none"),
        Optimizer("momentum", "SGD(momentum=0.9)", 1, states="momentum"),
        Optimizer("adam", '"adam"', 2, states="momentum, velocity"),
        Optimizer("adamw", '"adamw"', 2, states="momentum, velocity"),
        Optimizer("rmsprop", '"rmsprop"', 1, states="velocity (momentum 0)"),
        Optimizer("adagrad", '"adagrad"', 1, states="accumulator"),
        Optimizer("nadam", '"nadam"', 2, 1, states="momentum, velocity; u_product"),
        Optimizer("adamax", '"adamax"', 2, states="momentum, norm"),
        Optimizer("lion", '"lion"', 1, states="momentum"),
        Optimizer("adadelta", '"adadelta"', 2, states="accumulated grad, accumulated delta"),
        Optimizer("ftrl", '"ftrl"', 2, states="accumulator, linear"),
    )
}


def optimizer_params(model: Model, optimizer: str, mixed_precision: bool = False) -> int:
    """The count Keras prints as ` Optimizer params: N`."""
    spec = OPTIMIZERS[optimizer]
    scalars = SCALARS + (LOSS_SCALE_SCALARS if mixed_precision else spec.extra)
    return spec.slots * model.trainable_params + scalars


def optimizer_bytes(
    model: Model, optimizer: str, dtype: str = "float32", mixed_precision: bool = False
) -> int:
    """The bytes of those values: slots in the weights' dtype (float32 when mixed), scalars of 4 bytes."""
    spec = OPTIMIZERS[optimizer]
    item = DTYPE_BYTES["float32" if mixed_precision else training_dtype(dtype)]
    if mixed_precision:
        return spec.slots * model.trainable_params * item + (SCALARS + LOSS_SCALE_SCALARS) * SCALAR_BYTES
    return (spec.slots * model.trainable_params + spec.extra) * item + SCALARS * SCALAR_BYTES


def training_dtype(dtype: str) -> str:
    """The dtype training keeps weights, gradients and states in: int8 is an inference format,
    so a model meant to run in int8 is trained in float32 and quantized afterwards."""
    return "float32" if dtype == "int8" else dtype


def activation_elements(model: Model) -> list[int]:
    """Elements per sample of the input and of every layer's output, in order."""
    shapes = [model.spec.input_shape] + [
        layer.layer.output_shape(layer.input_shape) for layer in model.layers
    ]
    return [math.prod(shape) for shape in shapes]


@dataclass(frozen=True)
class MemoryReport:
    """What a model holds, in bytes: at rest, at inference and in training, for `batch` samples."""

    batch: int
    dtype: str
    optimizer: str
    mixed_precision: bool
    params: int
    inference_activations: int
    weights: int
    gradients: int
    optimizer_states: int
    saved_activations: int

    @property
    def inference(self) -> int:
        return self.params + self.inference_activations

    @property
    def training(self) -> int:
        return self.weights + self.gradients + self.optimizer_states + self.saved_activations

    def to_dict(self) -> dict[str, object]:
        return {
            "batch": self.batch,
            "dtype": self.dtype,
            "optimizer": self.optimizer,
            "mixed_precision": self.mixed_precision,
            "params_bytes": self.params,
            "inference_activation_bytes": self.inference_activations,
            "inference_bytes": self.inference,
            "weights_bytes": self.weights,
            "gradient_bytes": self.gradients,
            "optimizer_bytes": self.optimizer_states,
            "saved_activation_bytes": self.saved_activations,
            "training_bytes": self.training,
        }


def memory_report(
    model: Model,
    batch: int = 1,
    dtype: str = "float32",
    optimizer: str = "adam",
    mixed_precision: bool = False,
) -> MemoryReport:
    """The memory of `model` for `batch` samples.

    Inference holds the weights and, at its peak, one layer's input and output at once.
    Training holds weights, a gradient per trainable weight, the optimizer's states, and
    what the backward pass needs: each layer's input (Dropout: its mask, a byte each), and a
    Dense's result before its activation, as a separate Activation layer would keep it.
    Mixed precision (Keras's "mixed_float16") keeps float32 weights, gradients and states
    and float16 activations; int8 trains in float32 (see training_dtype).
    """
    weight_bytes = DTYPE_BYTES["float32" if mixed_precision else dtype]
    trained_bytes = DTYPE_BYTES["float32" if mixed_precision else training_dtype(dtype)]
    activation_bytes = DTYPE_BYTES["float16" if mixed_precision else training_dtype(dtype)]
    inference_bytes = DTYPE_BYTES["float16" if mixed_precision else dtype]
    elements = activation_elements(model)
    peak = max(before + after for before, after in pairwise(elements))
    saved = 0
    for layer, inputs, outputs in zip(model.layers, elements[:-1], elements[1:], strict=True):
        saved += inputs * (MASK_BYTES if layer.keras_class == "Dropout" else activation_bytes)
        activation = getattr(layer.layer, "activation", None)
        if layer.keras_class == "Dense" and activation is not None and not activation.is_linear:
            saved += outputs * activation_bytes
    return MemoryReport(
        batch=batch,
        dtype=dtype,
        optimizer=optimizer,
        mixed_precision=mixed_precision,
        params=model.total_params * weight_bytes,
        inference_activations=batch * peak * inference_bytes,
        weights=model.total_params * trained_bytes,
        gradients=model.trainable_params * trained_bytes,
        optimizer_states=optimizer_bytes(model, optimizer, dtype, mixed_precision),
        saved_activations=batch * saved,
    )
