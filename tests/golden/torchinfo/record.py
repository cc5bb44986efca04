"""Record what torchinfo prints for the PyTorch form of each model below (golden/torchinfo/*.txt).

    ~/.venvs/flops/bin/python tests/golden/torchinfo/record.py

Each case is a plain description (input features, batch, layers), written here beside the mlpcalc
spec it corresponds to; the torch model is built from the description alone, never by mlpcalc, in
the form `mlpcalc export --to pytorch` writes (mlpcalc/interop/pytorch_code.py; the contract):

    nn.Sequential(OrderedDict([(name, module), ...])), in the order of the Keras layers:
    Dense(units, act, bias)   nn.Linear(in, units, bias=bias) named as the layer, then the
                              activation's module named `<layer>_<activation>` unless linear
    Activation(act)           the activation's module, named as the layer (linear: nn.Identity)
    BatchNormalization        nn.BatchNorm1d(C, eps=0.001, momentum=0.01) on (batch, C), and on a
                              rank > 2 input BatchNormLastAxis (below): Keras normalizes the last axis
    LayerNormalization        nn.LayerNorm(C, eps=0.001)
    Dropout(rate)             nn.Dropout(rate)
    Flatten                   nn.Flatten()

torchinfo.summary(model, input_size=(batch, *features)) runs with its default columns and settings
(a case may add `row_settings`), and what it prints is kept byte for byte as `<id>.txt`; index.json
lists every case (id, spec, batch, file, row_settings) and the versions. A model too big for memory
(`meta: true`) is built and run on torch's meta device: shapes without storage, which torchinfo
measures alike (this script checks that on every other case before it writes anything). A file
whose content would not change is left untouched; a .txt no case names any more is removed.

Layers: ("dense", units[, activation[, bias]]) | ("act", activation) | ("bn",) | ("ln",)
| ("dropout", rate) | ("flatten",); an activation as a spec writes it: relu, elu(0.5), gelu(tanh)...
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import platform
import sys
from collections import OrderedDict
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
INDEX = HERE / "index.json"

Layer = tuple[Any, ...]

ALL_ACTIVATIONS = [
    "relu", "sigmoid", "tanh", "softmax", "gelu", "gelu(tanh)", "elu", "elu(0.5)", "selu", "softplus",
    "swish", "silu", "leaky_relu", "leaky_relu(0.1)",
]  # fmt: skip


def case(
    case_id: str, spec: str, features: list[int], layers: list[Layer], batch: int = 1, **extra: Any
) -> dict[str, Any]:
    return {"id": case_id, "spec": spec, "batch": batch, "input": features, "layers": layers, **extra}


CASES: list[dict[str, Any]] = [
    case("seed", "3->2->2->2 relu", [3], [("dense", 2, "relu"), ("dense", 2, "relu"), ("dense", 2)]),
    case("mnist", "784->512->10 relu", [784], [("dense", 512, "relu"), ("dense", 10)]),
    case("mnist_batch32", "784->512->10 relu", [784], [("dense", 512, "relu"), ("dense", 10)], batch=32),
    case("mnist_batch4096", "784->512->10:softmax", [784], [("dense", 512), ("dense", 10, "softmax")], 4096),
    case(
        "every_activation_fused",
        "16->" + "->".join(f"8:{act}" for act in ALL_ACTIVATIONS),
        [16],
        [("dense", 8, act) for act in ALL_ACTIVATIONS],
    ),
    case(
        "every_activation_layer",
        "16->8->" + "->".join(ALL_ACTIVATIONS) + "->linear->4",
        [16],
        [("dense", 8), *[("act", act) for act in ALL_ACTIVATIONS], ("act", "linear"), ("dense", 4)],
        batch=3,
    ),
    *[
        case(f"fused_{name}", f"8->6:{act}", [8], [("dense", 6, act)])
        for name, act in [
            ("gelu_tanh", "gelu(tanh)"),
            ("elu_0.5", "elu(0.5)"),
            ("leaky_relu_0.1", "leaky_relu(0.1)"),
        ]
    ],
    case(
        "activation_layers_with_arguments",
        "16->8->leaky_relu(0.1)->elu(0.5)->gelu(tanh)->4:leaky_relu",
        [16],
        [
            ("dense", 8),
            ("act", "leaky_relu(0.1)"),
            ("act", "elu(0.5)"),
            ("act", "gelu(tanh)"),
            ("dense", 4, "leaky_relu"),
        ],
    ),
    case("linear_activation_layer", "4->linear->2", [4], [("act", "linear"), ("dense", 2)]),
    case("activation_only", "4->relu", [4], [("act", "relu")]),
    case(
        "nobias_bn",
        "64->256:nobias->bn->relu->10",
        [64],
        [("dense", 256, None, False), ("bn",), ("act", "relu"), ("dense", 10)],
    ),
    case(
        "nobias_all",
        "10->20:relu:nobias->5:nobias",
        [10],
        [("dense", 20, "relu", False), ("dense", 5, None, False)],
        batch=7,
    ),
    case(
        "bn_rank2_batch4", "10->10:relu->bn->3", [10], [("dense", 10, "relu"), ("bn",), ("dense", 3)], batch=4
    ),
    case("bn_first", "32->bn->ln->8", [32], [("bn",), ("ln",), ("dense", 8)]),
    case(
        "bn_rank3",
        "20x16->32:gelu->bn->dropout(0.25)->8:softmax",
        [20, 16],
        [("dense", 32, "gelu"), ("bn",), ("dropout", 0.25), ("dense", 8, "softmax")],
    ),
    case(
        "bn_rank3_batch8",
        "20x16->32:gelu->bn->dropout(0.25)->8:softmax",
        [20, 16],
        [("dense", 32, "gelu"), ("bn",), ("dropout", 0.25), ("dense", 8, "softmax")],
        batch=8,
    ),
    case("bn_rank3_input", "5x4->bn->flatten->10", [5, 4], [("bn",), ("flatten",), ("dense", 10)], batch=2),
    case(
        "bn_rank4",
        "6x5x4->8:relu->bn->flatten->3",
        [6, 5, 4],
        [("dense", 8, "relu"), ("bn",), ("flatten",), ("dense", 3)],
        batch=2,
    ),
    case(
        "bn_after_flatten",
        "6x5x4->8:relu->flatten->bn->3",
        [6, 5, 4],
        [("dense", 8, "relu"), ("flatten",), ("bn",), ("dense", 3)],
        batch=2,
    ),
    case(
        "ln",
        "100->ln->50:sigmoid->10:tanh",
        [100],
        [("ln",), ("dense", 50, "sigmoid"), ("dense", 10, "tanh")],
    ),
    case("ln_rank3", "20x16->32->ln", [20, 16], [("dense", 32), ("ln",)], batch=5),
    case("ln_rank4", "3x4x16->ln->8:silu", [3, 4, 16], [("ln",), ("dense", 8, "silu")]),
    case(
        "dropout",
        "784->dropout(0.5)->10->dropout(0)",
        [784],
        [("dropout", 0.5), ("dense", 10), ("dropout", 0.0)],
    ),
    case(
        "flatten_mnist",
        "28x28->flatten->128:relu->10",
        [28, 28],
        [("flatten",), ("dense", 128, "relu"), ("dense", 10)],
    ),
    case("flatten_rank2", "10->flatten->5", [10], [("flatten",), ("dense", 5)]),
    case("flatten_last", "3x4x5->6->flatten", [3, 4, 5], [("dense", 6), ("flatten",)], batch=4),
    case("rank4_dense", "1x2x3x4->5", [1, 2, 3, 4], [("dense", 5)]),
    case(
        "rank3_mlp",
        "7x9->12:tanh->12:gelu->3",
        [7, 9],
        [("dense", 12, "tanh"), ("dense", 12, "gelu"), ("dense", 3)],
        batch=6,
    ),
    case(
        "repeat_gelu",
        "784->128*3 gelu",
        [784],
        [("dense", 128, "gelu"), ("dense", 128, "gelu"), ("dense", 128)],
    ),
    case("deep", "32->64*60 relu", [32], [*[("dense", 64, "relu")] * 59, ("dense", 64)]),  # 119 rows: 1-119
    # The input's storage: 4 x 1234 bytes and torch's 64 of overhead make 5,000 bytes, 0.01 MB.
    case("input_size_rounding", "1234->1", [1234], [("dense", 1)]),
    case("macs_exactly_one_million", "1000->1000:nobias", [1000], [("dense", 1000, None, False)]),
    case("macs_exactly_one_billion", "1000->1000:nobias", [1000], [("dense", 1000, None, False)], batch=1000),
    case("big_100k", "100000->100000", [100000], [("dense", 100000)], meta=True),
    case(
        "big_100k_batch64",
        "100000->100000->100000:relu->bn->ln->10",
        [100000],
        [("dense", 100000), ("dense", 100000, "relu"), ("bn",), ("ln",), ("dense", 10)],
        batch=64,
        meta=True,
    ),
    case(
        "big_gigabytes",
        "4096->4096*8:gelu->1000",
        [4096],
        [*[("dense", 4096, "gelu")] * 8, ("dense", 1000)],
        batch=256,
        meta=True,
    ),
    # Output shapes wider than the 25-character column: the row runs on, as torchinfo prints it.
    case(
        "wide_shapes",
        "100000x100000x10->bn->2",
        [100000, 100000, 10],
        [("bn",), ("dense", 2)],
        batch=10000,
        meta=True,
    ),
    # More parameters than a float holds exactly: torchinfo's totals go through float, its rows do not.
    case(
        "past_float_precision",
        "100000001->100000001:nobias",
        [100000001],
        [("dense", 100000001, None, False)],
        meta=True,
    ),
    case(
        "ascii_only",
        "64->256:nobias->bn->relu->10",
        [64],
        [("dense", 256, None, False), ("bn",), ("act", "relu"), ("dense", 10)],
        row_settings=["ascii_only", "depth"],
    ),
    case(
        "ascii_only_rank3",
        "20x16->32:gelu->bn->8",
        [20, 16],
        [("dense", 32, "gelu"), ("bn",), ("dense", 8)],
        batch=3,
        row_settings=["ascii_only", "depth"],
    ),
]


def split_activation(text: str) -> tuple[str, str | None]:
    """'elu(0.5)' -> ('elu', '0.5'); 'relu' -> ('relu', None)."""
    name, _, argument = text.partition("(")
    return name, argument.rstrip(")") or None


def activation_module(text: str) -> Any:
    """The torch module of an activation, with Keras's defaults (leaky_relu 0.2, elu 1.0, exact gelu)."""
    from torch import nn

    name, argument = split_activation(text)
    if name == "elu":
        return nn.ELU(alpha=float(argument or 1.0))
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope=float(argument or 0.2))
    if name == "gelu":
        return nn.GELU(approximate="tanh") if argument == "tanh" else nn.GELU()
    modules = {
        "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "selu": nn.SELU, "softplus": nn.Softplus,
        "swish": nn.SiLU, "silu": nn.SiLU, "linear": nn.Identity,
    }  # fmt: skip
    return nn.Softmax(dim=-1) if name == "softmax" else modules[name]()


