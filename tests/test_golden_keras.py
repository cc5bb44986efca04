"""mlpcalc against the real Keras: summary texts, shapes, counts and variables, case by case."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import keras_fixtures, reference_text
from typer.testing import CliRunner

from mlpcalc import parse
from mlpcalc.cli import app
from mlpcalc.core.model import Model
from mlpcalc.render.keras import classic_summary, keras_summary
from mlpcalc.render.text import classic_variables

FIXTURES = keras_fixtures()
IDS = [fixture["id"] for fixture in FIXTURES]


def build(fixture: dict[str, Any]) -> Model:
    return parse(fixture["spec"], name=fixture.get("name", "sequential"), batch=fixture.get("batch"))


def test_there_are_enough_fixtures() -> None:
    assert len(FIXTURES) >= 15


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_summary_text_as_keras_prints_it_wide(fixture: dict[str, Any]) -> None:
    # The oracle ran with COLUMNS=200: width 88, or the case's line_length.
    width = fixture.get("line_length") or 88
    assert keras_summary(build(fixture), width, console_width=200) == fixture["report"]["summary"]["text"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_summary_text_as_keras_prints_it_in_80_columns(fixture: dict[str, Any]) -> None:
    assert keras_summary(build(fixture), 76, console_width=80) == fixture["report"]["summary_80col"]["text"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_layers_match_keras(fixture: dict[str, Any]) -> None:
    model = build(fixture)
    keras_layers = fixture["report"]["layers"]
    assert [layer.name for layer in model.layers] == [k["name"] for k in keras_layers]
    for layer, keras in zip(model.layers, keras_layers, strict=True):
        assert layer.keras_class == keras["class"]
        assert list(layer.output_shape) == keras["output_shape"]
        assert (layer.params, layer.trainable_params, layer.non_trainable_params) == (
            keras["params"],
            keras["trainable_params"],
            keras["non_trainable_params"],
        )
        config = layer.layer.config()
        for key in ("units", "use_bias", "rate"):
            if key in keras["config"]:
                assert config[key] == keras["config"][key], key


KERAS_ALIASES = {"swish": "silu"}  # Keras resolves "swish" to its silu function
# The defaults in Keras 3's signatures: keras.activations.leaky_relu(x, negative_slope=0.2),
# elu(x, alpha=1.0), gelu(x, approximate=False); the other activations take no argument.
KERAS_DEFAULTS: dict[str, dict[str, Any]] = {
    "leaky_relu": {"negative_slope": 0.2},
    "elu": {"alpha": 1.0},
    "gelu": {"approximate": False},
}


def _keras_activation(config: Any) -> tuple[str, dict[str, Any] | None]:
    """Keras's reported activation: a name, or the oracle's wrapper 'elu(alpha=0.5)' with its arguments."""
    if isinstance(config, str):
        return config, None
    name, _, args = config["config"].partition("(")
    pairs = (item.split("=") for item in args.rstrip(")").split(",") if item)
    return name, {
        key: value == "True" if value in ("True", "False") else float(value) for key, value in pairs
    }


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_activations_match_keras(fixture: dict[str, Any]) -> None:
    model = build(fixture)
    for layer, keras in zip(model.layers, fixture["report"]["layers"], strict=True):
        if "activation" not in keras["config"]:
            continue
        ours = layer.layer.config()
        name, args = _keras_activation(keras["config"]["activation"])
        assert KERAS_ALIASES.get(str(ours["activation"]), ours["activation"]) == name
        if args is None:  # Keras ran the function with its own defaults
            assert ours["activation_args"] == KERAS_DEFAULTS.get(name, {})
        else:
            assert ours["activation_args"] == args


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_totals_and_variables_match_keras(fixture: dict[str, Any]) -> None:
    model = build(fixture)
    totals = fixture["report"]["totals"]
    assert model.total_params == totals["params"]
    assert model.trainable_params == totals["trainable_params"]
    assert model.non_trainable_params == totals["non_trainable_params"]
    assert model.params_bytes == totals["params_bytes"]
    assert [[model.keras_path(v), list(v.shape)] for v in model.variables] == fixture["report"]["variables"]
    keras_variables = [v for layer in fixture["report"]["layers"] for v in layer["variables"]]
    assert [(v.path, v.trainable) for v in model.variables] == [
        (k["npz_key"], k["trainable"]) for k in keras_variables
    ]


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_cli_prints_the_keras_text(fixture: dict[str, Any]) -> None:
    args = ["summary", fixture["spec"]]
    if "name" in fixture:
        args += ["--name", fixture["name"]]
    if "batch" in fixture:
        args += ["--batch", str(fixture["batch"])]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert result.stdout == fixture["report"]["summary_80col"]["text"]
    # And as recorded in a 200-column terminal, with the case's line_length if it has one.
    wide = args + (["--width", str(fixture["line_length"])] if fixture.get("line_length") else [])
    result = CliRunner().invoke(app, wide, env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert result.stdout == fixture["report"]["summary"]["text"]


@pytest.mark.parametrize(
    ("spec", "width", "reference"),
    [
        ("3->2->2->2 relu", 88, "seed_3-2-2-2_relu.keras3.width88.txt"),
        ("3->2->2->2 relu", 76, "seed_3-2-2-2_relu.keras3.width76.txt"),
        ("784->512->10:softmax relu", 88, "mnist_784-512-10_relu.keras3.width88.txt"),
        ("784->512->10:softmax relu", 76, "mnist_784-512-10_relu.keras3.width76.txt"),
    ],
)
def test_shared_keras3_references(spec: str, width: int, reference: str) -> None:
    assert keras_summary(parse(spec), width, console_width=width + 4) == reference_text(reference)


def _without_trailing_spaces(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_classic_summary_is_tf2s_text() -> None:
    expected = _without_trailing_spaces(reference_text("seed_3-2-2-2_relu.classic.txt"))
    assert classic_summary(parse("3->2->2->2 relu")) == expected


def test_classic_variables_are_tf2s_names() -> None:
    expected = reference_text("seed_3-2-2-2_relu.classic_variables.txt")
    assert classic_variables(parse("3->2->2->2 relu")) == expected
