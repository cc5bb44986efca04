"""ONNX graphs of MLPs read back: the Model they compute (shapes, names) and its weights.

What reads: one chain of layers from one input to one output, as onnx_export.py writes it and as
`torch.onnx.export` writes an `nn.Sequential` in eval mode (opsets 13 and newer):

- Dense: `MatMul` by a weight on the last axis (any rank), with an `Add` of a bias right after
  it, or `Gemm` (rank 2; torch's Linear: the weight transposed); an activation right after a Dense
  is the Dense's own, as Keras's table shows `Dense(10, activation="softmax")`;
- BatchNormalization (inference): ONNX's, on a rank-2 input, or between two Transposes that take the
  last axis to axis 1 and back; LayerNormalization on the last axis; Dropout (inference);
  `Flatten(axis=1)` or a `Reshape` to (batch, features);
- the activations: Relu, Sigmoid, Tanh, Softmax (last axis), Elu, Selu (Keras's constants),
  Softplus, LeakyRelu, Gelu (opset 20), Identity (linear), and the subgraphs exporters write for
  gelu (erf and tanh forms) and silu, recognised as expressions whatever their nodes' order.

Each layer is the nodes between two points where one tensor alone carries the computation on:
a branch or a skip connection never is such a point, so it shows up as a node this module does not
read, named in the error. A normalization's epsilon is kept (torch's 1e-5 reads as `bn(1e-05)`).
Options mlpcalc cannot express, which would change the outputs (a Softmax over another axis, a Gemm
with alpha, an epsilon that is not positive), are refused with the node
and the value; a BatchNormalization's momentum is a training option ONNX's inference ignores, and
so does this module. Graphs onnx_export.py wrote keep their layer names (the node names) and the
exact arguments of the spec they came from; others get Keras's automatic names.
"""

from __future__ import annotations

import math
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from mlpcalc.core.activations import GELU_FORMS, LINEAR, Activation, format_number
from mlpcalc.core.errors import FileError, ModelError, SpecError, WeightsError
from mlpcalc.core.layers import (
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LayerNormalization,
    Shape,
)
from mlpcalc.core.model import DEFAULT_NAME, Model
from mlpcalc.core.spec import MAX_LAYERS, MAX_RANK, MAX_SIZE, MAX_VALUES, Spec, parse_spec
from mlpcalc.core.text import binary_size, shown
from mlpcalc.engine.functions import GELU_TANH_COEFF, SELU_ALPHA, SELU_SCALE, SQRT_2_OVER_PI
from mlpcalc.engine.weights import Weights
from mlpcalc.interop.onnx_export import PRODUCER, SPEC_KEY, dropout_ratio

MIN_OPSET = 13  # Softmax on one axis, Dropout's ratio as an input
MAX_FILE_BYTES = 2**31  # protobuf's limit for one message
MAX_EXPRESSION_NODES = 12  # an activation written as a subgraph: gelu's tanh form takes 9
MAX_EXPRESSION_SEGMENTS = 3
DEFAULT_DOMAINS = ("", "ai.onnx")
Kinds = frozenset[int]  # ONNX's element types
FLOAT_TYPES: Kinds = frozenset({onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE})
INTEGER_TYPES: Kinds = frozenset({onnx.TensorProto.INT64, onnx.TensorProto.INT32})
SCALAR_TYPES: Kinds = FLOAT_TYPES | INTEGER_TYPES | {onnx.TensorProto.BOOL}
ONNX_SELU = (1.67326319217681884765625, 1.05070102214813232421875)  # its defaults: Keras's, in float32
# The activations that are one node with no argument.
SIMPLE = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus"}
READ_OPS = (
    "MatMul (+ Add), Gemm, BatchNormalization, LayerNormalization, Dropout, Flatten, Reshape, "
    "Identity and the activations Relu, Sigmoid, Tanh, Softmax, Elu, Selu, Softplus, LeakyRelu, "
    "Gelu, gelu's and silu's subgraphs"
)


class _Refused(Exception):
    """Why the graph is not an MLP mlpcalc reads; the file's name is added where it is caught."""


# ------------------------------------------------------------------------------- the file


