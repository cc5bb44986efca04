"""`mlpcalc compare`: many designs in one table, from specs, lists of specs and sweeps.

Every figure is checked against what `mlpcalc costs --json` (the summary document) prints for
the same spec and settings, and every verdict against `mlpcalc check`: never a number pasted in.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_cli import run, schema
from typer.testing import CliRunner

from mlpcalc.budgets import LIMITS
from mlpcalc.cli import app
from mlpcalc.cli import compare as compare_module
from mlpcalc.core.errors import SpecError
from mlpcalc.core.text import binary_size
from mlpcalc.design.sweep import FIELDS, MAX_DESIGNS, MAX_TOTAL_LAYERS, SORTS, expand, spec_lines
from mlpcalc.render import COMPARE_FORMATS

ROOT = Path(__file__).parent.parent
SPECS = ["784->512->10 relu", "784->256*3->10 relu", "64->128:gelu->ln->dropout(0.1)->10", "3->2"]
SETTINGS = [
    [],
    ["--batch", "32", "--optimizer", "sgd", "--dtype", "float16"],
    ["--mixed-precision", "--flops-convention", "fvcore", "--batch", "4"],
    ["--dtype", "int8", "--flops-convention", "torchinfo"],
]


def compare(*args: str, stdin: str | None = None, columns: int = 80) -> Any:
    return CliRunner().invoke(app, ["compare", *args], input=stdin, env={"COLUMNS": str(columns)})


def document(*args: str, stdin: str | None = None) -> dict[str, Any]:
    result = compare(*args, "--json", stdin=stdin)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    found: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(found, schema("compare"))
    return found


def costs_of(spec: str, settings: list[str]) -> dict[str, Any]:
    """What `costs --json` says of `spec` under `settings`: the figures compare must show."""
    result = run("costs", spec, *settings, "--json")
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    memory = summary["memory"]
    return {
        "spec": summary["spec"],
        "params": summary["total_params"],
        "weights_bytes": memory["params_bytes"],
        "macs": summary.get("batch_macs", summary["total_macs"]),
        "flops": summary.get("batch_convention_flops", summary["convention_flops"]),
        "inference_bytes": memory["inference_bytes"],
        "training_bytes": memory["training_bytes"],
    }


def figures_of(design: dict[str, Any]) -> dict[str, Any]:
    return {key: design[key] for key in ("spec", *FIELDS.values())}


# ---------------------------------------------------------------- sweeps

EXPANSIONS = [
    ("784->512->10", ["784->512->10"]),
    ("784->{256,512}->10", ["784->256->10", "784->512->10"]),
    ("{1,2}x{3,4}", ["1x3", "1x4", "2x3", "2x4"]),  # the first brace varies slowest
    (
        "784->{256,512,1024}*{2,3}->10 relu",
        [f"784->{w}*{d}->10 relu" for w in (256, 512, 1024) for d in (2, 3)],
    ),
    ("784->512{,->bn}->10", ["784->512->10", "784->512->bn->10"]),  # an empty choice
    ("784->512->10{, relu}", ["784->512->10", "784->512->10 relu"]),
    ("{relu}", ["relu"]),  # one choice
    ("{1..4}", ["1", "2", "3", "4"]),
    ("{5..5}", ["5"]),
    ("{0..100..25}", ["0", "25", "50", "75", "100"]),
    ("{0..99..25}", ["0", "25", "50", "75"]),  # up to the last value not past the end
    ("{64..1024..x2}", ["64", "128", "256", "512", "1024"]),
    ("{3..100..x3}", ["3", "9", "27", "81"]),
    ("{1_000..3_000..1_000}", ["1000", "2000", "3000"]),
    ("{ 1 .. 3 }", ["1", "2", "3"]),
    ("a,b", ["a,b"]),  # a comma outside braces is text (the spec parser refuses it)
    ("", [""]),
]


@pytest.mark.parametrize(("pattern", "expected"), EXPANSIONS)
def test_sweep_expands_to(pattern: str, expected: list[str]) -> None:
    assert expand(pattern) == expected


SWEEP_ERRORS = [
    ("784->{256", "'{' is never closed", (5, 9)),
    ("784->256}", "'}' closes no brace", (8, 9)),
    ("{1,{2,3}}", "braces do not nest", (3, 4)),
    ("784->{}->10", "empty braces", (5, 7)),
    ("{5..1}", "the range runs down from 5 to 1: write its smaller end first", (0, 6)),
    ("{1..x}", "not a range", (0, 6)),
    ("{1..2..3..4}", "not a range", (0, 12)),
    ("{-1..2}", "not a range", (0, 7)),
    ("{1..10..0}", "a range's step is 1 or more", (0, 10)),
    ("{1..10..x1}", "a range that multiplies starts at 1 or more and multiplies by 2 or more", (0, 11)),
    ("{0..10..x2}", "a range that multiplies starts at 1 or more and multiplies by 2 or more", (0, 11)),
    (
        "{1..2000000000000000}",
        "a range ends at 1,000,000,000,000,000 at most, the largest number a spec takes",
        (0, 21),
    ),
    ("3->{1..10001}", "the sweep stands for 10,001 designs, more than 10,000", (3, 13)),
    ("{1..100}->{1..100}->{1,2}", "the sweep stands for 20,000 designs, more than 10,000", (0, 25)),
    (
        "{1..1000000000000000}{1..1000000000000000}",
        "the sweep stands for about 10^30 designs, more than 10,000",
        (0, 42),
    ),
]


@pytest.mark.parametrize(("pattern", "message", "span"), SWEEP_ERRORS)
def test_sweep_errors_point_at_the_brace(pattern: str, message: str, span: tuple[int, int]) -> None:
    with pytest.raises(SpecError) as caught:
        expand(pattern)
    assert (caught.value.message, (caught.value.start, caught.value.end)) == (message, span)
    assert caught.value.source == pattern


TEXT = st.text(st.characters(blacklist_characters="{},"), max_size=6)
# Braces holding ".." are a range ({1..4}), never choices: no spec holds "..".
CHOICES = st.lists(TEXT.filter(lambda text: ".." not in text), min_size=1, max_size=4).filter(
    lambda choices: choices != [""] and ".." not in ",".join(choices)
)


@given(st.lists(st.tuples(TEXT, CHOICES), max_size=3), TEXT)
def test_a_sweep_is_the_product_of_its_choices(parts: list[tuple[str, list[str]]], tail: str) -> None:
    pattern = "".join(text + "{" + ",".join(choices) + "}" for text, choices in parts) + tail
    expected = [
        "".join(text + choice for (text, _), choice in zip(parts, picked, strict=True)) + tail
        for picked in itertools.product(*(choices for _, choices in parts))
    ]
    assert expand(pattern) == expected


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 10**6))
def test_a_range_is_pythons_range(first: int, size: int, step: int) -> None:
    last = first + size
    values = range(first, last + 1, step)
    if len(values) > MAX_DESIGNS:
        with pytest.raises(SpecError):
            expand(f"{{{first}..{last}..{step}}}")
    else:
        assert expand(f"{{{first}..{last}..{step}}}") == [str(value) for value in values]


@given(st.integers(1, 10**6), st.integers(0, 10**9), st.integers(2, 100))
def test_a_multiplying_range_is_powers(first: int, size: int, factor: int) -> None:
    last = first + size
    expected = [str(first * factor**k) for k in range(64) if first * factor**k <= last]
    assert expand(f"{{{first}..{last}..x{factor}}}") == expected


@given(st.text(st.sampled_from("{},.x0123456789->ab "), max_size=30) | st.text(max_size=30))
def test_any_text_expands_or_says_where_it_is_wrong(pattern: str) -> None:
    try:
        designs = expand(pattern)
    except SpecError as error:
        assert error.source == pattern
        assert 0 <= error.start <= error.end <= len(pattern)
        assert error.message
    else:
        assert 1 <= len(designs) <= MAX_DESIGNS
        if not set("{}") & set(pattern):
            assert designs == [pattern]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("784->512->10 relu\n", [(1, "784->512->10 relu")]),
        ("# designs\n\n  3->2  \n3->4 # wider\n#3->8\n", [(3, "3->2"), (4, "3->4")]),
        ("a\r\nb\r\n", [(1, "a"), (2, "b")]),
        ("", []),
    ],
)
def test_spec_lines(text: str, expected: list[tuple[int, str]]) -> None:
    assert spec_lines(text) == expected


# ---------------------------------------------------------------- figures


@pytest.mark.parametrize("settings", SETTINGS, ids=" ".join)
def test_each_design_has_the_figures_of_costs(settings: list[str]) -> None:
    found = document(*SPECS, *settings)
    assert [figures_of(design) for design in found["designs"]] == [costs_of(spec, settings) for spec in SPECS]
    assert [design["index"] for design in found["designs"]] == [1, 2, 3, 4]
    assert [design["source"] for design in found["designs"]] == SPECS
    assert [design["origin"] for design in found["designs"]] == [f"argument {i}" for i in range(1, 5)]
    assert found["fitting"] is None and found["limits"] == {}
    assert {design["fits"] for design in found["designs"]} == {None}
    summary = json.loads(run("costs", SPECS[0], *settings, "--json").stdout)
    memory = summary["memory"]
    for key in ("batch", "dtype", "optimizer", "mixed_precision"):
        assert found[key] == memory[key]
    assert (found["flops_convention"], found["convention_unit"]) == (
        summary["flops_convention"],
        summary["convention_unit"],
    )


@pytest.mark.parametrize("settings", SETTINGS[:2], ids=" ".join)
def test_the_table_shows_the_figures(settings: list[str]) -> None:
    result = compare(*SPECS, *settings)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    batch = settings[settings.index("--batch") + 1] if "--batch" in settings else "1"
    assert lines[0].startswith(f"{len(SPECS)} designs (batch {batch}, ")
    assert lines[1] == ""
    assert lines[2].split() == ["#", "spec", "params", "weights", "MACs", "FLOPs", "inference", "training"]
    for index, (spec, line) in enumerate(zip(SPECS, lines[3:], strict=True), 1):
        figures = costs_of(spec, settings)
        sizes = {
            key: binary_size(figures[key]) for key in ("weights_bytes", "inference_bytes", "training_bytes")
        }
        expected = [
            str(index),
            figures["spec"],
            f"{figures['params']:,}",
            sizes["weights_bytes"],
            f"{figures['macs']:,}",
            f"{figures['flops']:,}",
            sizes["inference_bytes"],
            sizes["training_bytes"],
        ]
        assert line.split() == " ".join(expected).split()
    widths = {len(line) for line in lines[2:]}
    assert len(widths) == 1  # aligned: every row as wide as the header


def test_the_flops_column_names_its_convention() -> None:
    result = compare("3->2", "--flops-convention", "thop")
    assert result.stdout.splitlines()[2].split()[5:7] == ["MACs", "(thop)"]


def test_csv_holds_the_json_figures() -> None:
    args = [*SPECS, "--batch", "8", "--max-params", "400K"]
    found = document(*args)
    result = compare(*args, "--format", "csv")
    assert result.exit_code == 0 and result.stderr == ""
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["index", "spec", *FIELDS.values(), "fits", "failed"]
    for row, design in zip(rows, found["designs"], strict=True):
        assert {key: int(row[key]) for key in FIELDS.values()} == {
            key: design[key] for key in FIELDS.values()
        }
        assert (int(row["index"]), row["spec"]) == (design["index"], design["spec"])
        assert row["fits"] == str(design["fits"]).lower()
        assert row["failed"].split() == design["failed"]


def test_csv_without_limits_has_no_verdict() -> None:
    header = compare("3->2", "--format", "csv").stdout.splitlines()[0]
    assert header == ",".join(["index", "spec", *FIELDS.values()])


def test_markdown() -> None:
    result = compare(*SPECS, "--format", "markdown", "--max-params", "400K")
    assert result.exit_code == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("**4 designs (batch 1, float32, adam); ") and lines[0].endswith("**")
    assert lines[2] == "| # | spec | params | weights | MACs | FLOPs | inference | training | fits |"
    assert lines[3] == "| ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: | :--- |"
    for spec, line in zip(SPECS, lines[4:], strict=True):
        figures = costs_of(spec, [])
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[1:3] == [f"`{figures['spec']}`", f"{figures['params']:,}"]
        assert cells[8] == ("yes" if figures["params"] <= 400_000 else "no: max_params")


@pytest.mark.parametrize("output_format", COMPARE_FORMATS)
def test_every_format_prints_on_stdout_alone(output_format: str) -> None:
    result = compare(*SPECS, "--format", output_format)
    assert result.exit_code == 0
    assert result.stdout.endswith("\n") and result.stderr == ""


def test_json_flag_is_format_json() -> None:
    assert compare("3->2", "--json").stdout == compare("3->2", "--format", "json").stdout
    assert compare("3->2", "--json", "--format", "table").stdout == compare("3->2", "--json").stdout


# ---------------------------------------------------------------- limits


LIMIT_CASES = [
    ["--max-params", "400K"],
    ["--params", "407050"],
    ["--output-shape", "10"],
    ["--max-training-bytes", "4 MiB", "--batch", "16", "--optimizer", "sgd"],
    [
        "--max-macs",
        "1e5",
        "--max-flops",
        "1M",
        "--max-inference-bytes",
        "1 MiB",
        "--max-weights-bytes",
        "1.5 MB",
    ],
    ["--max-trainable-params", "300000", "--mixed-precision"],
]


@pytest.mark.parametrize("limits", LIMIT_CASES, ids=" ".join)
def test_fits_as_check_says(limits: list[str]) -> None:
    found = document(*SPECS, *limits)
    fitting = 0
    for spec, design in zip(SPECS, found["designs"], strict=True):
        checked = run("check", spec, *limits, "--json")
        assert checked.exit_code in (0, 1), checked.stderr
        report = json.loads(checked.stdout)
        assert design["fits"] is report["ok"] is (checked.exit_code == 0)
        assert design["failed"] == [c["key"] for c in report["models"][0]["checks"] if not c["ok"]]
        fitting += design["fits"]
    assert found["fitting"] == fitting
    assert set(found["limits"]) <= set(LIMITS)


def test_the_limits_are_stated() -> None:
    found = document("3->2", "--max-params", "1.5K", "--output-shape", "2", "--max-weights-bytes", "2 KiB")
    assert found["limits"] == {"max_params": 1500, "output_shape": [2], "max_weights_bytes": 2048}
    title = compare("3->2", "--max-params", "1.5K", "--output-shape", "2", "--max-weights-bytes", "2 KiB")
    assert title.stdout.splitlines()[0] == (
        "1 design (batch 1, float32, adam); 1 of 1 fit: "
        "max_params <= 1,500, output_shape = (2), max_weights_bytes <= 2,048 B"
    )


def test_exit_0_when_no_design_fits() -> None:
    # compare is a report; check is the gate
    result = compare(*SPECS, "--max-params", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith("0 of 4 fit: max_params <= 1")
    assert all(line.endswith("no: max_params") for line in result.stdout.splitlines()[3:])


def test_without_limits_there_is_no_fits_column() -> None:
    assert "fits" not in compare(*SPECS).stdout


# ---------------------------------------------------------------- sorting


@pytest.mark.parametrize("by", SORTS)
@pytest.mark.parametrize("reverse", [False, True])
def test_sort(by: str, reverse: bool) -> None:
    specs = [*SPECS, SPECS[0]]  # a tie: it keeps the order given
    limits = ["--max-params", "400K"]
    given = document(*specs, *limits)["designs"]
    flags = ["--reverse"] if reverse else []
    found = document(*specs, *limits, "--sort", by, *flags)
    assert (found["sort"], found["reverse"]) == (by, reverse)

    def key(design: dict[str, Any]) -> Any:
        field = {"fits": "fits", "index": "index", "spec": "spec"}.get(by) or FIELDS[by]
        return not design["fits"] if by == "fits" else design[field]

    assert found["designs"] == sorted(given, key=key, reverse=reverse)


def test_sort_by_params_smallest_first_in_the_table() -> None:
    lines = compare(*SPECS, "--sort", "params").stdout.splitlines()[3:]
    params = [int(line.split()[2].replace(",", "")) for line in lines]
    assert params == sorted(params)
    assert [int(line.split()[0]) for line in lines] == [4, 3, 2, 1]


def test_ties_keep_the_order_given_reversed_too() -> None:
    found = document("3->2", "3->2", "3->2", "--sort", "params", "--reverse")
    assert [design["index"] for design in found["designs"]] == [1, 2, 3]


def test_sort_by_fits_needs_a_limit() -> None:
    result = compare("3->2", "--sort", "fits")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Error: Invalid value for --sort: fits needs a limit, such as --max-params" in result.stderr


# ---------------------------------------------------------------- where designs come from


def test_sweeps_follow_the_specs() -> None:
    found = document("3->2", "--sweep", "3->{4,5}", "--sweep", "3->{1..2}->1")
    designs = found["designs"]
    assert [d["source"] for d in designs] == ["3->2", "3->4", "3->5", "3->1->1", "3->2->1"]
    assert [d["origin"] for d in designs] == [
        "argument 1",
        "sweep 1, design 1",
        "sweep 1, design 2",
        "sweep 2, design 1",
        "sweep 2, design 2",
    ]
    assert [d["spec"] for d in document("--sweep", "3->{4,5}")["designs"]] == ["3->4", "3->5"]
    assert document("--sweep", "3->{4,5}")["designs"][1]["origin"] == "sweep design 2"


def test_a_list_file(tmp_path: Path) -> None:
    (tmp_path / "designs.txt").write_text("# baseline\n784->512->10 relu  # the first\n\n3->2\n")
    found = document(f"@{tmp_path / 'designs.txt'}", "4->2")
    assert [(d["origin"], d["source"]) for d in found["designs"]] == [
        (f"{tmp_path / 'designs.txt'}:2", "784->512->10 relu"),
        (f"{tmp_path / 'designs.txt'}:4", "3->2"),
        ("argument 2", "4->2"),
    ]


def test_a_list_on_stdin() -> None:
    found = document("-", stdin="3->2\n# no\n3->4\n")
    assert [(d["origin"], d["spec"]) for d in found["designs"]] == [("stdin:1", "3->2"), ("stdin:3", "3->4")]


def test_a_model_file_in_a_list_is_found_beside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = ROOT / "tests" / "golden" / "keras_files" / "keras-3.15.1"
    entry = json.loads((folder / "index.json").read_text())["models"]["mnist"]
    (tmp_path / "models").mkdir()
    shutil.copy(folder / "mnist.json", tmp_path / "models" / "mnist.json")
    (tmp_path / "models" / "list.txt").write_text("mnist.json\n")
    monkeypatch.chdir(tmp_path)
    found = document("@models/list.txt", "models/mnist.json")
    assert [d["spec"] for d in found["designs"]] == [str(run("spec", entry["spec"]).stdout.strip())] * 2


DESIGN_ERRORS = [
    (["3->2", "3->2:rleu"], "Error: invalid spec: argument 2: unknown activation 'rleu' (column 6)"),
    (["--sweep", "3->{2,0}"], "Error: invalid spec: sweep design 2: "),
    (["3->2", "--sweep", "3->1", "--sweep", "3->{2,x}"], "Error: invalid spec: sweep 2, design 2: "),
    (["3->{2,4}"], "Braces expand in a --sweep pattern, not in a SPEC."),
    (["--sweep", "3->{2,4"], "Error: invalid spec: '{' is never closed (column 4)\n  3->{2,4\n     ^^^^\n"),
]


@pytest.mark.parametrize(("args", "message"), DESIGN_ERRORS)
def test_an_invalid_design_is_named(args: list[str], message: str) -> None:
    result = compare(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_line_is_named_with_its_caret(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("3->2\n\n3->4:rleu\n")
    result = compare(f"@{tmp_path / 'd.txt'}")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(
        f"Error: invalid spec: {tmp_path / 'd.txt'}:3: unknown activation 'rleu' (column 6)\n"
        "  3->4:rleu\n"
        "       ^^^^\n"
    )
    result = compare("-", stdin="3->2\n3->?\n")
    assert result.stderr.startswith("Error: invalid spec: stdin:2: ")


USAGE_ERRORS = [
    ([], "no designs: give SPECs, @FILE (one spec a line), - (stdin) or --sweep PATTERN"),
    (["@"], "'@' names no file: write @FILE, or - for stdin"),
    (["@no-such-file.txt"], "cannot read the specs from no-such-file.txt: No such file or directory"),
    (["-", "-"], "stdin holds one list of specs, read already"),
    (["3->2", "--json", "--format", "csv"], "--json and --format csv contradict each other"),
    (["3->2", "--max-params", "lots"], "--max-params: expected a whole number, received 'lots'"),
    (["3->2", "--mixed-precision", "--dtype", "float16"], "mixed precision keeps float32 weights"),
    (["3->2", "--output-shape", "ten"], "--output-shape: expected the output shape without the batch"),
    (["3->2", "--sort", "size"], "Invalid value for '--sort': 'size' is not one of"),
    (
        ["--sweep", "3->{1..5000}", "--sweep", "3->{1..5001}"],
        f"more than {MAX_DESIGNS:,} designs: compare them",
    ),
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = compare(*args, stdin="3->2\n")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert message in " ".join(result.stderr.split()), result.stderr


def test_files_that_are_not_lists(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("3->2 # caf\xe9\n".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    result = compare(f"@{tmp_path / 'latin.txt'}")
    assert result.exit_code == 2 and "latin.txt is not UTF-8 text" in result.stderr
    result = compare(f"@{tmp_path / 'empty.txt'}")
    assert (
        result.exit_code == 2 and "empty.txt holds no spec: one a line, '#' starts a comment" in result.stderr
    )


def test_user_text_is_shown_as_text(tmp_path: Path) -> None:
    # no markup is read in a spec, and no control character reaches the terminal
    result = compare("3->2", "[bold red]3->2\x1b[2J")
    assert result.exit_code == 2
    assert "[bold red]3->2?[2J" in result.stderr and "\x1b" not in result.stderr
    name = tmp_path / "bad\x1bname.txt"
    result = compare(f"@{name}")
    assert result.exit_code == 2 and "\x1b" not in result.stderr and "\\x1b" in result.stderr


def test_notes_once_on_stderr_and_each_in_json() -> None:
    result = compare("3->2", "20x16->32->8", "--sweep", "20x{4,8}->3")
    assert result.exit_code == 0
    notes = result.stderr.splitlines()
    assert notes[0].startswith("Note: argument 2: dense acts on the last axis of its input (None, 20, 16)")
    assert notes[1:] == ["Note: 2 more designs with notes: --json lists each design's"]
    found = document("3->2", "20x16->32->8")
    assert "notes" not in found["designs"][0]
    assert (
        found["designs"][1]["notes"] == json.loads(run("summary", "20x16->32->8", "--json").stdout)["notes"]
    )


# ---------------------------------------------------------------- speed, start-up, progress


def test_a_thousand_designs_make_a_thousand_rows() -> None:
    # How long they take is benchmarks/run.py's to measure (a second at most), not a test's.
    result = compare("--sweep", "784->{1..1000}->10 relu", "--max-params", "400K", "--format", "csv")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1001


def test_designs_too_deep_in_all_are_refused_as_they_are_read() -> None:
    # 800 designs of 2 to 801 layers: 321,200 layers, which would take minutes and gigabytes; the
    # refusal names the design that crosses the line (the 706th: 2 + 3 + ... + 707 > 250,000).
    result = compare("--sweep", "8->4*{1..800}->2", "--format", "csv")
    assert result.exit_code == 2
    assert result.stdout == ""
    crossing = next(n for n in range(1, 801) if sum(k + 1 for k in range(1, n + 1)) > MAX_TOTAL_LAYERS)
    assert f"the designs up to sweep design {crossing} hold" in result.stderr


def test_compare_does_not_import_numpy() -> None:
    code = (
        "import sys; sys.argv = ['mlpcalc', 'compare', '3->2', '--max-params', '10', '--json'];"
        "import atexit; atexit.register(lambda: sys.stderr.write('NUMPY ' + str('numpy' in sys.modules)));"
        "from mlpcalc.cli import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith("NUMPY False")


class FakeBar:
    made: list[int] = []  # noqa: RUF012  # the totals of the bars made, for the test to read
    task_ids = (0,)

    def __init__(self, total: int) -> None:
        FakeBar.made.append(total)
        self.completed = 0
        self.stopped = False

    def update(self, task: int, completed: int) -> None:
        self.completed = completed

    def stop(self) -> None:
        self.stopped = True


@pytest.mark.parametrize("terminal", [True, False])
def test_a_progress_bar_when_it_takes_a_while_on_a_terminal(
    terminal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeBar.made = []
    monkeypatch.setattr(compare_module, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(compare_module, "_terminal", lambda: terminal)
    monkeypatch.setattr(compare_module, "_bar", FakeBar)
    result = compare("--sweep", "3->{1..100}", "--format", "csv")
    assert result.exit_code == 0
    assert FakeBar.made == ([100] if terminal else [])
    assert result.stderr == ""


def test_the_bar_draws_on_its_console() -> None:
    from rich.console import Console

    out = io.StringIO()
    bar = compare_module._bar(10, Console(file=out, force_terminal=True, width=80))
    bar.update(bar.task_ids[0], completed=5)
    bar.refresh()
    bar.stop()
    assert "5/10" in out.getvalue()
