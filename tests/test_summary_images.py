"""summary --svg and --html: the Keras table as a picture of a terminal and as a web page.

What a picture shows is read back from the file (the SVG's text runs placed by their coordinates, the
page's text without its tags) and compared with the text `mlpcalc summary` prints for the same options;
the colours are checked against the xterm 256-colour palette Keras's markup names."""

from __future__ import annotations

import errno
import html
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlpcalc import parse
from mlpcalc.cli import app

SVG = "{http://www.w3.org/2000/svg}"
# rich draws each cell 20 * 0.61 wide and each line 20 * 1.22 high, the text's baseline 20 down.
CELL, LINE, BASELINE = 12.2, 24.4, 20.0
SPEC = "64->256:nobias->bn->relu->10"


def run(*args: str, columns: int = 80) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def xterm(index: int) -> str:
    """The colour of a 256-colour index of the 6x6x6 cube (16-231), as xterm defines it."""
    cube = index - 16
    levels = [0 if v == 0 else 55 + 40 * v for v in (cube // 36, cube // 6 % 6, cube % 6)]
    return "#" + "".join(f"{level:02x}" for level in levels)


KERAS_CLASS, NUMBER, NONE = xterm(33), xterm(34), xterm(45)  # Keras's color(33), color(34), color(45)


def svg_runs(path: Path) -> list[tuple[int, int, str, str]]:
    """The terminal's text runs of an SVG summary: (line, column, text, fill colour)."""
    root = ET.parse(path).getroot()  # the file is XML, or this raises
    style = "".join(element.text or "" for element in root.iter(f"{SVG}style"))
    fills = dict(re.findall(r"\.([\w-]+) \{ fill: (#[0-9a-f]{6})", style))
    matrix = next(g for g in root.iter(f"{SVG}g") if g.get("class", "").endswith("-matrix"))
    runs = []
    for text in matrix.iter(f"{SVG}text"):
        line = round((float(text.get("y", "")) - BASELINE) / LINE)
        column = round(float(text.get("x", "")) / CELL)
        runs.append((line, column, (text.text or "").replace("\xa0", " "), fills[text.get("class", "")]))
    return runs


def svg_text(path: Path) -> str:
    """The text the SVG shows, each run at its line and column."""
    lines: dict[int, list[str]] = {}
    for line, column, text, _ in svg_runs(path):
        cells = lines.setdefault(line, [])
        cells.extend(" " * (column + len(text) - len(cells)))
        cells[column : column + len(text)] = text
    return "".join("".join(lines.get(i, [])).rstrip() + "\n" for i in range(max(lines) + 1))


def page_text(page: str) -> str:
    """The text of the page's <pre>, tags dropped and characters unescaped."""
    found = re.search(r"<pre[^>]*>(.*)</pre>", page, flags=re.S)
    assert found is not None
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--width", "60"],
        ["--width", "30"],  # the totals are wider than the table: the picture is as wide as they are
        ["--show-trainable"],
        ["--layer-range", "batch_normalization", "activation"],
        ["--costs", "--optimizer", "adam"],
        ["--batch", "32", "--name", "classifier"],
    ],
)
def test_the_pictures_show_the_text_summary_prints(options: list[str], tmp_path: Path) -> None:
    # As a terminal wide enough for the table prints it: a picture is drawn so, whatever the terminal.
    printed = run("summary", SPEC, *options, columns=200)
    assert printed.exit_code == 0, printed.stderr
    drawn = run(
        "summary", SPEC, *options, "--svg", str(tmp_path / "s.svg"), "--html", str(tmp_path / "s.html")
    )
    assert drawn.exit_code == 0, drawn.stderr
    assert svg_text(tmp_path / "s.svg") == printed.stdout
    assert page_text((tmp_path / "s.html").read_text(encoding="utf-8")) == printed.stdout


def test_the_svg_is_as_wide_as_its_widest_line(tmp_path: Path) -> None:
    # 30 columns: the totals' longest line (36 characters) is wider than the table.
    for width, widest in (("30", len(" Non-trainable params: 512 (2.00 KB)")), ("76", 76)):
        assert run("summary", SPEC, "--width", width, "--svg", str(tmp_path / f"{width}.svg")).exit_code == 0
        assert max(len(line) for line in svg_text(tmp_path / f"{width}.svg").splitlines()) == widest
        view_box = ET.parse(tmp_path / f"{width}.svg").getroot().get("viewBox", "").split()
        assert float(view_box[2]) == pytest.approx(widest * CELL + 18, abs=1)  # padding and margins


def test_the_svg_holds_names_and_counts_in_keras_colours(tmp_path: Path) -> None:
    assert run("summary", SPEC, "--svg", str(tmp_path / "s.svg")).exit_code == 0
    runs = svg_runs(tmp_path / "s.svg")
    colour = {text.strip(" ()"): fill for _, _, text, fill in runs}
    for layer in parse(SPEC).layers:
        assert colour[layer.keras_class] == KERAS_CLASS
        assert colour[f"{layer.params:,}"] == NUMBER
        assert any(text.split(" (")[0].rstrip() == layer.name for _, _, text, _ in runs)
    assert colour["None"] == NONE
    assert colour["256"] == colour["19,978"] == NUMBER  # a dimension, the total
    assert {KERAS_CLASS, NUMBER, NONE} <= {fill for *_, fill in runs}


