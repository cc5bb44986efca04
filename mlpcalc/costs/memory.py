"""Memory by arithmetic: what inference and training hold for a batch, in bytes.

Every figure is an exact Python int. Optimizer states are counted as Keras 3 builds them
(costs/optimizers.py); what each layer keeps for the backward pass is the layer's own fact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from mlpcalc.core.dtypes import (
    DEFAULT_DTYPE,
    DTYPE_BYTES,
    INFERENCE_ONLY,
    MIXED_ACTIVATION_DTYPE,
    MIXED_PRECISION_DTYPE,
)
from mlpcalc.core.model import Model
from mlpcalc.costs.settings import Settings

MASK_BYTES = 1  # a boolean mask (Dropout's) takes a byte an element
TRAINING_DTYPE = DEFAULT_DTYPE  # what an inference-only dtype (int8) is trained in, then quantized from


def training_dtype(dtype: str) -> str:
    """The dtype training keeps weights, gradients and states in: int8 is an inference format,
    so a model meant to run in int8 is trained in float32 and quantized afterwards."""
    return TRAINING_DTYPE if dtype in INFERENCE_ONLY else dtype


def activation_elements(model: Model) -> list[int]:
    """Elements per sample of the input and of every layer's output, in order."""
    shapes = [model.spec.input_shape] + [layer.output_features for layer in model.layers]
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


def memory_report(model: Model, settings: Settings) -> MemoryReport:
    """The memory of `model` for `settings.samples` samples.

    Inference holds the weights and, at its peak, one layer's input and output at once.
    Training holds weights, a gradient per trainable weight, the optimizer's states, and
    what each layer keeps for the backward pass. Mixed precision (Keras's "mixed_float16")
    keeps float32 weights, gradients and states and float16 activations; int8 trains in
    float32 (see training_dtype).
    """
    dtype, mixed, batch = settings.dtype, settings.mixed_precision, settings.samples
    weight_bytes = DTYPE_BYTES[MIXED_PRECISION_DTYPE if mixed else dtype]
    trained_bytes = DTYPE_BYTES[MIXED_PRECISION_DTYPE if mixed else training_dtype(dtype)]
    activation_bytes = DTYPE_BYTES[MIXED_ACTIVATION_DTYPE if mixed else training_dtype(dtype)]
    inference_bytes = DTYPE_BYTES[MIXED_ACTIVATION_DTYPE if mixed else dtype]
    elements = activation_elements(model)
    # At a layer's peak its input and output are both held, unless the output is a view of it.
    peak = max(
        before if layer.layer.output_is_view else before + after
        for layer, (before, after) in zip(model.layers, pairwise(elements), strict=True)
    )
    saved = 0
    for layer, count in model.placements:
        values, masks = layer.layer.kept_for_backward(layer.input_shape)
        saved += (values * activation_bytes + masks * MASK_BYTES) * count
    optimizer = settings.training_optimizer
    return MemoryReport(
        batch=batch,
        dtype=dtype,
        optimizer=optimizer.name,
        mixed_precision=mixed,
        params=model.total_params * weight_bytes,
        inference_activations=batch * peak * inference_bytes,
        weights=model.total_params * trained_bytes,
        gradients=model.trainable_params * trained_bytes,
        optimizer_states=optimizer.bytes(model.trainable_params, trained_bytes, mixed),
        saved_activations=batch * saved,
    )
