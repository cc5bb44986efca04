"""Record Keras model files, and what Keras says of them, for tests/test_keras_files.py.

    KERAS_BACKEND=torch ~/.venvs/keras/bin/python tests/golden/keras_files/record.py
    KERAS_BACKEND=torch ~/.venvs/keras35/bin/python tests/golden/keras_files/record.py

Each run writes tests/golden/keras_files/keras-<version>/: per model its `.keras` archive
(model.save), its `.json` (model.to_json()), Keras's summary at 88 and 76 columns, an input
and Keras's output for it (model(x, training=False)), and index.json. The models are built
here with Keras's own API from the descriptions below, never from mlpcalc; each carries the
spec a person would write for it, by hand. Refused files are models mlpcalc cannot express,
each with the words its error must hold.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
with contextlib.redirect_stdout(sys.stderr):
    import keras
    import numpy as np
    from keras import layers

HERE = Path(__file__).parent


def dense(units: int, activation: str | None = None, **options: object) -> layers.Layer:
    return layers.Dense(units, activation=activation, **options)


# Activations with arguments other than Keras's defaults, as functions of the user's, registered
# under "mlpcalc>" and the spec's text for them (how the code `mlpcalc export --to keras` writes
# saves them). Hand-written here, with Keras's own functions.
@keras.saving.register_keras_serializable("mlpcalc", name="leaky_relu(0.1)")
def leaky_relu_0_1(x):
    return keras.activations.leaky_relu(x, negative_slope=0.1)


@keras.saving.register_keras_serializable("mlpcalc", name="gelu(tanh)")
def gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


@keras.saving.register_keras_serializable("mlpcalc", name="elu(0.5)")
def elu_0_5(x):
    return keras.activations.elu(x, alpha=0.5)


# name -> (the spec a person writes for it, a function building the model)
MODELS = {
    "mnist": (
        "12x12->flatten->32:relu->bn->dropout(0.2)->10",
        lambda: keras.Sequential(
            [
                keras.Input((12, 12)),
                layers.Flatten(),
                dense(32, "relu"),
                layers.BatchNormalization(),
                layers.Dropout(0.2),
                dense(10),
            ],
            name="mnist",
        ),
    ),
    "named": (
        "12->16:gelu->ln->8:tanh->3:softmax",
        lambda: keras.Sequential(
            [
                keras.Input((12,)),
                dense(16, "gelu", name="hidden"),
                layers.LayerNormalization(name="norm"),
                dense(8, "tanh", name="bottleneck"),
                dense(3, "softmax", name="logits"),
            ],
            name="classifier",
        ),
    ),
    "every_activation": (
        "6->5:relu->5:sigmoid->5:tanh->5:softmax->5:linear->5:gelu->5:elu->5:selu->5:softplus"
        "->5:silu->5:silu->5:leaky_relu->4",
        lambda: keras.Sequential(
            [keras.Input((6,))]
            + [
                dense(5, a)
                for a in [
                    "relu",
                    "sigmoid",
                    "tanh",
                    "softmax",
                    "linear",
                    "gelu",
                    "elu",
                    "selu",
                    "softplus",
                    "swish",
                    "silu",
                    "leaky_relu",
                ]
            ]
            + [dense(4)],
        ),
    ),
    "activation_layers": (
        "7->6->relu->6:nobias->gelu->sigmoid->elu->selu->softplus->silu->leaky_relu->tanh->softmax->2",
        lambda: keras.Sequential(
            [keras.Input((7,)), dense(6), layers.Activation("relu"), dense(6, use_bias=False)]
            + [
                layers.Activation(a)
                for a in [
                    "gelu",
                    "sigmoid",
                    "elu",
                    "selu",
                    "softplus",
                    "swish",
                    "leaky_relu",
                    "tanh",
                    "softmax",
                ]
            ]
            + [dense(2)],
        ),
    ),
    "rank3": (
        "4x6->5:relu->bn->ln->dropout(0.5)->3",
        lambda: keras.Sequential(
            [
                keras.Input((4, 6)),
                dense(5, "relu"),
                layers.BatchNormalization(),
                layers.LayerNormalization(),
                layers.Dropout(0.5),
                dense(3),
            ],
        ),
    ),
    "rank4_flatten_late": (
        "2x3x4->5:selu->flatten->bn->6:elu->1",
        lambda: keras.Sequential(
            [
                keras.Input((2, 3, 4)),
                dense(5, "selu"),
                layers.Flatten(),
                layers.BatchNormalization(),
                dense(6, "elu"),
                dense(1),
            ],
        ),
    ),
    "fixed_batch": (
        "10->8:relu->2",
        lambda: keras.Sequential(
            [keras.Input((10,), batch_size=4), dense(8, "relu"), dense(2)], name="fixed"
        ),
    ),
    "built_without_input": (
        "9->4:relu->4:relu->2:softmax",
        lambda: _built(
            keras.Sequential([dense(4, "relu"), dense(4, "relu"), dense(2, "softmax")]), (None, 9)
        ),
    ),
    "regularized": (  # regularizers, constraints and initializers change no count and no output
        "5->4:relu->3",
        lambda: keras.Sequential(
            [
                keras.Input((5,)),
                dense(
                    4,
                    "relu",
                    kernel_regularizer=keras.regularizers.L2(0.01),
                    kernel_constraint=keras.constraints.MaxNorm(2.0),
                    kernel_initializer="he_normal",
                ),
                dense(3, bias_initializer="ones"),
            ],
        ),
    ),
    "momentum": (  # momentum changes training alone: read, with a note
        "5->bn->3",
        lambda: keras.Sequential([keras.Input((5,)), layers.BatchNormalization(momentum=0.9), dense(3)]),
    ),
    "wide": (
        "60->40:relu->bn->20",
        lambda: keras.Sequential(
            [keras.Input((60,)), dense(40, "relu"), layers.BatchNormalization(), dense(20)],
            name="a_rather_long_model_name_for_the_table",
        ),
    ),
    "epsilon": (  # PyTorch's epsilon, and another
        "4->bn(1e-05)->ln(1e-06)->2",
        lambda: keras.Sequential(
            [
                keras.Input((4,)),
                layers.BatchNormalization(epsilon=1e-5),
                layers.LayerNormalization(epsilon=1e-6),
                dense(2),
            ]
        ),
    ),
    "registered_activations": (  # functions as `mlpcalc export --to keras` registers them
        "6->5:leaky_relu(0.1)->gelu(tanh)->4:elu(0.5)->2",
        lambda: keras.Sequential(
            [
                keras.Input((6,)),
                dense(5, leaky_relu_0_1),
                layers.Activation(gelu_tanh),
                dense(4, elu_0_5),
                dense(2),
            ]
        ),
    ),
}

# name -> (a function building a model mlpcalc must refuse, words its error must hold)
REFUSED = {
    "conv": (
        lambda: keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3), layers.Flatten(), dense(2)]),
        ["conv2d", "Conv2D"],
    ),
    "bn_without_center": (
        lambda: keras.Sequential([keras.Input((4,)), layers.BatchNormalization(center=False), dense(2)]),
        ["batch_normalization", "center=False"],
    ),
    "ln_rms": (
        lambda: keras.Sequential([keras.Input((4,)), layers.LayerNormalization(rms_scaling=True), dense(2)]),
        ["layer_normalization", "rms_scaling=True"],
    ),
    "leaky_relu_layer": (
        lambda: keras.Sequential([keras.Input((4,)), dense(3), layers.LeakyReLU(0.1), dense(2)]),
        ["leaky_re_lu", "LeakyReLU"],
    ),
    "mish": (
        lambda: keras.Sequential([keras.Input((4,)), dense(3, "mish"), dense(2)]),
        ["dense", "'mish'"],
    ),
    "frozen": (
        lambda: _frozen(keras.Sequential([keras.Input((4,)), dense(3, name="frozen_layer"), dense(2)])),
        ["frozen_layer", "trainable=False"],
    ),
    "functional": (
        lambda: _functional(),
        ["Sequential", "functional"],
    ),
}


def _built(model: keras.Sequential, shape: tuple[int | None, ...]) -> keras.Sequential:
    model.build(shape)
    return model


def _frozen(model: keras.Sequential) -> keras.Sequential:
    model.layers[0].trainable = False
    return model


def _functional() -> keras.Model:
    inputs = keras.Input((4,))
    return keras.Model(inputs, dense(2)(dense(3, "relu")(inputs)))


def summary(model: keras.Model, width: int, columns: int) -> str:
    """Keras's summary text at `width`, in a terminal of `columns` (rich reads COLUMNS)."""
    os.environ["COLUMNS"] = str(columns)
    chunks: list[str] = []
    model.summary(line_length=width, print_fn=lambda text, *args, **kwargs: chunks.append(text))
    return "".join(chunks)


