"""The PyTorch code that computes what a model computes: `nn.Sequential(OrderedDict([...]))`,
one module per Keras layer, in order, and after a Dense whose activation is not linear, that
activation as a module of its own (`dense`, then `dense_relu`).

Pure text: nothing here imports torch or numpy. Each module does what Keras's layer does at
inference: Linear acts on the last axis as Dense does; BatchNorm1d takes Keras's epsilon and
its momentum as PyTorch counts it (1 - Keras's); on an input of rank > 2, where Keras
normalizes the last axis and BatchNorm1d the second, a BatchNormLastAxis (defined at the top
of the script) runs BatchNorm1d over a (-1, C) view. A module is named by its layer, with
every character but [A-Za-z0-9_] made `_`, and a suffix where two names meet or a name is
already an attribute of nn.Sequential (which PyTorch refuses as a module's name).
"""

from __future__ import annotations

import re
from decimal import Decimal

from mlpcalc.core.activations import Activation
from mlpcalc.core.layers import (
    EPSILON,
    MOMENTUM,
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    LayerNormalization,
)
from mlpcalc.core.model import BuiltLayer, Model
from mlpcalc.interop.script import first_line, number, shape, text

INDENT = " " * 12  # an entry's line, inside nn.Sequential(OrderedDict([...]))
# PyTorch's momentum weighs the new batch, Keras's the running statistic: 0.99 -> 0.01 (in
# decimal, so that it is written as 0.01 and not as 1 - 0.99 = 0.010000000000000009).
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


def activation_module(activation: Activation) -> str:
    """The torch module computing `activation` as Keras does (its gelu is the exact, erf form)."""
    name, argument = activation.name, activation.argument
    if name == "gelu":
        return 'nn.GELU(approximate="tanh")' if argument else "nn.GELU()"
    if name == "elu":
        return f"nn.ELU(alpha={number(float(argument or 0))})"
    if name == "leaky_relu":
        return f"nn.LeakyReLU(negative_slope={number(float(argument or 0))})"
    return ACTIVATION_MODULES[name]


ACTIVATION_MODULES = {
    "relu": "nn.ReLU()",
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "softmax": "nn.Softmax(dim=-1)",  # Keras's softmax: over the last axis
    "linear": "nn.Identity()",  # an Activation layer's; a Dense's linear activation is no module
    "selu": "nn.SELU()",
    "softplus": "nn.Softplus()",
    "swish": "nn.SiLU()",
    "silu": "nn.SiLU()",
}


def module_names(model: Model) -> list[tuple[str, ...]]:
    """Each layer's module names: its own, then its activation's (a Dense's, unless linear).
    The layers' own names are given out first, so that an activation module takes a suffix
    before any layer does."""
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


def pytorch_code(model: Model, weights: str | None) -> str:
    """A script that defines `model`, loads `weights` (an .npz in mlpcalc's layout) if given,
    and, run as a program, prints the output shape of a batch of 2."""
    names = module_names(model)
    lines = [
        first_line("pytorch"),
        f'"""PyTorch code for the mlpcalc model {model.spec}, as Keras computes it.',
        "",
        "One module per Keras layer, and each Dense's activation as a module of its own. Run as a",
        "program, it prints the output shape of 2 random samples.",
        '"""',
        "",
        "from collections import OrderedDict",
        "",
    ]
    if weights is not None:
        lines.append("import numpy as np")
    lines += ["import torch", "from torch import nn", ""]
    if any(_last_axis_norm(built) for built in model.layers):
        lines += [
            "",
            f"class {LAST_AXIS_NORM}(nn.BatchNorm1d):",
            '    """Keras\'s BatchNormalization of an input of rank > 2: over its last axis."""',
            "",
            "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
            "        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)",
            "",
        ]
    lines += ["", "model = nn.Sequential(", "    OrderedDict(", "        ["]
    for built, (name, *activation) in zip(model.layers, names, strict=True):
        lines.append(f"{INDENT}({text(name)}, {_module(built)}),")
        layer = built.layer
        if activation and isinstance(layer, Dense):
            lines.append(f"{INDENT}({text(activation[0])}, {activation_module(layer.activation)}),")
    lines += ["        ]", "    )", ")"]
    if weights is not None:
        lines += ["", *_loading(model, names, weights)]
    lines += [
        "",
        'if __name__ == "__main__":',
        "    model.eval()",
        "    with torch.no_grad():",
        f"        print(tuple(model(torch.randn{shape((2, *model.spec.input_shape))}).shape))",
    ]
    return "\n".join(lines) + "\n"


def _last_axis_norm(built: BuiltLayer) -> bool:
    return isinstance(built.layer, BatchNormalization) and len(built.input_shape) > 1


def _module(built: BuiltLayer) -> str:
    """The module of a layer (a Dense's activation aside)."""
    layer, features = built.layer, built.input_shape[-1]
    if isinstance(layer, Dense):
        return f"nn.Linear({features}, {layer.units}, bias={layer.use_bias})"
    if isinstance(layer, BatchNormalization):
        kind = LAST_AXIS_NORM if _last_axis_norm(built) else "nn.BatchNorm1d"
        return f"{kind}({features}, eps={number(EPSILON)}, momentum={number(TORCH_MOMENTUM)})"
    if isinstance(layer, LayerNormalization):
        return f"nn.LayerNorm({features}, eps={number(EPSILON)})"
    if isinstance(layer, Dropout):
        return f"nn.Dropout({number(layer.rate)})"
    if isinstance(layer, ActivationLayer):
        return activation_module(layer.activation)
    if isinstance(layer, Flatten):
        return "nn.Flatten()"  # from the axis after the batch to the last, in Keras's (C) order
    raise TypeError(f"no PyTorch module for {type(layer).__name__}")  # pragma: no cover - every kind is above


# Keras's variables as PyTorch's parameters and buffers, by layer kind; the kernel transposed,
# since Linear keeps its weight as (out, in).
STATE = {
    "kernel": "weight",
    "bias": "bias",
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}


def _loading(model: Model, names: list[tuple[str, ...]], weights: str) -> list[str]:
    """The lines that load the .npz into the state dict, strictly: every key, none left over."""
    lines = [
        "# The weights of the .npz (mlpcalc's layout: LAYER/VARIABLE) as the state dict; a relative",
        "# path is from the current folder, when the script runs.",
        f"WEIGHTS = {text(weights)}",
        "",
        "",
        "def tensor(array: np.ndarray) -> torch.Tensor:",
        '    """float32 in the machine\'s byte order, as the model keeps its weights."""',
        "    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))",
        "",
        "",
        "with np.load(WEIGHTS, allow_pickle=False) as weights:",
        "    state_dict = {",
    ]
    for built, (name, *_) in zip(model.layers, names, strict=True):
        for variable in built.variables:
            key = text(f"{name}.{STATE[variable.name]}")
            array = f"weights[{text(variable.path)}]" + (".T" if variable.name == "kernel" else "")
            lines.append(f"        {key}: tensor({array}),")
        if isinstance(built.layer, BatchNormalization):  # a buffer of BatchNorm1d; Keras has none
            lines.append(f"        {text(name + '.num_batches_tracked')}: torch.tensor(0),")
    lines += ["    }", "model.load_state_dict(state_dict, strict=True)", "model.eval()"]
    return lines
