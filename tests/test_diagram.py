"""`mlpcalc diagram`: the picture of the network, as SVG read back as XML, and as PNG and PDF.

The SVG is checked as a reader sees it: it parses, it holds each layer's label as text, as many
neurons as the layer has (up to --max-neurons, then half at each end and an ellipsis), it stays
small, and a spec gives the same bytes every time. tests/test_browser.py looks at it in a browser.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from test_cli import run, schema
from test_fuzz import valid_specs

from mlpcalc.core.model import parse
from mlpcalc.render.diagram import (
    DEFAULT_MAX_NEURONS,
    EDGE_BUDGET,
    MAX_LAYERS_DRAWN,
    PALETTES,
    Options,
    draw,
)

SVG = "{http://www.w3.org/2000/svg}"
MB = 10**6


def tree(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())


def layers(root: ET.Element) -> list[ET.Element]:
    """The groups of the marks, in order: the input, each layer (or the fold)."""
    return [g for g in root.iter(f"{SVG}g") if "layer" in g.get("class", "").split()]


def neurons(group: ET.Element) -> int:
    return sum(1 for c in group.iter(f"{SVG}circle") if c.get("class") == "neuron")


def labels(group: ET.Element) -> list[str]:
    return [t.text or "" for t in group.iter(f"{SVG}text") if t.get("class") == "label"]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_each_layer_is_labelled_and_has_its_neurons() -> None:
    root = tree(draw(parse("6x5x4->8:relu->bn->dropout(0.2)->flatten->16:gelu(tanh)->ln->3:softmax")).svg)
    groups = layers(root)
    assert [g.get("data-name") for g in groups] == [
        "input", "dense", "batch_normalization", "dropout", "flatten", "dense_1", "layer_normalization",
        "dense_2",
    ]  # fmt: skip
    assert labels(groups[0]) == ["input", "InputLayer", "(None, 6, 5, 4)"]  # a rank-3 input's whole shape
    assert labels(groups[1]) == ["dense", "Dense · relu", "(None, 6, 5, 8)", "40 params"]
    assert labels(groups[2]) == ["batch_normalization", "BatchNormalization", "(None, 6, 5, 8)", "32 params"]
    assert labels(groups[3]) == ["dropout", "Dropout(0.2)", "(None, 6, 5, 8)"]
    assert labels(groups[4]) == ["flatten", "Flatten", "(None, 240)"]
    assert labels(groups[5]) == ["dense_1", "Dense · gelu(tanh)", "(None, 16)", "3,856 params"]
    assert labels(groups[7]) == ["dense_2", "Dense · softmax", "(None, 3)", "51 params"]
    # Columns of neurons for the input and each Dense; bars for the rest.
    assert [neurons(g) for g in groups] == [4, 8, 0, 0, 0, 16, 0, 3]
    assert [sum(1 for r in g.iter(f"{SVG}rect") if r.get("class") == "bar") for g in groups] == [
        0,
        0,
        1,
        1,
        1,
        0,
        1,
        0,
    ]
    assert "4,011 parameters" in texts(root)


@pytest.mark.parametrize(
    ("width", "most", "drawn"), [(10, 16, 10), (16, 16, 16), (17, 16, 16), (784, 16, 16), (784, 5, 5)]
)
def test_a_wide_layer_shows_its_ends_and_an_ellipsis(width: int, most: int, drawn: int) -> None:
    root = tree(draw(parse(f"{width}->3"), Options(max_neurons=most)).svg)
    column = layers(root)[0]
    assert neurons(column) == drawn
    dots = [c for c in column.iter(f"{SVG}circle") if c.get("class") == "ellipsis"]
    assert len(dots) == (3 if width > most else 0)
    assert f"(None, {width})" in labels(column)  # the true width, whatever is drawn
    if dots:  # half above the ellipsis, half below
        middle = float(dots[1].get("cy", "0"))
        ys = [float(c.get("cy", "0")) for c in column.iter(f"{SVG}circle") if c.get("class") == "neuron"]
        assert sum(y < middle for y in ys) == (most + 1) // 2 and sum(y > middle for y in ys) == most // 2


def test_edges_join_every_drawn_neuron_of_a_dense_to_the_next() -> None:
    d = draw(parse("5->4->3"))
    assert d.edges == d.edges_drawn == 5 * 4 + 4 * 3
    path = next(p for p in tree(d.svg).iter(f"{SVG}path") if p.get("class") == "edges")
    assert path.get("d", "").count("M") == 32
    assert not [p for p in tree(draw(parse("5->4->3"), Options(edges=False)).svg).iter(f"{SVG}path")]


def test_a_bar_passes_each_value_straight_through() -> None:
    d = draw(parse("5->bn->dropout(0.5)->relu->3"))
    assert d.edges == 5 + 5 + 5 + 5 * 3  # one line a value into each bar, then a Dense's


def test_many_layers_are_folded_and_the_picture_says_so() -> None:
    spec = "8->" + "->".join(["16:relu"] * 150) + "->2"
    d = draw(parse(spec))
    assert (d.layers_drawn, d.layers_folded) == (MAX_LAYERS_DRAWN, 51)
    root = tree(d.svg)
    groups = layers(root)
    assert len(groups) == 1 + MAX_LAYERS_DRAWN + 1  # the input, the layers drawn, the fold
    fold = groups[1 + MAX_LAYERS_DRAWN // 2]
    assert "fold" in fold.get("class", "") and labels(fold) == ["51 layers", "folded"]
    assert groups[-1].get("data-name") == "dense_150"  # the last layer is drawn
    assert any("51 of 151 layers folded" in t for t in texts(root))


def test_edges_past_the_budget_are_thinned_and_said() -> None:
    d = draw(parse("8->64*40->2"), Options(max_neurons=64))
    assert d.edges > EDGE_BUDGET and abs(d.edges_drawn - EDGE_BUDGET) < EDGE_BUDGET / 100
    assert any(f"{d.edges_drawn:,} of {d.edges:,} edges drawn" in t for t in texts(tree(d.svg)))
    # Picked evenly: nearly every neuron of the 39 wide layers after the first keeps edges in.
    ends = {(round(x1 + dx, 1), round(y1 + dy, 1)) for x1, y1, dx, dy in segments(d.svg)}
    assert len(ends) > 64 * 39 * 0.95


def segments(svg: str) -> list[tuple[float, float, float, float]]:
    """The edges' path as (x, y, dx, dy): a move, then a line relative to it."""
    path = next(p for p in tree(svg).iter(f"{SVG}path") if p.get("class") == "edges")
    found = re.findall(r"M([-0-9.]+),([-0-9.]+)l([-0-9.]+),([-0-9.]+)", path.get("d", ""))
    assert "".join(f"M{a},{b}l{c},{e}" for a, b, c, e in found) == path.get("d")  # nothing else in it
    return [(float(a), float(b), float(c), float(e)) for a, b, c, e in found]


