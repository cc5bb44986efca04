"""The PyTorch form of a model: the `nn.Sequential` that computes what Keras's model computes.

One module per Keras layer, in order, and after a Dense whose activation is not linear, that
activation as a module of its own (`dense`, then `dense_relu`). Each module does what Keras's
layer does at inference: Linear acts on the last axis as Dense does; BatchNorm1d takes Keras's
epsilon and its momentum as PyTorch counts it (1 - Keras's); on an input of rank > 2, where
Keras normalizes the last axis and BatchNorm1d the second, a BatchNormLastAxis (a subclass the
exported script defines) runs BatchNorm1d over a (-1, C) view. Keras's gelu is the exact, erf
form, as nn.GELU's default.

The exporter writes this form as code (interop/pytorch_code.py) and the torchinfo table
describes it (render/torchinfo.py): both read it here, so that they cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from mlpcalc.core.activations import Activation
from mlpcalc.core.layers import (
    MOMENTUM,
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    LayerNormalization,
)
from mlpcalc.core.model import BuiltLayer, Model

Argument = int | float | bool | str
# PyTorch's momentum weighs the new batch, Keras's the running statistic: 0.99 -> 0.01 (in
# decimal, so that it is 0.01 and not 1 - 0.99 = 0.010000000000000009).
TORCH_MOMENTUM = float(Decimal(1) - Decimal(repr(MOMENTUM)))
LAST_AXIS_NORM = "BatchNormLastAxis"
# nn.Sequential's attributes (torch 2.13), which add_module refuses as names; a name starting
# with "_" may be a private one. tests/test_export.py checks the list against torch's.
SEQUENTIAL_ATTRIBUTES = frozenset(
    """T_destination add_module append apply bfloat16 buffers call_super_init children compile cpu
    cuda double dump_patches eval extend extra_repr float forward get_buffer get_extra_state
    get_parameter get_submodule half insert ipu load_state_dict modules mtia named_buffers
    named_children named_modules named_parameters parameters pop register_backward_hook
    register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter
    register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
    set_submodule share_memory state_dict to to_empty train training type xpu zero_grad""".split()  # noqa: SIM905
)
NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9_]")
# The activations whose module takes no argument but, for softmax, the axis (Keras's: the last).
ACTIVATION_CLASSES = {
    "relu": "ReLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softmax": "Softmax",
    "linear": "Identity",  # an Activation layer's; a Dense's linear activation is no module
    "selu": "SELU",
    "softplus": "Softplus",
    "swish": "SiLU",
    "silu": "SiLU",
    "gelu": "GELU",
    "elu": "ELU",
    "leaky_relu": "LeakyReLU",
}


@dataclass(frozen=True)
class TorchModule:
    """One module of the nn.Sequential: its name there, its class and constructor arguments,
    and the layer it comes from (a Dense's activation module comes from the Dense)."""

    name: str
    class_name: str
    arguments: tuple[Argument, ...]
    keywords: tuple[tuple[str, Argument], ...]
    layer: BuiltLayer
    is_activation: bool = False  # the activation module after a Dense's Linear

    @property
    def params(self) -> int:
        """Its parameters: every one of Keras's trainable weights, and only those (torch keeps the
        moving statistics as buffers)."""
        return 0 if self.is_activation else self.layer.trainable_params

    @property
    def in_torch(self) -> bool:
        """Whether torch.nn has the class (else the exported script defines it)."""
        return self.class_name != LAST_AXIS_NORM


def torch_modules(model: Model) -> tuple[TorchModule, ...]:
    """The modules of the PyTorch form of `model`, in order."""
    modules: list[TorchModule] = []
    for built, (name, *activation) in zip(model.layers, module_names(model), strict=True):
        modules.append(_module(built, name))
        layer = built.layer
        if activation and isinstance(layer, Dense):
            modules.append(_activation_module(layer.activation, activation[0], built, after_dense=True))
    return tuple(modules)


def module_names(model: Model) -> list[tuple[str, ...]]:
    """Each layer's module names: its own, then its activation's (a Dense's, unless linear).
    A layer's name with every character but [A-Za-z0-9_] made `_`, and a suffix where two names
    meet or a name is an attribute of nn.Sequential (which PyTorch refuses). The layers' own
    names are given out first, so that an activation module takes a suffix before any layer does."""
    taken: set[str] = set()
    own = [_unique(NOT_IN_A_NAME.sub("_", built.name), taken) for built in model.layers]
    names: list[tuple[str, ...]] = []
    for name, built in zip(own, model.layers, strict=True):
        layer = built.layer
        if isinstance(layer, Dense) and not layer.activation.is_linear:
            names.append((name, _unique(f"{name}_{layer.activation.name}", taken)))
        else:
            names.append((name,))
    return names


def _unique(name: str, taken: set[str]) -> str:
    chosen = name
    if chosen.startswith("_"):
        chosen = "layer" + chosen
    elif chosen in SEQUENTIAL_ATTRIBUTES:
        chosen = "layer_" + chosen
    base, count = chosen, 0
    while chosen in taken:
        count += 1
        chosen = f"{base}_{count}"
    taken.add(chosen)
    return chosen


def _module(built: BuiltLayer, name: str) -> TorchModule:
    """The module of a layer (a Dense's activation aside)."""
    layer, features = built.layer, built.input_shape[-1]
    if isinstance(layer, Dense):
        return TorchModule(name, "Linear", (features, layer.units), (("bias", layer.use_bias),), built)
    if isinstance(layer, BatchNormalization):
        kind = LAST_AXIS_NORM if len(built.input_shape) > 1 else "BatchNorm1d"
        options = (("eps", layer.epsilon), ("momentum", TORCH_MOMENTUM))
        return TorchModule(name, kind, (features,), options, built)
    if isinstance(layer, LayerNormalization):
        return TorchModule(name, "LayerNorm", (features,), (("eps", layer.epsilon),), built)
    if isinstance(layer, Dropout):
        return TorchModule(name, "Dropout", (layer.rate,), (), built)
    if isinstance(layer, ActivationLayer):
        return _activation_module(layer.activation, name, built, after_dense=False)
    if isinstance(layer, Flatten):
        # From the axis after the batch to the last, in Keras's (channels-last) order.
        return TorchModule(name, "Flatten", (), (), built)
    raise TypeError(f"no PyTorch module for {type(layer).__name__}")  # pragma: no cover - every kind is above


def _activation_module(
    activation: Activation, name: str, built: BuiltLayer, *, after_dense: bool
) -> TorchModule:
    """The module computing `activation` as Keras does."""
    keywords: tuple[tuple[str, Argument], ...] = ()
    argument = activation.argument
    if activation.name == "gelu" and argument:
        keywords = (("approximate", "tanh"),)
    elif activation.name == "elu":
        keywords = (("alpha", float(argument or 0)),)
    elif activation.name == "leaky_relu":
        keywords = (("negative_slope", float(argument or 0)),)
    elif activation.name == "softmax":
        keywords = (("dim", -1),)  # Keras's softmax: over the last axis
    return TorchModule(name, ACTIVATION_CLASSES[activation.name], (), keywords, built, after_dense)
