"""Training FLOPs: one step, an epoch, a run; torch's count of a real step; throughput and time."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from mlpcalc import parse
from mlpcalc.core.activations import KINDS
from mlpcalc.core.errors import SettingsError
from mlpcalc.core.layers import LAYER_KINDS, ActivationLayer, Dense
from mlpcalc.core.pytorch_form import module_names
from mlpcalc.costs.optimizers import OPTIMIZERS
from mlpcalc.costs.settings import Settings
from mlpcalc.costs.training import (
    LayerStep,
    parse_throughput,
    parse_utilization,
    throughput,
    time_seconds,
    training_cost,
    training_step,
)

FACTS = json.loads((Path(__file__).parent / "golden" / "training" / "facts.json").read_text())
CASES = FACTS["cases"]


# ------------------------------------------------------------------ torch's count of a real step


@pytest.mark.parametrize("case", CASES, ids=[f"{c['spec']}@{c['batch']}" for c in CASES])
def test_matrix_products_are_what_torch_counts(case: dict[str, Any]) -> None:
    """FlopCounterMode counts matrix products alone: each phase's and each module's are mlpcalc's."""
    model = parse(case["spec"])
    step = training_step(model, case["batch"], "sgd")
    assert (step.forward_matmul, step.backward_inputs_matmul, step.backward_weights_matmul) == (
        case["forward"],
        case["backward_inputs"],
        case["backward_weights"],
    )
    assert step.backward_inputs_matmul + step.backward_weights_matmul == case["backward"]
    for layer, (own, *activation) in zip(step.layers, module_names(model), strict=True):
        assert case["modules"][own] == {
            "forward": layer.forward_matmul,
            "backward_inputs": layer.backward_inputs_matmul,
            "backward_weights": layer.backward_weights_matmul,
        }, own
        for name in activation:  # a Dense's activation module: no matrix product
            assert set(case["modules"][name].values()) == {0}, name
    # No optimizer's update has a matrix product: torch counts none of its work.
    assert set(case["optimizer_step"].values()) == {0}


def test_the_torch_cases_cover_every_layer_and_activation() -> None:
    kinds, activations, ranks = set(), set(), set()
    for case in CASES:
        model = parse(case["spec"])
        ranks.add(len(model.spec.input_shape))
        for built in model.layers:
            kinds.add(type(built.layer))
            if isinstance(built.layer, Dense | ActivationLayer):
                activations.add(str(built.layer.activation))
    assert kinds == set(LAYER_KINDS)
    assert {activation.split("(")[0] for activation in activations} == set(KINDS)
    assert {"gelu(tanh)", "leaky_relu(0.1)", "elu(0.5)"} <= activations
    assert ranks == {1, 2, 3}
    assert any(":nobias" in c["spec"] for c in CASES) and any("*" in c["spec"] for c in CASES)
    assert set(FACTS["optimizers"]) <= set(OPTIMIZERS)


# ------------------------------------------------------------------ steps worked out by hand


def step_rows(spec: str, batch: int, optimizer: str) -> list[tuple[int, ...]]:
    """Each layer's (forward, inputs, their products, weights, theirs, optimizer)."""
    fields = ["forward", "backward_inputs", "backward_inputs_matmul", "backward_weights"]
    fields += ["backward_weights_matmul", "optimizer"]
    step = training_step(parse(spec), batch, optimizer)
    return [tuple(getattr(layer, field) for field in fields) for layer in step.layers]