def randomized(model: keras.Model, rng: np.random.Generator) -> None:
    """Every variable set to seeded values (variances positive), so that outputs tell layers apart."""
    for variable in model.weights:
        values = rng.normal(0.0, 0.5, variable.shape).astype("float32")
        if "variance" in variable.path:
            values = np.abs(values) + 0.5
        variable.assign(values)


def main() -> None:
    folder = HERE / f"keras-{keras.__version__}"
    folder.mkdir(exist_ok=True)
    index: dict[str, object] = {
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "models": {},
        "refused": {},
    }
    for number, (name, (spec, build)) in enumerate(MODELS.items()):
        keras.utils.set_random_seed(number)
        model = build()
        rng = np.random.default_rng(number)
        randomized(model, rng)
        batch = model.inputs[0].shape[0] or 3
        x = rng.normal(0.0, 1.0, (batch, *model.inputs[0].shape[1:])).astype("float32")
        y = keras.ops.convert_to_numpy(model(x, training=False))
        model.save(folder / f"{name}.keras")
        (folder / f"{name}.json").write_text(model.to_json(indent=1) + "\n")
        np.save(folder / f"{name}.x.npy", x)
        np.save(folder / f"{name}.y.npy", y)
        (folder / f"{name}.width88.txt").write_text(summary(model, 88, 200))
        (folder / f"{name}.width76.txt").write_text(summary(model, 76, 80))
        index["models"][name] = {
            "spec": spec,
            "name": model.name,
            "layers": [layer.name for layer in model.layers],
        }
    for name, (build, words) in REFUSED.items():
        model = build()
        (folder / f"refused_{name}.json").write_text(model.to_json(indent=1) + "\n")
        index["refused"][name] = {"file": f"refused_{name}.json", "words": words}
    (folder / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(MODELS)} models and {len(REFUSED)} refused configs to {folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
