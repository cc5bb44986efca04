"""Record what torch counts of a real training step, for the models below (golden/training/facts.json).

    ~/.venvs/flops/bin/python tests/golden/training/record.py

Each model is the `nn.Sequential` that `mlpcalc export --to pytorch` writes for its spec
(mlpcalc/interop/pytorch_code.py, executed here as tests/test_export.py does; that export is
itself checked against mlpcalc's forward pass, which is checked against Keras), put in train
mode. One step, on a seeded input of `batch` rows that needs no gradient, as a data batch:

    forward     y = model(x)
    backward    y.sum().backward()
    optimizer   optimizer.step(), for each torch optimizer of OPTIMIZERS, each on its own

torch.utils.flop_counter.FlopCounterMode counts each phase. It counts matrix products alone
(mm, addmm, bmm, convolutions...; 2 per multiply-accumulate), so the facts are those: each phase's
total as FlopCounterMode gives it, by operator (`aten.addmm`, `aten.mm`), and by module (a Dense's
Linear; SplitCounter below says how). The backward's products are split as torch runs them: a
product with a parameter among its operands (grad_output @ weight) is a gradient with respect to
an input, the others (grad_output^T @ input) with respect to the weights; the parts are checked
to add up to FlopCounterMode's totals. The facts keep the versions too.
"""

from __future__ import annotations

import json
import platform
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
FACTS = HERE / "facts.json"
sys.path.insert(0, str(ROOT))  # mlpcalc from this checkout, for its PyTorch export

from mlpcalc import parse  # noqa: E402
from mlpcalc.interop.pytorch_code import pytorch_code  # noqa: E402

ACTIVATIONS = [
    "relu", "sigmoid", "tanh", "softmax", "linear", "gelu", "gelu(tanh)", "elu", "elu(0.5)", "selu",
    "softplus", "swish", "silu", "leaky_relu", "leaky_relu(0.1)",
]  # fmt: skip

# (spec, batch): every layer kind, every activation fused in a Dense and as a layer of its own,
# layers before the first trainable one, Dense without bias, ranks 2 to 4, repeats.
CASES: list[tuple[str, int]] = [
    ("3->2->2 relu", 4),
    ("784->512->10 relu", 32),
    ("16->8:nobias->4", 5),
    ("12->8:nobias->8:relu:nobias->2:nobias", 3),
    ("10->128*3:relu->4", 2),
    ("5->7", 1),
    *((f"10->6:{activation}->3", 4) for activation in ACTIVATIONS if activation != "linear"),
    *((f"10->6->{activation}->3", 4) for activation in ACTIVATIONS),
    ("10->relu->6->3", 4),  # an activation before the first trainable layer
    ("8->bn->6->3", 4),  # BatchNormalization first: the Dense after it needs its input's gradient
    ("8->bn(1e-5)->relu->4", 6),
    ("8->6:relu->bn->ln->3", 4),
    ("8->ln->4", 2),
    ("8->dropout(0.2)->6->dropout(0.5)->3", 4),
    ("8->6->dropout(0)->3", 4),
    ("20x16->32:gelu->8", 3),
    ("20x16->32:gelu->bn->8:softmax", 2),
    ("6x5x4->flatten->10", 3),
    ("6x5x4->7:tanh->flatten->10", 2),
    ("3x4x5->6->flatten->2", 2),
    ("6x5x4->ln->7:nobias", 2),
    ("4x3->bn->5", 4),
    ("28x28->flatten->128:relu->dropout(0.2)->10:softmax", 8),
]

# mlpcalc's optimizer -> torch's; torch has no Lion or FTRL.
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {"lr": 0.01}),
    "momentum": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {"weight_decay": 0.004}),
    "rmsprop": ("RMSprop", {}),
    "adagrad": ("Adagrad", {}),
    "nadam": ("NAdam", {}),
    "adamax": ("Adamax", {}),
    "adadelta": ("Adadelta", {}),
}