def test_the_page_is_whole_in_itself_and_in_keras_colours(tmp_path: Path) -> None:
    assert run("summary", SPEC, "--html", str(tmp_path / "s.html")).exit_code == 0
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>\n<html")
    assert not re.search(r"https?:|<link|<script|<img|<iframe|@import|url\(|src=|href=", page, flags=re.I)
    assert f'<span style="color: {KERAS_CLASS}; text-decoration-color: {KERAS_CLASS}">Dense</span>' in page
    assert f'<span style="color: {NUMBER}; text-decoration-color: {NUMBER}">16,384</span>' in page
    assert f'<span style="color: {NONE}; text-decoration-color: {NONE}">None</span>' in page
    assert "<title>mlpcalc summary: sequential</title>" in page


def test_the_svg_loads_nothing(tmp_path: Path) -> None:
    assert run("summary", SPEC, "--svg", str(tmp_path / "s.svg")).exit_code == 0
    picture = (tmp_path / "s.svg").read_text(encoding="utf-8")
    assert not re.search(r"href|@import|<image|<script", picture, flags=re.I)
    assert re.findall(r"url\((.)", picture) and set(re.findall(r"url\((.)", picture)) == {"#"}  # ids within
    assert re.findall(r"https?://[^\"\s]*", picture) == ["http://www.w3.org/2000/svg"]  # its namespace alone