def _load(path: Path) -> onnx.ModelProto:
    """The file's protobuf, read in full (never its external data files) and parsed."""
    try:
        info = path.stat()
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
            raise _Refused(_too_large(info.st_size))
        with path.open("rb") as file:  # a pipe, too: never more than a file may hold
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise _Refused(f"cannot be read: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise _Refused(_too_large(len(data)))
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf's DecodeError (untyped), or what its C parser raises
        raise _Refused(
            "not an ONNX model: protobuf cannot parse it (a truncated file, or another format)"
        ) from None
    if not model.HasField("graph") or not model.graph.node or model.ir_version < 1:
        raise _Refused("not an ONNX model: it holds no graph of nodes (a truncated file, or another format)")
    return model


def _too_large(size: int) -> str:
    return f"{binary_size(size)}: an ONNX file holds at most {binary_size(MAX_FILE_BYTES)} (protobuf's limit)"


def _opset(model: onnx.ModelProto) -> int:
    versions = [int(entry.version) for entry in model.opset_import if entry.domain in DEFAULT_DOMAINS]
    if not versions:
        raise _Refused("the model imports no opset of ONNX's default domain")
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= versions[0] <= newest:
        raise _Refused(
            f"opset {versions[0]}: mlpcalc reads opsets {MIN_OPSET} to {newest} (export again with "
            "opset_version=17, for one)"
        )
    return versions[0]


def _describe(node: onnx.NodeProto) -> str:
    """How an error names a node: its op type and its name."""
    name = f"'{node.name}'" if shown(node.name) == node.name else shown(node.name)
    return f"{shown(node.op_type)} node {name}" if node.name else f"unnamed {shown(node.op_type)} node"


def _tensor_name(name: str) -> str:
    return f"'{name}'" if shown(name) == name else shown(name)


def _attribute(node: onnx.NodeProto, name: str, default: Any) -> Any:
    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


# ------------------------------------------------------------------------------- the graph


@dataclass(frozen=True)
class _Segment:
    """Nodes between two points where one tensor alone carries the computation on."""

    entry: str
    nodes: tuple[onnx.NodeProto, ...]
    exit: str

    @property
    def single(self) -> onnx.NodeProto | None:
        return self.nodes[0] if len(self.nodes) == 1 else None


class _Graph:
    """The file's graph, indexed: its constants, what makes and what reads each tensor."""

    def __init__(self, model: onnx.ModelProto) -> None:
        graph = model.graph
        _opset(model)
        self.constants: dict[str, onnx.TensorProto] = {}
        if graph.sparse_initializer:
            raise _Refused("the graph holds sparse initializers: mlpcalc reads dense weights")
        for tensor in graph.initializer:
            self._add_constant(tensor.name, tensor)
        self.nodes: list[onnx.NodeProto] = []
        self.producers: dict[str, onnx.NodeProto] = {}
        for node in graph.node:
            if self._is_constant(node):
                continue
            for tensor_name in node.output:
                if tensor_name in self.producers or tensor_name in self.constants:
                    again = _tensor_name(tensor_name)
                    raise _Refused(f"{_describe(node)} makes {again} again: a graph makes each tensor once")
                if tensor_name:
                    self.producers[tensor_name] = node
            self.nodes.append(node)
        inputs = [value for value in graph.input if value.name not in self.constants]
        if len(inputs) != 1 or len(graph.output) != 1:
            raise _Refused(
                f"the graph has {len(inputs)} inputs and {len(graph.output)} outputs: an MLP has one of each"
            )
        self.input, self.output = inputs[0], graph.output[0].name
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        self._check_order()

    def _add_constant(self, name: str, tensor: onnx.TensorProto) -> None:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise _Refused(
                f"tensor {_tensor_name(name)} is kept in an external data file: mlpcalc reads "
                "self-contained .onnx files only (save with save_as_external_data=False)"
            )
        if name in self.constants:
            raise _Refused(f"two initializers are named {_tensor_name(name)}")
        self.constants[name] = tensor

    def _is_constant(self, node: onnx.NodeProto) -> bool:
        """A Constant node, or an Identity of a constant (torch's exporter writes both): its
        output is a constant like an initializer."""
        if node.domain not in DEFAULT_DOMAINS or len(node.output) != 1:
            return False
        if node.op_type == "Constant" and not node.input:
            value = _attribute(node, "value", None)
            if isinstance(value, onnx.TensorProto):
                self._add_constant(node.output[0], value)
                return True
            number = _attribute(node, "value_float", None)
            if isinstance(number, float):
                self._add_constant(node.output[0], numpy_helper.from_array(np.array(number, np.float32)))
                return True
            numbers = _attribute(node, "value_ints", None)
            if isinstance(numbers, list):
                self._add_constant(node.output[0], numpy_helper.from_array(np.array(numbers, np.int64)))
                return True
            return False
        if node.op_type == "Identity" and len(node.input) == 1 and node.input[0] in self.constants:
            self._add_constant(node.output[0], self.constants[node.input[0]])
            return True
        return False

    def _check_order(self) -> None:
        """Every node reads what comes before it: the input, a constant or an earlier node's
        output (ONNX's rule; a cycle breaks it)."""
        made = {self.input.name}
        for node in self.nodes:
            for tensor_name in dict.fromkeys(node.input):
                if not tensor_name or tensor_name in self.constants:
                    continue
                if tensor_name not in made:
                    if tensor_name in self.producers:
                        maker = _describe(self.producers[tensor_name])
                        raise _Refused(
                            f"{_describe(node)} reads {_tensor_name(tensor_name)} before {maker} makes "
                            "it: the nodes are out of order, or form a cycle"
                        )
                    raise _Refused(
                        f"{_describe(node)} reads {_tensor_name(tensor_name)}, which no node makes "
                        "and no initializer holds"
                    )
                self.consumers.setdefault(tensor_name, []).append(node)
            made.update(name for name in node.output if name)

    def array(self, name: str, kinds: Kinds = FLOAT_TYPES) -> np.ndarray:
        """A constant's values (of one of `kinds`), checked against its shape before they are read."""
        self.shape(name)
        tensor = self.constants[name]
        if tensor.data_type not in kinds:
            raise _Refused(f"tensor {_tensor_name(name)} holds {_type_name(tensor)} values: expected floats")
        array: np.ndarray = numpy_helper.to_array(tensor)
        return array

    def shape(self, name: str) -> Shape | None:
        """A constant's shape, once it is known to hold as many numbers as the shape says (a
        hostile file may claim 10^15 values and hold none); None if `name` is no constant."""
        tensor = self.constants.get(name)
        if tensor is None:
            return None
        shape = tuple(int(dim) for dim in tensor.dims)
        if any(dim < 0 or dim > MAX_SIZE for dim in shape):
            raise _Refused(
                f"tensor {_tensor_name(name)} has the shape {shape}: sizes go from 0 to {MAX_SIZE:,}"
            )
        if tensor.data_type not in SCALAR_TYPES:
            raise _Refused(f"tensor {_tensor_name(name)} holds {_type_name(tensor)} values: expected numbers")
        count = math.prod(shape)
        itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        if tensor.HasField("raw_data"):
            held, whole = divmod(len(tensor.raw_data), itemsize)
            held += bool(whole)
        else:
            held = len(getattr(tensor, helper.tensor_dtype_to_field(tensor.data_type)))
        if held != count:
            raise _Refused(
                f"tensor {_tensor_name(name)} of shape {shape} should hold {count:,} values and "
                f"holds {held:,} (a truncated or damaged file)"
            )
        return shape

    def scalar(self, name: str) -> float | None:
        """A constant holding one number, of shape () or (1,) (broadcasting adds no axis), or None."""
        shape = self.shape(name)
        if shape not in ((), (1,)):
            return None
        return float(self.array(name, SCALAR_TYPES).reshape(()))

    def segments(self) -> Iterator[_Segment]:
        """The graph cut where one tensor alone goes on: a tensor is live from the node that makes
        it until its last reader (the output: until the end); a segment ends with a node after
        which its own output is the one live tensor."""
        pending = {name: len(readers) for name, readers in self.consumers.items()}
        pending[self.output] = pending.get(self.output, 0) + 1
        entry = self.input.name
        if not pending.get(entry):
            raise _Refused(f"no node reads the input {_tensor_name(entry)}")
        live, region = {entry}, list[onnx.NodeProto]()
        for node in self.nodes:
            read = live.intersection(node.input)
            if not read:
                raise _Refused(
                    f"{_describe(node)} does not compute on the model's input: an MLP is one chain "
                    f"of layers from the input to the output; mlpcalc reads {READ_OPS}"
                )
            region.append(node)
            for tensor_name in read:
                pending[tensor_name] -= 1
                if not pending[tensor_name]:
                    live.remove(tensor_name)
            live.update(name for name in node.output if pending.get(name))
            if len(live) == 1 and live <= set(node.output):
                (exit_,) = live
                yield _Segment(entry, tuple(region), exit_)
                entry, region = exit_, []
        if region or entry != self.output:
            last = region[-1] if region else self.producers.get(entry)
            where = f" after {_describe(last)}" if last is not None else ""
            raise _Refused(f"the chain of layers from the input ends{where} without making the output")


def _type_name(tensor: onnx.TensorProto) -> str:
    known = tensor.data_type in onnx.TensorProto.DataType.values()
    return onnx.TensorProto.DataType.Name(tensor.data_type) if known else f"type {tensor.data_type}"


# ------------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class _Expr:
    """An elementwise expression of the segment's input x: a canonical form, in which products
    and sums are flattened, their constants folded into one and their terms sorted, and a
    division or subtraction by a constant is a product or a sum."""

    op: str  # "x", "const", or an ONNX op
    terms: tuple[_Expr, ...] = ()
    value: float = 0.0

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.op, tuple(term.key for term in self.terms))

    def alike(self, other: _Expr) -> bool:
        """The same expression, constants equal to float32 precision."""
        if self.op != other.op or len(self.terms) != len(other.terms):
            return False
        if self.op == "const":
            return math.isclose(self.value, other.value, rel_tol=1e-6, abs_tol=1e-12)
        return all(a.alike(b) for a, b in zip(self.terms, other.terms, strict=True))


