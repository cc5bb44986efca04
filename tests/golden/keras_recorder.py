"""Build Keras Sequential models from plain descriptions and record what Keras says of them.

This is the project's own recorder of Keras facts (the golden fixtures are made with it by
regenerate.py). It runs in a virtual environment with Keras 3 on the torch backend, or, with
--classic, with TensorFlow 2's Keras (TensorFlow 2.6 for the classic summary format, or tf-keras
beside a newer TensorFlow); README.md beside it has the recipes:

    KERAS_BACKEND=torch ~/.venvs/keras/bin/python tests/golden/keras_recorder.py < jobs.json > reports.json
    ~/.venvs/tf26/bin/python tests/golden/keras_recorder.py --classic < jobs.json > reports.json

stdin holds a JSON list of descriptions, stdout gets a JSON list of reports in the same order
(anything Keras prints goes to stderr). A description:

    {"input_shape": [null, 20, 16],        # batch first; an int batch is fixed
     "layers": [{"type": "dense", "units": 32, "activation": "gelu", "use_bias": true},
                {"type": "batchnorm"}, {"type": "layernorm"}, {"type": "dropout", "rate": 0.25},
                {"type": "flatten"}, {"type": "activation", "activation": {"name": "elu", "alpha": 0.5}}],
     "name": "sequential",                 # the model's name (optional)
     "summary_line_length": null,          # model.summary(line_length=...)
     "summary_columns": 200,               # COLUMNS while Keras prints (it sizes the table by it)
     "summary_calls": [{"line_length": 88, "columns": 200,         # optional: more summaries, with
                        "show_trainable": true,                    # Keras's other arguments; each
                        "layer_range": ["dense_1", "dense_3"]}],   # call's text, or its error
     "forward": {"npz": "out.npz",         # optional: randomized weights, x and model(x) into one .npz
                 "seed": 7, "batch": 5, "x_seed": 11, "x_scale": 40.0, "dtype": "float16"}}

An activation is a Keras name, null (linear), or {"name": ..., **arguments}; one with arguments
is handed to Keras as a function named `name(arg=value,...)`, which is how the reports show it.

A report holds the model's name, every layer (class, output shape, parameter counts, the
relevant config, its variables), totals, the variable paths, and the summary text twice: as
printed with summary_columns (width 88 by default) and with COLUMNS=80 (width 76); with
summary_calls, the text of each of those calls too (or the exception Keras raised). With
--classic it holds the tf.keras 2 summary text and the `name shape` lines of the trainable
variables instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

CLASSIC = "--classic" in sys.argv[1:]
if CLASSIC:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
else:
    os.environ.setdefault("KERAS_BACKEND", "torch")

REPORT_FORMAT = 1  # stored as "oracle_version": the reports keep the layout the fixtures always had
CONFIG_KEYS = (
    "units",
    "activation",
    "use_bias",
    "rate",
    "axis",
    "momentum",
    "epsilon",
    "center",
    "scale",
    "data_format",
)

with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON alone
    import numpy as np

    if CLASSIC:
        import tensorflow as tf

        try:
            import tf_keras as keras  # tf-keras 2.x, beside TensorFlow >= 2.16
        except ImportError:
            from tensorflow import keras  # TensorFlow <= 2.15 ships its Keras 2 inside
    else:
        import keras


def activation(described: Any) -> Any:
    """What Dense(activation=) and Activation() are given for a described activation."""
    if described is None or isinstance(described, str):
        return described
    arguments = dict(described)
    name = arguments.pop("name")
    if not arguments:
        return name
    function = keras.activations.get(name)

    def with_arguments(x: Any) -> Any:
        return function(x, **arguments)

    with_arguments.__name__ = f"{name}({','.join(f'{k}={v}' for k, v in sorted(arguments.items()))})"
    return with_arguments


def make_layer(described: dict[str, Any]) -> Any:
    options = {key: value for key, value in described.items() if key != "type"}
    kind = described["type"]
    if kind == "dense":
        return keras.layers.Dense(
            options.pop("units"),
            activation=activation(options.pop("activation", None)),
            use_bias=options.pop("use_bias", True),
            **options,
        )
    if kind == "activation":
        return keras.layers.Activation(activation(options.pop("activation", "linear")), **options)
    makers: dict[str, Callable[..., Any]] = {
        "batchnorm": keras.layers.BatchNormalization,
        "layernorm": keras.layers.LayerNormalization,
        "dropout": keras.layers.Dropout,
        "flatten": keras.layers.Flatten,
    }
    if kind not in makers:
        raise ValueError(f"unknown layer type {kind!r}")
    return makers[kind](**options)


def build(description: dict[str, Any], dtype: str | None = None) -> Any:
    """A fresh Sequential (automatic names start again at dense, dense_1, ...)."""
    keras.backend.clear_session()
    batch, *features = description["input_shape"]
    layers = []
    for described in description["layers"]:
        if dtype is not None:
            described = {**described, "dtype": dtype}
        layers.append(make_layer(described))
    name = {"name": description["name"]} if "name" in description else {}
    return keras.Sequential([keras.Input(shape=tuple(features), batch_size=batch), *layers], **name)


@contextlib.contextmanager
def columns(count: int) -> Iterator[None]:
    """Keras (through rich) sizes the summary by the COLUMNS of the environment."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(count)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def summary(model: Any, line_length: int | None, width: int, **options: Any) -> dict[str, Any]:
    printed: list[str] = []
    with columns(width):
        model.summary(
            line_length=line_length, print_fn=lambda text, *_, **__: printed.append(text), **options
        )
    # Keras 3 hands the whole text to print_fn at once; tf-keras one line at a time.
    text = "\n".join(printed) + "\n" if CLASSIC else "".join(printed)
    return {
        "text": text,
        "line_length_arg": line_length,
        "columns_env": width,
        "effective_width": max((len(line) for line in text.splitlines()), default=0),
        "print_fn_calls": len(printed),
    }