def test_the_same_model_gives_the_same_bytes_whatever_the_environment(tmp_path: Path) -> None:
    # Hash seeds, and what rich reads from the environment (TERM=dumb once made rich draw 80 wide).
    # The terminal's width too: a picture is drawn as wide as its table, whatever the terminal.
    environments = [
        {"PYTHONHASHSEED": "1", "COLUMNS": "80"},
        {
            "PYTHONHASHSEED": "2",
            "COLUMNS": "200",
            "TERM": "dumb",
            "NO_COLOR": "1",
            "FORCE_COLOR": "1",
            "COLORTERM": "truecolor",
        },
    ]
    made = []
    for number, extra in enumerate(environments):
        env = {**os.environ, **extra}
        svg, page = tmp_path / f"{number}.svg", tmp_path / f"{number}.html"
        args = ["summary", SPEC, "--svg", str(svg), "--html", str(page)]
        done = subprocess.run(
            [sys.executable, "-m", "mlpcalc", *args], env=env, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr
        made.append((svg.read_bytes(), page.read_bytes()))
    assert made[0] == made[1]
    other = tmp_path / "other.svg"
    assert run("summary", "64->256:nobias->bn->relu->11", "--svg", str(other)).exit_code == 0
    assert other.read_bytes() != made[0][0]


def test_stdout_says_what_was_written_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("summary", "784->512->10 relu", "--svg", "a.svg", "--html", "a.html")
    assert result.exit_code == 0
    assert result.stdout == (
        "wrote a.svg: the summary table as an SVG picture, 2 layers, 407,050 parameters\n"
        "wrote a.html: the summary table as a web page, 2 layers, 407,050 parameters\n"
    )
    assert result.stderr == ""
    noted = run("summary", "20x16->8", "--layer-range", "dense", "dense", "--html", "b.html")
    assert noted.exit_code == 0
    assert (
        noted.stdout == "wrote b.html: the summary table as a web page, 1 of 1 layer shown, 136 parameters\n"
    )
    assert noted.stderr.startswith("Note: dense acts on the last axis")  # notes stay on stderr


def drawn(option: str, other: str) -> str:
    return f"{option}: it draws Keras 3's table, which {other} replaces: drop one of them"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--svg", "s.svg", "--json"], drawn("--svg", "--json")),
        (["--html", "s.html", "--format", "json"], drawn("--html", "--format json")),
        (["--svg", "s.svg", "--format", "markdown"], drawn("--svg", "--format markdown")),
        (["--svg", "s.svg", "--style", "classic"], drawn("--svg", "--style classic")),
        (["--html", "s.html", "--style", "torchinfo"], drawn("--html", "--style torchinfo")),
        (["--svg", "same", "--html", "same"], "--html: same is the file --svg writes already"),
        (["--force"], "--force: it lets --svg or --html replace a file, and neither is given"),
    ],
)  # fmt: skip
def test_contradictions_are_refused(
    args: list[str], error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("summary", "3->2", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: Invalid value for {error}\nTry 'mlpcalc summary --help' for help.\n"
    assert list(tmp_path.iterdir()) == []


def test_the_output_may_not_be_the_model_file(tmp_path: Path) -> None:
    from mlpcalc.interop.keras_config import keras_config

    model_file = tmp_path / "model.json"
    model_file.write_text(json.dumps(keras_config(parse("3->4:relu->2"))))
    before = model_file.read_bytes()
    link = tmp_path / "link.html"
    link.symlink_to(model_file)
    for option, output in (("--svg", model_file), ("--html", link)):
        result = run("summary", str(model_file), option, str(output), "--force")
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr == (
            f"Error: cannot write {output}: it is the input {model_file}, which the output would destroy\n"
        )
    assert model_file.read_bytes() == before


def test_a_model_file_is_drawn(tmp_path: Path) -> None:
    from mlpcalc.interop.keras_config import keras_config

    model_file = tmp_path / "model.json"
    model_file.write_text(json.dumps(keras_config(parse("3->4:relu->2", name="tiny"))))
    result = run("summary", str(model_file), "--svg", str(tmp_path / "m.svg"))
    assert result.exit_code == 0, result.stderr
    assert 'Model: "tiny"' in svg_text(tmp_path / "m.svg")


def test_a_fifo_or_a_folder_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for output in (fifo, tmp_path):
        result = run("summary", "3->2", "--svg", str(output))
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr == f"Error: cannot write {output}: it is not a regular file\n"
    assert fifo.is_fifo()


def test_a_link_writes_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.svg"
    link.symlink_to(tmp_path / "real.svg")  # dangling: the target is made
    for _ in range(2):  # then replaced, an earlier picture
        assert run("summary", "3->2", "--svg", str(link)).exit_code == 0
        assert link.is_symlink() and os.readlink(link) == str(tmp_path / "real.svg")
        assert "dense (Dense)" in svg_text(tmp_path / "real.svg")


def test_an_earlier_picture_is_replaced_any_other_file_kept_unless_forced(tmp_path: Path) -> None:
    svg, page, notes, empty = (tmp_path / name for name in ("s.svg", "s.html", "notes.svg", "empty.html"))
    assert run("summary", "3->2", "--svg", str(svg), "--html", str(page)).exit_code == 0
    assert run("summary", "3->4", "--svg", str(svg), "--html", str(page)).exit_code == 0  # replaced
    assert "(None, 4)" in svg_text(svg) and "(None, 4)" in page_text(page.read_text())
    notes.write_text("<svg><!-- drawn by hand --></svg>\n")
    empty.touch()
    for output, kind in ((notes, "an SVG summary"), (page, "an SVG summary"), (svg, "an HTML summary")):
        before = output.read_bytes()
        option = "--html" if kind.startswith("an HTML") else "--svg"
        refused = run("summary", "3->2", option, str(output))
        assert refused.exit_code == 2
        assert refused.stdout == ""
        kept = f"Error: {output} exists and is not {kind} mlpcalc wrote: it is kept"
        assert refused.stderr == kept + "; give --force to replace it\n"
        assert output.read_bytes() == before
    assert run("summary", "3->2", "--svg", str(notes), "--force").exit_code == 0
    assert "dense (Dense)" in svg_text(notes)
    assert run("summary", "3->2", "--html", str(empty)).exit_code == 0  # an empty file is nobody's work
    assert "dense (Dense)" in page_text(empty.read_text())


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = tmp_path / "s.svg"
    assert run("summary", "3->2", "--svg", str(earlier)).exit_code == 0
    before = earlier.read_bytes()

    def full_disk(source: object, target: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full_disk)
    result = run("summary", "3->4", "--svg", str(earlier))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: cannot write {earlier}: {os.strerror(errno.ENOSPC)}\n"
    assert earlier.read_bytes() == before  # the earlier picture whole,
    assert sorted(path.name for path in tmp_path.iterdir()) == ["s.svg"]  # and no part file left
    missing = run("summary", "3->4", "--html", str(tmp_path / "no" / "s.html"))
    assert missing.exit_code == 2
    assert (
        missing.stderr
        == f"Error: cannot write {tmp_path / 'no' / 's.html'}: no such folder {tmp_path / 'no'}\n"
    )


def test_each_file_is_written_in_turn_and_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replace = os.replace

    def no_pages(source: str, target: str) -> None:
        if str(target).endswith(".html"):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
        replace(source, target)

    monkeypatch.setattr(os, "replace", no_pages)
    result = run("summary", "3->2", "--svg", str(tmp_path / "s.svg"), "--html", str(tmp_path / "s.html"))
    assert result.exit_code == 2
    assert (
        result.stdout
        == f"wrote {tmp_path / 's.svg'}: the summary table as an SVG picture, 1 layer, 8 parameters\n"
    )
    assert result.stderr == f"Error: cannot write {tmp_path / 's.html'}: {os.strerror(errno.EACCES)}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["s.svg"]


def test_pictures_import_no_numpy(tmp_path: Path) -> None:
    code = (
        "import sys; from mlpcalc.cli import app\n"
        f"try: app(['summary', '784->512->10 relu', '--svg', {str(tmp_path / 's.svg')!r}, "
        f"'--html', {str(tmp_path / 's.html')!r}])\n"
        "except SystemExit as end: assert end.code == 0, end.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'drawsvg')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"COLUMNS": "80"}
    )
    assert done.stdout.splitlines()[-1] == "[]"
    assert (tmp_path / "s.svg").exists() and (tmp_path / "s.html").exists()