X = _Expr("x")


def _const(value: float) -> _Expr:
    return _Expr("const", value=value)


def _combined(op: str, terms: Sequence[_Expr]) -> _Expr:
    """A flattened, sorted product or sum with its constants folded."""
    flat: list[_Expr] = []
    constant = 1.0 if op == "Mul" else 0.0
    for term in terms:
        for part in term.terms if term.op == op else (term,):
            if part.op == "const":
                constant = constant * part.value if op == "Mul" else constant + part.value
            else:
                flat.append(part)
    if constant != (1.0 if op == "Mul" else 0.0) or not flat:
        flat.append(_const(constant))
    if len(flat) == 1:
        return flat[0]
    return _Expr(op, tuple(sorted(flat, key=lambda term: term.key)))


def _unary(op: str, term: _Expr) -> _Expr:
    return _Expr(op, (term,))


def _mul(*terms: _Expr | float) -> _Expr:
    return _combined("Mul", [term if isinstance(term, _Expr) else _const(term) for term in terms])


def _add(*terms: _Expr | float) -> _Expr:
    return _combined("Add", [term if isinstance(term, _Expr) else _const(term) for term in terms])


# Keras's formulas (engine/functions.py), as expressions.
TEMPLATES: tuple[tuple[Activation, _Expr], ...] = (
    (
        Activation("gelu", GELU_FORMS["erf"]),
        _mul(0.5, X, _add(1.0, _unary("Erf", _mul(X, 1 / math.sqrt(2))))),
    ),
    (
        Activation("gelu", GELU_FORMS["tanh"]),
        _mul(
            0.5, X, _add(1.0, _unary("Tanh", _mul(SQRT_2_OVER_PI, _add(X, _mul(GELU_TANH_COEFF, X, X, X)))))
        ),
    ),
    (Activation("silu"), _mul(X, _unary("Sigmoid", X))),
)
EXPRESSION_OPS = {"Mul", "Add", "Sub", "Div", "Pow", "Erf", "Tanh", "Sigmoid"}