def test_the_lines_into_bars_are_never_thinned() -> None:
    # Each value passes straight through a bar: sampling those would show bars fed by a few values.
    d = draw(parse("64->" + "->".join(["64:relu->bn"] * 50)), Options(max_neurons=64))
    assert d.edges_drawn < d.edges
    flat = [segment for segment in segments(d.svg) if segment[3] == 0]
    assert len(flat) >= 50 * 64


@pytest.mark.parametrize(
    ("spec", "most"),
    [
        ("784->4096*3->10 relu", 200_000),  # the bar, with the defaults
        ("8->" + "->".join(["64:relu->bn->dropout(0.1)"] * 3333), 2 * MB),  # 9,999 layers
        ("1000000000000000->1000000000000000*100", 2 * MB),  # as wide as a spec goes
        ("32x32x32->" + "->".join(["512:gelu->ln"] * 60) + "->10", 2 * MB),
    ],
)
def test_the_file_stays_small(spec: str, most: int) -> None:
    assert len(draw(parse(spec)).svg.encode()) < most
    assert len(draw(parse(spec), Options(max_neurons=64)).svg.encode()) < 2 * MB  # the most neurons


def test_long_names_are_cut_in_the_file_too(tmp_path: Path) -> None:
    entries = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 3], "name": "in"}}]
    entries += [
        {"class_name": "Dense", "config": {"name": f"{i}" + "n" * 200_000, "units": 2}} for i in range(20)
    ]
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"class_name": "Sequential", "config": {"name": "m", "layers": entries}}))
    result = run("diagram", str(path))
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout) < 200_000
    group = layers(tree(result.stdout))[1]
    assert len(group.get("data-name", "")) == 200 and labels(group)[0] == "0" + "n" * 20 + "…"


