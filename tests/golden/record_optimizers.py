"""Record Keras 3's summary after `compile(optimizer=...)`, for tests/golden/optimizers.json.

Keras prints an ` Optimizer params:` line, and counts the optimizer's variables in the
total, once the optimizer is built. keras_recorder.py does not compile models, so this
script drives Keras itself (in the Keras virtual environment of README.md, about 10 s):

    ~/.venvs/keras/bin/python tests/golden/record_optimizers.py

Each case is a model described for Keras by hand (as in cases.json), an optimizer as
Keras takes it, and a dtype; the summary text is recorded at width 88 and at 76.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras

OUT = Path(__file__).resolve().parent / "optimizers.json"
SEED = {"input_shape": [3], "layers": [["dense", 2, "relu"], ["dense", 2, "relu"], ["dense", 2, None]]}
BN = {
    "input_shape": [64],
    "layers": [["dense_nobias", 256, None], ["bn"], ["activation", "relu"], ["dense", 10, None]],
}
RANK3 = {
    "input_shape": [20, 16],
    "layers": [["dense", 32, "gelu"], ["bn"], ["dropout", 0.25], ["ln"], ["dense", 8, "softmax"]],
}
OPTIMIZERS = {
    "sgd": lambda: "sgd",
    "momentum": lambda: keras.optimizers.SGD(momentum=0.9),
    "adam": lambda: "adam",
    "adamw": lambda: "adamw",
    "rmsprop": lambda: "rmsprop",
    "adagrad": lambda: "adagrad",
    "nadam": lambda: "nadam",
    "adamax": lambda: "adamax",
    "lion": lambda: "lion",
    "adadelta": lambda: "adadelta",
    "ftrl": lambda: "ftrl",
}
CASES = [
    *({"id": f"seed_{name}", "spec": "3->2->2->2 relu", "model": SEED, "optimizer": name}
      for name in OPTIMIZERS),
    {"id": "bn_adam", "spec": "64->256:nobias->bn->relu->10", "model": BN, "optimizer": "adam"},
    {"id": "bn_momentum", "spec": "64->256:nobias->bn->relu->10", "model": BN, "optimizer": "momentum"},
    {"id": "rank3_rmsprop", "spec": "20x16->32:gelu->bn->dropout(0.25)->ln->8:softmax", "model": RANK3,
     "optimizer": "rmsprop"},
    {"id": "seed_adam_float16", "spec": "3->2->2->2 relu", "model": SEED, "optimizer": "adam",
     "dtype": "float16"},
    {"id": "bn_sgd_bfloat16", "spec": "64->256:nobias->bn->relu->10", "model": BN, "optimizer": "sgd",
     "dtype": "bfloat16"},
    {"id": "seed_adagrad_float64", "spec": "3->2->2->2 relu", "model": SEED, "optimizer": "adagrad",
     "dtype": "float64"},
    {"id": "bn_float16_no_optimizer", "spec": "64->256:nobias->bn->relu->10", "model": BN, "optimizer": None,
     "dtype": "float16"},
    {"id": "seed_nadam_float16", "spec": "3->2->2->2 relu", "model": SEED, "optimizer": "nadam",
     "dtype": "float16"},
    {"id": "seed_nadam_float64", "spec": "3->2->2->2 relu", "model": SEED, "optimizer": "nadam",
     "dtype": "float64"},
    {"id": "seed_adam_mixed", "spec": "3->2->2->2 relu", "model": SEED, "optimizer": "adam",
     "dtype": "mixed_float16"},
    {"id": "bn_nadam_mixed", "spec": "64->256:nobias->bn->relu->10", "model": BN, "optimizer": "nadam",
     "dtype": "mixed_float16"},
    {"id": "rank3_sgd_mixed", "spec": "20x16->32:gelu->bn->dropout(0.25)->ln->8:softmax", "model": RANK3,
     "optimizer": "sgd", "dtype": "mixed_float16"},
]  # fmt: skip


def layer(description: list, dtype: str | None) -> keras.layers.Layer:
    kind, *args = description
    if kind in ("dense", "dense_nobias"):
        return keras.layers.Dense(args[0], activation=args[1], use_bias=kind == "dense", dtype=dtype)
    if kind == "bn":
        return keras.layers.BatchNormalization(dtype=dtype)
    if kind == "ln":
        return keras.layers.LayerNormalization(dtype=dtype)
    if kind == "dropout":
        return keras.layers.Dropout(args[0], dtype=dtype)
    return keras.layers.Activation(args[0], dtype=dtype)


def summary(model: keras.Model, columns: int, line_length: int | None) -> str:
    os.environ["COLUMNS"] = str(columns)
    chunks: list[str] = []
    model.summary(line_length=line_length, print_fn=lambda text, *a, **k: chunks.append(text))
    return "".join(chunks)


def record(case: dict) -> dict:
    keras.backend.clear_session()
    dtype = case.get("dtype", "float32")
    # Mixed precision as users set it: a global policy, with which compile() wraps the
    # optimizer in a LossScaleOptimizer (and its scalars show in the summary).
    keras.mixed_precision.set_global_policy("mixed_float16" if dtype == "mixed_float16" else "float32")
    described = case["model"]
    layer_dtype = None if dtype == "mixed_float16" else dtype
    model = keras.Sequential(
        [keras.Input(tuple(described["input_shape"]))] + [layer(d, layer_dtype) for d in described["layers"]]
    )
    if case["optimizer"] is not None:
        model.compile(optimizer=OPTIMIZERS[case["optimizer"]]())
        model.optimizer.build(model.trainable_variables)
    return {
        **{k: v for k, v in case.items() if k != "model"},
        "keras_version": keras.__version__,
        "summary_88": summary(model, 200, None),
        "summary_76": summary(model, 80, None),
    }


def main() -> None:
    OUT.write_text(json.dumps([record(case) for case in CASES], indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
