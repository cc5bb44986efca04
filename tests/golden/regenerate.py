"""Regenerate the golden fixtures under tests/golden/keras/ from the real Keras 3.

Every fixture is what Keras itself reports (summary texts, shapes, counts,
variables) for a model described *independently* of mlpcalc: the hand-written
cases in cases.json and seeded random cases built here, each a spec string and,
beside it, the Keras layers that spec means. mlpcalc's output is never used.

Needs a virtual environment with Keras 3 (see ../shared/tools/README.md):

    python tests/golden/regenerate.py --python ~/.venvs/keras/bin/python

It takes about 4 s per case (Keras imports torch), two cases at a time. With --forward it
writes tests/golden/forward/*.npz instead: Keras's randomized weights, an input and
Keras's output `model(x, training=False)` for each case of forward_cases.json.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = HERE / "keras"
FORWARD_OUT = HERE / "forward"
ACTIVATIONS = [
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
NAMES = [
    "mlp",
    "my_model",
    "classifier_v2",
    "a_model_name_long_enough_to_wrap_the_title_line_in_eighty_columns_of_text",
]


def random_activation(rng: random.Random) -> tuple[str, object]:
    """An activation as a spec writes it, and as Keras is given it."""
    name = rng.choice(ACTIVATIONS)
    if name == "leaky_relu" and rng.random() < 0.5:
        slope = rng.choice([0.01, 0.1, 0.3, 0.05])
        return f"leaky_relu({slope})", {"name": "leaky_relu", "negative_slope": slope}
    if name == "elu" and rng.random() < 0.5:
        alpha = rng.choice([0.5, 2.0, 1.5])
        return f"elu({alpha})", {"name": "elu", "alpha": alpha}
    if name == "gelu" and rng.random() < 0.5:
        return "gelu(tanh)", {"name": "gelu", "approximate": True}
    return name, name


def random_case(rng: random.Random, index: int) -> dict[str, object]:
    """A random spec and the Keras model it means, written side by side."""
    dims = [rng.randint(1, 64) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    texts: list[str] = []
    layers: list[dict[str, object]] = []
    implicit: list[int] = []  # indexes of Dense layers written without an activation
    for _ in range(rng.randint(1, 7)):
        roll = rng.random()
        if roll < 0.5:
            units, repeat = rng.randint(1, 300), rng.choice([1, 1, 1, 2, 3, 4])
            text = f"{units}" if repeat == 1 else f"{units}*{repeat}"
            modifiers, activation = [], None
            if rng.random() < 0.6:
                act_text, activation = random_activation(rng)
                modifiers.append(act_text)
            use_bias = rng.random() > 0.2
            if not use_bias:
                modifiers.append("nobias")
            rng.shuffle(modifiers)
            texts.append(":".join([text, *modifiers]))
            for _ in range(repeat):
                if activation is None:
                    implicit.append(len(layers))
                layers.append(
                    {
                        "type": "dense",
                        "units": units,
                        "use_bias": use_bias,
                        **({"activation": activation} if activation is not None else {}),
                    }
                )
        elif roll < 0.62:
            texts.append(rng.choice(["bn", "batchnorm"]))
            layers.append({"type": "batchnorm"})
        elif roll < 0.74:
            texts.append(rng.choice(["ln", "layernorm"]))
            layers.append({"type": "layernorm"})
        elif roll < 0.86:
            rate = rng.choice([0, 0.1, 0.25, 0.5, 0.9])
            texts.append(f"dropout({rate})")
            layers.append({"type": "dropout", "rate": float(rate)})
        else:
            act_text, activation = random_activation(rng)
            texts.append(act_text)
            layers.append({"type": "activation", "activation": activation})
    arrow = rng.choice(["->", " -> ", "→"])
    spec = arrow.join(["x".join(map(str, dims)), *texts])
    dense_positions = [i for i, layer in enumerate(layers) if layer["type"] == "dense"]
    # A default needs a Dense besides the last to go to (mlpcalc refuses one that cannot).
    if rng.random() < 0.4 and len(dense_positions) >= 2:
        act_text, activation = random_activation(rng)
        spec += f" {act_text}"
        for i in implicit:
            if i != dense_positions[-1]:  # the model's last Dense stays linear
                layers[i]["activation"] = activation
    case: dict[str, object] = {
        "id": f"random_{index:02d}",
        "spec": spec,
        "keras": {"input_shape": [None, *dims], "layers": layers},
    }
    if rng.random() < 0.2:
        case["batch"] = rng.randint(1, 64)
        case["keras"]["input_shape"][0] = case["batch"]  # type: ignore[index]
    if rng.random() < 0.2:
        case["name"] = rng.choice(NAMES)
    if rng.random() < 0.4:
        case["line_length"] = rng.randint(34, 140)
    return case


def oracle_input(case: dict[str, object]) -> dict[str, object]:
    description = dict(case["keras"])  # type: ignore[arg-type]
    if "name" in case:
        description["name"] = case["name"]
    if "line_length" in case:
        description["summary_line_length"] = case["line_length"]
    description["summary_columns"] = 200
    return description


def run_oracle(python: str, oracle: Path, case: dict[str, object]) -> dict[str, object]:
    done = subprocess.run(
        [python, str(oracle)],
        input=json.dumps(oracle_input(case)),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{case['id']}: the oracle failed:\n{done.stdout}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def regenerate_forward(python: str, oracle: Path, case: dict[str, object]) -> None:
    """A forward fixture: Keras's randomized weights, an input, and Keras's output, in one .npz.

    A case with "x_scale" feeds a standard-normal input times that scale (to reach the
    tails where naive formulas overflow); it is made here, with numpy, not by mlpcalc.
    """
    import numpy as np  # only this mode needs numpy

    FORWARD_OUT.mkdir(exist_ok=True)
    target = FORWARD_OUT / f"{case['id']}.npz"
    description = {
        **oracle_input(case),
        "seed": 7,
        "batch": 5,
        "randomize_weights": True,
        "dump_npz": str(target),
    }
    if "x_scale" in case:
        shape = [5 if d is None else d for d in case["keras"]["input_shape"]]  # type: ignore[index]
        x = np.random.default_rng(11).standard_normal(shape).astype("float32") * float(case["x_scale"])  # type: ignore[arg-type]
        x_file = FORWARD_OUT / f"{case['id']}.x.npz"
        np.savez(x_file, x=x)
        description = {**description, "weights_npz": str(x_file)}
        del description["randomize_weights"]
    done = subprocess.run(
        [python, str(oracle)], input=json.dumps(description), capture_output=True, text=True, check=False
    )
    if "x_scale" in case:
        (FORWARD_OUT / f"{case['id']}.x.npz").unlink()
    if done.returncode != 0:
        raise SystemExit(f"{case['id']}: the oracle failed:\n{done.stdout}\n{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--python",
        default=str(Path.home() / ".venvs/keras/bin/python"),
        help="a Python with Keras 3 installed",
    )
    parser.add_argument("--oracle", default=str(REPO.parent / "shared/tools/keras_oracle.py"))
    parser.add_argument("--random", type=int, default=40, help="how many random cases")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--only", help="regenerate only the case with this id")
    parser.add_argument("--forward", action="store_true", help="the forward fixtures (forward_cases.json)")
    args = parser.parse_args()

    if args.forward:
        forward_cases = json.loads((HERE / "forward_cases.json").read_text())
        if args.only:
            forward_cases = [c for c in forward_cases if c["id"] == args.only]
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(
                pool.map(lambda case: regenerate_forward(args.python, Path(args.oracle), case), forward_cases)
            )
        return

    rng = random.Random(args.seed)
    cases = json.loads((HERE / "cases.json").read_text())
    cases += [random_case(rng, i) for i in range(args.random)]
    if args.only:
        cases = [c for c in cases if c["id"] == args.only]
    OUT.mkdir(exist_ok=True)

    def regenerate(case: dict[str, object]) -> str:
        report = run_oracle(args.python, Path(args.oracle), case)
        fixture = {**case, "report": report}
        (OUT / f"{case['id']}.json").write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")
        return str(case["id"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        for name in pool.map(regenerate, cases):
            print("wrote", name, file=sys.stderr)


if __name__ == "__main__":
    main()
