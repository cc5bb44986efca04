"""The dtypes a model's weights and activations can be sized in, and their bytes."""

from __future__ import annotations

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "int8": 1, "float64": 8}
DEFAULT_DTYPE = "float32"  # Keras's default for every variable
# int8 is an inference format: Keras cannot build int8 layers to train or compile.
INFERENCE_ONLY = frozenset({"int8"})
MIXED_PRECISION_DTYPE = DEFAULT_DTYPE  # Keras's mixed_float16 keeps float32 weights ...
MIXED_ACTIVATION_DTYPE = "float16"  # ... and computes in float16
