"""Compute and memory: hand-computed costs, other tools' figures, Keras's optimizer lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import reference_text
from test_cli import flat, run, schema

from mlpcalc import parse
from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.costs.flops import convention_total
from mlpcalc.costs.memory import memory_report
from mlpcalc.costs.optimizers import OPTIMIZERS
from mlpcalc.costs.settings import Settings
from mlpcalc.render.keras import keras_summary

GOLDEN = Path(__file__).parent / "golden"
FACTS = json.loads((GOLDEN / "flops_facts.json").read_text())
OPTIMIZER_CASES = json.loads((GOLDEN / "optimizers.json").read_text())


@pytest.mark.parametrize(
    ("spec", "macs", "flops"),
    [
        # Dense 784->512: 401,408 multiply-adds, twice that in FLOPs, 512 bias adds, 512 ReLUs.
        ("784->512:relu", [401_408], [2 * 401_408 + 512 + 512]),
        ("784->512:nobias", [401_408], [2 * 401_408]),
        # A rank-3 input: 20 positions of 16 features, each through the same Dense.
        ("20x16->32:gelu", [20 * 16 * 32], [2 * 20 * 16 * 32 + 20 * 32 * (1 + 5)]),
        ("20x16->32:gelu(tanh)", [20 * 16 * 32], [2 * 20 * 16 * 32 + 20 * 32 * (1 + 9)]),
        # BatchNormalization folds into a scale and a shift: 2 per element.
        ("20x32->bn", [0], [2 * 20 * 32]),
        # LayerNormalization, per vector of C: mean (C + 1), centre (C), square (C), variance
        # (C + 1), epsilon, square root and reciprocal (3), normalise, gamma, beta (3C): 7C + 5.
        ("20x32->ln", [0], [20 * (7 * 32 + 5)]),
        ("8->dropout(0.5)", [0], [0]),
        # Per element (docs/costs.md), an exp, log, tanh or erf counting one: softmax 5 (row max,
        # subtract, exp, row sum, divide), sigmoid 4 (negate, exp, add 1, divide), tanh 1, relu 1.
        ("8->softmax->sigmoid->tanh->relu", [0, 0, 0, 0], [8 * 5, 8 * 4, 8 * 1, 8 * 1]),
        # elu 4 (compare, exp, subtract 1, times alpha), selu 5 (elu, then the scale), softplus 3
        # (exp, add 1, log), swish and silu 5 (sigmoid, times x), leaky_relu 2 (compare, multiply).
        (
            "8->elu->selu->softplus->swish->silu->leaky_relu->linear",
            [0] * 7,
            [8 * 4, 8 * 5, 8 * 3, 8 * 5, 8 * 5, 8 * 2, 8 * 0],
        ),
    ],
)
def test_hand_computed_costs(spec: str, macs: list[int], flops: list[int]) -> None:
    model = parse(spec)
    assert [layer.macs for layer in model.layers] == macs
    assert [layer.flops for layer in model.layers] == flops
    assert (model.total_macs, model.total_flops) == (sum(macs), sum(flops))


FACT_CASES = [(tool, name) for tool in FACTS["tools"] for name in FACTS["models"]]


@pytest.mark.parametrize(("tool", "name"), FACT_CASES, ids=[f"{t}-{m}" for t, m in FACT_CASES])
def test_each_convention_gives_its_tools_figure(tool: str, name: str) -> None:
    model = FACTS["models"][name]
    expected = FACTS["tools"][tool]["totals"][name]
    assert convention_total(parse(model["spec"]), tool, batch=model["batch"]) == expected


def test_every_convention_has_facts() -> None:
    assert set(CONVENTIONS) - {"mlpcalc"} == set(FACTS["tools"])
    assert len(FACTS["models"]) >= 16


@pytest.mark.parametrize("case", OPTIMIZER_CASES, ids=[c["id"] for c in OPTIMIZER_CASES])
def test_optimizer_lines_as_keras_prints_them(case: dict[str, Any]) -> None:
    model = parse(case["spec"])
    dtype = case.get("dtype", "float32")
    mixed = dtype == "mixed_float16"  # the policy: float32 variables, a LossScaleOptimizer
    dtype = "float32" if mixed else dtype
    settings = Settings(dtype=dtype, optimizer=case["optimizer"], mixed_precision=mixed)
    assert keras_summary(model, 88, 200, settings) == case["summary_88"]
    assert keras_summary(model, 76, 80, settings) == case["summary_76"]


def test_every_optimizer_was_checked_against_keras() -> None:
    assert {case["optimizer"] for case in OPTIMIZER_CASES} >= set(OPTIMIZERS)


def test_the_issue_example() -> None:
    # The CLI in an 80-column terminal prints what Keras printed after compile(optimizer="adam").
    case = next(case for case in OPTIMIZER_CASES if case["id"] == "seed_adam")
    assert (case["spec"], case["optimizer"]) == ("3->2->2->2 relu", "adam")
    result = run("summary", "3->2->2->2 relu", "--optimizer", "adam", columns=80)
    assert result.exit_code == 0
    assert result.stdout == case["summary_76"]
    # Adam's two moments for each of the 20 weights, its iteration count and learning rate.
    assert f" Optimizer params: {2 * 20 + 2} ({4 * (2 * 20 + 2):.2f} B)" in result.stdout.splitlines()


def test_memory_worked_example() -> None:
    # docs/costs.md's worked example: 784->512->10 relu, batch 32, adam, float32.
    report = memory_report(parse("784->512->10 relu"), Settings(batch=32, dtype="float32", optimizer="adam"))
    params = 407_050 * 4
    assert report.params == params == 1_628_200
    assert report.inference_activations == 32 * (784 + 512) * 4  # the first layer's input and output
    assert report.gradients == params
    assert report.optimizer_states == 2 * 407_050 * 4 + 2 * 4  # two moments, iteration, learning rate
    # Each Dense's input, and the first Dense's result before its ReLU.
    assert report.saved_activations == 32 * (784 + 512 + 512) * 4 == 231_424
    assert report.training == 2 * params + 3_256_408 + 231_424 == 6_744_232


def test_memory_details() -> None:
    model = parse("10->bn->dropout(0.5)->10:relu")
    report = memory_report(model, Settings(batch=4, dtype="float16", optimizer="sgd"))
    assert report.params == model.total_params * 2
    assert report.gradients == model.trainable_params * 2  # moving statistics get no gradient
    assert report.optimizer_states == 2 * 4  # sgd: the iteration and the learning rate alone
    # BN's input, Dropout's one-byte mask, the Dense's input and its result before the ReLU.
    assert report.saved_activations == 4 * (10 * 2 + 10 * 1 + 10 * 2 + 10 * 2)
    mixed = memory_report(model, Settings(batch=4, optimizer="adam", mixed_precision=True))
    assert mixed.weights == model.total_params * 4
    assert mixed.inference_activations == 4 * 20 * 2  # float16 activations


def test_summary_costs_columns() -> None:
    lines = run("summary", "20x16->32:gelu->bn->dropout(0.25)->8:softmax", "--costs").stdout.splitlines()
    assert [cell.strip() for cell in lines[2].split("┃")[1:-1]] == [
        "Layer (type)", "Output Shape", "Param #", "MACs", "FLOPs", "% params",
    ]  # fmt: skip
    # The first Dense: 20 positions x 16 x 32 MACs; twice that in FLOPs, plus bias and gelu (5) on
    # each of its 20 x 32 outputs; its 16 x 32 + 32 parameters as a share of the model's (BN 4 x 32,
    # the last Dense 32 x 8 + 8).
    macs = 20 * 16 * 32
    share = (16 * 32 + 32) / (16 * 32 + 32 + 4 * 32 + 32 * 8 + 8)
    assert [cell.strip() for cell in lines[4].split("│")[1:-1]][3:] == [
        f"{macs:,}",
        f"{2 * macs + 20 * 32 * (1 + 5):,}",
        f"{share:.1%}",
    ]


def test_summary_costs_keep_kerass_columns() -> None:
    # Keras 3's table as recorded at 80 columns (width 76), each of its lines continued by our
    # columns: with --width given, Keras's part is drawn at it (without, it narrows to fit).
    keras = reference_text("seed_3-2-2-2_relu.keras3.width76.txt").splitlines()
    result = run("summary", "3->2->2->2 relu", "--costs", "--width", "76", columns=80)
    assert result.exit_code == 0
    costed = result.stdout.splitlines()
    assert len(costed) == len(keras)
    for ours, theirs in zip(costed, keras, strict=True):
        if theirs.startswith(("┏", "┃", "┡", "│", "├", "└")):
            assert ours.startswith(theirs[:-1]) and len(ours) > len(theirs)
        else:
            assert ours == theirs
    # MACs, FLOPs (2 per MAC, 1 per bias, 1 per ReLU) and share of the 20 parameters.
    rows = [[cell.strip() for cell in line.split("│")[4:7]] for line in costed if line.startswith("│ dense")]
    assert rows == [
        [f"{3 * 2}", f"{2 * 3 * 2 + 2 + 2}", f"{(3 * 2 + 2) / 20:.1%}"],
        [f"{2 * 2}", f"{2 * 2 * 2 + 2 + 2}", f"{(2 * 2 + 2) / 20:.1%}"],
        [f"{2 * 2}", f"{2 * 2 * 2 + 2}", f"{(2 * 2 + 2) / 20:.1%}"],
    ]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--style", "classic", "--optimizer", "adam"], "has no costs, optimizer or dtype"),
        (["--flops-convention", "fvcore"], "received fvcore, but FLOPs show only with --costs or --json"),
        (["--costs", "--json"], "the JSON always carries the costs"),
        (["--mixed-precision"], "add --optimizer"),
        (["--dtype", "int8", "--optimizer", "adam"], "Keras cannot build int8 layers"),
        (
            ["--mixed-precision", "--dtype", "float16"],
            "mixed precision keeps float32 weights, received dtype float16",
        ),
        (["--optimizer", "sgdd"], "--optimizer"),
    ],
)
def test_summary_cost_options_refused(args: list[str], complaint: str) -> None:
    result = run("summary", "3->2", *args)
    assert result.exit_code == 2
    assert complaint in flat(result.stderr)


def test_summary_json_carries_costs_and_memory() -> None:
    result = run("summary", "784->512->10 relu", "--json", "--batch", "32", "--flops-convention", "ptflops")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("summary"))
    macs = 784 * 512 + 512 * 10
    assert (document["total_macs"], document["batch_macs"]) == (macs, 32 * macs)
    # What the tools reported for this model: FACTS model B is one sample, model C 32 rows.
    assert (FACTS["models"]["B"]["spec"], FACTS["models"]["B"]["batch"]) == ("784->512->10 relu", 1)
    assert (FACTS["models"]["C"]["spec"], FACTS["models"]["C"]["batch"]) == ("784->512->10 relu", 32)
    assert document["convention_flops"] == FACTS["tools"]["ptflops"]["totals"]["B"]
    assert document["batch_convention_flops"] == FACTS["tools"]["ptflops"]["totals"]["C"]
    assert document["flops_by_convention"]["fvcore"] == FACTS["tools"]["fvcore"]["totals"]["B"]
    # test_memory_worked_example derives it: weights and gradients, Adam's states, saved activations.
    params = 4 * (784 * 512 + 512 + 512 * 10 + 10)
    training = 2 * params + (2 * params + 2 * 4) + 32 * (784 + 512 + 512) * 4
    assert document["memory"]["training_bytes"] == training
    assert [layer["macs"] for layer in document["layers"]] == [784 * 512, 512 * 10]


def test_costs_command() -> None:
    result = run("costs", "784->512->10 relu", "--batch", "32")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    params = 784 * 512 + 512 + 512 * 10 + 10
    macs = 784 * 512 + 512 * 10
    assert lines[0] == f"Costs of 784->512:relu->10 ({params:,} parameters)"
    assert lines[4].split() == ["MACs", "(multiply-accumulates)", f"{macs:,}", f"{32 * macs:,}"]
    # Each tool's figure for one sample, as the tool itself reported it (FACTS model B).
    tools = [line.split() for line in lines if line.split()[:1] and line.split()[0] in FACTS["tools"]]
    assert [(tool, int(total.replace(",", ""))) for tool, total, _unit in tools] == [
        (tool, FACTS["tools"][tool]["totals"]["B"]) for tool in FACTS["tools"]
    ]
    # The worked example's 6,744,232 bytes (test_memory_worked_example), in MiB.
    training = 2 * 4 * params + (2 * 4 * params + 2 * 4) + 32 * (784 + 512 + 512) * 4
    assert lines[-1].split() == ["training:", "total", f"{training / 2**20:.2f}", "MiB"]


def test_costs_json_is_the_summary_document() -> None:
    result = run(
        "costs", "20x16->32:gelu->bn->8:softmax", "--mixed-precision", "--optimizer", "sgd", "--json"
    )
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("summary"))
    assert document["memory"]["mixed_precision"] is True
    assert document["memory"]["optimizer"] == "sgd"
