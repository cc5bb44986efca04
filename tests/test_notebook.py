"""The Python API in a notebook, without one: mlpcalc.parse's Model, its summary(), the HTML a notebook
shows (its _repr_html_, called directly) and its diagram()."""

from __future__ import annotations

import dataclasses
import html
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import GOLDEN
from typer.testing import CliRunner

import mlpcalc
from mlpcalc.cli import app
from mlpcalc.core import model as core
from mlpcalc.core.errors import ModelError
from mlpcalc.render.diagram import Options, draw

SPEC = "64->256:nobias->bn->relu->10"
OPTIONS = [path for path in sorted((GOLDEN / "options").glob("*.json"))]


def cli_text(*args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(app, ["summary", *args], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


def pre_text(fragment: str) -> str:
    found = re.fullmatch(r"<pre [^>]*>(.*)</pre>", fragment, flags=re.S)
    assert found is not None, fragment[:80]
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def test_parse_gives_the_api_model_equal_to_the_core_one() -> None:
    model = mlpcalc.parse(SPEC, name="classifier", batch=32)
    assert type(model) is mlpcalc.Model
    assert isinstance(model, core.Model)
    same = core.parse(SPEC, name="classifier", batch=32)
    assert model == same and same == model and hash(model) == hash(same)
    assert model != core.parse(SPEC, name="classifier")
    assert {model, same} == {model}
    renamed = dataclasses.replace(model, name="other", batch=None)
    assert type(renamed) is mlpcalc.Model
    assert (renamed.name, renamed.input_shape, renamed.total_params) == ("other", (None, 64), 19978)
    selected = model.layer_range("dense", "batch_normalization")
    assert (selected.start, selected.stop) == (0, 2)
    assert repr(model).startswith("Model(spec=Spec(")  # the dataclass's own repr


@pytest.mark.parametrize(
    ("kwargs", "options"),
    [
        ({}, []),
        ({"line_length": 60}, ["--width", "60"]),
        ({"line_length": 100}, ["--width", "100"]),  # wider than the terminal: as Keras, it overflows
        ({"show_trainable": True}, ["--show-trainable"]),
        ({"layer_range": ("batch", "act")}, ["--layer-range", "batch", "act"]),  # patterns, as in Keras
        ({"layer_range": ["dense_1", "dense"], "line_length": 40},
         ["--layer-range", "dense_1", "dense", "--width", "40"]),
    ],
)  # fmt: skip
def test_summary_prints_what_the_cli_prints(
    kwargs: dict[str, Any],
    options: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    mlpcalc.parse(SPEC).summary(**kwargs)
    printed = capsys.readouterr()
    assert printed.out == cli_text(SPEC, *options)
    assert printed.err == ""


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_the_default_width_follows_the_terminal_as_keras_does(
    columns: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    mlpcalc.parse(SPEC).summary()
    text = capsys.readouterr().out
    assert text == cli_text(SPEC, columns=columns)
    assert len(text.splitlines()[1]) == min(88, columns - 4)


def test_print_fn_receives_the_whole_text_once(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []
    mlpcalc.parse(SPEC).summary(line_length=70, print_fn=calls.append)
    assert calls == [cli_text(SPEC, "--width", "70")]
    assert capsys.readouterr().out == ""


def _keras_calls() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    import json

    fixtures = [json.loads(path.read_text()) for path in OPTIONS]
    return [(fixture, call) for fixture in fixtures for call in fixture["report"]["summary_calls"]]


@pytest.mark.parametrize(("fixture", "recorded"), _keras_calls())
def test_summary_as_keras_printed_it(
    fixture: dict[str, Any], recorded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each summary(...) call the real Keras made with a print_fn (golden/options), made again."""
    call = recorded["call"]
    monkeypatch.setenv("COLUMNS", str(call["columns"]))
    model = mlpcalc.parse(fixture["spec"], name=fixture.get("name", "sequential"), batch=fixture.get("batch"))
    kwargs = {key: call[key] for key in ("line_length", "show_trainable", "layer_range") if key in call}
    calls: list[str] = []
    if "error" in recorded:  # Keras raised ValueError (or re.error): so does the API, its own way
        with pytest.raises((ModelError, ValueError)):
            model.summary(**kwargs, print_fn=calls.append)
        assert calls == []
        return
    model.summary(**kwargs, print_fn=calls.append)
    assert calls == [recorded["text"]]
    assert len(calls) == recorded["print_fn_calls"]


@pytest.mark.parametrize("layer_range", [("dense",), "dense", ("dense", "dense", "dense")])
def test_a_layer_range_is_two_names(layer_range: Any) -> None:
    with pytest.raises(ValueError, match=r"layer_range must be two layer names, \(first, last\)"):
        mlpcalc.parse(SPEC).summary(layer_range=layer_range)


def test_a_layer_range_that_matches_nothing_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="'nope' matches no layer of the model"):
        mlpcalc.parse(SPEC).summary(layer_range=("nope", "dense"))


def test_repr_html_is_the_table_in_keras_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    model = mlpcalc.parse(SPEC, name="classifier")
    fragment = model._repr_html_()
    assert pre_text(fragment) == cli_text(SPEC, "--name", "classifier")
    # Keras's color(33), color(34) and color(45), the 256-colour palette's #0087ff, #00af00, #00d7ff
    for colour, text in (("#0087ff", "BatchNormalization"), ("#00af00", "16,384"), ("#00d7ff", "None")):
        assert f'<span style="color: {colour}; text-decoration-color: {colour}">{text}</span>' in fragment
    assert '<span style="font-weight: bold">Model: &quot;classifier&quot;</span>' in fragment
    # The text in the notebook's own colour, on its own background; nothing fetched.
    assert "background" not in fragment and "#000000" not in fragment
    assert not re.search(r"https?:|<script|<link|src=|href=", fragment)
    assert fragment == model._repr_html_()  # the same every time


def test_repr_html_takes_the_width_keras_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert pre_text(mlpcalc.parse(SPEC)._repr_html_()) == cli_text(SPEC, columns=60)


def test_diagram_passes_its_options_and_shows_the_svg(tmp_path: Path) -> None:
    model = mlpcalc.parse(SPEC, name="net")
    picture = model.diagram(theme="dark", max_neurons=8, title="Ours")
    assert picture.svg == draw(model, Options(theme="dark", max_neurons=8, title="Ours")).svg
    assert picture._repr_svg_() == picture.svg
    root = ET.fromstring(picture.svg.encode())  # XML, or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    picture.save(tmp_path / "net.svg")
    assert (tmp_path / "net.svg").read_text(encoding="utf-8") == picture.svg
    with pytest.raises(TypeError):
        model.diagram(colour="red")
    with pytest.raises(ValueError, match="theme must be one of light, dark, received 'blue'"):
        model.diagram(theme="blue")
    with pytest.raises(ValueError, match="max_neurons must be 2 to 64, received -3"):
        model.diagram(max_neurons=-3)


def test_diagram_save_keeps_what_is_not_a_diagram(tmp_path: Path) -> None:
    from mlpcalc.core.errors import FileError

    picture = mlpcalc.parse("3->2").diagram()
    notes = tmp_path / "notes.svg"
    notes.write_text('<?xml version="1.0"?><notes/>')
    with pytest.raises(FileError, match="is not an SVG diagram mlpcalc drew: it is kept"):
        picture.save(notes)
    picture.save(notes, force=True)
    picture.save(notes)  # an earlier diagram is replaced
    assert notes.read_text() == picture.svg
    with pytest.raises(ValueError, match=r"does not end in \.svg, \.png or \.pdf"):
        picture.save(tmp_path / "net.txt")
    pytest.importorskip("vl_convert", reason="the images extra is not installed")
    picture.save(tmp_path / "net.png")
    assert (tmp_path / "net.png").read_bytes().startswith(b"\x89PNG")


def test_import_mlpcalc_stays_pure_python() -> None:
    code = (
        "import sys, mlpcalc\n"
        "heavy = ('numpy', 'rich', 'typer', 'drawsvg')\n"
        "def loaded(): return sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "model = mlpcalc.parse('784->512->10 relu')\n"
        "print(loaded(), model.total_params)\n"
        "lines = []\n"
        "model.summary(line_length=50, print_fn=lines.append)\n"
        "model._repr_html_()\n"
        "print(sorted({m.split('.')[0] for m in loaded()}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[] 407050", "['rich']"]  # rich once a table is drawn, no numpy
