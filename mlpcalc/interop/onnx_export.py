"""A Model and its weights as an ONNX graph that computes what Keras's `model(x, training=False)` does.

The graph, for readers of the file (and for onnx_import.py, which reads it back):

- one input `input`, float32, of shape (batch, *features) with a symbolic `batch` axis (the model's
  batch when it has a fixed one), and one output `output`;
- each layer's nodes are named by the layer: a Dense is `MatMul` named `dense`, its bias an `Add`
  named `dense/bias_add` and its activation `dense/relu` (`dense/gelu`, ...); an activation of
  several nodes (gelu below opset 20, silu) has its last node so named and the others
  `dense/gelu/erf`, ...; a layer of its own (BatchNormalization, Activation, ...) names its node;
- the weights are float32 initializers named as in a weights file (`dense/kernel`, of shape
  (in, units): the layout of Keras's get_weights(), kept as it is by MatMul on the last axis of
  any rank; Gemm would take rank 2 alone);
- BatchNormalization is ONNX's, which normalizes axis 1: at rank 2 that is the last axis; past
  rank 2 the features go to axis 1 and back by two Transposes (`batch_normalization/to_channels_first`,
  `.../to_channels_last`). Composing it from Sub, Div, Sqrt, Mul and Add would spare the copies but
  hide the layer: with the native op the file still says BatchNormalization, with its four
  variables, to any reader (netron, onnx_import.py);
- Dropout is an inference Dropout node (the identity) whose ratio, a float64 scalar, keeps the rate
  (below 1 in float32, which onnxruntime checks);
  a linear Activation layer is an Identity node, so that every layer has a node and a name;
- the model's spec is kept in the metadata (`mlpcalc.spec`): ONNX stores an attribute in float32,
  and the spec keeps the decimal that was written (leaky_relu(0.1)) and swish apart from silu.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from mlpcalc.core.activations import Activation, format_number
from mlpcalc.core.errors import ModelError, WeightsError
from mlpcalc.core.layers import (
    MOMENTUM,
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    LayerNormalization,
)
from mlpcalc.core.model import DEFAULT_NAME, BuiltLayer, Model
from mlpcalc.core.text import binary_size, shown
from mlpcalc.engine.forward import check_memory
from mlpcalc.engine.functions import GELU_TANH_COEFF, SELU_ALPHA, SELU_SCALE, SQRT_2_OVER_PI
from mlpcalc.engine.weights import Weights
from mlpcalc.interop.opsets import DEFAULT_OPSET, OPSETS
from mlpcalc.version import __version__

NATIVE_GELU = 20  # the first opset with a Gelu op
PRODUCER = "mlpcalc"
INPUT, OUTPUT, BATCH = "input", "output", "batch"
SPEC_KEY = "mlpcalc.spec"
# A protobuf message holds at most 2 GiB; what else the file holds is a few bytes a node.
MAX_FILE_BYTES = 2**31 - 1
GRAPH_OVERHEAD = 2**20
FLOAT32_MAX = float(np.finfo(np.float32).max)
# Scalars the gelu subgraphs share, as initializers named const/...
CONSTANTS = {
    "one": 1.0,
    "half": 0.5,
    "sqrt_2": math.sqrt(2.0),
    "gelu_tanh_coeff": GELU_TANH_COEFF,
    "sqrt_2_over_pi": SQRT_2_OVER_PI,
}


class _Graph:
    """Nodes and initializers as they are added; a node's output is the tensor `<node name>:0`."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}

    def node(self, op: str, inputs: Sequence[str], name: str, **attributes: Any) -> str:
        output = f"{name}:0"
        self.nodes.append(helper.make_node(op, list(inputs), [output], name=name, **attributes))
        return output

    def tensor(self, name: str, array: np.ndarray) -> str:
        self.initializers[name] = numpy_helper.from_array(array, name)
        return name

    def constant(self, key: str) -> str:
        name = f"const/{key}"
        if name not in self.initializers:
            self.tensor(name, np.array(CONSTANTS[key], dtype=np.float32))
        return name


