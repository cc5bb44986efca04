"""The PyTorch code of a model: its PyTorch form (core/pytorch_form.py) as a script that defines
`model`, an `nn.Sequential(OrderedDict([...]))` of named modules, and loads the weights of an
.npz if given (Keras's kernels transposed to Linear's (out, in) weights).

Pure text: nothing here imports torch or numpy.
"""

from __future__ import annotations

from mlpcalc.core.layers import BatchNormalization
from mlpcalc.core.model import Model
from mlpcalc.core.pytorch_form import LAST_AXIS_NORM, Argument, TorchModule, torch_modules
from mlpcalc.interop.script import first_line, number, shape, text

INDENT = " " * 12  # an entry's line, inside nn.Sequential(OrderedDict([...]))


def constructor(module: TorchModule) -> str:
    """The module's constructor call: nn.Linear(784, 512, bias=True)."""
    arguments = [_literal(value) for value in module.arguments]
    arguments += [f"{key}={_literal(value)}" for key, value in module.keywords]
    prefix = "nn." if module.in_torch else ""
    return f"{prefix}{module.class_name}({', '.join(arguments)})"


def _literal(value: Argument) -> str:
    if isinstance(value, float):
        return number(value)
    if isinstance(value, str):
        return text(value)
    return repr(value)  # int, bool


def pytorch_code(model: Model, weights: str | None) -> str:
    """A script that defines `model`, loads `weights` (an .npz in mlpcalc's layout) if given,
    and, run as a program, prints the output shape of a batch of 2."""
    modules = torch_modules(model)
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
    if any(not module.in_torch for module in modules):
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
    lines += [f"{INDENT}({text(module.name)}, {constructor(module)})," for module in modules]
    lines += ["        ]", "    )", ")"]
    if weights is not None:
        lines += ["", *_loading(modules, weights)]
    lines += [
        "",
        'if __name__ == "__main__":',
        "    model.eval()",
        "    with torch.no_grad():",
        f"        print(tuple(model(torch.randn{shape((2, *model.spec.input_shape))}).shape))",
    ]
    return "\n".join(lines) + "\n"


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


def _loading(modules: tuple[TorchModule, ...], weights: str) -> list[str]:
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
    for module in modules:
        if module.is_activation:
            continue
        for variable in module.layer.variables:
            key = text(f"{module.name}.{STATE[variable.name]}")
            array = f"weights[{text(variable.path)}]" + (".T" if variable.name == "kernel" else "")
            lines.append(f"        {key}: tensor({array}),")
        if isinstance(module.layer.layer, BatchNormalization):  # a buffer of BatchNorm1d; Keras has none
            lines.append(f"        {text(module.name + '.num_batches_tracked')}: torch.tensor(0),")
    lines += ["    }", "model.load_state_dict(state_dict, strict=True)", "model.eval()"]
    return lines
