"""The Keras 3 code that builds a model: `keras.Sequential`, layer for layer, with every layer's
name and every option the spec sets, and with a weights file, the code that loads it.

Pure text: nothing here imports Keras or numpy. An activation with Keras's default argument is
its name ("leaky_relu"); one with another argument (leaky_relu(0.1), elu(0.5), gelu(tanh)) is a
function of the script's own, registered with Keras under the spec's text for it
(`mlpcalc>leaky_relu(0.1)`), so that the model saves to a .keras file and loads back (a
function, not Keras's LeakyReLU layer: that one refuses a negative slope, and there is no GELU
layer).
"""

from __future__ import annotations

from mlpcalc.core.activations import Activation
from mlpcalc.core.layers import (
    DATA_FORMAT,
    MOMENTUM,
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    LayerNormalization,
)
from mlpcalc.core.model import BuiltLayer, Model
from mlpcalc.interop.keras_config import PACKAGE
from mlpcalc.interop.script import first_line, number, shape, text

INDENT = " " * 8  # a layer's line, inside keras.Sequential([...])


def keras_code(model: Model, weights: str | None) -> str:
    """A script that defines `model`, loads `weights` (an .npz in mlpcalc's layout) if given,
    and, run as a program, prints the output shape of a batch of 2 (or of the model's batch)."""
    functions = _functions(model)
    rows = model.batch or 2  # a model of a fixed batch takes that batch alone
    lines = [
        first_line("keras"),
        f'"""Keras 3 code for the mlpcalc model {model.spec}, layer for layer.',
        "",
        f"Run as a program, it prints the output shape of {rows} random samples.",
        '"""',
        "",
        "import keras",
        "import numpy as np",
        "",
    ]
    for activation, name in functions.items():
        lines += [
            "",
            f"@keras.saving.register_keras_serializable({text(PACKAGE)}, name={text(str(activation))})",
            f"def {name}(x):",
            f"    return keras.activations.{activation.name}(x, {_arguments(activation)})",
            "",
        ]
    inputs = f"shape={shape(model.spec.input_shape)}"
    if model.batch is not None:
        inputs += f", batch_size={model.batch}"
    lines += ["", "model = keras.Sequential(", "    [", f"{INDENT}keras.Input({inputs}),"]
    lines += [f"{INDENT}{_layer(layer, functions)}," for layer in model.layers]
    lines += ["    ],", f"    name={text(model.name)},", ")"]
    if weights is not None:
        lines += ["", *_loading(model, weights)]
    example = shape((rows, *model.spec.input_shape))
    lines += [
        "",
        'if __name__ == "__main__":',
        f'    x = np.random.default_rng(0).standard_normal({example}).astype("float32")',
        "    print(tuple(model(x, training=False).shape))",
    ]
    return "\n".join(lines) + "\n"


def _functions(model: Model) -> dict[Activation, str]:
    """The activations with an argument other than Keras's default, each with its function's name."""
    found: dict[Activation, str] = {}
    for built in model.layers:
        activation = getattr(built.layer, "activation", None)
        if isinstance(activation, Activation) and activation.argument != activation.kind.default:
            found.setdefault(activation, _function_name(activation))
    return found


def _function_name(activation: Activation) -> str:
    """leaky_relu(0.1) -> leaky_relu_0_1, elu(-1e-05) -> elu_m1em05, gelu(tanh) -> gelu_tanh:
    one name per spec text, since each character of an argument maps to its own."""
    written = str(activation)
    for old, new in (("(", "_"), (")", ""), (".", "_"), ("-", "m"), ("+", "p")):
        written = written.replace(old, new)
    return written


def _arguments(activation: Activation) -> str:
    return ", ".join(
        f"{key}={value!r}" if isinstance(value, bool) else f"{key}={number(value)}"
        for key, value in activation.arguments.items()
    )


def _activation(activation: Activation, functions: dict[Activation, str]) -> str:
    return functions.get(activation) or text(activation.name)


def _layer(built: BuiltLayer, functions: dict[Activation, str]) -> str:
    """One layer's constructor, its name last."""
    layer = built.layer
    options: list[str] = []
    if isinstance(layer, Dense):
        kind = "Dense"
        options.append(str(layer.units))
        if not layer.activation.is_linear:
            options.append(f"activation={_activation(layer.activation, functions)}")
        if not layer.use_bias:
            options.append("use_bias=False")
    elif isinstance(layer, BatchNormalization):
        kind = "BatchNormalization"
        options += ["axis=-1", f"momentum={number(MOMENTUM)}", f"epsilon={number(layer.epsilon)}"]
    elif isinstance(layer, LayerNormalization):
        kind = "LayerNormalization"
        options += ["axis=-1", f"epsilon={number(layer.epsilon)}"]
    elif isinstance(layer, Dropout):
        kind = "Dropout"
        options.append(number(layer.rate))
    elif isinstance(layer, ActivationLayer):
        kind = "Activation"
        options.append(_activation(layer.activation, functions))
    elif isinstance(layer, Flatten):
        kind = "Flatten"
        options.append(f"data_format={text(DATA_FORMAT)}")
    options.append(f"name={text(built.name)}")
    return f"keras.layers.{kind}({', '.join(options)})"


def _loading(model: Model, weights: str) -> list[str]:
    """The lines that set each layer's weights from the .npz, in Keras's order of its variables."""
    lines = [
        "# Each layer's variables, in the order of layer.get_weights(): in the .npz, LAYER/VARIABLE",
        "# (a relative path is from the current folder, when the script runs).",
        f"WEIGHTS = {text(weights)}",
        "VARIABLES = {",
    ]
    for built in model.layers:
        if built.variables:
            names = ", ".join(text(variable.name) for variable in built.variables)
            lines.append(f"    {text(built.name)}: [{names}],")
    lines += [
        "}",
        "with np.load(WEIGHTS, allow_pickle=False) as weights:",
        "    for layer_name, variables in VARIABLES.items():",
        '        arrays = [weights[f"{layer_name}/{variable}"] for variable in variables]',
        '        model.get_layer(layer_name).set_weights([np.asarray(a, "float32") for a in arrays])',
    ]
    return lines