def onnx_bytes(model: Model, weights: Weights, opset: int = DEFAULT_OPSET) -> bytes:
    """`model` with `weights` (`dense/kernel` -> array, as `mlpcalc init` writes them) as an ONNX
    file's bytes, in ONNX `opset` (17 to 21)."""
    if opset not in OPSETS:
        raise ModelError(
            f"expected an ONNX opset from {OPSETS[0]} to {OPSETS[-1]}, received {opset}: "
            f"LayerNormalization is an ONNX op from opset {OPSETS[0]}, and {OPSETS[-1]} is the newest "
            "mlpcalc writes"
        )
    _check_size(model)
    _check_weights(model, weights)
    graph = _Graph()
    x = INPUT
    for built in model.layers:
        for variable in built.variables:
            graph.tensor(variable.path, np.asarray(weights[variable.path], dtype=np.float32))
        x = _layer(graph, built, x, opset)
    last = graph.nodes[-1]
    last.output[0] = OUTPUT  # every layer adds a node, so the last one gives the output
    batch: int | str = model.batch if model.batch is not None else BATCH
    onnx_graph = helper.make_graph(
        graph.nodes,
        model.name or DEFAULT_NAME,  # ONNX requires a graph name
        [helper.make_tensor_value_info(INPUT, onnx.TensorProto.FLOAT, [batch, *model.spec.input_shape])],
        [helper.make_tensor_value_info(OUTPUT, onnx.TensorProto.FLOAT, [batch, *model.output_features])],
        initializer=list(graph.initializers.values()),
    )
    opsets = [helper.make_opsetid("", opset)]
    onnx_model = helper.make_model(
        onnx_graph,
        opset_imports=opsets,
        producer_name=PRODUCER,
        producer_version=__version__,
        ir_version=helper.find_min_ir_version_for(opsets),  # the oldest runtime that can, may
    )
    helper.set_model_props(onnx_model, {SPEC_KEY: str(model.spec)})
    data: bytes = onnx_model.SerializeToString()
    return data


def _check_weights(model: Model, weights: Weights) -> None:
    """Every variable present with its shape (a weights file read by load_weights always is)."""
    problems = []
    for variable in model.variables:
        array = weights.get(variable.path)
        if array is None:
            problems.append(f"missing {variable.path}: expected shape {variable.shape}")
        elif tuple(array.shape) != variable.shape:
            problems.append(
                f"{variable.path}: expected shape {variable.shape}, received {tuple(array.shape)}"
            )
    if problems:
        raise WeightsError(f"the weights do not fit {model.spec}: " + "; ".join(problems))


def _check_size(model: Model) -> None:
    """Refuse before building what one ONNX file cannot hold, or memory cannot."""
    size = model.params_bytes + GRAPH_OVERHEAD
    if size > MAX_FILE_BYTES:
        raise ModelError(
            f"the model's weights take {binary_size(model.params_bytes)} in float32: an ONNX file "
            f"holds at most {binary_size(MAX_FILE_BYTES + 1)} (protobuf's limit), and mlpcalc "
            "writes no external data files"
        )
    # The initializers copy the weights, and the file's bytes copy them again.
    check_memory({"graph": size, "file": size}, "the ONNX graph")


def _layer(graph: _Graph, built: BuiltLayer, x: str, opset: int) -> str:
    """Add `built`'s nodes after the tensor `x`; the tensor they give."""
    layer, name, rank = built.layer, built.name, len(built.input_shape) + 1
    if isinstance(layer, Dense):
        x = graph.node("MatMul", [x, f"{name}/kernel"], name)
        if layer.use_bias:
            x = graph.node("Add", [x, f"{name}/bias"], f"{name}/bias_add")
        if layer.activation.is_linear:
            return x
        return _activation(graph, layer.activation, x, f"{name}/{layer.activation.name}", opset)
    if isinstance(layer, BatchNormalization):
        return _batch_normalization(graph, name, x, rank, _epsilon(layer, name))
    if isinstance(layer, LayerNormalization):
        epsilon = _epsilon(layer, name)
        return graph.node(
            "LayerNormalization", [x, f"{name}/gamma", f"{name}/beta"], name, axis=-1, epsilon=epsilon
        )
    if isinstance(layer, Dropout):
        ratio = graph.tensor(f"{name}/ratio", np.array(dropout_ratio(layer.rate), dtype=np.float64))
        return graph.node("Dropout", [x, ratio], name)
    if isinstance(layer, Flatten):
        return graph.node("Flatten", [x], name, axis=1)
    if isinstance(layer, ActivationLayer):
        if layer.activation.is_linear:
            return graph.node("Identity", [x], name)
        return _activation(graph, layer.activation, x, name, opset)
    raise AssertionError(f"no ONNX form for {layer!r}")  # pragma: no cover - every kind is above


def dropout_ratio(rate: float) -> float:
    """The ratio a Dropout node keeps for `rate`: the rate itself, unless it rounds to 1 in float32,
    where onnxruntime checks it (and refuses 1); then float32's largest number below 1. At inference
    the node is the identity whatever its ratio."""
    below_one = float(np.nextafter(np.float32(1), np.float32(0)))
    return rate if np.float32(rate) < 1 else below_one