def _expression(graph: _Graph, segments: Sequence[_Segment]) -> _Expr | None:
    """The expression the segments compute from the first one's input, if every node is part
    of it and elementwise; None otherwise."""
    nodes = [node for segment in segments for node in segment.nodes]
    if len(nodes) > MAX_EXPRESSION_NODES or any(
        node.op_type not in EXPRESSION_OPS or node.domain not in DEFAULT_DOMAINS or node.attribute
        for node in nodes
    ):
        return None
    makers = {node.output[0]: node for node in nodes if len(node.output) == 1}
    used: set[int] = set()
    memo: dict[str, _Expr | None] = {}
    entry = segments[0].entry

    def of(name: str) -> _Expr | None:
        if name == entry:
            return X
        if name in memo:
            return memo[name]
        value = graph.scalar(name)
        if value is not None:
            return _const(value)
        node = makers.get(name)
        if node is None:
            return None
        used.add(id(node))
        memo[name] = None  # a tensor that reads itself ends here
        terms = [of(input_name) for input_name in node.input]
        memo[name] = result = _node_expression(node.op_type, terms)
        return result

    result = of(segments[-1].exit)
    return result if len(used) == len(nodes) else None


def _node_expression(op: str, terms: list[_Expr | None]) -> _Expr | None:
    if any(term is None for term in terms):
        return None
    known = [term for term in terms if term is not None]
    if op in ("Erf", "Tanh", "Sigmoid") and len(known) == 1:
        return _unary(op, known[0])
    if len(known) != 2:
        return None
    a, b = known
    if op in ("Mul", "Add"):
        return _combined(op, [a, b])
    if b.op != "const":
        return None
    if op == "Div" and b.value != 0:
        return _combined("Mul", [a, _const(1 / b.value)])
    if op == "Sub":
        return _combined("Add", [a, _const(-b.value)])
    if op == "Pow" and b.value in (2.0, 3.0):
        return _combined("Mul", [a] * int(b.value))
    return None


# ------------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class _Source:
    """Where a variable's values are: a constant (transposed for Gemm's transB, broadcast for a
    bias of shape (1, units)), or nothing: zeros (a LayerNormalization without its B)."""

    tensor: str | None
    shape: Shape
    transpose: bool = False


@dataclass(frozen=True)
class _Item:
    """A layer as the graph has it: the layer, its main node's name, its variables' sources."""

    layer: Layer
    name: str
    sources: tuple[_Source, ...] = ()