def test_labels_stand_apart_however_long() -> None:
    # Layers stand as far apart as their labels need: the widest counts and shapes never overlap.
    for spec in ("1000000000000000->1000000000000000*3->1000000000000000", "1x" * 31 + "1->2"):
        root = tree(draw(parse(spec)).svg)
        boxes = []
        for group in layers(root):
            texts_ = [t for t in group.iter(f"{SVG}text") if t.get("class") == "label"]
            x = float(texts_[0].get("x", "0"))
            half = max(len(t.text or "") * float(t.get("font-size", "0")) for t in texts_) * 0.62 / 2
            boxes.append((x - half, x + half))
        assert boxes[0][0] >= 0 and boxes[-1][1] <= float(root.get("width", "0"))
        assert all(left[1] <= right[0] for left, right in itertools.pairwise(boxes)), spec


def test_options_are_checked_once_for_every_caller() -> None:
    for wrong, message in [
        ({"theme": "blue"}, "theme must be one of light, dark"),
        ({"direction": "sideways"}, "direction must be one of horizontal, vertical"),
        ({"max_neurons": 1}, "max_neurons must be 2 to 64"),
        ({"max_neurons": 65}, "max_neurons must be 2 to 64"),
    ]:
        with pytest.raises(ValueError, match=message):
            Options(**wrong)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(built=valid_specs(max_layers=8))
def test_any_spec_draws_valid_small_svg(built: Any) -> None:
    model = parse(built.text)
    svg = draw(model).svg
    root = tree(svg)
    assert len(svg.encode()) < 2 * MB
    assert len(layers(root)) == 1 + len(model.layers)
    for group, layer in zip(layers(root)[1:], model.layers, strict=True):
        assert labels(group)[0] == layer.name
        features = layer.output_features[-1]
        assert neurons(group) in (0, min(features, DEFAULT_MAX_NEURONS))
    assert draw(model).svg == svg


def test_the_same_spec_gives_the_same_bytes_in_every_process(tmp_path: Path) -> None:
    spec = "28x28->flatten->128:relu->bn->dropout(0.2)->10:softmax"
    digests = set()
    for seed in ("0", "1", "random"):
        out = tmp_path / f"{seed}.svg"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "mlpcalc", "diagram", spec, "-o", str(out)], check=True, env=env
        )
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_user_text_is_escaped(tmp_path: Path) -> None:
    # Names from a model file may hold markup and control characters: the SVG stays valid XML.
    config = {
        "class_name": "Sequential",
        "config": {
            "name": "<b>m & co",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, 3], "name": "in"}},
                {"class_name": "Dense", "config": {"name": "<script>x & y", "units": 2}},
            ],
        },
    }
    path = tmp_path / "m.json"
    path.write_text(json.dumps(config))
    result = run("diagram", str(path), "--title", "a <title> & \x07")
    assert result.exit_code == 0, result.stderr
    root = tree(result.stdout)
    assert labels(layers(root)[1])[0] == "<script>x & y"  # text, escaped in the file
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "<script>" not in result.stdout and "<b>" not in result.stdout
    assert next(root.iter(f"{SVG}title")).text == "a <title> &"  # a control character is no text


def test_themes_direction_and_title() -> None:
    spec = parse("4->3:relu->2")
    dark = tree(draw(spec, Options(theme="dark")).svg)
    page = next(dark.iter(f"{SVG}rect"))
    assert page.get("fill") == PALETTES["dark"]["page"]
    vertical = tree(draw(spec, Options(direction="vertical", title="Net")).svg)
    for group in layers(vertical):  # a row: the neurons side by side
        ys = {c.get("cy") for c in group.iter(f"{SVG}circle") if c.get("class") == "neuron"}
        assert len(ys) == 1
    assert "Net" in texts(vertical)
    horizontal = tree(draw(spec).svg)
    for group in layers(horizontal):  # a column: the neurons one above the other
        xs = {c.get("cx") for c in group.iter(f"{SVG}circle") if c.get("class") == "neuron"}
        assert len(xs) == 1


