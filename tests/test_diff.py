"""`mlpcalc diff`: layers matched as lines of a text diff, totals compared."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from test_cli import run, schema

from mlpcalc import parse
from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.diff import Diff, Row
from mlpcalc.render.diff import _aligned

# What torchinfo, fvcore, thop, ptflops, calflops and the TF profiler reported (tests/golden/).
FACTS = json.loads((Path(__file__).parent / "golden" / "flops_facts.json").read_text())


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
    result = run("diff", "784->512->10 relu", "784->512->bn->256:gelu->10 relu", columns=200)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:2] == ["A  784->512:relu->10", "B  784->512:relu->bn->256:gelu->10"]
    assert lines[5].startswith("+") and "batch_normalization (BatchNormalization)" in lines[5]
    # dense_1 goes from 512 -> 10 units to 512 -> 256 (gelu); the last Dense, 10 units, now has
    # 256 inputs instead of 512 and is paired with A's dense_1.
    before, after = 512 * 10 + 10, 256 * 10 + 10
    assert lines[7].split()[:2] == ["~", "dense_1"]
    assert lines[7].endswith(f"{after - before:,} ({(after - before) / before:+.1%})")
    assert f"{before:,} -> {after:,}" in lines[7] and f"{512 * 10:,} -> {256 * 10:,}" in lines[7]
    a = 784 * 512 + 512 + before
    b = 784 * 512 + 512 + 4 * 512 + 512 * 256 + 256 + after  # BN's 4 x 512, then the gelu Dense
    params = next(line for line in lines if line.startswith("  params "))
    assert params.split() == ["params", f"{a:,}", f"{b:,}", f"{b - a:+,}", f"({(b - a) / a:+.1%})"]


def test_json() -> None:
    result = run("diff", "784->512->10 relu", "784->1024->10 relu", "--batch", "64", "--json")
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("diff"))
    a, b = 784 * 512 + 512 + 512 * 10 + 10, 784 * 1024 + 1024 + 1024 * 10 + 10
    assert document["totals"]["params"] == {"a": a, "b": b, "delta": b - a}
    assert document["totals"]["macs"]["b"] == 64 * (784 * 1024 + 1024 * 10)
    # 512 more units: 784 x 512 + 512 more in the first Dense, 512 x 10 more in the second.
    assert [layer["params_delta"] for layer in document["layers"]] == [784 * 512 + 512, 512 * 10]
    # Every compute figure is for the batch of 64, the layers' as the totals'.
    assert [layer["macs_delta"] for layer in document["layers"]] == [64 * 401_408, 64 * 5_120]
    assert sum(layer["macs_delta"] for layer in document["layers"]) == document["totals"]["macs"]["delta"]
    assert document["layers"][0]["b"]["macs"] == 64 * 784 * 1024


def test_layers_and_totals_are_for_the_same_batch() -> None:
    wide = run("diff", "784->512->10 relu", "784->1024->10 relu", "--batch", "64", columns=200)
    lines = wide.stdout.splitlines()
    assert "MACs (batch 64)" in lines[3]
    assert f"{64 * 784 * 512:,} -> {64 * 784 * 1024:,}" in lines[4]
    assert any(line.startswith("Totals (batch 64,") for line in lines)


@pytest.mark.parametrize("convention", list(FACTS["tools"]))
@pytest.mark.parametrize(("a", "b"), [("D", "H"), ("C", "C")], ids=["D-H", "C-C"])
def test_flops_follow_the_convention(convention: str, a: str, b: str) -> None:
    # Two models of flops_facts.json at the batch the tools measured them with (D and H one
    # sample, C 32 rows): each side's total is the tool's own figure.
    models = FACTS["models"]
    batch = models[a]["batch"]
    assert models[b]["batch"] == batch
    args = ["diff", models[a]["spec"], models[b]["spec"], "--batch", str(batch)]
    args += ["--flops-convention", convention]
    result = run(*args, "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["flops_convention"] == convention
    totals = FACTS["tools"][convention]["totals"]
    assert [document["totals"]["flops"][side] for side in ("a", "b")] == [totals[a], totals[b]]
    unit = CONVENTIONS[convention].unit
    assert any(line.lstrip().startswith(f"{unit} ({convention})") for line in run(*args).stdout.splitlines())


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


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_the_table_fits_the_terminal_and_numbers_stay_whole(columns: int) -> None:
    # It was 115 to 125 columns wide whatever the terminal, and numbers split across lines.
    a, b = "784->512->10 relu", "784->512->bn->256:gelu->10 relu"
    result = run("diff", a, b, "--batch", "64", columns=columns)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= columns
    words = result.stdout.split()
    for number in (f"{64 * 784 * 512:,}", f"{784 * 512 + 512:,}", f"{64 * 512 * 10:,}", f"{64 * 256 * 10:,}"):
        assert number in words  # whole, on one line


def test_a_narrow_terminal_keeps_sizes_and_names_readable() -> None:
    result = run("diff", "784->512->10 relu", "784->512->bn->10 relu", columns=40)
    assert result.exit_code == 0
    text = result.stdout
    assert "1.55 MiB" in text and "+8.00 KiB" in text  # a size and its unit on one line
    # Too narrow for the table: it grows past 40 columns rather than print names a letter a line;
    # the text columns narrow to 8 at the least.
    assert "(BatchNo" in text and "\n   n\n" not in text


def test_a_cell_that_wraps_to_one_line_is_printed_as_wrapped() -> None:
    # ' ' in a column cut to nothing wraps to one empty line: the row is printed from its
    # wrapped cells, so the next column starts where it starts in every other row.
    lines = _aligned([(" ", "dddddddddddd"), (" ", "e")], right=set(), width=5, whole={0})
    assert lines == ["  dddddddd", "  dddd", "  e"]