@dataclass
class _Reader:
    """Reads the segments in order into layers, tracking the features' shape."""

    graph: _Graph
    segments: list[_Segment]
    shape: Shape  # features, without the batch
    batch: int | None
    items: list[_Item] = field(default_factory=list)

    def read(self) -> list[_Item]:
        index = 0
        while index < len(self.segments):
            if len(self.items) >= MAX_LAYERS:
                raise _Refused(f"the graph has more than {MAX_LAYERS:,} layers: at most {MAX_LAYERS:,}")
            item, used = self.layer(index)
            self.items.append(item)
            self.shape = item.layer.output_shape(self.shape)
            index += used
        return self.items

    @property
    def rank(self) -> int:
        """The rank of the tensor, batch included."""
        return len(self.shape) + 1

    def node(self, index: int, op: str) -> onnx.NodeProto | None:
        """Segment `index`'s node if it is one node of type `op`."""
        if index >= len(self.segments):
            return None
        node = self.segments[index].single
        if node is None or node.op_type != op or node.domain not in DEFAULT_DOMAINS:
            return None
        return node

    def layer(self, index: int) -> tuple[_Item, int]:
        """The layer that starts at segment `index`, and how many segments it takes."""
        segment = self.segments[index]
        node = segment.single
        if node is not None and node.domain in DEFAULT_DOMAINS and node.input[:1] == [segment.entry]:
            reader = READERS.get(node.op_type)
            found = reader(self, node, index) if reader is not None else None
            if found is not None:
                return found
            activation = self._activation(node)
            if activation is not None:
                return _Item(ActivationLayer(activation), node.name), 1
        for count in range(1, MAX_EXPRESSION_SEGMENTS + 1):
            group = self.segments[index : index + count]
            if len(group) < count:
                break
            expression = _expression(self.graph, group)
            if expression is None:
                continue
            for activation, template in TEMPLATES:
                if expression.alike(template):
                    return _Item(ActivationLayer(activation), group[-1].nodes[-1].name), count
        raise _Refused(self._not_read(segment))

    def _not_read(self, segment: _Segment) -> str:
        node = segment.single
        if node is not None:
            return f"{_describe(node)} is not a layer of an MLP: mlpcalc reads {READ_OPS}"
        seen: dict[str, onnx.NodeProto] = {}
        for node in segment.nodes:
            for name in dict.fromkeys(node.input):
                if name in seen:
                    return (
                        f"{_describe(node)} reads {_tensor_name(name)}, which {_describe(seen[name])} "
                        "reads too: the graph branches there, and an MLP is one chain of layers "
                        "(a skip connection, or an expression mlpcalc does not read as an activation)"
                    )
                if name not in self.graph.constants:
                    seen[name] = node
        return f"{_describe(segment.nodes[0])} starts nodes that are not a layer of an MLP"

    # -- one reader per op type; each returns None when the node is not its layer

    def _weight(self, node: onnx.NodeProto, name: str, what: str) -> Shape:
        shape = self.graph.shape(name)
        if shape is None:
            raise _Refused(
                f"{_describe(node)} takes its {what} from {_tensor_name(name)}, which is computed "
                "from the input: a layer of an MLP takes weights (initializers)"
            )
        return shape

    def matmul(self, node: onnx.NodeProto, index: int) -> Found:
        entry = self.segments[index].entry
        if len(node.input) != 2 or node.input[0] != entry:
            return None
        kernel = self._weight(node, node.input[1], "second factor")
        if len(kernel) != 2 or kernel[0] != self.shape[-1]:
            raise _Refused(
                f"{_describe(node)} multiplies the {self.shape[-1]:,} features of its input by "
                f"weights of shape {kernel}: a Dense's kernel is (features, units)"
            )
        units = kernel[1]
        sources = [_Source(node.input[1], kernel)]
        bias = self.node(index + 1, "Add")
        used = 1
        if bias is not None:
            found = self._bias(bias, self.segments[index].exit, units)
            if found is not None:
                sources.append(_Source(found, (units,)))
                used = 2
        layer = Dense(_size(node, units), LINEAR, use_bias=len(sources) == 2)
        return _Item(layer, node.name, tuple(sources)), used

    def _bias(self, node: onnx.NodeProto, product: str, units: int) -> str | None:
        """The bias an Add after a product adds: a constant of shape (units,), or one that
        broadcasts as one, (1, units)."""
        if len(node.input) != 2 or product not in node.input:
            return None
        other = node.input[1] if node.input[0] == product else node.input[0]
        shape = self.graph.shape(other)
        if shape is None or not _is_bias(shape, units, self.rank):
            return None
        return str(other)

    def gemm(self, node: onnx.NodeProto, index: int) -> Found:
        if not node.input or node.input[0] != self.segments[index].entry or len(node.input) < 2:
            return None
        for option, value in (("alpha", 1.0), ("beta", 1.0), ("transA", 0)):
            given = _attribute(node, option, value)
            if given != value:
                raise _Refused(
                    f"{_describe(node)} has {option}={format_number(float(given))}: a Dense is a Gemm "
                    f"with {option}={format_number(float(value))}"
                )
        if self.rank != 2:  # ONNX's Gemm takes matrices; a file that says otherwise is damaged
            raise _Refused(f"{_describe(node)} takes a rank-{self.rank} input: Gemm takes rank 2")
        transposed = bool(_attribute(node, "transB", 0))
        kernel = self._weight(node, node.input[1], "B")
        if len(kernel) != 2 or kernel[1 if transposed else 0] != self.shape[-1]:
            raise _Refused(
                f"{_describe(node)} multiplies the {self.shape[-1]:,} features of its input by B of "
                f"shape {kernel} (transB={int(transposed)})"
            )
        units = kernel[0 if transposed else 1]
        sources = [_Source(node.input[1], (self.shape[-1], units), transpose=transposed)]
        if len(node.input) > 2 and node.input[2]:
            shape = self._weight(node, node.input[2], "C")
            if not _is_bias(shape, units, 2):
                raise _Refused(f"{_describe(node)} adds C of shape {shape}: a bias has the shape ({units},)")
            sources.append(_Source(node.input[2], (units,)))
        layer = Dense(_size(node, units), LINEAR, use_bias=len(sources) == 2)
        return _Item(layer, node.name, tuple(sources)), 1

    def batch_normalization(self, node: onnx.NodeProto, index: int) -> Found:
        if self.rank != 2:
            raise _Refused(
                f"{_describe(node)} normalizes axis 1 of its rank-{self.rank} input, as torch's "
                "BatchNorm1d does on (N, C, L); Keras's BatchNormalization normalizes the last axis "
                "(a Transpose to axis 1 and back around it reads as one)"
            )
        return self._batch_norm_item(node, self.shape[-1]), 1

    def transposed_batch_normalization(self, node: onnx.NodeProto, index: int) -> Found:
        """BatchNormalization on the last axis of a rank > 2 input: Transpose, BN, Transpose."""
        rank = self.rank
        norm, back = self.node(index + 1, "BatchNormalization"), self.node(index + 2, "Transpose")
        first = [0, rank - 1, *range(1, rank - 1)]
        if rank < 3 or norm is None or back is None or list(_attribute(node, "perm", [])) != first:
            return None
        if list(_attribute(back, "perm", [])) != [0, *range(2, rank), 1]:
            return None
        return self._batch_norm_item(norm, self.shape[-1]), 3

    def _batch_norm_item(self, node: onnx.NodeProto, channels: int) -> _Item:
        if _attribute(node, "training_mode", 0):
            raise _Refused(f"{_describe(node)} has training_mode=1: mlpcalc reads inference graphs")
        epsilon = _epsilon(node)
        names = list(node.input[1:])
        if len(names) != 4:
            raise _Refused(f"{_describe(node)} takes {len(node.input)} inputs: expected 5")
        sources = []
        for name, what in zip(names, ("scale", "B", "mean", "var"), strict=True):
            shape = self._weight(node, name, what)
            if shape != (channels,):
                raise _Refused(f"{_describe(node)} has {what} of shape {shape}: expected ({channels},)")
            sources.append(_Source(name, shape))
        return _Item(BatchNormalization(epsilon), node.name, tuple(sources))

    def layer_normalization(self, node: onnx.NodeProto, index: int) -> Found:
        axis = _attribute(node, "axis", -1)
        if axis not in (-1, self.rank - 1):
            raise _Refused(
                f"{_describe(node)} normalizes from axis {axis} of its rank-{self.rank} input: "
                "Keras's LayerNormalization (and mlpcalc's) normalizes the last axis alone"
            )
        epsilon = _epsilon(node)
        channels = (self.shape[-1],)
        if len(node.input) < 2:
            raise _Refused(f"{_describe(node)} has no Scale input")
        sources = []
        for name, what in zip(node.input[1:3], ("Scale", "B"), strict=False):
            if not name:
                continue
            shape = self._weight(node, name, what)
            if shape != channels:
                raise _Refused(f"{_describe(node)} has {what} of shape {shape}: expected {channels}")
            sources.append(_Source(name, channels))
        if len(sources) == 1:
            sources.append(_Source(None, channels))  # no B: beta is zero
        return _Item(LayerNormalization(epsilon), node.name, tuple(sources)), 1

    def dropout(self, node: onnx.NodeProto, index: int) -> Found:
        rate = 0.5  # ONNX's default ratio
        if len(node.input) > 1 and node.input[1]:
            value = self._constant(node, node.input[1], "ratio")
            rate = _decimal(value)
        if len(node.input) > 2 and node.input[2] and self._constant(node, node.input[2], "training_mode"):
            raise _Refused(f"{_describe(node)} has training_mode true: mlpcalc reads inference graphs")
        if not 0 <= rate < 1:
            raise _Refused(f"{_describe(node)} has the ratio {format_number(rate)}: a rate is in [0, 1)")
        return _Item(Dropout(rate), node.name), 1

    def _constant(self, node: onnx.NodeProto, name: str, what: str) -> np.generic:
        value = self.graph.scalar(name)
        if value is None:
            raise _Refused(
                f"{_describe(node)} takes its {what} from {_tensor_name(name)}: expected a constant"
            )
        tensor = self.graph.constants[name]
        typed: np.generic = helper.tensor_dtype_to_np_dtype(tensor.data_type).type(value)
        return typed

    def flatten(self, node: onnx.NodeProto, index: int) -> Found:
        axis = _attribute(node, "axis", 1)
        if axis != 1:
            raise _Refused(
                f"{_describe(node)} flattens from axis {axis}: Keras's Flatten keeps the batch "
                "axis and folds the others (axis=1)"
            )
        return _Item(Flatten(), node.name), 1

    def reshape(self, node: onnx.NodeProto, index: int) -> Found:
        """A Reshape to (batch, features): a Flatten."""
        if len(node.input) != 2 or self.graph.shape(node.input[1]) is None:
            return None
        target = [int(v) for v in self.graph.array(node.input[1], INTEGER_TYPES).reshape(-1)]
        features = math.prod(self.shape)
        zero = None if _attribute(node, "allowzero", 0) else 0  # 0 copies the input's size
        batches = {-1, zero, self.batch} - {None}
        if len(target) == 2 and target[0] in batches and target[1] in (-1, features) and target != [-1, -1]:
            return _Item(Flatten(), node.name), 1
        raise _Refused(
            f"{_describe(node)} reshapes to {target}: mlpcalc reads a Reshape to (batch, features), a Flatten"
        )

    def _activation(self, node: onnx.NodeProto) -> Activation | None:
        """The activation a one-node segment computes, or None."""
        op = node.op_type
        if len(node.input) != 1 or node.input[0] == "":
            return None
        if op in SIMPLE:
            return Activation(SIMPLE[op])
        if op == "Identity":
            return LINEAR
        if op == "Softmax":
            axis = _attribute(node, "axis", -1)
            if axis not in (-1, self.rank - 1):
                raise _Refused(
                    f"{_describe(node)} has axis={axis} on a rank-{self.rank} input: mlpcalc's softmax, "
                    "as Keras's, is over the last axis"
                )
            return Activation("softmax")
        if op in ("Elu", "LeakyRelu"):
            alpha = np.float32(_attribute(node, "alpha", 1.0 if op == "Elu" else 0.01))
            if not np.isfinite(alpha):
                raise _Refused(f"{_describe(node)} has alpha={alpha}")
            return Activation("elu" if op == "Elu" else "leaky_relu", _decimal(alpha))
        if op == "Selu":
            alpha = np.float32(_attribute(node, "alpha", ONNX_SELU[0]))
            gamma = np.float32(_attribute(node, "gamma", ONNX_SELU[1]))
            if (alpha, gamma) != (np.float32(SELU_ALPHA), np.float32(SELU_SCALE)):
                raise _Refused(
                    f"{_describe(node)} has alpha={_decimal(alpha)} and gamma={_decimal(gamma)}: "
                    f"Keras's selu (and mlpcalc's) has {np.float32(SELU_ALPHA)} and {np.float32(SELU_SCALE)}"
                )
            return Activation("selu")
        if op == "Gelu":
            approximate = _attribute(node, "approximate", b"none")
            forms = {b"none": GELU_FORMS["erf"], b"tanh": GELU_FORMS["tanh"]}
            if approximate not in forms:
                raise _Refused(f"{_describe(node)} has approximate={approximate!r}")
            return Activation("gelu", forms[approximate])
        return None


