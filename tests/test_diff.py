"""`mlpcalc diff`: layers matched as lines of a text diff, totals compared."""

from __future__ import annotations

import json

import jsonschema
import pytest
from test_cli import run, schema

from mlpcalc import parse
from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.costs.flops import convention_total
from mlpcalc.diff import Diff, Row


def pair_layers(a: object, b: object) -> list[Row]:
    return Diff(a, b).rows  # type: ignore[arg-type]


def test_an_inserted_layer_is_one_added_row() -> None:
    rows = pair_layers(parse("784->512->10 relu"), parse("784->512->bn->10 relu"))
    assert [row.change for row in rows] == ["same", "added", "same"]


def test_a_resized_layer_is_changed_and_so_is_the_next() -> None:
    rows = pair_layers(parse("784->512->10 relu"), parse("784->1024->10 relu"))
    assert [row.change for row in rows] == ["changed", "changed"]  # the next Dense has more inputs


def test_a_removed_repeat_is_one_removed_row() -> None:
    rows = pair_layers(parse("8->16*3->2"), parse("8->16*2->2"))
    assert [row.change for row in rows] == ["same", "same", "removed", "same"]


def test_replaced_stretches_pair_layers_of_one_class() -> None:
    rows = pair_layers(parse("8->4->bn->2"), parse("8->ln->6->2"))
    assert [(row.a and row.a.keras_class, row.b and row.b.keras_class) for row in rows] == [
        (None, "LayerNormalization"),
        ("Dense", "Dense"),
        ("BatchNormalization", None),
        ("Dense", "Dense"),
    ]


def test_removed_layers() -> None:
    rows = pair_layers(parse("8->bn->4->ln->2"), parse("8->4->2"))
    assert [(row.change, row.a.name if row.a else None) for row in rows] == [
        ("removed", "batch_normalization"),
        ("same", "dense"),
        ("removed", "layer_normalization"),
        ("same", "dense_1"),
    ]


def test_text() -> None:
    result = run("diff", "784->512->10 relu", "784->512->bn->256:gelu->10 relu")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:2] == ["A  784->512:relu->10", "B  784->512:relu->bn->256:gelu->10"]
    assert lines[5].startswith("+") and "batch_normalization (BatchNormalization)" in lines[5]
    assert lines[7].split()[:2] == ["~", "dense_1"] and lines[7].endswith("-2,560 (-49.9%)")
    assert "5,130 -> 2,570" in lines[7] and "5,120 -> 2,560" in lines[7]  # params and MACs
    assert "  params            407,050    537,866  +130,816 (+32.1%)" in lines


def test_json() -> None:
    result = run("diff", "784->512->10 relu", "784->1024->10 relu", "--batch", "64", "--json")
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("diff"))
    assert document["totals"]["params"] == {"a": 407_050, "b": 814_090, "delta": 407_040}
    assert document["totals"]["macs"]["b"] == 64 * (784 * 1024 + 1024 * 10)
    assert [layer["params_delta"] for layer in document["layers"]] == [401_920, 5_120]
    # Every compute figure is for the batch of 64, the layers' as the totals'.
    assert [layer["macs_delta"] for layer in document["layers"]] == [64 * 401_408, 64 * 5_120]
    assert sum(layer["macs_delta"] for layer in document["layers"]) == document["totals"]["macs"]["delta"]
    assert document["layers"][0]["b"]["macs"] == 64 * 784 * 1024


def test_layers_and_totals_are_for_the_same_batch() -> None:
    lines = run("diff", "784->512->10 relu", "784->1024->10 relu", "--batch", "64").stdout.splitlines()
    assert "MACs (batch 64)" in lines[3]
    assert f"{64 * 784 * 512:,} -> {64 * 784 * 1024:,}" in lines[4]
    assert any(line.startswith("Totals (batch 64,") for line in lines)


@pytest.mark.parametrize("convention", ["fvcore", "thop", "tf-profiler"])
def test_flops_follow_the_convention(convention: str) -> None:
    a, b = "20x16->32:gelu->bn->8:softmax", "20x16->64:gelu->ln->8:softmax"
    document = json.loads(
        run("diff", a, b, "--batch", "3", "--flops-convention", convention, "--json").stdout
    )
    assert document["flops_convention"] == convention
    expected = [convention_total(parse(spec), convention, batch=3) for spec in (a, b)]
    assert [document["totals"]["flops"][side] for side in ("a", "b")] == expected
    unit = CONVENTIONS[convention].unit
    assert any(
        line.lstrip().startswith(f"{unit} ({convention})")
        for line in run("diff", a, b, "--flops-convention", convention).stdout.splitlines()
    )


def test_one_stdin_spec_only() -> None:
    from typer.testing import CliRunner

    from mlpcalc.cli import app

    result = CliRunner().invoke(app, ["diff", "-", "-"], input="3->2\n")
    assert result.exit_code == 2
    assert "stdin holds one spec" in result.stderr


def test_a_bad_spec_is_a_usage_error() -> None:
    result = run("diff", "784->10", "784->rleu")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Did you mean 'relu'?" in result.stderr
