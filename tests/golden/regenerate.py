"""Regenerate the golden fixtures made by the real Keras 3, with keras_recorder.py beside this file.

Every fixture is what Keras itself reports for a model described *independently* of mlpcalc:
the hand-written cases of cases.json, forward_cases.json and float16_cases.json, and seeded
random cases built here, each a spec string and, beside it, the Keras layers that spec means.
mlpcalc's output is never used. Needs the Keras virtual environment of README.md:

    python3 tests/golden/regenerate.py              # keras/*.json: summaries, shapes, counts, variables
    python3 tests/golden/regenerate.py --forward    # forward/*.npz: weights, x, model(x) in float32
    python3 tests/golden/regenerate.py --float16    # float16/*.npz: the same, every layer float16
    python3 tests/golden/regenerate.py --options    # options/*.json: show_trainable, layer_range
    python3 tests/golden/regenerate.py --reference  # reference/*.txt (and TensorFlow 2.6: README.md)

Each run imports Keras twice (two recorders, one per core) and takes well under a minute.
A file whose content would not change is left untouched.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "keras"
OPTIONS_OUT = HERE / "options"
FORWARD_OUT = HERE / "forward"
FLOAT16_OUT = HERE / "float16"
RECORDER = HERE / "keras_recorder.py"
REFERENCE_OUT = HERE / "reference"
SEED_MODEL = {
    "input_shape": [None, 3],
    "layers": [
        {"type": "dense", "units": 2, "activation": "relu"},
        {"type": "dense", "units": 2, "activation": "relu"},
        {"type": "dense", "units": 2},
    ],
}
MNIST_MODEL = {
    "input_shape": [None, 784],
    "layers": [
        {"type": "dense", "units": 512, "activation": "relu"},
        {"type": "dense", "units": 10, "activation": "softmax"},
    ],
}
# reference/<stem>.keras3.width88.txt and .width76.txt from Keras 3; with "classic", the
# tf.keras 2 texts <stem>.classic.txt and <stem>.classic_variables.txt from tf-keras.
REFERENCES: list[dict[str, Any]] = [
    {"stem": "seed_3-2-2-2_relu", "keras": SEED_MODEL, "classic": True},
    {"stem": "mnist_784-512-10_relu", "keras": MNIST_MODEL, "classic": False},
]
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


def description(case: dict[str, object]) -> dict[str, object]:
    """What keras_recorder.py is given for a case: its Keras layers, name and summary width."""
    described = dict(case["keras"])  # type: ignore[arg-type]
    if "name" in case:
        described["name"] = case["name"]
    if "line_length" in case:
        described["summary_line_length"] = case["line_length"]
    described["summary_columns"] = 200
    if "calls" in case:  # options_cases.json: summaries with Keras's other arguments
        described["summary_calls"] = case["calls"]
    return described


def record(python: str, descriptions: list[dict[str, Any]], *flags: str) -> list[dict[str, Any]]:
    """Run keras_recorder.py once on many descriptions (Keras is imported once: ~4 s)."""
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    done = subprocess.run(
        [python, str(RECORDER), *flags],
        input=json.dumps(descriptions),
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"keras_recorder.py failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def record_in_parallel(python: str, descriptions: list[dict[str, object]]) -> list[dict[str, object]]:
    """Two recorders at a time, each on half of the descriptions (the machine has two cores)."""
    halves = [descriptions[: len(descriptions) // 2], descriptions[len(descriptions) // 2 :]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(lambda half: record(python, half) if half else [], halves)
    return [*first, *second]


def write_text(path: Path, text: str) -> bool:
    """Write `text` unless the file holds it already; tell whether it changed."""
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


def same_arrays(old: Path, new: Path) -> bool:
    import numpy as np  # only the .npz fixtures need numpy

    if not old.exists():
        return False
    with np.load(old) as a, np.load(new) as b:
        return list(a.files) == list(b.files) and all(
            a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k], equal_nan=True) for k in a.files
        )


def regenerate_npz(
    python: str, cases: list[dict[str, object]], folder: Path, forward: dict[str, object]
) -> None:
    """Forward fixtures: Keras's randomized weights, an input and Keras's output in one .npz each.

    An .npz whose arrays are unchanged is left as it was (numpy stamps the time into the zip).
    A case with "x_scale" feeds a standard-normal input (numpy's default_rng(11)) times that
    scale, to reach the tails where naive formulas overflow.
    """
    folder.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        descriptions = []
        for case in cases:
            wanted = {**forward, "npz": str(Path(scratch) / f"{case['id']}.npz")}
            if "x_scale" in case:
                wanted.update(x_seed=11, x_scale=case["x_scale"])
            descriptions.append({**description(case), "forward": wanted})
        record_in_parallel(python, descriptions)
        for case in cases:
            new, old = Path(scratch) / f"{case['id']}.npz", folder / f"{case['id']}.npz"
            if same_arrays(old, new):
                print("unchanged", old.relative_to(HERE), file=sys.stderr)
            else:
                shutil.copyfile(new, old)
                print("wrote", old.relative_to(HERE), file=sys.stderr)


def regenerate_summaries(python: str, cases: list[dict[str, object]], folder: Path = OUT) -> None:
    folder.mkdir(exist_ok=True)
    reports = record_in_parallel(python, [description(case) for case in cases])
    for case, report in zip(cases, reports, strict=True):
        fixture = {**case, "report": report}
        path = folder / f"{case['id']}.json"
        changed = write_text(path, json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")
        print("wrote" if changed else "unchanged", path.relative_to(HERE), file=sys.stderr)


def without_trailing_spaces(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def regenerate_references(python: str, classic_python: str) -> None:
    """The reference texts: Keras 3's summaries at width 88 and 76, and tf.keras 2's classic texts.

    The classic summary is the format of TF <= 2.6 (no blank rows, no sizes): it is recorded with
    TensorFlow 2.6 (README.md: a Python 3.9 environment); tf-keras 2.21 prints another format.
    Trailing spaces are left out (TF pads every line to the table's width). A classic summary that
    differs from the committed one otherwise is not written: both texts are shown instead.
    """
    reports = record(python, [dict(r["keras"]) for r in REFERENCES])
    for reference, report in zip(REFERENCES, reports, strict=True):
        for suffix, block in (("keras3.width88", "summary"), ("keras3.width76", "summary_80col")):
            path = REFERENCE_OUT / f"{reference['stem']}.{suffix}.txt"
            changed = write_text(path, report[block]["text"])
            print("wrote" if changed else "unchanged", path.relative_to(HERE), file=sys.stderr)
    classic = [r for r in REFERENCES if r["classic"]]
    if not Path(classic_python).exists():
        print(f"kept the classic texts: no TensorFlow 2 Python at {classic_python}", file=sys.stderr)
        return
    reports = record(classic_python, [dict(r["keras"]) for r in classic], "--classic")
    for reference, report in zip(classic, reports, strict=True):
        path = REFERENCE_OUT / f"{reference['stem']}.classic_variables.txt"
        changed = write_text(path, report["variables_text"])
        print("wrote" if changed else "unchanged", path.relative_to(HERE), file=sys.stderr)
        path = REFERENCE_OUT / f"{reference['stem']}.classic.txt"
        printed = without_trailing_spaces(report["summary"]["text"])
        if printed == without_trailing_spaces(path.read_text()):
            changed = write_text(path, printed)
            print("wrote" if changed else "unchanged", path.relative_to(HERE), file=sys.stderr)
        else:
            versions = ", ".join(f"{k} {v}" for k, v in report["env"].items())
            print(f"kept {path.relative_to(HERE)}: {versions} prints\n{printed}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--python",
        default=str(Path.home() / ".venvs/keras/bin/python"),
        help="a Python with Keras 3 and torch installed (default: ~/.venvs/keras/bin/python)",
    )
    parser.add_argument("--random", type=int, default=40, help="how many random cases")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--only", help="regenerate only the case with this id")
    family = parser.add_mutually_exclusive_group()
    family.add_argument("--forward", action="store_true", help="the forward fixtures (forward_cases.json)")
    family.add_argument("--float16", action="store_true", help="float16_cases.json, in float16")
    family.add_argument("--reference", action="store_true", help="the texts under reference/")
    family.add_argument(
        "--options",
        action="store_true",
        help="options/*.json: show_trainable, layer_range (options_cases.json)",
    )
    parser.add_argument(
        "--classic-python",
        default=str(Path.home() / ".venvs/tf26/bin/python"),
        help="for --reference: a Python with TensorFlow 2.6 (default: ~/.venvs/tf26/bin/python)",
    )
    args = parser.parse_args()

    if args.reference:
        regenerate_references(args.python, args.classic_python)
        return

    if args.options:
        cases = json.loads((HERE / "options_cases.json").read_text())
        regenerate_summaries(
            args.python, [c for c in cases if not args.only or c["id"] == args.only], OPTIONS_OUT
        )
        return

    if args.forward or args.float16:
        name, folder, forward = (
            ("float16_cases.json", FLOAT16_OUT, {"seed": 7, "batch": 5, "dtype": "float16"})
            if args.float16
            else ("forward_cases.json", FORWARD_OUT, {"seed": 7, "batch": 5})
        )
        cases = json.loads((HERE / name).read_text())
        if args.only:
            cases = [c for c in cases if c["id"] == args.only]
        regenerate_npz(args.python, cases, folder, forward)
        return

    rng = random.Random(args.seed)
    cases = json.loads((HERE / "cases.json").read_text())
    cases += [random_case(rng, i) for i in range(args.random)]
    if args.only:
        cases = [c for c in cases if c["id"] == args.only]
    regenerate_summaries(args.python, cases)


if __name__ == "__main__":
    main()
