"""The command line: exit codes, what goes to stdout and what to stderr, every option."""

from __future__ import annotations

import json
import math
import re
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
from conftest import keras_fixture, reference_text
from typer.testing import CliRunner

from mlpcalc import __version__
from mlpcalc.cli import app

runner = CliRunner()


def run(*args: str, columns: int = 80, **env: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns), **env})


def flat(text: str) -> str:
    """typer's error box with its borders and line breaks taken out, for matching a message."""
    return re.sub(r"[│╭╮╰╯─\s]+", " ", text)


def shape_text(shape: list[int | None]) -> str:
    """A shape as Python prints a tuple: (None, 256), (5,)."""
    return str(tuple(shape))


def schema(name: str) -> dict[str, Any]:
    return json.loads(files("mlpcalc").joinpath("schemas", f"{name}.v1.json").read_text())


def test_summary_default_is_the_keras_table() -> None:
    # What Keras 3 printed for this model in an 80-column terminal (tests/golden/reference/).
    result = run("summary", "784->512->10:softmax relu", columns=80)
    assert result.exit_code == 0
    assert result.stdout == reference_text("mnist_784-512-10_relu.keras3.width76.txt")
    assert result.stderr == ""


@pytest.mark.parametrize("columns", [200, 92, 80, 60, 20, 10])
def test_width_follows_the_terminal_like_keras(columns: int) -> None:
    # Keras 3 (keras/src/utils/summary_utils.py) draws its table min(88, terminal columns - 4)
    # wide; it cannot draw one narrower than 16 (a column under 4), and mlpcalc keeps to 16 then.
    width = max(min(88, columns - 4), 16)
    result = run("summary", "3->4->2 relu", columns=columns)
    assert result.exit_code == 0
    table_lines = [line for line in result.stdout.splitlines() if line.startswith(("┏", "│", "└"))]
    assert {len(line) for line in table_lines} == {width}


def test_width_option_forces_the_width() -> None:
    # Keras's own text for line_length=120 (recorded in a 200-column terminal), whatever ours is.
    fixture = keras_fixture("twelve_dense_names")
    assert fixture["line_length"] == 120
    result = run("summary", fixture["spec"], "--width", "120", columns=80)
    assert result.exit_code == 0
    assert result.stdout == fixture["report"]["summary"]["text"]


@pytest.mark.parametrize("width", ["15", "0", "-1", "1001", "100000000"])
def test_width_out_of_range(width: str) -> None:
    result = run("summary", "3->2", "--width", width)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"must be from 16 to 1000, received {width}" in flat(result.stderr)


