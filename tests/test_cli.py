"""The command line: exit codes, what goes to stdout and what to stderr, every option."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from mlpcalc import __version__, parse
from mlpcalc.cli import app
from mlpcalc.render.keras import keras_summary

runner = CliRunner()


def run(*args: str, columns: int = 80, **env: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns), **env})


def flat(text: str) -> str:
    """typer's error box with its borders and line breaks taken out, for matching a message."""
    return re.sub(r"[│╭╮╰╯─\s]+", " ", text)


def schema(name: str) -> dict[str, Any]:
    return json.loads(files("mlpcalc").joinpath("schemas", f"{name}.v1.json").read_text())


def test_summary_default_is_the_keras_table() -> None:
    result = run("summary", "784->512->10 relu")
    assert result.exit_code == 0
    assert result.stdout == keras_summary(parse("784->512->10 relu"), 76, 80)
    assert result.stderr == ""


@pytest.mark.parametrize(("columns", "width"), [(200, 88), (92, 88), (80, 76), (60, 56), (10, 16)])
def test_width_follows_the_terminal_like_keras(columns: int, width: int) -> None:
    result = run("summary", "3->4->2 relu", columns=columns)
    assert result.exit_code == 0
    table_lines = [line for line in result.stdout.splitlines() if line.startswith(("┏", "│", "└"))]
    assert {len(line) for line in table_lines} == {width}


def test_width_option_forces_the_width() -> None:
    result = run("summary", "3->4->2 relu", "--width", "120", columns=80)
    assert result.exit_code == 0
    assert result.stdout == keras_summary(parse("3->4->2 relu"), 120, 120)


@pytest.mark.parametrize("width", ["15", "0", "-1", "1001", "100000000"])
def test_width_out_of_range(width: str) -> None:
    result = run("summary", "3->2", "--width", width)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"must be from 16 to 1000, received {width}" in flat(result.stderr)


def test_narrowest_width_is_keras_narrowest() -> None:
    from mlpcalc.render.keras import MIN_WIDTH, column_widths

    assert column_widths(MIN_WIDTH) is not None
    assert all(column_widths(width) is None for width in range(1, MIN_WIDTH))


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
    result = run("summary", "3->2->2->2 relu", "--style", "classic")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[2] == "Layer (type)                 Output Shape              Param #"


def test_classic_cuts_long_names_as_tf2_did() -> None:
    result = run("summary", "8->bn", "--style", "classic")
    assert "batch_normalization (BatchNo (None, 8)                 32" in result.stdout.splitlines()


def test_json_is_valid_and_alone_on_stdout() -> None:
    result = run("summary", "20x16->32:gelu->bn->dropout(0.25)->8:softmax", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("summary"))
    assert document["spec"] == "20x16->32:gelu->bn->dropout(0.25)->8:softmax"
    assert document["input_shape"] == [None, 20, 16]
    assert document["layers"][1]["non_trainable_params"] == 64
    assert document["layers"][2]["rate"] == 0.25
    assert result.stderr == ""


def test_json_counts_are_exact_integers() -> None:
    result = run("summary", "100000->100000*1000->10", "--json")
    document = json.loads(result.stdout)
    assert document["total_params"] == 10_000_101_000_010
    assert '"total_params": 10000101000010' in result.stdout


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
    result = run("summary", "64->256:nobias->bn->relu->10", "--format", "markdown")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == '**Model: "sequential"** `64->256:nobias->bn->relu->10`'
    assert "| batch_normalization (BatchNormalization) | (None, 256) | 1,024 |" in lines
    assert "- Total params: 19,978 (78.04 KB)" in lines


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
    assert result.stderr.endswith("Expected units (512), bn, ln, dropout(rate) or an activation name.\n")


def test_variables_table() -> None:
    result = run("variables", "64->256:nobias->bn->relu->10")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Variable", "Shape", "Trainable", "Count"]
    assert lines[1].split() == ["dense/kernel", "(64,", "256)", "yes", "16,384"]
    assert lines[4].split() == ["batch_normalization/moving_mean", "(256,)", "no", "256"]
    assert lines[-1] == "7 variables, 19,978 parameters (19,466 trainable, 512 non-trainable)"


def test_variables_json() -> None:
    document = json.loads(run("variables", "3->2:nobias", "--json", "--name", "tiny").stdout)
    assert document["variables"] == [
        {
            "name": "dense/kernel",
            "layer": "dense",
            "shape": [3, 2],
            "trainable": True,
            "count": 6,
            "path": "tiny/dense/kernel",
        }
    ]


def test_variables_classic_lists_trainable_only() -> None:
    result = run("variables", "4->bn->2", "--style", "classic")
    assert result.stdout == (
        "batch_normalization/gamma:0 (4,)\nbatch_normalization/beta:0 (4,)\n"
        "dense/kernel:0 (4, 2)\ndense/bias:0 (2,)\n"
    )


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"mlpcalc {__version__}\n"


@pytest.mark.parametrize("command", [[], ["summary"], ["variables"]])
def test_help_has_an_example(command: list[str]) -> None:
    result = run(*command, "--help", columns=120)
    assert result.exit_code == 0
    assert "784->512->10 relu" in result.stdout


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

    monkeypatch.setattr("mlpcalc.cli.describe.parse", interrupted)
    result = run("summary", "3->2")
    assert result.exit_code == 130
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_colours_on_a_terminal_are_keras_colours() -> None:
    # FORCE_COLOR makes rich treat the output as a terminal, as a real one would be.
    result = run("summary", "784->512->10 relu", FORCE_COLOR="1", TERM="xterm-256color")
    assert result.exit_code == 0
    assert "\x1b[38;5;34m401,920" in result.stdout  # Keras's color(34) for numbers
    assert "\x1b[38;5;45mNone" in result.stdout  # and color(45) for None
    assert "\x1b[38;5;33mDense" in result.stdout  # and color(33) for class names
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert plain == keras_summary(parse("784->512->10 relu"), 76, 80)


def test_no_colour_codes_when_not_a_terminal() -> None:
    result = run("summary", "784->512->10 relu", TERM="xterm-256color")
    assert "\x1b" not in result.stdout