Found = tuple[_Item, int] | None  # a layer and the segments it takes, or None: not this op's layer
READERS: dict[str, Callable[[_Reader, onnx.NodeProto, int], Found]] = {
    "MatMul": _Reader.matmul,
    "Gemm": _Reader.gemm,
    "BatchNormalization": _Reader.batch_normalization,
    "Transpose": _Reader.transposed_batch_normalization,
    "LayerNormalization": _Reader.layer_normalization,
    "Dropout": _Reader.dropout,
    "Flatten": _Reader.flatten,
    "Reshape": _Reader.reshape,
}


def _size(node: onnx.NodeProto, units: int) -> int:
    if not 1 <= units <= MAX_SIZE:
        raise _Refused(f"{_describe(node)} gives {units:,} units: expected 1 to {MAX_SIZE:,}")
    return units


def _is_bias(shape: Shape, units: int, rank: int) -> bool:
    """Whether a constant of `shape` added to a (..., units) tensor of `rank` is a bias."""
    return len(shape) <= rank and shape[-1:] in ((units,), (1,)) and all(dim == 1 for dim in shape[:-1])


def _epsilon(node: onnx.NodeProto) -> float:
    """A normalization's epsilon, a float32 attribute (ONNX's default, as torch's, is 1e-5) read as
    the shortest decimal that is it: torch's 1e-5 is 1e-05, not 9.999999747378752e-06."""
    epsilon = np.float32(_attribute(node, "epsilon", 1e-5))
    if not 0 < epsilon < np.inf:
        raise _Refused(f"{_describe(node)} has epsilon={epsilon}: a normalization's epsilon is positive")
    return _decimal(epsilon)