def batch_norm_last_axis() -> Any:
    """The exporter's BatchNormLastAxis: nn.BatchNorm1d over the last axis of any rank."""
    from torch import nn

    class BatchNormLastAxis(nn.BatchNorm1d):
        def forward(self, x: Any) -> Any:
            shape = x.shape
            return super().forward(x.reshape(-1, shape[-1])).reshape(shape)

    return BatchNormLastAxis


KERAS_PREFIXES = {
    "dense": "dense", "act": "activation", "bn": "batch_normalization", "ln": "layer_normalization",
    "dropout": "dropout", "flatten": "flatten",
}  # fmt: skip


def build(description: dict[str, Any]) -> Any:
    """The nn.Sequential of a description, named as the exporter names it, in eval mode."""
    from torch import nn

    last_axis_norm = batch_norm_last_axis()
    modules: list[tuple[str, Any]] = []
    seen: dict[str, int] = {}
    features = list(description["input"])
    for kind, *args in description["layers"]:
        prefix = KERAS_PREFIXES[kind]
        name = prefix if prefix not in seen else f"{prefix}_{seen[prefix]}"
        seen[prefix] = seen.get(prefix, 0) + 1
        if kind == "dense":
            units, activation, bias = (*args, *(None, None, True)[len(args) :])
            modules.append((name, nn.Linear(features[-1], units, bias=bias)))
            if activation not in (None, "linear"):
                modules.append((f"{name}_{split_activation(activation)[0]}", activation_module(activation)))
            features[-1] = units
        elif kind == "act":
            modules.append((name, activation_module(args[0])))
        elif kind == "bn":
            norm = nn.BatchNorm1d if len(features) == 1 else last_axis_norm
            modules.append((name, norm(features[-1], eps=0.001, momentum=0.01)))
        elif kind == "ln":
            modules.append((name, nn.LayerNorm(features[-1], eps=0.001)))
        elif kind == "dropout":
            modules.append((name, nn.Dropout(args[0])))
        elif kind == "flatten":
            modules.append((name, nn.Flatten()))
            features = [math.prod(features)]
    return nn.Sequential(OrderedDict(modules)).eval()


