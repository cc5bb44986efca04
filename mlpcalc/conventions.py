"""FLOP counting as other tools do it, so that mlpcalc's figures can be set beside theirs.

Each tool counts something else: a multiply-add as one op or two, bias adds or not,
activations or not, the positions of a rank-3 input or not. The rules below were read from
each tool's source and checked against what the tool reports for the same models
(tests/golden/flops_facts.json, recorded by the scripts in tests/golden/flops/). For one layer a
rule gives two numbers: what scales with the batch, and what does not (ptflops divides its
module hooks' counts by the batch but not its functional ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlpcalc.layers import positions

if TYPE_CHECKING:
    from mlpcalc.model import BuiltLayer, Model


@dataclass(frozen=True)
class Shapes:
    """What the rules need to know of a layer: P positions, I inputs, C outputs, E = P x C."""

    kind: str  # Keras class
    activation: str | None  # its name; "gelu_tanh" for gelu(tanh), "elu_scaled" for elu(alpha != 1)
    positions: int
    inputs: int
    outputs: int
    bias: bool

    @property
    def elements(self) -> int:
        return self.positions * self.outputs


Rule = Callable[[Shapes], tuple[int, int]]  # (scales with the batch, does not)


@dataclass(frozen=True)
class Convention:
    name: str
    unit: str
    rule: Rule | None  # None: mlpcalc's own, each layer's flops()
    summary: str


def _activation(counts: dict[str, int], default: int = 0) -> Callable[[Shapes], int]:
    """Elements times a per-activation factor (most tools count most activations as 0)."""
    return lambda s: s.elements * counts.get(s.activation or "linear", default)


def _torchinfo(s: Shapes) -> tuple[int, int]:
    if s.kind == "Dense":  # weights and bias, times the batch: the positions are not counted
        return s.inputs * s.outputs + s.outputs * s.bias, 0
    if s.kind in ("BatchNormalization", "LayerNormalization"):
        return 2 * s.outputs, 0
    return 0, 0


def _fvcore(s: Shapes) -> tuple[int, int]:
    if s.kind == "Dense":
        return s.positions * s.inputs * s.outputs, 0
    return {"BatchNormalization": 2 * s.elements, "LayerNormalization": 5 * s.elements}.get(s.kind, 0), 0


def _thop(s: Shapes) -> tuple[int, int]:
    if s.kind in ("Dense", "Activation"):
        matmul = s.positions * s.inputs * s.outputs if s.kind == "Dense" else 0
        softmax = s.positions * (3 * s.outputs - 1) if s.activation == "softmax" else 0
        return matmul + softmax, 0
    return {"BatchNormalization": 4 * s.elements, "LayerNormalization": 4 * s.elements}.get(s.kind, 0), 0


# ptflops' module hooks count once per sample; its patched torch.nn.functional calls count
# every row of the batch. ReLU and GELU go through both, so they count twice.
PTFLOPS_MODULE = {"relu": 1, "gelu": 1, "gelu_tanh": 1, "elu": 1, "elu_scaled": 1, "leaky_relu": 1}
PTFLOPS_FUNCTIONAL = {
    "relu": 1, "gelu": 1, "gelu_tanh": 1, "elu": 1, "elu_scaled": 1, "silu": 1, "swish": 1, "softmax": 1,
}  # fmt: skip


def _ptflops(s: Shapes) -> tuple[int, int]:
    functional = _activation(PTFLOPS_FUNCTIONAL)(s) if s.kind in ("Dense", "Activation") else 0
    module = _activation(PTFLOPS_MODULE)(s) if s.kind in ("Dense", "Activation") else 0
    if s.kind == "Dense":
        module += s.positions * (s.inputs * s.outputs + s.outputs * s.bias)
    module += {"BatchNormalization": 2 * s.elements, "LayerNormalization": s.elements}.get(s.kind, 0)
    return functional, module


# calflops patches these torch.nn.functional calls; selu, softplus, sigmoid and tanh it does not.
CALFLOPS_ACTIVATIONS = {
    "relu": 1,
    "gelu": 1,
    "gelu_tanh": 1,
    "elu": 1,
    "silu": 1,
    "swish": 1,
    "leaky_relu": 1,
}
CALFLOPS_ACTIVATIONS["softmax"] = 1


def _calflops(s: Shapes) -> tuple[int, int]:
    count = _activation(CALFLOPS_ACTIVATIONS)(s) if s.kind in ("Dense", "Activation") else 0
    if s.kind == "Dense":
        count += 2 * s.positions * s.inputs * s.outputs
    count += {"BatchNormalization": 2 * s.elements, "LayerNormalization": 5 * s.elements}.get(s.kind, 0)
    return count, 0


# The TF profiler counts only ops with registered statistics (Mul, Add, Neg, ...): relu,
# sigmoid, tanh, elu, selu, softplus and leaky_relu are single ops without, so 0; Keras
# builds elu with alpha != 1 from Greater, Mul and Select, which count 2.
TF_ACTIVATIONS = {"gelu": 4, "gelu_tanh": 7, "silu": 2, "swish": 2, "softmax": 5, "elu_scaled": 2}


def _tf_profiler(s: Shapes) -> tuple[int, int]:
    count = _activation(TF_ACTIVATIONS)(s) if s.kind in ("Dense", "Activation") else 0
    if s.kind == "Dense":
        count += 2 * s.positions * s.inputs * s.outputs + s.elements * s.bias
    if s.kind == "BatchNormalization":
        return count + 2 * s.elements, 6 * s.outputs
    if s.kind == "LayerNormalization":
        count += 9 * s.elements + 4 * s.positions
    return count, 0


CONVENTIONS = {
    convention.name: convention
    for convention in (
        Convention("mlpcalc", "FLOPs", None, "every operation; a multiply-add is 2; activations by formula"),
        Convention("torchinfo", "mult-adds", _torchinfo, "parameters x batch; positions not counted"),
        Convention("fvcore", "flops", _fvcore, "a multiply-add is 1; no bias; activations 0"),
        Convention("thop", "MACs", _thop, "a multiply-add is 1; no bias; only softmax among activations"),
        Convention("ptflops", "MACs", _ptflops, "bias counted; ReLU and GELU twice; functional ops per row"),
        Convention("calflops", "FLOPs", _calflops, "a multiply-add is 2; no bias; ReLU, GELU, softmax 1"),
        Convention(
            "tf-profiler", "float_ops", _tf_profiler, "a multiply-add is 2; bias adds; some activations"
        ),
    )
}


def shapes(layer: BuiltLayer) -> Shapes:
    activation = getattr(layer.layer, "activation", None)
    name = None
    if activation is not None:
        name = activation.name
        if name == "gelu" and activation.argument:
            name = "gelu_tanh"
        elif name == "elu" and activation.argument != 1.0:
            name = "elu_scaled"
    features = layer.input_shape
    return Shapes(
        kind=layer.keras_class,
        activation=name,
        positions=positions(features),
        inputs=features[-1],
        outputs=layer.layer.output_shape(features)[-1],
        bias=bool(getattr(layer.layer, "use_bias", False)),
    )


def _split(layer: BuiltLayer, name: str) -> tuple[int, int]:
    """One layer's count under convention `name`: (scales with the batch, does not)."""
    rule = CONVENTIONS[name].rule
    return (layer.flops, 0) if rule is None else rule(shapes(layer))


def convention_total(model: Model, name: str, batch: int = 1) -> int:
    """What the tool `name` reports for `model` run on `batch` samples."""
    parts = [_split(layer, name) for layer in model.layers]
    return sum(scaled * batch + fixed for scaled, fixed in parts)


def layer_count(layer: BuiltLayer, name: str) -> int:
    """One layer's count per sample under convention `name`."""
    return sum(_split(layer, name))


@dataclass(frozen=True)
class Compute:
    """A model's compute per sample and for a batch: MACs, and FLOPs as one convention counts."""

    convention: str
    batch: int
    macs: int
    flops: int
    batch_macs: int
    batch_flops: int


def compute(model: Model, convention: str = "mlpcalc", batch: int = 1) -> Compute:
    return Compute(
        convention=convention,
        batch=batch,
        macs=model.total_macs,
        flops=convention_total(model, convention),
        batch_macs=model.total_macs * batch,
        batch_flops=convention_total(model, convention, batch),
    )