def _decimal(value: np.generic) -> float:
    """The shortest decimal that is `value` in its own precision: float32's 0.1 is 0.1."""
    return float(np.format_float_positional(value, unique=True, trim="0"))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class _File:
    """What a file says: the model and, per layer, where its variables are."""

    model: Model
    graph: _Graph
    items: tuple[_Item, ...]


def _input_shape(value: onnx.ValueInfoProto) -> tuple[int | None, Shape]:
    """The batch (None: symbolic) and the features' shape of the graph's input."""
    kind = value.type.tensor_type
    if not value.type.HasField("tensor_type") or kind.elem_type not in FLOAT_TYPES:
        raise _Refused(f"the input {_tensor_name(value.name)} is not a tensor of floats")
    if not kind.HasField("shape") or len(kind.shape.dim) < 2:
        rank = len(kind.shape.dim) if kind.HasField("shape") else "unknown"
        raise _Refused(
            f"the input {_tensor_name(value.name)} has rank {rank}: expected a batch axis and the features"
        )
    dims = list(kind.shape.dim)
    if len(dims) - 1 > MAX_RANK:
        raise _Refused(f"the input has {len(dims) - 1} feature axes: at most {MAX_RANK}")
    batch = dims[0].dim_value if dims[0].HasField("dim_value") else None
    features = []
    for axis, dim in enumerate(dims[1:], start=1):
        if not dim.HasField("dim_value"):
            what = f"symbolic ('{shown(dim.dim_param)}')" if dim.dim_param else "unknown"
            raise _Refused(f"axis {axis} of the input is {what}: mlpcalc needs the features' sizes")
        features.append(dim.dim_value)
    for size in (batch, *features):
        if size is not None and not 1 <= size <= MAX_SIZE:
            raise _Refused(f"the input has the shape {_shape_text(dims)}: each size is 1 to {MAX_SIZE:,}")
    if math.prod(features) > MAX_VALUES:
        raise _Refused(f"the input has {math.prod(features):.3g} values per sample: at most {MAX_VALUES:.0e}")
    return batch, tuple(features)


def _shape_text(dims: Sequence[onnx.TensorShapeProto.Dimension]) -> str:
    return (
        "("
        + ", ".join(str(d.dim_value) if d.HasField("dim_value") else d.dim_param or "?" for d in dims)
        + ")"
    )


def _folded(items: list[_Item], named: bool) -> list[_Item]:
    """An activation right after a linear Dense is the Dense's (Keras's Dense(units, activation)).
    In a graph mlpcalc wrote, the names say which: `dense/relu` is dense's, `activation` a layer."""
    layers: list[_Item] = []
    for item in items:
        previous = layers[-1] if layers else None
        if (
            isinstance(item.layer, ActivationLayer)
            and previous is not None
            and isinstance(previous.layer, Dense)
            and previous.layer.activation.is_linear
            and (not named or item.name.startswith(previous.name + "/"))
        ):
            dense = previous.layer
            layers[-1] = _Item(
                Dense(dense.units, item.layer.activation, dense.use_bias), previous.name, previous.sources
            )
        else:
            layers.append(item)
    return layers