def summary_text(description: dict[str, Any], meta: bool) -> str:
    """What torchinfo.summary(model, input_size=(batch, *features)) prints."""
    import torch
    import torchinfo

    options: dict[str, Any] = {"device": "meta"} if meta else {}  # else torchinfo's default: the CPU here
    if "row_settings" in description:
        options["row_settings"] = description["row_settings"]
    printed = io.StringIO()
    # On the meta device torchinfo's own input, torch.rand(*input_size), has no storage either.
    device = torch.device("meta") if meta else contextlib.nullcontext()
    with device, contextlib.redirect_stdout(printed):
        torch.manual_seed(0)
        model = build(description)
        torchinfo.summary(model, input_size=(description["batch"], *description["input"]), **options)
    return printed.getvalue()


def write(path: Path, text: str) -> bool:
    """Write `text` unless the file holds it already; whether it changed."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8", newline="")
    return True


def main() -> None:
    ids = [description["id"] for description in CASES]
    if len(set(ids)) != len(ids):
        raise SystemExit("two cases share an id")
    texts = {}
    for description in CASES:
        meta = description.get("meta", False)
        text = summary_text(description, meta)
        if not meta and summary_text(description, meta=True) != text:
            raise SystemExit(f"{description['id']}: torchinfo prints otherwise on the meta device")
        texts[description["id"]] = text
    index = {
        "recorded_with": {
            "python": platform.python_version(),
            "torch": version("torch"),
            "torchinfo": version("torchinfo"),
        },
        "call": "torchinfo.summary(model, input_size=(batch, *features)[, row_settings=...])",
        "cases": [
            {
                "id": description["id"],
                "spec": description["spec"],
                "batch": description["batch"],
                "file": f"{description['id']}.txt",
                **({"row_settings": description["row_settings"]} if "row_settings" in description else {}),
                "layers": [list(layer) for layer in description["layers"]],
            }
            for description in CASES
        ],
    }
    changed = [name for name, text in texts.items() if write(HERE / f"{name}.txt", text)]
    changed += ["index"] if write(INDEX, json.dumps(index, indent=1) + "\n") else []
    stale = [path for path in HERE.glob("*.txt") if path.stem not in texts]
    for path in stale:
        path.unlink()
    print(
        f"{len(CASES)} cases; changed: {', '.join(changed) or 'none'}; removed: {len(stale)}", file=sys.stderr
    )


if __name__ == "__main__":
    main()
