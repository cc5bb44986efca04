"""summary --show-trainable and --layer-range FIRST LAST against Keras's summary(show_trainable=True)
and summary(layer_range=...), as the real Keras printed them (golden/options/*.json, recorded by
`python3 tests/golden/regenerate.py --options`: tests/golden/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from conftest import GOLDEN
from typer.testing import CliRunner

from mlpcalc import parse
from mlpcalc.cli import app
from mlpcalc.core.errors import ModelError
from mlpcalc.core.model import Model
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings
from mlpcalc.render.keras import keras_summary
from mlpcalc.render.keras_table import MAX_WIDTH, PLAIN, TRAINABLE, column_widths, layout
from mlpcalc.render.text import markdown_summary

OPTIONS = [json.loads(path.read_text()) for path in sorted((GOLDEN / "options").glob("*.json"))]
CASES = json.loads((GOLDEN / "options_cases.json").read_text())
CALLS = [(fixture, call) for fixture in OPTIONS for call in fixture["report"]["summary_calls"]]
CALL_IDS = [f"{fixture['id']}-{index}" for fixture in OPTIONS for index, _ in enumerate(fixture["calls"])]


def run(*args: str, columns: int = 80) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def build(fixture: dict[str, Any]) -> Model:
    return parse(fixture["spec"], name=fixture.get("name", "sequential"), batch=fixture.get("batch"))


def test_there_are_option_fixtures_for_every_case() -> None:
    assert [fixture["id"] for fixture in OPTIONS] == sorted(case["id"] for case in CASES)
    calls = [call["call"] for _, call in CALLS]
    assert sum("show_trainable" in call for call in calls) >= 15
    assert sum("layer_range" in call for call in calls) >= 15
    # Keras's own widths for the Trainable column: 88 asked, 100 by default, 76 at 80 columns.
    trainable = [call for _, call in CALLS if "show_trainable" in call["call"] and "text" in call]
    assert {call["effective_width"] for call in trainable} >= {76, 88, 100}


def _rows(model: Model, call: dict[str, Any]) -> range | None:
    if "layer_range" not in call:
        return None
    selected = model.layer_range(*call["layer_range"])
    return range(selected.start, selected.stop)


@pytest.mark.parametrize(("fixture", "recorded"), CALLS, ids=CALL_IDS)
def test_summary_options_as_keras_prints_them(fixture: dict[str, Any], recorded: dict[str, Any]) -> None:
    call, model = recorded["call"], build(fixture)
    if "error" in recorded:  # Keras refused: so does mlpcalc (test_refusals_keras_makes, below)
        return
    text = keras_summary(
        model,
        call.get("line_length"),
        console_width=call["columns"],
        show_trainable=call.get("show_trainable", False),
        rows=_rows(model, call),
    )
    assert text == recorded["text"]


def _cli_args(fixture: dict[str, Any], call: dict[str, Any]) -> list[str]:
    args = ["summary", fixture["spec"]]
    if "name" in fixture:
        args += ["--name", fixture["name"]]
    if "batch" in fixture:
        args += ["--batch", str(fixture["batch"])]
    if call.get("line_length"):
        args += ["--width", str(call["line_length"])]
    if call.get("show_trainable"):
        args.append("--show-trainable")
    if "layer_range" in call:
        args += ["--layer-range", *call["layer_range"]]
    return args


@pytest.mark.parametrize(("fixture", "recorded"), CALLS, ids=CALL_IDS)
def test_cli_prints_the_keras_text_or_refuses_as_keras(
    fixture: dict[str, Any], recorded: dict[str, Any]
) -> None:
    call = recorded["call"]
    result = run(*_cli_args(fixture, call), columns=call["columns"])
    if "error" in recorded:
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.startswith("Error: Invalid value for --")
    else:
        assert result.exit_code == 0, result.stderr
        assert result.stdout == recorded["text"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (  # Keras: "Passed layer_names do not match the layer names in the model."
            ["4->4*12 tanh", "--layer-range", "nope", "dense"],
            "Error: Invalid value for --layer-range: 'nope' matches no layer of the model; its layers "
            "are dense, dense_1, dense_2, dense_3, dense_4, dense_5, dense_6, dense_7, dense_8, dense_9, "
            "dense_10, dense_11\n",
        ),
        (
            ["4->4*12 tanh", "--layer-range", "dense_1", "dense_12"],
            "Error: Invalid value for --layer-range: 'dense_12' matches no layer of the model; its layers "
            "are dense, dense_1, dense_2, dense_3, dense_4, dense_5, dense_6, dense_7, dense_8, dense_9, "
            "dense_10, dense_11 ('dense_12': did you mean dense_2?)\n",
        ),
        (  # names are case-sensitive, as in Keras
            ["28x28->flatten->10", "--layer-range", "Dense", "Flatten"],
            "Error: Invalid value for --layer-range: 'Dense' and 'Flatten' match no layer of the model; "
            "its layers are flatten, dense ('Dense': did you mean dense?; "
            "'Flatten': did you mean flatten?)\n",
        ),
        (  # Keras: re.error
            ["4->4*12 tanh", "--layer-range", "dense[", "dense"],
            "Error: Invalid value for --layer-range: 'dense[' is not a regular expression (unterminated "
            "character set at position 5); Keras reads each name of layer_range as one: escape its "
            "special characters with a backslash\n",
        ),
        (  # Keras: "Insufficient console width to print summary."
            ["4->4", "--show-trainable", "--width", "30"],
            "Error: Invalid value for --width: must be from 31 to 1000 with --show-trainable, received 30\n",
        ),
        (
            ["4->4", "--layer-range", "dense"],
            "Error: Option '--layer-range' requires 2 arguments: FIRST LAST\n",
        ),
        (
            ["4->4", "--show-trainable", "--json"],
            "Error: Invalid value for --show-trainable: the JSON always carries each layer's "
            "trainable_params\n",
        ),
        (
            ["4->4", "--layer-range", "dense", "dense", "--json"],
            "Error: Invalid value for --layer-range: the JSON always describes every layer: pick from its "
            "layers list\n",
        ),
        (
            ["4->4", "--style", "classic", "--show-trainable"],
            "Error: Invalid value for --style: tf.keras 2.6's summary() takes no show_trainable or "
            "layer_range\n",
        ),
        (
            ["4->4", "--style", "classic", "--layer-range", "dense", "dense"],
            "Error: Invalid value for --style: tf.keras 2.6's summary() takes no show_trainable or "
            "layer_range\n",
        ),
    ],
)
def test_refusals(args: list[str], error: str) -> None:
    result = run("summary", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == error + "Try 'mlpcalc summary --help' for help.\n"


def test_refusals_keras_makes() -> None:
    refused = [(fixture["id"], call["call"]) for fixture, call in CALLS if "error" in call]
    assert {error["error"]["type"] for _, error in CALLS if "error" in error} == {"ValueError", "error"}
    assert len(refused) == 5


@pytest.mark.parametrize(
    ("first", "last", "shown", "notes"),
    [
        ("dense_1", "dense_3", ["dense_1", "dense_2", "dense_3"], []),
        ("dense_1$", "dense_1$", ["dense_1"], []),
        ("dense_5", "dense_2", ["dense_2", "dense_3", "dense_4", "dense_5"], [
            "dense_5 comes after dense_2: Keras shows the layers from dense_2 to dense_5 all the same",
        ]),
        ("dense_1", "dense_1", [f"dense_{i}" for i in range(1, 12)], [
            "'dense_1' also matches dense_10, dense_11: Keras reads each name as a regular expression "
            "matched at the start of a layer's name, so the rows go from dense_1 to dense_11 (end a name "
            "with $ to match it alone: 'dense_1$')",
        ]),
        ("dense_.", "dense_[23]", ["dense_1", "dense_2", "dense_3"], []),  # written as a regex: no note
    ],
)  # fmt: skip
def test_layer_range_rule_and_its_notes(first: str, last: str, shown: list[str], notes: list[str]) -> None:
    model = parse("4->4*12 tanh")
    selected = model.layer_range(first, last)
    assert [layer.name for layer in model.layers[selected.start : selected.stop]] == shown
    assert list(selected.notes) == notes
    result = run("summary", "4->4*12 tanh", "--layer-range", first, last)
    assert result.exit_code == 0
    assert result.stderr == "".join(f"Note: {note}\n" for note in notes)
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ dense")] == shown


def test_layer_range_errors_are_model_errors() -> None:
    with pytest.raises(ModelError, match="matches no layer"):
        parse("4->4").layer_range("dense", "nope")


def test_layer_range_lists_a_long_models_layers_short() -> None:
    with pytest.raises(ModelError) as error:
        parse("4->4*1000").layer_range("nope", "dense")
    assert (
        "its layers are dense, dense_1, dense_2, dense_3, dense_4, dense_5, dense_6, dense_7, dense_8, "
        in str(error.value)
    )
    assert str(error.value).endswith("dense_9, … (989 more), dense_999")


def test_layer_range_may_come_before_the_spec_and_with_other_options() -> None:
    fixture = next(f for f in OPTIONS if f["id"] == "range_twelve_dense")
    expected = fixture["report"]["summary_calls"][1]
    assert expected["call"] == {"layer_range": ["dense_1", "dense_3"], "columns": 80}
    for args in (
        ["summary", "--layer-range", "dense_1", "dense_3", "4->4*12 tanh"],
        ["summary", "4->4*12 tanh", "--layer-range", "dense_1", "dense_3", "--name", "sequential"],
        ["summary", "--name", "sequential", "--layer-range", "dense_1", "dense_3", "--", "4->4*12 tanh"],
    ):
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == expected["text"]


def test_trainable_layout_is_kerass() -> None:
    assert PLAIN.min_width == 16
    assert TRAINABLE.default_width == 100
    assert TRAINABLE.widths(100) == [40, 32, 18, 10]
    assert TRAINABLE.min_width == 31
    assert TRAINABLE.widths(30) is None
    assert all(TRAINABLE.widths(width) is not None for width in range(31, MAX_WIDTH + 1))
    assert column_widths(88) == PLAIN.widths(88)


def test_costs_keep_kerass_trainable_columns() -> None:
    # Keras's table with its Trainable column at 80 columns, each line continued by our columns.
    recorded = next(f for f in OPTIONS if f["id"] == "trainable_mnist_flatten")["report"]["summary_calls"][2]
    assert recorded["call"] == {"show_trainable": True, "columns": 80}
    keras = recorded["text"].splitlines()
    spec = "28x28->flatten->128:relu->bn->dropout(0.2)->10:softmax"
    result = run("summary", spec, "--show-trainable", "--costs", "--width", "76")  # Keras's width at 80
    assert result.exit_code == 0
    costed = result.stdout.splitlines()
    assert len(costed) == len(keras)
    for ours, theirs in zip(costed, keras, strict=True):
        if theirs.startswith(("┏", "┃", "┡", "│", "├", "└")):
            assert ours.startswith(theirs[:-1]) and len(ours) > len(theirs)
        else:
            assert ours == theirs
    flatten_row = next(line for line in costed if line.startswith("│ flatten"))
    assert [cell.strip() for cell in flatten_row.split("│")[4:8]] == ["-", "0", "0", "0.0%"]


def test_costs_follow_the_layer_range() -> None:
    result = run("summary", "784->512->256->10 relu", "--costs", "--layer-range", "dense_1", "dense_1")
    assert result.exit_code == 0
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines()[3:]]
    rows = [row for row in rows if row and row[0]]
    assert rows == [
        ["dense_1 (Dense)", "(None, 256)", "131,328", "131,072", "262,656", f"{131328 / 535818:.1%}"]
    ]


def test_markdown_with_trainable_and_range() -> None:
    figures = Figures(parse("64->256:nobias->bn->relu->10"), Settings())
    assert markdown_summary(figures, show_trainable=True, rows=range(1, 3)) == (
        '**Model: "sequential"** `64->256:nobias->bn->relu->10`\n'
        "\n"
        "| Layer (type) | Output Shape | Param # | Trainable |\n"
        "| :--- | :--- | ---: | :---: |\n"
        "| batch_normalization (BatchNormalization) | (None, 256) | 1,024 | Y |\n"
        "| activation (Activation) | (None, 256) | 0 | - |\n"
        "\n"
        "- Total params: 19,978 (78.04 KB)\n"
        "- Trainable params: 19,466 (76.04 KB)\n"
        "- Non-trainable params: 512 (2.00 KB)\n"
    )
    result = run(
        "summary", "64->256:nobias->bn->relu->10", "--format", "markdown", "--show-trainable",
        "--layer-range", "batch_normalization", "activation",
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout == markdown_summary(figures, show_trainable=True, rows=range(1, 3))


def test_summary_with_the_new_options_imports_no_numpy() -> None:
    code = (
        "import sys; from mlpcalc.cli import app\n"
        "try: app(['summary', '28x28->flatten->128->10 relu', '--show-trainable', '--layer-range', "
        "'flatten', 'dense'])\n"
        "except SystemExit as end: assert end.code == 0, end.code\n"
        "print(sorted(m for m in sys.modules if m == 'numpy' or m.startswith('numpy.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"COLUMNS": "80"}
    )
    assert done.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize("show_trainable", [False, True])
def test_a_width_too_narrow_is_refused_as_keras_refuses_it(show_trainable: bool) -> None:
    # Drawn without rich or with it, the same refusal (Keras raises ValueError too).
    model = parse("8->4")
    narrow = layout(show_trainable).min_width - 1
    with pytest.raises(ValueError, match=f"a summary needs a width of at least {narrow + 1}"):
        keras_summary(model, narrow, 100, show_trainable=show_trainable)
