"""Keras's own model files, read without Keras: `model.to_json()` text and `.keras` archives.

A `.keras` archive is a zip holding `config.json` (the same text as `to_json()`),
`metadata.json` and `model.weights.h5`; only the config is read here (the weights need
h5py: keras_weights.py). The config format drifts between Keras 3.x versions (dtype
policies as text or objects, `batch_shape` or `batch_input_shape`, keys added such as
`optional` or `quantization_config`): unknown keys are ignored unless they change what
mlpcalc computes, and then the layer and the option are named, never a wrong table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlpcalc.core.activations import KINDS, Activation
from mlpcalc.core.errors import FileError, MlpcalcError, ModelError, SpecError
from mlpcalc.core.layers import (
    EPSILON,
    MOMENTUM,
    ActivationLayer,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LayerNormalization,
)
from mlpcalc.core.model import Model
from mlpcalc.core.spec import MAX_LAYERS, Spec, parse_activation, parse_spec
from mlpcalc.core.text import binary_size, shown
from mlpcalc.interop import KERAS_SUFFIXES

# The exported Keras code registers its activation functions in this package, which Keras
# saves as "mlpcalc>leaky_relu(0.1)".
PACKAGE = "mlpcalc"
REGISTERED = f"{PACKAGE}>"
CONFIG_BYTES = 64 * 2**20  # a 10,000-layer config is ~30 MB of JSON; past this, no MLP's
CONFIG_NAME = "config.json"  # in a .keras archive
FLOAT32 = "float32"

Config = Mapping[str, Any]


@dataclass(frozen=True)
class KerasFile:
    """What a Keras model file says: the model, and notes on what it holds that mlpcalc reads
    but does not keep (a BatchNormalization's momentum: it changes training alone)."""

    model: Model
    notes: tuple[str, ...] = ()


def is_keras_file(text: str) -> bool:
    """Whether a SPEC argument names a Keras model file (by its extension) rather than a spec."""
    return text.lower().endswith(KERAS_SUFFIXES)


def read_keras_file(path: Path) -> KerasFile:
    """The model in a `.keras` archive or a `.json` config; a FileError saying what is wrong."""
    import json  # here, as zipfile below: every command imports this module, few read a file

    where = shown(path)
    if not path.exists():
        raise FileError(f"{where}: no such file")
    if not path.is_file():
        raise FileError(f"{where}: not a regular file: a Keras model file is one")
    text = _archive_config(path) if path.suffix.lower() == ".keras" else _json_text(path)
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
        raise FileError(f"{where}: not a Keras model config: not JSON ({reason})") from None
    return model_from_config(document, where)


def _json_text(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(CONFIG_BYTES + 1)
    except OSError as error:
        raise FileError(f"{shown(path)}: cannot be read: {error.strerror or error}") from None
    return _decoded(data, shown(path))


def _archive_config(path: Path) -> str:
    """config.json from a .keras archive, its size checked in the zip directory before it is
    inflated (a zip bomb stops there)."""
    import zipfile

    where = shown(path)
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                member = archive.getinfo(CONFIG_NAME)
            except KeyError:
                raise FileError(
                    f"{where}: a zip archive without {CONFIG_NAME}: not a .keras model file"
                ) from None
            if member.file_size > CONFIG_BYTES:
                raise FileError(
                    f"{where}: its {CONFIG_NAME} is {binary_size(member.file_size)}, past the "
                    f"{binary_size(CONFIG_BYTES)} any MLP's config takes"
                )
            with archive.open(member) as file:
                data = file.read(CONFIG_BYTES + 1)
    except zipfile.BadZipFile:
        raise FileError(f"{where}: not a .keras model file (Keras writes a zip archive)") from None
    except OSError as error:
        raise FileError(f"{where}: cannot be read: {error.strerror or error}") from None
    except (EOFError, ValueError, NotImplementedError) as error:  # zlib, a damaged member
        raise FileError(f"{where}: a damaged .keras archive ({error})") from None
    return _decoded(data, where)


def _decoded(data: bytes, where: str) -> str:
    if len(data) > CONFIG_BYTES:
        raise FileError(f"{where}: longer than {binary_size(CONFIG_BYTES)}: not a Keras model config")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(f"{where}: not a Keras model config: not UTF-8 text") from None


# ---------------------------------------------------------------------------- the config


def model_from_config(document: object, where: str) -> KerasFile:
    """The Model a Keras `Sequential` config describes (the dict `json.loads(model.to_json())`)."""
    root = _mapping(document, f"{where}: the file")
    class_name = root.get("class_name")
    if class_name != "Sequential":
        raise FileError(
            f"{where}: mlpcalc reads Keras Sequential models; this file holds {_described(class_name)}"
        )
    config = _mapping(root.get("config"), f"{where}: the model's config")
    name = config.get("name", "sequential")
    if not isinstance(name, str):
        raise FileError(f"{where}: the model's name is not text: {shown(repr(name))}")
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise FileError(f"{where}: the model's config has no list of layers")
    if len(layers) > MAX_LAYERS + 1:  # the InputLayer aside
        raise FileError(f"{where}: {len(layers):,} layers, past the {MAX_LAYERS:,} a spec may hold")
    reader = _Reader(where)
    reader.policy(config.get("dtype"), f"the model {shown(name)}")
    if config.get("trainable", True) is not True:
        raise FileError(f"{where}: the model is frozen (trainable=False): {_FROZEN}")
    input_shape = _input_shape(config, layers, where)
    names: list[str] = []
    built: list[Layer] = []
    for entry in layers:
        layer = _mapping(entry, f"{where}: a layer")
        if layer.get("class_name") == "InputLayer":
            continue
        layer_name, made = reader.layer(layer)
        names.append(layer_name)
        built.append(made)
    if not built:
        raise FileError(f"{where}: the model has no layers")
    spec = _checked_spec(input_shape, tuple(built), where)
    batch = input_shape[0]
    try:
        model = Model(spec, name=name, batch=batch, layer_names=tuple(names))
    except MlpcalcError as error:
        raise FileError(f"{where}: {error}") from None
    return KerasFile(model, tuple(reader.notes))


_UNSUPPORTED = "is not supported (a spec cannot set it):"
_FROZEN = "a spec cannot make weights non-trainable, and the counts would be wrong"


def _described(class_name: object) -> str:
    if class_name in ("Functional", "Model"):
        return "a functional model (keras.Model(inputs, outputs)); rebuild it as keras.Sequential"
    if isinstance(class_name, str):
        return f"a {shown(class_name)}"
    return "no model class (class_name)"


def _mapping(value: object, what: str) -> Config:
    if not isinstance(value, dict):
        raise FileError(f"{what} is not a JSON object, as a Keras config is")
    return value


def _input_shape(config: Config, layers: list[Any], where: str) -> tuple[int | None, ...]:
    """The batch shape: from the InputLayer (Keras 3's `batch_shape`, older `batch_input_shape`),
    else from the first layer's own `batch_shape` or `build_config` (a model built by build())."""
    first = layers[0] if layers and isinstance(layers[0], dict) else {}
    candidates = [
        first.get("config", {}).get(key) if isinstance(first.get("config"), dict) else None
        for key in ("batch_shape", "batch_input_shape")
    ]
    build = first.get("build_config")
    if isinstance(build, dict):
        candidates.append(build.get("input_shape"))
    build = config.get("build_input_shape")
    candidates.append(build)
    for shape in candidates:
        if shape is not None:
            return _shape(shape, where)
    raise FileError(
        f"{where}: the model has no input shape (an unbuilt Sequential): build it with "
        "keras.Input(shape=...) as its first layer, or model.build(), before saving"
    )


def _shape(value: object, where: str) -> tuple[int | None, ...]:
    if (
        not isinstance(value, list)
        or len(value) < 2
        or not all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value)
    ):
        raise FileError(f"{where}: the input shape {shown(repr(value))} is not (batch, features...)")
    batch, *features = value
    if any(d is None for d in features):
        raise FileError(
            f"{where}: the input shape {tuple(value)} has a free feature axis: mlpcalc needs every "
            "axis but the batch known"
        )
    if batch is not None and batch < 1:
        raise FileError(f"{where}: the batch size {batch} is not a positive integer")
    return (batch, *features)


def _checked_spec(input_shape: tuple[int | None, ...], layers: tuple[Layer, ...], where: str) -> Spec:
    """The spec, held to every rule a spec typed by hand is (sizes, ranks, rates): the file's
    layers written as spec text and parsed back."""
    spec = Spec(tuple(d for d in input_shape[1:] if d is not None), layers)
    try:
        parsed = parse_spec(str(spec))
    except (MlpcalcError, ValueError) as error:
        raise FileError(f"{where}: {error}") from None
    if parsed != spec:  # a layer the spec language writes another way: a bug, not the user's
        raise AssertionError(f"{spec} does not parse back to itself")
    return parsed


class _Reader:
    """One layer config at a time -> (name, mlpcalc layer); what it reads but drops, in notes."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.notes: list[str] = []

    def fail(self, name: str, message: str) -> FileError:
        return FileError(f"{self.where}: layer {shown(name)}: {message}")

    def layer(self, entry: Config) -> tuple[str, Layer]:
        class_name = entry.get("class_name")
        config = _mapping(entry.get("config"), f"{self.where}: a layer's config")
        name = config.get("name")
        if not isinstance(name, str):
            raise FileError(f"{self.where}: a {_described(class_name)} layer without a name")
        read = _LAYERS.get(class_name) if isinstance(class_name, str) else None
        if read is None:
            known = ", ".join(_LAYERS)
            raise self.fail(
                name, f"{_described(class_name)} layer, which an MLP spec cannot hold (it holds {known})"
            )
        self.policy(config.get("dtype"), f"layer {shown(name)}")
        if config.get("trainable", True) is not True:
            raise self.fail(name, f"frozen (trainable=False): {_FROZEN}")
        return name, read(self, name, config)

    def policy(self, dtype: object, what: str) -> None:
        """A float32 dtype policy, however it is written ("float32", {"config": {"name": ...}})."""
        if dtype is None:
            return
        policy = dtype
        if isinstance(dtype, dict):
            inner = dtype.get("config")
            policy = inner.get("name") if isinstance(inner, dict) else None
        if policy != FLOAT32:
            raise FileError(
                f"{self.where}: {what} has the dtype policy {shown(repr(policy))}: mlpcalc reads "
                "float32 models (see --dtype and --mixed-precision for the sizes of others)"
            )

    def option(self, name: str, config: Config, key: str, expected: object) -> None:
        """An option that changes counts or outputs and a spec cannot set: refused unless Keras's default."""
        value = config.get(key, expected)
        if value != expected and not (value is None and expected is None):
            raise self.fail(name, f"{key}={value!r} {_UNSUPPORTED} mlpcalc builds it with {key}={expected!r}")

    def activation(self, name: str, value: object) -> Activation:
        """A serialized activation: its name, as Keras 3 writes a built-in one, or a function
        registered as `mlpcalc>` and its spec text, as the code of `export --to keras` does."""
        text = value
        if isinstance(value, dict):  # {"module": "keras.activations", "class_name": "function", ...}
            config = value.get("config")
            text = config if isinstance(config, str) else value.get("registered_name")
        if text is None:
            return Activation("linear")
        if isinstance(text, str) and text.startswith(REGISTERED):
            try:
                return parse_activation(text.removeprefix(REGISTERED))
            except SpecError as error:
                raise self.fail(name, f"the activation {shown(repr(text))}: {error.message}") from None
        if not isinstance(text, str) or text not in KINDS:
            raise self.fail(
                name,
                f"the activation {shown(repr(text))}, which a spec cannot name (it names {', '.join(KINDS)})",
            )
        return Activation(text)

    def epsilon(self, name: str, config: Config) -> float:
        value = config.get("epsilon", EPSILON)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < math.inf:
            raise self.fail(name, f"epsilon={value!r}: expected a positive number")
        return float(value)

    def dense(self, name: str, config: Config) -> Layer:
        units = config.get("units")
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise self.fail(name, f"units={units!r}: expected a positive integer")
        use_bias = config.get("use_bias", True)
        if not isinstance(use_bias, bool):
            raise self.fail(name, f"use_bias={use_bias!r}: expected true or false")
        self.option(name, config, "lora_rank", None)
        self.option(name, config, "quantization_config", None)
        return Dense(units, self.activation(name, config.get("activation")), use_bias)

    def normalization(self, name: str, config: Config) -> float:
        """What both normalizations read alike: the last axis, centre and scale, and the epsilon."""
        axis = config.get("axis", -1)
        if axis not in (-1, [-1]):
            raise self.fail(name, f"axis={axis!r} {_UNSUPPORTED} mlpcalc normalizes the last axis (-1)")
        for key in ("center", "scale"):
            self.option(name, config, key, True)
        return self.epsilon(name, config)

    def batch_normalization(self, name: str, config: Config) -> Layer:
        self.option(name, config, "renorm", False)
        epsilon = self.normalization(name, config)
        momentum = config.get("momentum", MOMENTUM)
        if momentum != MOMENTUM:
            self.notes.append(
                f"layer {shown(name)}: momentum={momentum!r} is read but not kept: it changes training "
                "alone (the moving statistics' update), none of the figures here"
            )
        return BatchNormalization(epsilon)

    def layer_normalization(self, name: str, config: Config) -> Layer:
        self.option(name, config, "rms_scaling", False)
        return LayerNormalization(self.normalization(name, config))

    def dropout(self, name: str, config: Config) -> Layer:
        rate = config.get("rate")
        if not isinstance(rate, int | float) or isinstance(rate, bool):
            raise self.fail(name, f"rate={rate!r}: expected a number in [0, 1)")
        return Dropout(float(rate))

    def activation_layer(self, name: str, config: Config) -> Layer:
        return ActivationLayer(self.activation(name, config.get("activation")))

    def flatten(self, name: str, config: Config) -> Layer:
        self.option(name, config, "data_format", "channels_last")
        return Flatten()


_LAYERS: dict[str, Callable[[_Reader, str, Config], Layer]] = {
    Dense.keras_class: _Reader.dense,
    BatchNormalization.keras_class: _Reader.batch_normalization,
    LayerNormalization.keras_class: _Reader.layer_normalization,
    Dropout.keras_class: _Reader.dropout,
    ActivationLayer.keras_class: _Reader.activation_layer,
    Flatten.keras_class: _Reader.flatten,
}


# ---------------------------------------------------------------------------- writing one


def keras_config(model: Model) -> dict[str, Any]:
    """The config of `model` as Keras writes it (`json.loads(model.to_json())`), with what
    `keras.saving.load_model` needs and Keras's defaults left to Keras."""
    inputs = {"batch_shape": list(model.input_shape), "dtype": FLOAT32, "name": "input_layer"}
    layers: list[dict[str, Any]] = [_entry("InputLayer", inputs)]
    for layer in model.layers:
        config: dict[str, Any] = {"name": layer.name, "trainable": True, "dtype": FLOAT32}
        made = layer.layer
        if isinstance(made, Dense):
            config |= {"units": made.units, "activation": _saved(made.activation, layer.name)}
            config["use_bias"] = made.use_bias
        elif isinstance(made, BatchNormalization):
            config |= {"axis": -1, "epsilon": made.epsilon, "momentum": MOMENTUM}
            config |= {"center": True, "scale": True}
        elif isinstance(made, LayerNormalization):
            config |= {"axis": -1, "epsilon": made.epsilon, "center": True, "scale": True}
        elif isinstance(made, Dropout):
            config["rate"] = made.rate
        elif isinstance(made, ActivationLayer):
            config["activation"] = _saved(made.activation, layer.name)
        elif isinstance(made, Flatten):
            config["data_format"] = "channels_last"
        layers.append(_entry(made.keras_class, config))
    model_config = {"name": model.name, "trainable": True, "dtype": FLOAT32, "layers": layers}
    return {"module": "keras", "class_name": "Sequential", "config": model_config, "registered_name": None}


def _entry(class_name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None}


def _saved(activation: Activation, layer: str) -> str:
    """A built-in activation's name, as Keras saves it; one with another argument has none."""
    if activation.argument != activation.kind.default:
        raise ModelError(
            f"layer {shown(layer)}: {activation} has no name Keras can save (its built-in "
            f"{activation.name} takes {activation.kind.parameter}={activation.kind.default!r}); "
            "export it as code instead: --to keras"
        )
    return activation.name