@pytest.mark.parametrize(
    ("spec", "batch", "optimizer", "rows", "total"),
    [
        (
            # dense (3 -> 2, relu) on 4 rows: forward 4 x (2 x 3 x 2 + 2 bias + 2 relu) = 64. The first
            # layer: no input gradient, but relu's derivative, 4 x 2 x 1 = 8; kernel 2 x 4 x 3 x 2 = 48,
            # bias 4 x 2 = 8; sgd 2 per parameter x 8 = 16.
            # dense_1 (2 -> 2): forward 4 x (8 + 2) = 40; input gradient 2 x 4 x 2 x 2 = 32; kernel 32,
            # bias 8; sgd 2 x 6 = 12.
            "3->2->2 relu",
            4,
            "sgd",
            [(64, 8, 0, 56, 48, 16), (40, 32, 32, 40, 32, 12)],
            268,
        ),
        (
            # bn on 2 rows of 2 channels, in training: 2 x (7 x 2 + 11) = 50; the first trainable layer,
            # no input gradient; weights 5 x 4 elements = 20; adam 12 x 4 parameters = 48.
            # dense (2 -> 3, sigmoid): forward 2 x (2 x 2 x 3 + 3 x (1 + 4)) = 54; input gradient
            # 2 x 2 x 2 x 3 = 24 and sigmoid's derivative 2 x 3 x 3 = 18; kernel 24, bias 6; 12 x 9 = 108.
            "2->bn->3:sigmoid",
            2,
            "adam",
            [(50, 0, 0, 20, 0, 48), (54, 42, 24, 30, 24, 108)],
            352,
        ),
        (
            # Before the first trainable layer, no backward at all: relu forward 3 x 4 = 12, dropout's
            # mask 3 x 4 = 12. dense (4 -> 2): forward 3 x (2 x 4 x 2 + 2) = 54; kernel 48, bias 6.
            "4->relu->dropout(0.5)->2",
            3,
            "sgd",
            [(12, 0, 0, 0, 0, 0), (12, 0, 0, 0, 0, 0), (54, 0, 0, 54, 48, 20)],
            152,
        ),
        (
            # A rank-3 input: 2 rows x 2 positions = 4 vectors. dense (3 -> 2, no bias): forward and
            # kernel 2 x 4 x 3 x 2 = 48; momentum 4 x 6 = 24. ln (C = 2): forward 2 x 2 x (7 x 2 + 5) = 76;
            # input gradient 4 x (8 x 2 + 2) = 72; gamma and beta 5 x 8 = 40; 4 x 4 = 16. dropout: its
            # mask, 8 each way. tanh: forward 8, derivative 3 x 8 = 24.
            "2x3->2:nobias->ln->dropout(0.25)->tanh",
            2,
            "momentum",
            [(48, 0, 0, 48, 48, 24), (76, 72, 0, 40, 0, 16), (8, 8, 0, 0, 0, 0), (8, 24, 0, 0, 0, 0)],
            372,
        ),
        # Nothing to train: the forward alone.
        ("4->relu", 5, "adam", [(20, 0, 0, 0, 0, 0)], 20),
        # A rate of 0 is the identity (Keras skips it): nothing either way.
        # dense (4 -> 2): forward 2 x 4 x 2 + 2 = 18, kernel 16 + bias 2, sgd 2 x 10; dense_1 (2 -> 1):
        # forward 4 + 1, input gradient 4, kernel 4 + bias 1, sgd 2 x 3.
        (
            "4->2->dropout(0)->1",
            1,
            "sgd",
            [(18, 0, 0, 18, 16, 20), (0, 0, 0, 0, 0, 0), (5, 4, 4, 5, 4, 6)],
            76,
        ),
    ],
)
def test_hand_computed_steps(
    spec: str, batch: int, optimizer: str, rows: list[tuple[int, ...]], total: int
) -> None:
    assert step_rows(spec, batch, optimizer) == rows
    step = training_step(parse(spec), batch, optimizer)
    assert step.total == total == sum(row[0] + row[1] + row[3] + row[5] for row in rows)


def test_a_step_adds_up() -> None:
    step = training_step(parse("20x16->32:gelu->bn->ln->8:softmax"), 7, "nadam")
    assert step.forward == sum(layer.forward for layer in step.layers)
    assert step.backward == step.backward_inputs + step.backward_weights
    assert step.total == step.forward + step.backward + step.optimizer
    assert step.total == sum(layer.total for layer in step.layers)
    assert step.matmul == 3 * step.forward_matmul - 2 * 7 * 20 * 16 * 32  # the first Dense's input gradient
    assert isinstance(step.layers[0], LayerStep)


@pytest.mark.parametrize(
    "spec", ["784->512->10 relu", "20x16->32:gelu(tanh)->ln->8:softmax", "6x5x4->flatten->10"]
)
def test_the_forward_is_the_inference_count_but_for_bn_and_dropout(spec: str) -> None:
    model = parse(spec)
    assert training_step(model, 9, "adam").forward == 9 * model.total_flops
    assert training_step(model, 9, "adam").forward_matmul == 2 * 9 * model.total_macs