def _written(spec: Spec, model: onnx.ModelProto) -> Spec:
    """The spec mlpcalc wrote into the file's metadata, where it computes what the graph does
    (ONNX keeps the arguments in float32, the spec their decimals); else the graph's own."""
    text = next((entry.value for entry in model.metadata_props if entry.key == SPEC_KEY), None)
    if text is None:
        return spec
    try:
        written = parse_spec(text)
    except (SpecError, TypeError):
        return spec
    return written if _same_computation(written, spec) else spec


def _same_computation(a: Spec, b: Spec) -> bool:
    if a.input_shape != b.input_shape or len(a.layers) != len(b.layers):
        return False
    return all(_same_layer(x, y) for x, y in zip(a.layers, b.layers, strict=True))


def _same_layer(a: Layer, b: Layer) -> bool:
    if isinstance(a, Dense) and isinstance(b, Dense):
        return (a.units, a.use_bias) == (b.units, b.use_bias) and _same_activation(a.activation, b.activation)
    if isinstance(a, ActivationLayer) and isinstance(b, ActivationLayer):
        return _same_activation(a.activation, b.activation)
    if isinstance(a, Dropout) and isinstance(b, Dropout):
        return dropout_ratio(a.rate) == dropout_ratio(b.rate)
    norms = BatchNormalization | LayerNormalization
    if isinstance(a, norms) and isinstance(b, norms) and type(a) is type(b):
        return bool(np.float32(a.epsilon) == np.float32(b.epsilon))
    return a == b


def _same_activation(a: Activation, b: Activation) -> bool:
    """Equal as ONNX can tell: arguments in float32, swish the same graph as silu."""
    names = {a.name, b.name}
    if a.name != b.name and names != {"silu", "swish"}:
        return False
    if isinstance(a.argument, float) and isinstance(b.argument, float):
        return bool(np.float32(a.argument) == np.float32(b.argument))
    return a.argument == b.argument


def _read(path: Path) -> _File:
    try:
        proto = _load(path)
        graph = _Graph(proto)
        batch, features = _input_shape(graph.input)
        items = _Reader(graph, list(graph.segments()), features, batch).read()
        named = proto.producer_name == PRODUCER
        items = _folded(items, named)
        spec = Spec(features, tuple(item.layer for item in items))
        _check_output(proto.graph.output[0], batch, spec)
        if named:
            spec = _written(spec, proto)
        name = proto.graph.name if named else DEFAULT_NAME
        names = tuple(item.name for item in items) if named else None
        model = Model(spec, name=name, batch=batch, layer_names=names)
    except _Refused as refusal:
        raise FileError(f"{shown(path)}: {refusal}") from None
    except ModelError as error:  # a layer name Keras would refuse, in a file that says mlpcalc wrote it
        raise FileError(f"{shown(path)}: {error}") from None
    return _File(model, graph, tuple(items))


def _check_output(value: onnx.ValueInfoProto, batch: int | None, spec: Spec) -> None:
    """The output's declared shape, where it declares sizes, is the layers' output."""
    shape = spec.input_shape
    for layer in spec.layers:
        shape = layer.output_shape(shape)
    kind = value.type.tensor_type
    if not value.type.HasField("tensor_type") or not kind.HasField("shape"):
        return
    dims = list(kind.shape.dim)
    expected = (batch, *shape)
    declared = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
    if len(declared) != len(expected) or any(
        d is not None and e is not None and d != e for d, e in zip(declared, expected, strict=True)
    ):
        raise _Refused(
            f"the output {_tensor_name(value.name)} is declared {_shape_text(dims)}, and the layers give "
            f"{tuple(expected)}"
        )


def model_from_onnx(path: Path) -> Model:
    """The Model an ONNX file's graph computes, or FileError naming the first node that is not a
    layer of an MLP (or why the file is not read at all)."""
    return _read(path).model


def onnx_weights(path: Path, model: Model) -> Weights:
    """The weights in the ONNX file at `path`, keyed as a weights file (`dense/kernel`), for
    `model`, which must be the file's (model_from_onnx)."""
    read = _read(path)
    if read.model.spec != model.spec:
        raise WeightsError(f"{shown(path)} holds {read.model.spec}, not {model.spec}")
    weights: Weights = {}
    try:
        for built, item in zip(model.layers, read.items, strict=True):
            for variable, source in zip(built.variables, item.sources, strict=True):
                weights[variable.path] = _values(read.graph, source)
    except _Refused as refusal:
        raise WeightsError(f"{shown(path)}: {refusal}") from None
    return weights


def _values(graph: _Graph, source: _Source) -> np.ndarray:
    if source.tensor is None:
        return np.zeros(source.shape, dtype=np.float32)
    array = graph.array(source.tensor)
    if source.transpose:  # Gemm's transB: torch's Linear keeps (units, features)
        array = array.T
    elif array.shape != source.shape:  # a bias of shape (1, units), or (1,) for every unit
        array = np.broadcast_to(array.reshape(-1), source.shape)
    return np.ascontiguousarray(array)