def summary_call(model: Any, call: dict[str, Any]) -> dict[str, Any]:
    """One summary_calls entry: model.summary(line_length=..., show_trainable=..., layer_range=...)
    with COLUMNS=columns, as printed, or the exception it raised (type and message)."""
    options = {key: call[key] for key in ("show_trainable", "layer_range") if key in call}
    if "layer_range" in options:
        options["layer_range"] = tuple(options["layer_range"])
    try:
        printed = summary(model, call.get("line_length"), call["columns"], **options)
    except Exception as error:  # Keras's refusal is the fact recorded (ValueError, re.error)
        return {"call": call, "error": {"type": type(error).__name__, "message": str(error)}}
    return {"call": call, **printed}


def wide_summary(model: Any, description: dict[str, Any]) -> dict[str, Any]:
    """The summary as printed with the description's line length and COLUMNS (default 200)."""
    return summary(model, description.get("summary_line_length"), description.get("summary_columns", 200))


def dims(shape: Any) -> list[int | None]:
    return [None if d is None else int(d) for d in shape]


def count(variables: list[Any]) -> int:
    return sum(math.prod(dims(v.shape)) for v in variables)


def nbytes(variables: list[Any]) -> int:
    return sum(math.prod(dims(v.shape)) * np.dtype(str(v.dtype)).itemsize for v in variables)


def short_name(variable: Any) -> str:
    return variable.name.removesuffix(":0").split("/")[-1]


def environment() -> dict[str, Any]:
    def installed(package: str) -> str | None:
        try:
            return version(package)
        except PackageNotFoundError:
            return None

    env: dict[str, Any] = {
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "legacy_tf_keras": CLASSIC,
    }
    if env["backend"] == "torch":
        import torch

        env["torch_version"] = torch.__version__
    elif env["backend"] == "tensorflow":
        env["tensorflow_version"] = tf.__version__
    env["rich_version"] = installed("rich")
    return env


def layer_report(index: int, layer: Any) -> dict[str, Any]:
    config = layer.get_config()
    return {
        "index": index,
        "name": layer.name,
        "class": type(layer).__name__,
        "output_shape": dims(layer.output.shape),
        "params": int(layer.count_params()),
        "trainable_params": count(layer.trainable_weights),
        "non_trainable_params": count(layer.non_trainable_weights),
        "config": {key: config[key] for key in CONFIG_KEYS if key in config},
        "variables": [
            {
                "name": short_name(v),
                "npz_key": f"{layer.name}/{short_name(v)}",
                "path": v.path,
                "shape": dims(v.shape),
                "trainable": bool(v.trainable),
                "dtype": str(v.dtype),
            }
            for v in layer.weights
        ],
    }