def test_batch_normalization_in_training_uses_the_batch_statistics() -> None:
    # 3 rows x 4 positions = 12 vectors of 5 channels: per channel 7 x 12 + 5 for the statistics and the
    # normalization, 6 for the moving mean and variance; at inference, 2 per element.
    step = training_step(parse("4x5->bn"), 3, "sgd")
    assert step.forward == 5 * (7 * 12 + 11)
    assert parse("4x5->bn").total_flops * 3 == 2 * 60


# ------------------------------------------------------------------ the tables


@pytest.mark.parametrize(("activation", "flops"), [("gelu", 11), ("gelu(tanh)", 18), ("elu(0.5)", 4)])
def test_derivative_by_argument(activation: str, flops: int) -> None:
    step = training_step(parse(f"2->3->{activation}"), 1, "sgd")
    assert step.layers[1].backward_inputs == 3 * flops


# ------------------------------------------------------------------ epochs


def test_an_epoch_ends_on_a_smaller_batch() -> None:
    # 10 samples in batches of 4: two full steps (268 each, above) and one of 2 rows: dense 32 + 4 + 28
    # + 16, dense_1 20 + 16 + 20 + 12 = 148 (the update does not shrink with the batch).
    cost = training_cost(parse("3->2->2 relu"), Settings(batch=4, optimizer="sgd"), samples=10, epochs=3)
    assert (cost.steps_per_epoch, cost.full_steps, cost.batch) == (3, 2, 4)
    assert cost.last_step is not None and (cost.last_step.batch, cost.last_step.total) == (2, 148)
    assert (cost.per_epoch, cost.total) == (2 * 268 + 148, 3 * (2 * 268 + 148))


@pytest.mark.parametrize(("samples", "steps", "last"), [(8, 2, None), (3, 1, 3), (1, 1, 1), (9, 3, 1)])
def test_steps_per_epoch(samples: int, steps: int, last: int | None) -> None:
    cost = training_cost(parse("3->2->2 relu"), Settings(batch=4), samples, 1)
    assert cost.steps_per_epoch == steps
    assert (cost.last_step.batch if cost.last_step else None) == last


def test_the_mnist_example() -> None:
    # 784->512->10 relu, batch 128, adam (12 per parameter). A full step:
    #   dense    forward 128 x (2 x 784 x 512 + 2 x 512) = 102,891,520; relu' 65,536;
    #            kernel 102,760,448 + bias 65,536; adam 401,920 x 12 = 4,823,040
    #   dense_1  forward 128 x 10,250 = 1,312,000; input 1,310,720; kernel 1,310,720 + bias 1,280;
    #            adam 5,130 x 12 = 61,560
    # = 214,602,360. 60,000 = 468 x 128 + 96: the last step's batch-bound 209,717,760 x 96 / 128
    # + 4,884,600 = 162,172,920. An epoch: 468 x 214,602,360 + 162,172,920 = 100,596,077,400.
    cost = training_cost(parse("784->512->10 relu"), Settings(batch=128, optimizer="adam"), 60_000, 10)
    assert cost.step.total == 214_602_360
    assert cost.last_step is not None and cost.last_step.total == 162_172_920
    assert (cost.steps_per_epoch, cost.per_epoch, cost.total) == (469, 100_596_077_400, 1_005_960_774_000)
    assert time_seconds(cost.total, throughput("50TFLOPS")) == Fraction(1_005_960_774_000, 50 * 10**12)


def test_no_optimizer_named_is_adam_and_no_batch_is_one() -> None:
    cost = training_cost(parse("3->2"), Settings(), 5, 1)
    assert (cost.batch, cost.step.optimizer_name) == (1, "adam")
    assert (cost.steps_per_epoch, cost.last_step) == (5, None)