# ------------------------------------------------------------------------------- the command


def test_svg_goes_to_stdout_and_a_file(tmp_path: Path) -> None:
    result = run("diagram", "784->512->10 relu")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("<?xml") and tree(result.stdout) is not None
    out = tmp_path / "net.svg"
    result = run("diagram", "784->512->10 relu", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out}: a diagram in SVG, 2 layers, ")
    assert run("diagram", "3->2", "-o", str(tmp_path / "one.svg")).stdout.startswith(
        f"wrote {tmp_path / 'one.svg'}: a diagram in SVG, 1 layer, "
    )
    assert out.read_text() == run("diagram", "784->512->10 relu").stdout


def test_an_earlier_diagram_is_replaced_and_any_other_file_kept(tmp_path: Path) -> None:
    pytest.importorskip("vl_convert", reason="the images extra is not installed")
    for name, other in [
        ("pom.xml", b'<?xml version="1.0"?>\n<project>my build</project>\n'),  # XML, as an SVG starts
        ("thesis.pdf", b"%PDF-1.7\n my thesis\n%%EOF\n"),
        ("photo.png", b"\x89PNG\r\n\x1a\n a photo"),
    ]:
        path = tmp_path / name
        path.write_bytes(other)
        args = ["diagram", "3->2", "-o", str(path), "--format", name.split(".")[1].replace("xml", "svg")]
        result = run(*args)
        assert result.exit_code == 2 and "mlpcalc drew: it is kept; give --force" in result.stderr
        assert path.read_bytes() == other
        assert run(*args, "--force").exit_code == 0
        first = path.read_bytes()
        assert run(*args).exit_code == 0, name  # its own earlier output: replaced without --force
        if not name.endswith(".pdf"):  # vl-convert orders a PDF's resources differently each run
            assert path.read_bytes() == first


def test_a_huge_png_is_scaled_down(tmp_path: Path) -> None:
    pytest.importorskip("vl_convert", reason="the images extra is not installed")
    from PIL import Image

    out = tmp_path / "wide.png"
    spec = "8->" + "->".join(["64"] * 200)
    assert run("diagram", spec, "--max-neurons", "64", "-o", str(out)).exit_code == 0
    assert max(Image.open(out).size) <= 16_384


def test_help_names_the_extra() -> None:
    assert "pip install 'mlpcalc[images]'" in run("diagram", "--help", columns=200).stdout