def randomize(model: Any, seed: int) -> None:
    """Seeded, non-trivial values for every variable, the moving statistics too.

    Kernels ~ N(0, 1/fan_in); gamma ~ U(0.5, 1.5); moving variances ~ U(0.5, 2);
    biases, betas and moving means ~ N(0, 0.25); drawn from numpy's default_rng([seed, 2])
    layer by layer, variable by variable, in Keras's order.
    """
    rng = np.random.default_rng([seed, 2])
    for layer in model.layers:
        values = []
        for v in layer.weights:
            shape = tuple(dims(v.shape))
            kind = short_name(v)
            if kind == "kernel":
                value = rng.standard_normal(shape) / math.sqrt(max(shape[0], 1))
            elif kind == "gamma":
                value = rng.uniform(0.5, 1.5, shape)
            elif kind == "moving_variance":
                value = rng.uniform(0.5, 2.0, shape)
            else:
                value = 0.5 * rng.standard_normal(shape)
            values.append(value.astype(str(v.dtype)))
        if values:
            layer.set_weights(values)


def forward(description: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """Randomized weights, an input and Keras's model(x, training=False), saved together.

    x ~ N(0, 1) from numpy's default_rng(x_seed) (default [seed, 1]) in float32, times
    x_scale if given, then cast to the model's dtype. With "dtype" every layer is built
    with that dtype (Keras then keeps its variables and computes in it).
    """
    dtype = wanted.get("dtype")
    model = build(description, dtype)
    seed = int(wanted.get("seed", 0))
    keras.utils.set_random_seed(seed)
    randomize(model, seed)
    batch, *features = description["input_shape"]
    shape = (batch if batch is not None else int(wanted.get("batch", 4)), *features)
    x = np.random.default_rng(wanted.get("x_seed", [seed, 1])).standard_normal(shape).astype("float32")
    if "x_scale" in wanted:
        x = x * float(wanted["x_scale"])
    x = x.astype(dtype or "float32")
    y = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))
    arrays = {
        f"{layer.name}/{short_name(v)}": value
        for layer in model.layers
        for v, value in zip(layer.weights, layer.get_weights(), strict=True)
    }
    np.savez(wanted["npz"], **arrays, x=x, y=y)
    return {
        "npz": wanted["npz"],
        "x_shape": list(x.shape),
        "output_shape": list(y.shape),
        "output_dtype": str(y.dtype),
        "output_sha256": hashlib.sha256(np.ascontiguousarray(y).tobytes()).hexdigest(),
    }


def record(description: dict[str, Any]) -> dict[str, Any]:
    model = build(description)
    layers = [layer_report(i, layer) for i, layer in enumerate(model.layers)]
    report: dict[str, Any] = {
        "oracle_version": REPORT_FORMAT,
        "env": environment(),
        "model_name": model.name,
        "input_shape": description["input_shape"],
        "layers": layers,
        "totals": {
            "params": int(model.count_params()),
            "trainable_params": count(model.trainable_weights),
            "non_trainable_params": count(model.non_trainable_weights),
            "params_bytes": nbytes(model.weights),
            "trainable_bytes": nbytes(model.trainable_weights),
            "non_trainable_bytes": nbytes(model.non_trainable_weights),
        },
        "variables": [[v["path"], v["shape"]] for layer in layers for v in layer["variables"]],
        "summary": wide_summary(model, description),
        "summary_80col": summary(model, None, 80),
    }
    if "summary_calls" in description:
        report["summary_calls"] = [summary_call(model, call) for call in description["summary_calls"]]
    if "forward" in description:
        report["forward"] = forward(description, description["forward"])
    return report


def record_classic(description: dict[str, Any]) -> dict[str, Any]:
    """tf.keras 2: the summary as it prints it, and `print(p.name, p.shape)` of each trainable variable."""
    model = build(description)
    return {
        "env": {"tf_keras_version": keras.__version__, "tensorflow_version": tf.__version__},
        "summary": wide_summary(model, description),
        "variables_text": "".join(f"{p.name} {p.shape}\n" for p in model.trainable_variables),
    }


def main() -> None:
    descriptions = json.load(sys.stdin)
    with contextlib.redirect_stdout(sys.stderr):
        reports = [(record_classic if CLASSIC else record)(d) for d in descriptions]
    json.dump(reports, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