class SplitCounter(FlopCounterMode):
    """FlopCounterMode, which also gives each product it counts to one module and one phase:
    forward, or the backward's gradients with respect to inputs or to weights.

    A product goes to the module among FlopCounterMode's current ones that holds parameters: its
    tracker also takes a module whose output is its input (nn.Identity, a Dropout of rate 0) for
    active during the backward of the Linear before it, so its own per-module counts would give
    that module the Linear's products."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__(display=False)
        self.phase = "forward"
        self.storages = {p.untyped_storage().data_ptr() for p in model.parameters()}
        self.weighted = {
            f"Sequential.{name}": name
            for name, module in model.named_children()
            if any(True for _ in module.parameters(recurse=False))
        }
        self.split: dict[str, dict[str, int]] = defaultdict(lambda: {"forward": 0, "inputs": 0, "weights": 0})

    def _count_flops(self, func_packet: Any, out: Any, args: Any, kwargs: Any) -> Any:
        if func_packet in self.flop_registry:
            flops = self.flop_registry[func_packet](*args, **kwargs, out_val=out)
            owners = [self.weighted[p] for p in set(self.mod_tracker.parents) if p in self.weighted]
            assert len(owners) == 1, (func_packet, self.mod_tracker.parents)
            part = self.phase
            if part == "backward":
                tensors = [a for a in args if isinstance(a, torch.Tensor)]
                weighted = any(t.untyped_storage().data_ptr() in self.storages for t in tensors)
                part = "inputs" if weighted else "weights"
            self.split[owners[0]][part] += flops
        return super()._count_flops(func_packet, out, args, kwargs)


def build(spec: str) -> torch.nn.Module:
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(pytorch_code(parse(spec), None), "<exported>", "exec"), namespace)
    module: torch.nn.Module = namespace["model"]
    return module


def by_operator(counts: dict[str, dict[Any, int]]) -> dict[str, int]:
    return {str(op): flops for op, flops in sorted(counts.get("Global", {}).items(), key=str)}


def record(spec: str, batch: int) -> dict[str, Any]:
    torch.manual_seed(20261201)
    model = build(spec)
    model.train()
    x = torch.randn(batch, *parse(spec).spec.input_shape)
    parameters = list(model.parameters())
    with SplitCounter(model) as counter:
        y = model(x)
        forward = counter.get_flop_counts()
        counter.phase = "backward"
        y.sum().backward()
        both = counter.get_flop_counts()
    total_forward = sum(forward.get("Global", {}).values())
    total_backward = sum(both.get("Global", {}).values()) - total_forward
    split = counter.split
    # Every product once, in one module: the parts add up to FlopCounterMode's totals.
    assert sum(parts["forward"] for parts in split.values()) == total_forward, spec
    assert sum(parts["inputs"] + parts["weights"] for parts in split.values()) == total_backward, spec
    steps = {}
    for name, (class_name, options) in OPTIMIZERS.items():
        optimizer = getattr(torch.optim, class_name)(parameters, **options)
        with FlopCounterMode(display=False) as step_counter:
            optimizer.step()
        steps[name] = step_counter.get_total_flops()
    return {
        "spec": spec,
        "batch": batch,
        "modules": {
            name: {
                "forward": split[name]["forward"] if name in split else 0,
                "backward_inputs": split[name]["inputs"] if name in split else 0,
                "backward_weights": split[name]["weights"] if name in split else 0,
            }
            for name, _ in model.named_children()
        },
        "forward": total_forward,
        "backward": total_backward,
        "backward_inputs": sum(parts["inputs"] for parts in split.values()),
        "backward_weights": sum(parts["weights"] for parts in split.values()),
        "optimizer_step": steps,
        "operators": {
            "forward": by_operator(forward),
            "backward": {
                op: flops - by_operator(forward).get(op, 0)
                for op, flops in by_operator(both).items()
                if flops - by_operator(forward).get(op, 0)
            },
        },
    }


def call(class_name: str, options: dict[str, Any]) -> str:
    """torch.optim.SGD(lr=0.01)"""
    return f"torch.optim.{class_name}({', '.join(f'{key}={value!r}' for key, value in options.items())})"


def main() -> None:
    facts = {
        "recorded_with": {
            "torch": torch.__version__,
            "python": platform.python_version(),
            "counter": "torch.utils.flop_counter.FlopCounterMode",
        },
        "step": "model.train(); y = model(x); y.sum().backward(); then each optimizer's step() on its own",
        "optimizers": {name: call(cls, options) for name, (cls, options) in OPTIMIZERS.items()},
        "cases": [record(spec, batch) for spec, batch in CASES],
    }
    text = json.dumps(facts, indent=1) + "\n"
    if not FACTS.exists() or FACTS.read_text() != text:
        FACTS.write_text(text)
        print(f"wrote {FACTS.relative_to(ROOT)}: {len(CASES)} cases")
    else:
        print(f"{FACTS.relative_to(ROOT)} unchanged")


if __name__ == "__main__":
    main()