@pytest.mark.parametrize(
    ("samples", "epochs", "key", "message"),
    [
        (0, 1, "samples", "expected a positive whole number of samples, received 0"),
        (10, -1, "epochs", "expected a positive whole number of epochs, received -1"),
        (True, 1, "samples", "expected a positive whole number of samples, received True"),
        (10, 1.5, "epochs", "expected a positive whole number of epochs, received 1.5"),
    ],
)
def test_samples_and_epochs_refused(samples: Any, epochs: Any, key: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        training_cost(parse("3->2"), Settings(batch=2), samples, epochs)
    assert (raised.value.key, str(raised.value)) == (key, message)


# ------------------------------------------------------------------ throughput and time


@pytest.mark.parametrize(
    ("text", "flops_per_second"),
    [
        ("50TFLOPS", 50 * 10**12),
        ("312 TFLOP/s", 312 * 10**12),
        ("1.5e12", 15 * 10**11),
        ("19.5 tflop/s", 195 * 10**11),
        ("2.5 PFLOPS", 25 * 10**14),
        ("1_000 GFLOPs/s", 10**12),
        ("1EFLOPS", 10**18),
        ("0.1 KFLOPS", 100),
        ("7", 7),
        (" 3e-1 MFLOPS ", 300_000),
    ],
)
def test_throughput_parsed(text: str, flops_per_second: int) -> None:
    assert parse_throughput(text) == flops_per_second


SYNTAX = 'expected FLOP per second, such as 50TFLOPS, "312 TFLOP/s" or 1.5e12, received '


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fast", SYNTAX + "'fast'"),
        ("", SYNTAX + "''"),
        ("50 TB", SYNTAX + "'50 TB'"),
        ("-5 TFLOPS", SYNTAX + "'-5 TFLOPS'"),
        ("1,000", SYNTAX + "'1,000'"),
        ("1e", SYNTAX + "'1e'"),  # a cut exponent, not an exaFLOP/s
        ("50 TFLOPS/h", SYNTAX + "'50 TFLOPS/h'"),
        ("x" * 60, SYNTAX + "'" + "x" * 38 + "…"),
    ],
)
def test_throughput_refused(text: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_throughput(text)
    assert (raised.value.key, str(raised.value)) == ("throughput", message)


RANGE = "expected a throughput from 1 to 1e+24 FLOP/s, received "


@pytest.mark.parametrize(
    ("given", "key", "message"),
    [
        ({"rate": "0 TFLOPS"}, "throughput", RANGE + "'0 TFLOPS'"),
        ({"rate": "0.5"}, "throughput", RANGE + "'0.5'"),
        ({"rate": "1e400"}, "throughput", RANGE + "'1e400'"),
        ({"rate": "2e24"}, "throughput", RANGE + "'2e24'"),
        ({"device_peak": "1e400", "utilization": "0.4"}, "device_peak", RANGE + "'1e400'"),
        ({"device_peak": "312T", "utilization": "1e-400"}, "utilization", RANGE + "'312T x 1e-400'"),
    ],
)
def test_throughput_out_of_range(given: dict[str, str], key: str, message: str) -> None:
    # Every time a throughput gives must be a number a float holds (in the text and the JSON).
    with pytest.raises(SettingsError) as raised:
        throughput(**given)
    assert (raised.value.key, str(raised.value)) == (key, message)
    assert throughput("1") == 1 and throughput("1e24") == 10**24


@pytest.mark.parametrize(
    ("text", "share"),
    [("0.4", Fraction(2, 5)), ("40%", Fraction(2, 5)), ("100%", 1), ("1", 1), ("0.05 %", Fraction(1, 2000))],
)
def test_utilization_parsed(text: str, share: Fraction) -> None:
    assert parse_utilization(text) == share


@pytest.mark.parametrize("text", ["0", "1.2", "120%", "-0.4", "forty", "0.4x", "0%"])
def test_utilization_refused(text: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_utilization(text)
    expected = f"expected a share of the peak above 0 and at most 1, such as 0.4 or 40%, received {text!r}"
    assert (raised.value.key, str(raised.value)) == ("utilization", expected)


NEITHER = (
    "expected a throughput (--throughput 50TFLOPS), or a device's peak and the share of it reached "
    "(--device-peak 312TFLOPS --utilization 0.4)"
)


@pytest.mark.parametrize(
    ("arguments", "key", "message"),
    [
        (("50TFLOPS", "312TFLOPS", None), "throughput", "drop --device-peak"),
        (("50TFLOPS", None, "0.4"), "throughput", "drop --utilization"),
        ((None, "312TFLOPS", None), "utilization", NEITHER),
        ((None, None, "0.4"), "device_peak", NEITHER),
        ((None, None, None), "throughput", NEITHER),
        ((None, "312", "2"), "utilization", "received '2'"),
        ((None, "lots", "0.4"), "device_peak", "received 'lots'"),
    ],
)
def test_throughput_options_refused(
    arguments: tuple[str | None, str | None, str | None], key: str, message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        throughput(*arguments)
    assert raised.value.key == key
    assert str(raised.value).endswith(message)


def test_throughput_from_a_peak_and_its_utilization() -> None:
    assert throughput(device_peak="312 TFLOP/s", utilization="40%") == 1248 * 10**11
    assert throughput("50TFLOPS") == 50 * 10**12


def test_time_is_exact() -> None:
    assert time_seconds(10**12, parse_throughput("1 TFLOPS")) == 1
    # 1 PFLOP at 40% of 312 TFLOP/s: 10^15 / 124.8 x 10^12 = 10,000 / 1,248 s, no float rounding.
    rate = throughput(device_peak="312TFLOPS", utilization="0.4")
    assert time_seconds(10**15, rate) == Fraction(10_000, 1_248)
    assert time_seconds(3, Fraction(1, 3)) == 9


# ------------------------------------------------------------------ costs --train


def _costs(*args: str) -> Any:
    from typer.testing import CliRunner

    from mlpcalc.cli import app

    return CliRunner().invoke(app, ["costs", *args], env={"COLUMNS": "100"})


def _figure(text: str, label: str) -> int:
    """The number on the line that starts with `label` in costs' training section."""
    line = next(line for line in text.splitlines() if line.strip().startswith(label))
    return int(line.split()[-1].replace(",", ""))


def test_costs_train_prints_the_step_the_epoch_and_the_run() -> None:
    result = _costs("784->512->10 relu", "--train", "--samples", "1000", "--epochs", "3", "--batch", "64")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    cost = training_cost(parse("784->512->10 relu"), Settings(batch=64), 1000, 3)
    text = result.stdout.split("Training FLOPs")[1]
    assert _figure(text, "forward") == cost.step.forward
    assert _figure(text, "backward: gradients of inputs") == cost.step.backward_inputs
    assert _figure(text, "backward: gradients of weights") == cost.step.backward_weights
    assert _figure(text, "optimizer update") == cost.step.optimizer
    assert _figure(text, "one step") == cost.step.total
    assert _figure(text, "of which matrix products") == cost.step.matmul
    assert _figure(text, "one epoch (1,000 samples: 16 steps, the last of 40)") == cost.per_epoch
    assert (
        _figure(text, "the run (3 epochs)") == cost.total == 3 * (15 * cost.step.total + cost.last_step.total)
    )
    assert "Time at" not in text


def test_costs_train_times_at_a_throughput() -> None:
    # 268 FLOPs a step (the hand-worked sgd step above) at 400 MFLOP/s: 670 ns.
    step = ["3->2->2 relu", "--train", "--batch", "4", "--optimizer", "sgd"]
    result = _costs(*step, "--throughput", "400MFLOPS")
    assert result.exit_code == 0, result.stderr
    assert "Time at 400 MFLOP/s\n  one step  670 ns\n" in result.stdout
    same = _costs(*step, "--device-peak", "1GFLOPS", "--utilization", "40%")
    assert same.stdout == result.stdout


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (["--samples", "10"], "--samples", "it sets up training: add --train"),
        (["--throughput", "1TFLOPS"], "--throughput", "it sets up training: add --train"),
        (["--train", "--throughput", "fast"], "--throughput", "expected FLOP per second"),
        (["--train", "--utilization", "0.5"], "--device-peak", "expected a throughput"),
        (["--train", "--throughput", "1T", "--utilization", "0.5"], "--throughput", "not both"),
        (["--train", "--device-peak", "1T", "--utilization", "2"], "--utilization", "at most 1"),
        (["--train", "--samples", "0"], "--samples", "0 is not in the range"),
        (["--train", "--epochs", "5"], "--epochs", "an epoch is --samples samples: give them too"),
        (["--train", "--throughput", "1e400"], "--throughput", "expected a throughput from 1 to 1e+24"),
        (["--train", "--throughput", "1e400", "--json"], "--throughput", "expected a throughput from 1 to"),
        (["--train", "--device-peak", "312T", "--utilization", "1e-400"], "--utilization", "from 1 to 1e+24"),
    ],
)
def test_costs_train_refuses_what_it_cannot_use(args: list[str], option: str, message: str) -> None:
    result = _costs("3->2", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    error = " ".join(result.stderr.replace("│", " ").split())
    assert option in error and message in error, error


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (Fraction(67, 10**8), "670 ns"),
        (Fraction(806, 10**6), "806 µs"),
        (Fraction(201, 10**4), "20.1 ms"),
        (Fraction(123, 10), "12.3 s"),
        (Fraction(252), "4 min 12 s"),
        (Fraction(3 * 3600 + 12 * 60 + 29), "3 h 12 min"),
        (Fraction(2 * 86400 + 3 * 3600), "2 d 3 h"),
        (Fraction(364 * 86400), "364 d 0 h"),
        (Fraction(400 * 86400), "1.1 years"),
        (Fraction(5999, 100), "1 min 0 s"),  # 59.99 s is 60 s in three figures: a minute
        (Fraction(1, 10**13), "under 1 ns"),
        (Fraction(9996, 10**4), "1 s"),  # three figures, rounded: the next unit up
        (Fraction(9996, 10**7), "1 ms"),
        (Fraction(1, 10**10), "under 1 ns"),
        (Fraction(2244, 10**12), "2.24 ns"),
        (Fraction(10**6 * 31_557_600), "1,000,000 years"),
        (Fraction(3 * 10**16 * 31_557_600), "30,000,000,000,000,000 years"),
    ],
)
def test_durations_read_as_people_read_them(seconds: Fraction, text: str) -> None:
    from mlpcalc.render.costs import duration_text

    assert duration_text(seconds) == text
    assert duration_text(seconds, ascii_only=True) == text.replace("µs", "us")


