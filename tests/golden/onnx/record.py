"""Record ONNX files as torch.onnx.export writes them, for tests/test_onnx.py.

    ~/.venvs/flops/bin/python tests/golden/onnx/record.py

Needs torch (2.13.0 when recorded) and onnx (`~/.venvs/flops/bin/pip install onnx`), and no network:
the TorchScript exporter (`dynamo=False`) runs offline. For each case below it builds the
`nn.Sequential` its description gives, seeds its weights (and its BatchNorm's running statistics, so
that they are not ones and zeros), puts it in eval mode and exports it to `<id>.onnx`; it runs the
module on a seeded input and keeps input and output in `outputs.json`, and writes `index.json`: each
case's description, opset, batch and what mlpcalc should read, written here by hand from the
description (the spec Keras's equivalent has, or the node mlpcalc must refuse and why), never from
mlpcalc. A file whose content would not change is left as it is.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import onnx
import torch
from torch import nn

HERE = Path(__file__).parent
SEED = 20261130
ROWS = 5


class Residual(nn.Module):
    """x + Linear(x): a skip connection, which no MLP has."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.linear(x)


# id, the module (Python, evaluated here), the input's features, and what mlpcalc reads: the spec
# (with "batch" when the export fixes it) or the refusal: the node named and words of the reason.
CASES: list[dict[str, Any]] = [
    {
        "id": "linear_relu_linear",
        "module": "nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))",
        "features": [8],
        "expected": {"spec": "8->16:relu->4"},
    },
    {
        "id": "softmax_head_dropout",
        "module": "nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.25), nn.Linear(5, 3), "
        "nn.Softmax(dim=-1))",
        "features": [6],
        "note": "an eval-mode export leaves Dropout out: the graph has no node for it",
        "expected": {"spec": "6->5:relu->3:softmax"},
    },
    {
        "id": "batchnorm_layernorm",
        "module": "nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8, eps=1e-3), nn.ReLU(), "
        "nn.LayerNorm(8, eps=1e-3), nn.Linear(8, 2))",
        "features": [6],
        "expected": {"spec": "6->8->bn->relu->ln->2"},
    },
    {
        "id": "sigmoid_tanh_gelu",
        "module": "nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), "
        "nn.GELU(), nn.Linear(4, 4), nn.GELU(approximate='tanh'), nn.Linear(4, 3))",
        "features": [4],
        "note": "opset 17: both gelu forms are subgraphs (Div, Erf, Add, Mul, Mul; Mul, ..., Tanh, ...)",
        "expected": {"spec": "4->4:sigmoid->4:tanh->4:gelu->4:gelu(tanh)->3"},
    },
    {
        "id": "elu_selu_softplus_silu_leaky",
        "module": "nn.Sequential(nn.Linear(4, 4), nn.ELU(alpha=0.5), nn.Linear(4, 4), nn.SELU(), "
        "nn.Linear(4, 4), nn.Softplus(), nn.Linear(4, 4), nn.SiLU(), nn.Linear(4, 4), nn.LeakyReLU(0.1), "
        "nn.Linear(4, 2))",
        "features": [4],
        "expected": {"spec": "4->4:elu(0.5)->4:selu->4:softplus->4:silu->4:leaky_relu(0.1)->2"},
    },
    {
        "id": "standalone_activations",
        "module": "nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Sigmoid(), nn.Tanh())",
        "features": [5],
        "note": "the first activation after the Linear is the Dense's, the others are layers",
        "expected": {"spec": "5->3:relu->sigmoid->tanh"},
    },
    {
        "id": "no_bias",
        "module": "nn.Sequential(nn.Linear(5, 4, bias=False), nn.ReLU(), nn.Linear(4, 2, bias=False))",
        "features": [5],
        "expected": {"spec": "5->4:relu:nobias->2:nobias"},
    },
    {
        "id": "rank3_layernorm_flatten",
        "module": "nn.Sequential(nn.Linear(6, 5), nn.GELU(), nn.LayerNorm(5, eps=1e-3), nn.Flatten(), "
        "nn.Linear(15, 2))",
        "features": [3, 6],
        "note": "Linear on a rank-3 input is MatMul and Add",
        "expected": {"spec": "3x6->5:gelu->ln->flatten->2"},
    },
    {
        "id": "rank4_flatten_first",
        "module": "nn.Sequential(nn.Flatten(), nn.Linear(24, 6), nn.SiLU(), nn.Linear(6, 3), "
        "nn.Softmax(dim=-1))",
        "features": [2, 3, 4],
        "expected": {"spec": "2x3x4->flatten->6:silu->3:softmax"},
    },
    {
        "id": "rank4_gelu_tanh_selu",
        "module": "nn.Sequential(nn.Linear(3, 4), nn.GELU(approximate='tanh'), nn.Linear(4, 2), nn.SELU())",
        "features": [2, 2, 3],
        "expected": {"spec": "2x2x3->4:gelu(tanh)->2:selu"},
    },
    {
        "id": "opset20_native_gelu",
        "module": "nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 6), nn.GELU(approximate='tanh'), "
        "nn.Linear(6, 2))",
        "features": [4],
        "opset": 20,
        "note": "opset 20: ONNX's Gelu op, approximate='none' and 'tanh'",
        "expected": {"spec": "4->6:gelu->6:gelu(tanh)->2"},
    },
    {
        "id": "opset18_rank3_leaky_softmax",
        "module": "nn.Sequential(nn.Linear(4, 4), nn.LeakyReLU(0.2), nn.Softmax(dim=-1), nn.Linear(4, 3), "
        "nn.Softplus())",
        "features": [5, 4],
        "opset": 18,
        "expected": {"spec": "5x4->4:leaky_relu->softmax->3:softplus"},
    },
    {
        "id": "activation_first_default_slopes",
        "module": "nn.Sequential(nn.LeakyReLU(), nn.Linear(4, 3), nn.ELU())",
        "features": [4],
        "note": "torch's LeakyReLU slope is 0.01 by default (Keras's 0.2), ELU's alpha 1 (Keras's too)",
        "expected": {"spec": "4->leaky_relu(0.01)->3:elu"},
    },
    {
        "id": "fixed_batch",
        "module": "nn.Sequential(nn.Linear(4, 3), nn.Tanh())",
        "features": [4],
        "dynamic_batch": False,
        "note": "exported without dynamic axes: the graph's batch is the example input's, 3",
        "rows": 3,
        "expected": {"spec": "4->3:tanh", "batch": 3},
    },
    {
        "id": "batchnorm_default_eps",
        "module": "nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))",
        "features": [4],
        "note": "torch's eps is 1e-5, Keras's 1e-3: the spec says so",
        "expected": {"spec": "4->3->bn(1e-05)->2"},
    },
    {
        "id": "layernorm_default_eps",
        "module": "nn.Sequential(nn.LayerNorm(4), nn.Linear(4, 2))",
        "features": [4],
        "expected": {"spec": "4->ln(1e-05)->2"},
    },
    {
        "id": "layernorm_other_eps_3d",
        "module": "nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.LayerNorm(6, eps=1e-6), nn.Linear(6, 2))",
        "features": [3, 4],
        "expected": {"spec": "3x4->6:gelu->ln(1e-06)->2"},
    },
    {
        "id": "refused_batchnorm_channels_first",
        "module": "nn.Sequential(nn.BatchNorm1d(3, eps=1e-3), nn.Flatten(), nn.Linear(12, 2))",
        "features": [3, 4],
        "note": "BatchNorm1d on (N, C, L) normalizes C, axis 1; Keras's the last axis",
        "expected": {"error": {"node": "/0/BatchNormalization", "words": ["axis 1", "last axis"]}},
    },
    {
        "id": "refused_softmax_axis_1",
        "module": "nn.Sequential(nn.Linear(4, 5), nn.Softmax(dim=1))",
        "features": [3, 4],
        "expected": {"error": {"node": "/1/Softmax", "words": ["axis=1", "last axis"]}},
    },
    {
        "id": "refused_residual",
        "module": "nn.Sequential(nn.Linear(4, 4), Residual(4), nn.Linear(4, 2))",
        "features": [4],
        "note": "x + Linear(x): the graph branches and joins at an Add",
        "expected": {"error": {"node": "/1/Add", "words": ["branches"]}},
    },
    {
        "id": "refused_prelu",
        "module": "nn.Sequential(nn.Linear(4, 3), nn.PReLU(), nn.Linear(3, 2))",
        "features": [4],
        "note": "PReLU learns its slope: no activation of Keras's takes a weight",
        "expected": {"error": {"node": "/1/PRelu", "words": ["not a layer of an MLP"]}},
    },
    {
        "id": "refused_conv",
        "module": "nn.Sequential(nn.Conv1d(2, 3, kernel_size=2), nn.Flatten(), nn.Linear(9, 2))",
        "features": [2, 4],
        "expected": {"error": {"node": "/0/Conv", "words": ["not a layer of an MLP"]}},
    },
]


