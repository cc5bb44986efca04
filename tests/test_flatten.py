"""Flatten, as Keras's Flatten(): shapes, names, config, costs and the forward pass against what the
real Keras and the FLOP tools recorded (golden/keras, golden/forward, golden/flops_facts.json: see
tests/golden/README.md), and the note on a Dense given more than one feature axis."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from conftest import GOLDEN, keras_fixture
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mlpcalc import parse
from mlpcalc.cli import app
from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.core.layers import LAYER_KINDS, NAMED_LAYERS, Flatten
from mlpcalc.core.model import Model
from mlpcalc.core.spec import parse_spec
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings
from mlpcalc.documents import summary_document
from mlpcalc.engine.forward import Stats, forward, plan
from mlpcalc.engine.weights import generators, init_weights

SCHEMA = json.loads((Path(__file__).parent.parent / "mlpcalc" / "schemas" / "summary.v1.json").read_text())


def run(*args: str, columns: int = 80) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def build(fixture: dict[str, Any]) -> Model:
    return parse(fixture["spec"], name=fixture.get("name", "sequential"), batch=fixture.get("batch"))


# ------------------------------------------------------------------ Flatten: the layer


@pytest.mark.parametrize(
    ("spec", "names", "shapes"),
    [
        ("28x28->flatten->128->10", ["flatten", "dense", "dense_1"], [(None, 784), (None, 128), (None, 10)]),
        ("28x28->128->10", ["dense", "dense_1"], [(None, 28, 128), (None, 28, 10)]),  # no flatten: Keras's
        ("6x5x4->8->flatten->3", ["dense", "flatten", "dense_1"], [(None, 6, 5, 8), (None, 240), (None, 3)]),
        ("10->flatten", ["flatten"], [(None, 10)]),  # a rank-2 input: Flatten changes nothing
        ("3x4->flatten->flatten->bn", ["flatten", "flatten_1", "batch_normalization"], [(None, 12)] * 3),
    ],
)
def test_flatten_shapes_and_names(spec: str, names: list[str], shapes: list[tuple[int | None, ...]]) -> None:
    model = parse(spec)
    assert [layer.name for layer in model.layers] == names
    assert [layer.output_shape for layer in model.layers] == shapes


def test_flatten_facts() -> None:
    layer, shape = Flatten(), (6, 5, 8)
    assert layer.keras_class == "Flatten"
    assert layer.output_shape(shape) == (240,)
    assert layer.variables(shape) == ()
    assert (layer.macs(shape), layer.flops(shape)) == (0, 0)
    # What each tool reported for nn.Flatten / Keras's Reshape: 0 (models K, L, M of flops_facts.json,
    # checked with the rest of those models in test_costs.py).
    assert all(layer.counted(convention, shape) == (0, 0) for convention in CONVENTIONS)
    assert layer.kept_for_backward(shape) == (0, 0)  # a view of its input
    assert layer.config() == {"data_format": "channels_last"}
    assert NAMED_LAYERS["flatten"] is Flatten and Flatten in LAYER_KINDS


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ("28x28->flatten->128->10 relu", "28x28->flatten->128:relu->10"),
        ("28 x 28 → flatten → 128", "28x28->flatten->128"),
        ("3x4->flatten->flatten->4*2:nobias", "3x4->flatten->flatten->4*2:nobias"),
    ],
)
def test_flatten_spec_word_and_canonical_text(source: str, canonical: str) -> None:
    spec = parse_spec(source)
    assert str(spec) == canonical
    assert parse_spec(canonical) == spec


def test_flatten_is_a_layer_not_an_activation() -> None:
    result = run("summary", "28x28->flaten->10")
    assert result.exit_code == 2
    assert "did you mean 'flatten'?" in result.stderr.lower()


FLATTEN_FIXTURES = ["mnist_flatten", "flatten_mid_rank4", "flatten_names_fixed_batch", "flatten_rank2"]


@pytest.mark.parametrize("case_id", FLATTEN_FIXTURES)
def test_flatten_config_as_keras_reports_it(case_id: str) -> None:
    fixture = keras_fixture(case_id)
    model = build(fixture)
    flattens = [k for k in fixture["report"]["layers"] if k["class"] == "Flatten"]
    assert flattens, "the fixture has a Flatten"
    for keras in flattens:
        ours = model.layers[keras["index"]]
        assert ours.layer.config() == keras["config"]
        assert ours.variables == () and keras["variables"] == []


def test_flatten_summary_json() -> None:
    result = run("summary", "28x28->flatten->128:relu->10:softmax", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["layers"][0] == {
        "name": "flatten",
        "type": "Flatten",
        "output_shape": [None, 784],
        "params": 0,
        "trainable_params": 0,
        "non_trainable_params": 0,
        "macs": 0,
        "flops": 0,
        "data_format": "channels_last",
        "convention_flops": 0,
    }
    assert document["spec"] == "28x28->flatten->128:relu->10:softmax"
    assert "notes" not in document


def test_flatten_is_in_the_schema_once() -> None:
    enum = SCHEMA["$defs"]["layer"]["properties"]["type"]["enum"]
    assert enum == [kind.keras_class for kind in LAYER_KINDS]


# ------------------------------------------------------------------ Flatten: the forward pass

FLATTEN_FORWARD = ["image_flatten", "flatten_mid_rank4", "flatten_last_fixed_batch"]


def forward_fixture(case_id: str) -> tuple[Model, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    cases = {case["id"]: case for case in json.loads((GOLDEN / "forward_cases.json").read_text())}
    with np.load(GOLDEN / "forward" / f"{case_id}.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    x, y = arrays.pop("x"), arrays.pop("y")
    return parse(cases[case_id]["spec"], batch=cases[case_id].get("batch")), arrays, x, y


@pytest.mark.parametrize("case_id", FLATTEN_FORWARD)
@pytest.mark.parametrize("chunk", [1, 2, None])
def test_flatten_forward_matches_keras_in_any_chunks(case_id: str, chunk: int | None) -> None:
    model, weights, x, expected = forward_fixture(case_id)
    stats = [Stats() for _ in model.layers]
    y = forward(plan(model, len(x), chunk=chunk), weights, x, stats=stats)
    assert y.shape == expected.shape == (len(x), *model.output_features)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    # Every layer's statistics saw every value of its output, the flattened ones too.
    assert [s.count for s in stats] == [len(x) * math.prod(layer.output_features) for layer in model.layers]


def test_flatten_forward_is_a_reshape() -> None:
    model = parse("3x4x5->flatten")
    x = np.arange(2 * 60, dtype=np.float32).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(forward(plan(model, 2), {}, x), x.reshape(2, 60))


def test_flatten_buffers_hold_the_largest_output() -> None:
    # 3x4x5 (60 values) -> 3x4x6 (72) -> 72 flattened -> 100: a buffer holds 100 per sample,
    # though no row is ever wider than 100 nor the input's 5 wide.
    the_plan = plan(parse("3x4x5->6->flatten->100"), rows=7, chunk=7)
    assert (the_plan.positions, the_plan.largest, the_plan.widest) == (12, 100, 100)
    assert the_plan.buffer_bytes == 7 * 100 * 4
    # The input and the flattened 72 in one buffer, the Dense outputs 72 and 100 in the other.
    assert the_plan.touched_buffer_bytes() == 7 * (72 + 100) * 4


LAYERS = st.one_of(
    st.integers(1, 7).map(str),
    st.sampled_from(["flatten", "bn", "ln", "relu", "dropout(0.5)", "3:tanh", "2:nobias"]),
)


@settings(max_examples=60, deadline=None)
@given(
    dims=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    layers=st.lists(LAYERS, min_size=1, max_size=6),
    rows=st.integers(1, 5),
    chunk=st.integers(1, 5),
)
def test_forward_shape_is_the_models_with_flatten_anywhere(
    dims: list[int], layers: list[str], rows: int, chunk: int
) -> None:
    model = parse("x".join(map(str, dims)) + "->" + "->".join(layers))
    weights = init_weights(model, generators(0)[0])
    assert sum(array.size for array in weights.values()) == model.total_params
    x = np.random.default_rng(1).standard_normal((rows, *dims)).astype(np.float32)
    y = forward(plan(model, rows, chunk=chunk), weights, x)
    assert y.shape == (rows, *model.output_features)
    np.testing.assert_allclose(y, forward(plan(model, rows), weights, x), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ the rank note

NOTE = (
    "dense acts on the last axis of its input (None, 28, 28) and gives (None, 28, 128), as Keras's "
    "Dense does; for one vector of 784 values per sample, flatten first: 28x28->flatten->128:relu->10"
)


@pytest.mark.parametrize(
    ("spec", "notes"),
    [
        ("28x28->128->10 relu", [NOTE]),
        ("28x28->flatten->128->10 relu", []),
        ("784->128->10", []),
        ("28x28->bn->relu", []),  # no Dense: every layer acts on the last axis anyway
        # A Dense per position, flattened later by design: two flattens would be no suggestion.
        ("6x5x4->ln->8:relu->dropout(0.5)->flatten->bn->10:softmax", []),
        (  # one note, for the first Dense
            "20x16->bn->32->8",
            [
                "dense acts on the last axis of its input (None, 20, 16) and gives (None, 20, 32), as "
                "Keras's Dense does; for one vector of 320 values per sample, flatten first: "
                "20x16->bn->flatten->32->8"
            ],
        ),
    ],
)
def test_a_dense_on_more_than_one_feature_axis_gets_a_note(spec: str, notes: list[str]) -> None:
    assert list(parse(spec).notes) == notes


def test_the_notes_suggestion_is_the_flattened_model() -> None:
    suggested = NOTE.rsplit(": ", 1)[1]
    assert parse(suggested).output_shape == (None, 10) and parse(suggested).notes == ()
    assert (
        parse("28x28->128->10", batch=32).notes[0].startswith("dense acts on the last axis of its input (32,")
    )


def test_summary_prints_keras_text_and_the_note_on_stderr() -> None:
    fixture = keras_fixture("mnist_without_flatten")
    result = run("summary", fixture["spec"])
    assert result.exit_code == 0
    assert result.stdout == fixture["report"]["summary_80col"]["text"]  # Keras's (None, 28, 10), unchanged
    assert result.stderr == f"Note: {NOTE}\n"
    markdown = run("summary", fixture["spec"], "--format", "markdown")
    assert markdown.exit_code == 0 and markdown.stderr == f"Note: {NOTE}\n"


def test_summary_json_carries_the_note_and_keeps_stderr_empty() -> None:
    result = run("summary", "28x28->128->10 relu", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["notes"] == [NOTE]
    assert summary_document(Figures(parse("28x28->128->10 relu"), Settings()))["notes"] == [NOTE]