def _batch_normalization(graph: _Graph, name: str, x: str, rank: int, epsilon: float) -> str:
    """ONNX's BatchNormalization normalizes axis 1: past rank 2, the last axis goes there and back."""
    inputs = [f"{name}/{variable}" for variable in ("gamma", "beta", "moving_mean", "moving_variance")]
    if rank == 2:
        return graph.node("BatchNormalization", [x, *inputs], name, epsilon=epsilon, momentum=MOMENTUM)
    first = [0, rank - 1, *range(1, rank - 1)]
    x = graph.node("Transpose", [x], f"{name}/to_channels_first", perm=first)
    x = graph.node("BatchNormalization", [x, *inputs], name, epsilon=epsilon, momentum=MOMENTUM)
    return graph.node("Transpose", [x], f"{name}/to_channels_last", perm=[0, *range(2, rank), 1])


def _activation(graph: _Graph, activation: Activation, x: str, owner: str, opset: int) -> str:
    """Add `activation` on `x`, its last node named `owner`, any other `owner/<step>`."""
    name, argument = activation.name, activation.argument
    simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus"}
    if name in simple:
        return graph.node(simple[name], [x], owner)
    if name == "softmax":
        return graph.node("Softmax", [x], owner, axis=-1)
    if name in ("elu", "leaky_relu"):
        assert isinstance(argument, float)
        alpha = _float32(argument, activation)
        return graph.node("Elu" if name == "elu" else "LeakyRelu", [x], owner, alpha=alpha)
    if name == "selu":
        return graph.node("Selu", [x], owner, alpha=SELU_ALPHA, gamma=SELU_SCALE)
    if name in ("silu", "swish"):
        gate = graph.node("Sigmoid", [x], f"{owner}/sigmoid")
        return graph.node("Mul", [x, gate], owner)
    if name == "gelu":
        if opset >= NATIVE_GELU:
            return graph.node("Gelu", [x], owner, approximate="tanh" if argument else "none")
        return _gelu_tanh(graph, x, owner) if argument else _gelu_erf(graph, x, owner)
    raise AssertionError(f"no ONNX form for {activation}")  # pragma: no cover - every activation is above


def _float32(value: float, activation: Activation) -> float:
    """An activation's argument as ONNX stores it (a float32 attribute): refused past float32."""
    if abs(value) > FLOAT32_MAX:
        raise ModelError(
            f"{activation}: ONNX stores the {activation.kind.parameter} of {activation.name} as a "
            f"float32, which holds at most {FLOAT32_MAX:.4g} in magnitude"
        )
    return value


def _epsilon(layer: BatchNormalization | LayerNormalization, name: str) -> float:
    """A normalization's epsilon as ONNX stores it (a float32 attribute): refused where float32
    makes it 0 or infinite, which no reader takes for an epsilon."""
    if not 0 < np.float32(layer.epsilon) < np.inf:
        raise ModelError(
            f"layer {shown(name)}: {layer}: ONNX stores the epsilon as a float32, in which "
            f"{format_number(layer.epsilon)} is {np.float32(layer.epsilon)}"
        )
    return layer.epsilon


def _gelu_erf(graph: _Graph, x: str, owner: str) -> str:
    """Keras's exact gelu, 0.5 * x * (1 + erf(x / sqrt 2)), as ONNX's Gelu function body has it."""
    scaled = graph.node("Div", [x, graph.constant("sqrt_2")], f"{owner}/scale")
    erf = graph.node("Erf", [scaled], f"{owner}/erf")
    shifted = graph.node("Add", [erf, graph.constant("one")], f"{owner}/plus_one")
    product = graph.node("Mul", [x, shifted], f"{owner}/times_x")
    return graph.node("Mul", [product, graph.constant("half")], owner)


def _gelu_tanh(graph: _Graph, x: str, owner: str) -> str:
    """Keras's gelu(approximate=True): 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))."""
    square = graph.node("Mul", [x, x], f"{owner}/square")
    cube = graph.node("Mul", [x, square], f"{owner}/cube")
    cubic = graph.node("Mul", [cube, graph.constant("gelu_tanh_coeff")], f"{owner}/cubic_term")
    inner = graph.node("Add", [x, cubic], f"{owner}/inner")
    scaled = graph.node("Mul", [inner, graph.constant("sqrt_2_over_pi")], f"{owner}/scale")
    tanh = graph.node("Tanh", [scaled], f"{owner}/tanh")
    shifted = graph.node("Add", [tanh, graph.constant("one")], f"{owner}/plus_one")
    product = graph.node("Mul", [x, shifted], f"{owner}/times_x")
    return graph.node("Mul", [product, graph.constant("half")], owner)