def test_narrowest_width_is_keras_narrowest() -> None:
    from mlpcalc.render.keras_table import PLAIN, column_widths

    # Keras ends its columns at int(0.45 w), int(0.80 w) and w, and raises for a column under 4
    # characters: at w = 16 they are 7, 5 and 4 wide; at 15 the last is 15 - int(0.80 * 15) = 3.
    assert PLAIN.min_width == 16
    assert column_widths(16) == [int(0.45 * 16), int(0.80 * 16) - int(0.45 * 16), 16 - int(0.80 * 16)]
    assert column_widths(16) == [7, 5, 4]
    assert all(column_widths(width) is None for width in range(1, 16))
    assert column_widths(88) == [int(0.45 * 88), int(0.80 * 88) - int(0.45 * 88), 88 - int(0.80 * 88)]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["summary", "3->2", "--json", "--format", "markdown"], "--json and --format markdown contradict"),
        (["summary", "3->2", "--json", "--style", "classic"], "does not go with json"),
        (["summary", "3->2", "--format", "markdown", "--style", "classic"], "does not go with markdown"),
        (["summary", "3->2", "--json", "--width", "80"], "sizes the Keras table only"),
        (["summary", "3->2", "--style", "classic", "--width", "80"], "sizes the Keras table only"),
        (["variables", "3->2", "--json", "--style", "classic"], "does not go with --json"),
    ],
)
def test_contradictory_options_are_refused(args: list[str], complaint: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert complaint in flat(result.stderr)


def test_classic_style() -> None:
    # TensorFlow 2.6's model.summary() for this model (tests/golden/reference/), which pads its
    # lines with spaces that mlpcalc leaves out.
    result = run("summary", "3->2->2->2 relu", "--style", "classic")
    assert result.exit_code == 0
    expected = reference_text("seed_3-2-2-2_relu.classic.txt").splitlines()
    assert result.stdout.splitlines() == [line.rstrip() for line in expected]


def test_classic_cuts_long_names_as_tf2_did() -> None:
    # tf.keras 2 prints a row at positions int(65 * [.45, .85, 1]) = [29, 55, 65]: each field is
    # cut at its column's end, then the column's last character becomes a space. BN has 4 x 8 params.
    # TensorFlow 2.6 prints this very line for this model (checked with tensorflow-cpu 2.6.5).
    result = run("summary", "8->bn", "--style", "classic")
    assert result.exit_code == 0
    name = "batch_normalization (BatchNormalization)"[: 29 - 1]
    assert f"{name} {'(None, 8)':<{55 - 29 - 1}} {4 * 8}" in result.stdout.splitlines()


def test_json_is_valid_and_alone_on_stdout() -> None:
    result = run("summary", "20x16->32:gelu->bn->dropout(0.25)->8:softmax", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("summary"))
    assert document["spec"] == "20x16->32:gelu->bn->dropout(0.25)->8:softmax"
    assert document["input_shape"] == [None, 20, 16]
    assert document["layers"][1]["non_trainable_params"] == 2 * 32  # BN's moving mean and variance
    assert document["layers"][2]["rate"] == 0.25
    assert result.stderr == ""


def test_json_counts_are_exact_integers() -> None:
    result = run("summary", "100000->100000*1000->10", "--json")
    document = json.loads(result.stdout)
    # 1000 Dense of 100,000 inputs and units with their biases, then 100,000 x 10 + 10.
    total = 1000 * (100_000 * 100_000 + 100_000) + 100_000 * 10 + 10
    assert document["total_params"] == total
    assert f'"total_params": {total}' in result.stdout  # an integer, not 1.0000101000010e+13


@pytest.mark.parametrize(
    "spec",
    [
        "3->2",
        "6x5x4->8:leaky_relu(0.1)->bn->ln->dropout(0.5)->gelu(tanh)->4:nobias",
        "8->4:elu(2)->softmax->1 relu",
    ],
)
def test_json_matches_the_schema(spec: str) -> None:
    jsonschema.validate(json.loads(run("summary", spec, "--json", "--batch", "3").stdout), schema("summary"))
    jsonschema.validate(json.loads(run("variables", spec, "--json").stdout), schema("variables"))


def test_format_json_equals_json_flag() -> None:
    assert run("summary", "3->2", "--format", "json").stdout == run("summary", "3->2", "--json").stdout


def test_markdown() -> None:
    # Keras's layers and totals for this model, as Markdown.
    fixture = keras_fixture("nobias_bn_activation")
    result = run("summary", fixture["spec"], "--format", "markdown")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == '**Model: "sequential"** `64->256:nobias->bn->relu->10`'
    rows = [line for line in lines if line.startswith("| ")]
    assert rows[:2] == ["| Layer (type) | Output Shape | Param # |", "| :--- | :--- | ---: |"]
    assert rows[2:] == [
        f"| {layer['name']} ({layer['class']}) | {shape_text(layer['output_shape'])} | {layer['params']:,} |"
        for layer in fixture["report"]["layers"]
    ]
    keras_totals = fixture["report"]["summary"]["text"].splitlines()[-3:]  # " Total params: ..."
    assert [f"- {line.strip()}" for line in keras_totals] == [
        line for line in lines if line.startswith("- ") and "params" in line
    ]


def test_name_and_batch() -> None:
    result = run("summary", "784->512->10", "--name", "mnist", "--batch", "32")
    assert result.stdout.startswith('Model: "mnist"\n')
    assert "(32, 512)" in result.stdout


def test_bad_batch_is_a_usage_error() -> None:
    result = run("summary", "784->10", "--batch", "0")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--batch" in result.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a/b", "Error: the model name cannot contain '/', received 'a/b'\n"),
        ("bad\x1b[31mred", "Error: the model name must be printable text, received 'bad\\x1b[31mred'\n"),
        ("two\nlines", "Error: the model name must be printable text, received 'two\\nlines'\n"),
    ],
)
def test_bad_names_are_usage_errors(name: str, message: str) -> None:
    result = run("summary", "784->10", "--name", name)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == message


SPEC_ERRORS = [
    "",
    "784",
    "784->",
    "->10",
    "784->0",
    "784->-5",
    "784->abc",
    "784->512:rleu",
    "784->512:relu:relu",
    "784->dropout(1.5)",
    "784->5.5",
    "#" * 10_000,
    "784->\x01\x02->10",
    "784->🙂🙂",
    "\x1b[31m",
]


@pytest.mark.parametrize("spec", SPEC_ERRORS)
@pytest.mark.parametrize("command", ["summary", "variables"])
def test_spec_errors_exit_2_with_a_caret_on_stderr(command: str, spec: str) -> None:
    result = run(command, spec)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: invalid spec: ")
    assert "^" in lines[2]
    assert "Traceback" not in result.stderr
    assert "\x1b" not in result.stderr and "\x01" not in result.stderr  # never echo control characters
    assert max(len(line) for line in lines) < 200