def test_png_and_pdf(tmp_path: Path) -> None:
    pytest.importorskip("vl_convert", reason="the images extra is not installed")
    from PIL import Image

    result = run("diagram", "784->512->10 relu", "-o", str(tmp_path / "net.png"))
    assert result.exit_code == 0, result.stderr
    image = Image.open(tmp_path / "net.png")
    svg = tree(run("diagram", "784->512->10 relu").stdout)
    expected = (2 * float(svg.get("width", "0")), 2 * float(svg.get("height", "0")))
    assert all(abs(side - want) <= 1 for side, want in zip(image.size, expected, strict=True))  # rounded
    colours = image.convert("RGB").getcolors(maxcolors=2**20)
    assert colours is not None and len(colours) > 50  # not blank: lines, circles, text
    result = run("diagram", "784->512->10 relu", "--format", "pdf", "-o", str(tmp_path / "net.pdf"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "net.pdf").read_bytes().startswith(b"%PDF")


def test_png_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "vl_convert" else real(name, *a)
    )
    result = run("diagram", "3->2", "-o", str(tmp_path / "net.png"))
    assert result.exit_code == 2
    assert "pip install 'mlpcalc[images]'" in result.stderr
    assert not (tmp_path / "net.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "png"], "a PNG image is written to a file: give --output"),
        (["-o", "net.txt"], "does not say the format by its extension"),
        (["-o", "net.svg", "--format", "pdf"], "pdf contradicts the output's extension, .svg"),
        (["--force"], "there is no --output"),
        (["--max-neurons", "1"], "--max-neurons"),
        (["--max-neurons", "65"], "--max-neurons"),
        (["--theme", "blue"], "--theme"),
    ],
)
def test_refusals(args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("diagram", "3->2", *args, columns=200)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_an_output_is_never_an_input_or_another_file(tmp_path: Path) -> None:
    model = tmp_path / "m.keras"
    assert run("export", "3->2", "--to", "keras-archive", "-o", str(model)).exit_code == 0
    result = run("diagram", str(model), "-o", str(model), "--format", "svg", "--force")
    assert result.exit_code == 2 and "it is the input" in result.stderr
    notes = tmp_path / "notes.svg"
    notes.write_text("my notes")
    result = run("diagram", "3->2", "-o", str(notes))
    assert result.exit_code == 2 and "is not an SVG diagram mlpcalc drew: it is kept" in result.stderr
    assert notes.read_text() == "my notes"
    assert run("diagram", "3->2", "-o", str(notes), "--force").exit_code == 0
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    result = run("diagram", "3->2", "-o", str(fifo))
    assert result.exit_code == 2 and "not a regular file" in result.stderr
    link = tmp_path / "link.svg"
    link.symlink_to(notes)
    assert run("diagram", "4->2", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and "(None, 4)" in notes.read_text()


def test_a_keras_file_is_drawn_with_its_names(tmp_path: Path) -> None:
    model = tmp_path / "m.keras"
    made = run("export", "3->4:relu->2", "--to", "keras-archive", "-o", str(model), "--name", "tiny")
    assert made.exit_code == 0
    root = tree(run("diagram", str(model)).stdout)
    assert next(root.iter(f"{SVG}title")).text == "tiny: 3->4:relu->2"


def test_json_document(tmp_path: Path) -> None:
    result = run("diagram", "784->512->10 relu", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("diagram"))
    assert document["svg"].startswith("<?xml") and document["output"] is None
    assert (document["layers"], document["edges"], document["bytes"]) == (
        2,
        16 * 16 + 16 * 10,
        len(document["svg"].encode()),
    )
    result = run("diagram", "784->512->10 relu", "--json", "-o", str(tmp_path / "n.svg"))
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("diagram"))
    assert document["svg"] is None and document["bytes"] == (tmp_path / "n.svg").stat().st_size


def test_png_is_an_image_pillow_reads(tmp_path: Path) -> None:
    pytest.importorskip("vl_convert", reason="the images extra is not installed")
    from PIL import Image

    out = tmp_path / "n.png"
    assert run("diagram", "3->2", "-o", str(out), "--theme", "dark").exit_code == 0
    pixel = Image.open(io.BytesIO(out.read_bytes())).convert("RGB").getpixel((1, 1))
    assert "#%02x%02x%02x" % pixel == PALETTES["dark"]["page"]  # noqa: UP031


def test_the_committed_pictures_are_what_mlpcalc_draws() -> None:
    generator = _script("generate_images")
    for name, text in generator.images().items():
        assert (generator.OUT / name).read_text() == text, "run: python scripts/generate_images.py"


def _script(name: str) -> Any:
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "args",
    [
        ["diagram", "@spec.txt", "-o", "spec.txt", "--format", "svg", "--force"],
        ["summary", "@spec.txt", "--svg", "spec.txt", "--force"],
        ["export", "@spec.txt", "--to", "keras", "-o", "spec.txt", "--force"],
    ],
)
def test_an_output_never_replaces_the_spec_file(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.txt").write_text("784->512->10 relu")
    result = run(*args)
    assert result.exit_code == 2 and "it is the input spec.txt" in result.stderr
    assert (tmp_path / "spec.txt").read_text() == "784->512->10 relu"


def test_one_layer_past_the_limit_is_drawn_not_folded() -> None:
    d = draw(parse("8->" + "->".join(["16"] * (MAX_LAYERS_DRAWN + 1))))
    assert (d.layers_drawn, d.layers_folded) == (MAX_LAYERS_DRAWN + 1, 0)
    assert not any("fold" in g.get("class", "") for g in layers(tree(d.svg)))