def build(case: dict[str, Any]) -> nn.Module:
    """The case's module, seeded, with non-trivial normalization statistics, in eval mode."""
    torch.manual_seed(SEED)
    module: nn.Module = eval(case["module"], {"nn": nn, "Residual": Residual})
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.BatchNorm1d):
                layer.running_mean.normal_(0, 0.5)
                layer.running_var.uniform_(0.5, 2.0)
            if isinstance(layer, nn.BatchNorm1d | nn.LayerNorm) and layer.weight is not None:
                layer.weight.uniform_(0.5, 1.5)
                layer.bias.normal_(0, 0.25)
    return module.eval()


def export(module: nn.Module, case: dict[str, Any], x: torch.Tensor) -> bytes:
    file = io.BytesIO()
    dynamic = {"input": {0: "batch"}, "output": {0: "batch"}} if case.get("dynamic_batch", True) else None
    torch.onnx.export(
        module,
        (x,),
        file,
        dynamo=False,  # the TorchScript exporter: offline, no onnxscript
        opset_version=case.get("opset", 17),
        input_names=["input"],
        output_names=["output"],
        dynamic_axes=dynamic,
    )
    return file.getvalue()


def write(path: Path, data: bytes) -> None:
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
        print(f"wrote {path.relative_to(HERE.parent.parent.parent)}")


def main() -> None:
    outputs: dict[str, dict[str, Any]] = {}
    index = []
    for case in CASES:
        module = build(case)
        generator = torch.Generator().manual_seed(SEED + 1)
        x = torch.randn(case.get("rows", ROWS), *case["features"], generator=generator)
        with torch.no_grad():
            y = module(x)
        data = export(module, case, x)
        onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
        write(HERE / f"{case['id']}.onnx", data)
        if "spec" in case["expected"]:
            outputs[case["id"]] = {"x": x.tolist(), "y": y.tolist()}
        index.append({**case, "file": f"{case['id']}.onnx", "opset": case.get("opset", 17)})
    env = {
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "exporter": "torch.onnx.export(dynamo=False)",
    }
    write(HERE / "index.json", (json.dumps({"env": env, "cases": index}, indent=1) + "\n").encode())
    write(HERE / "outputs.json", (json.dumps(outputs) + "\n").encode())


if __name__ == "__main__":
    main()