def test_spec_error_text_in_full() -> None:
    result = run("summary", "784->512:rleu->10")
    assert result.stderr == (
        "Error: invalid spec: unknown activation 'rleu' (column 10)\n"
        "  784->512:rleu->10\n"
        "           ^^^^\n"
        "Expected one of relu, sigmoid, tanh, softmax, linear, gelu, elu, selu, softplus, swish, silu, "
        "leaky_relu, nobias.\n"
        "Did you mean 'relu'?\n"
    )


def test_caret_under_wide_characters() -> None:
    result = run("summary", "784->🙂->10")
    assert result.stderr.splitlines()[1:3] == ["  784->🙂->10", "       ^^"]


def test_debug_shows_the_traceback_and_keeps_the_exit_code() -> None:
    result = run("--debug", "summary", "784->")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback (most recent call last)" in result.stderr
    assert "mlpcalc.core.errors.SpecError" in result.stderr
    assert result.stderr.endswith(
        "Expected units (512), bn, batchnorm, ln, layernorm, flatten, dropout(rate) or an activation name.\n"
    )


def test_variables_table() -> None:
    # One row per variable Keras built, in Keras's order, and Keras's totals.
    fixture = keras_fixture("nobias_bn_activation")
    result = run("variables", fixture["spec"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Variable", "Shape", "Trainable", "Count"]
    keras_variables = [v for layer in fixture["report"]["layers"] for v in layer["variables"]]
    assert [line.split() for line in lines[1:-1]] == [
        [
            v["npz_key"],
            *shape_text(v["shape"]).split(),
            "yes" if v["trainable"] else "no",
            f"{math.prod(v['shape']):,}",
        ]
        for v in keras_variables
    ]
    totals = fixture["report"]["totals"]
    assert lines[-1] == (
        f"{len(keras_variables)} variables, {totals['params']:,} parameters "
        f"({totals['trainable_params']:,} trainable, {totals['non_trainable_params']:,} non-trainable)"
    )


def test_variables_json() -> None:
    document = json.loads(run("variables", "3->2:nobias", "--json", "--name", "tiny").stdout)
    assert document["variables"] == [
        {
            "name": "dense/kernel",
            "layer": "dense",
            "shape": [3, 2],
            "trainable": True,
            "count": 3 * 2,
            "path": "tiny/dense/kernel",
        }
    ]


def test_variables_classic_lists_trainable_only() -> None:
    # What `for p in model.trainable_variables: print(p.name, p.shape)` prints under TensorFlow 2.6
    # (checked with tensorflow-cpu 2.6.5): no moving statistics, TF 2's ':0' names.
    result = run("variables", "4->bn->2", "--style", "classic")
    assert result.exit_code == 0
    assert result.stdout == (
        "batch_normalization/gamma:0 (4,)\nbatch_normalization/beta:0 (4,)\n"
        "dense/kernel:0 (4, 2)\ndense/bias:0 (2,)\n"
    )


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"mlpcalc {__version__}\n"


def test_missing_spec_is_a_usage_error() -> None:
    result = run("summary")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "SPEC" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summary", "3->2", "--frobnicate"], "No such option: --frobnicate"),
        (["summary", "3->2", "--widht", "80"], "No such option: --widht. Did you mean --width?"),
        (["summary", "--jsn", "3->2"], "No such option: --jsn. Did you mean --json?"),
        (["variables", "-q", "3->2"], "No such option: -q"),
    ],
)
def test_unknown_option_is_a_usage_error(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in flat(result.stderr)


def test_option_values_may_start_with_a_dash() -> None:
    result = run("summary", "3->2", "--name", "-x", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["name"] == "-x"


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("mlpcalc.cli.describe.model_from", interrupted)
    result = run("summary", "3->2")
    assert result.exit_code == 130
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_colours_on_a_terminal_are_keras_colours() -> None:
    # FORCE_COLOR makes rich treat the output as a terminal, as a real one would be. Keras 3's
    # summary_utils.py marks numbers [color(34)], None [color(45)] and class names [color(33)].
    result = run("summary", "784->512->10:softmax relu", FORCE_COLOR="1", TERM="xterm-256color")
    assert result.exit_code == 0
    assert f"\x1b[38;5;34m{784 * 512 + 512:,}" in result.stdout
    assert "\x1b[38;5;45mNone" in result.stdout
    assert "\x1b[38;5;33mDense" in result.stdout
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert plain == reference_text("mnist_784-512-10_relu.keras3.width76.txt")


def test_no_colour_codes_when_not_a_terminal() -> None:
    result = run("summary", "784->512->10:softmax relu", TERM="xterm-256color")
    assert result.exit_code == 0
    assert result.stdout == reference_text("mnist_784-512-10_relu.keras3.width76.txt")
    assert "\x1b" not in result.stdout