def test_costs_train_json_carries_the_run_and_follows_the_schema() -> None:
    import json
    from importlib.resources import files

    import jsonschema

    args = ["10x6->8:gelu->bn->4", "--train", "--batch", "3", "--samples", "10", "--epochs", "2"]
    result = _costs(*args, "--throughput", "2GFLOPS", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    schema = json.loads(files("mlpcalc").joinpath("schemas/summary.v1.json").read_text())
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    cost = training_cost(parse("10x6->8:gelu->bn->4"), Settings(batch=3), 10, 2)
    training = document["training"]
    assert training["step"]["total"] == cost.step.total
    assert [layer["backward_weights"] for layer in training["step"]["layers"]] == [
        layer.backward_weights for layer in cost.step.layers
    ]
    assert (training["steps_per_epoch"], training["last_batch"]) == (4, 1)
    assert training["total_flops"] == cost.total
    assert training["total_seconds"] == cost.total / 2e9
    plain = json.loads(_costs("10x6->8:gelu->bn->4", "--batch", "3", "--json").stdout)
    assert "training" not in plain
    assert {key: value for key, value in document.items() if key != "training"} == plain
    step_only = json.loads(_costs("3->2", "--train", "--json").stdout)["training"]
    assert step_only["samples"] is None and step_only["step_seconds"] is None and step_only["batch"] == 1


def test_the_docs_tables_are_the_code_s() -> None:
    # docs/costs.md states each activation's derivative and each optimizer's update in words:
    # the same numbers as the activation kinds and the optimizers hold.
    import re
    from pathlib import Path

    from mlpcalc.core.activations import Activation

    text = (Path(__file__).parent.parent / "docs" / "costs.md").read_text()
    listed = re.search(r"per element \(([^)]*\(tanh\)[^)]*)\)", text)
    assert listed is not None
    stated: dict[str, int] = {}
    pending: list[str] = []
    for part in re.split(r", | and ", listed.group(1)):
        *names, last = part.split(" ")
        if last.isdigit():
            for name in [*pending, *names]:
                stated[name] = int(last)
            pending = []
        else:
            pending += [*names, last]
    derivatives = {name: Activation(name).derivative_flops for name in KINDS}
    derivatives["gelu(tanh)"] = Activation("gelu", True).derivative_flops
    assert stated == derivatives
    updates = re.search(r"Keras 3's rule: ([^(]*)\(", text)
    assert updates is not None
    assert dict((name, int(count)) for name, count in re.findall(r"([a-z]+) (\d+)", updates.group(1))) == {
        name: optimizer.update_flops for name, optimizer in OPTIMIZERS.items()
    }
