"""`mlpcalc --help` into a pipe or a file is drawn without typer or rich (render/typer_help.py),
from the texts scripts/generate_command_list.py writes into mlpcalc/cli/command_list.py: the
same text as typer's at every width, texts that are the CLI's, and typer's own drawing
wherever the plain one would not be typer's (a terminal, colours asked for, another program
name, a width too narrow)."""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text
from test_process import MLPCALC
from test_startup import imported
from typer.testing import CliRunner

from mlpcalc.cli import app
from mlpcalc.cli.command_list import COMMAND_LIST
from mlpcalc.render.typer_help import MIN_WIDTH, plain_help, rich_lines

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def typer_help(width: int, program: str = "mlpcalc") -> str:
    done = runner.invoke(app, ["--help"], env={"COLUMNS": str(width)}, prog_name=program)
    assert done.exit_code == 0
    return done.output


def generator() -> ModuleType:
    path = ROOT / "scripts" / "generate_command_list.py"
    spec = importlib.util.spec_from_file_location("generate_command_list", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_command_list_holds_the_clis_texts() -> None:
    # A command added, an option or a help text changed: the module must be written again.
    written = generator()
    module = written.module_text(written.group_help(), written.program())
    assert (ROOT / "mlpcalc" / "cli" / "command_list.py").read_text() == module


@pytest.mark.parametrize("width", [*range(MIN_WIDTH, 241), 300, 500, 1000])
def test_the_plain_list_is_typers_text(width: int) -> None:
    assert plain_help(COMMAND_LIST, "mlpcalc", width) == typer_help(width)


def test_narrower_it_is_left_to_rich() -> None:
    assert plain_help(COMMAND_LIST, "mlpcalc", MIN_WIDTH - 1) is None


@settings(max_examples=400)
@given(st.text(alphabet=" \nab-:(", max_size=50), st.integers(1, 24))
def test_lines_wrap_as_rich_wraps_them(text: str, width: int) -> None:
    lines = rich_lines(text, width)
    if lines is None:  # rich folds a word wider than the line (a line's first with its indent)
        assert max(map(_widest_word, text.split("\n"))) > width
        return
    console = Console(width=width, file=io.StringIO(), color_system=None)
    assert lines == [line.plain.rstrip() for line in Text(text).wrap(console, width)]


def _widest_word(line: str) -> int:
    words = line.split()
    indent = len(line) - len(line.lstrip())
    return max([indent + len(words[0]), *map(len, words)]) if words else 0


def test_text_rich_might_draw_otherwise_is_left_to_it() -> None:
    assert rich_lines("déjà vu", 40) is None
    assert rich_lines("a\tb", 40) is None


# ------------------------------------------------------------------ the process


def run(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    kept = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    return subprocess.run(
        args, capture_output=True, text=True, check=False, timeout=60,
        env={**kept, "COLUMNS": "80", **environment},
    )  # fmt: skip


@pytest.mark.skipif(not MLPCALC, reason="the mlpcalc script is not installed")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_the_console_script_prints_typers_list(flag: str) -> None:
    done = run(MLPCALC, flag)
    assert (done.returncode, done.stdout, done.stderr) == (0, typer_help(80), "")


def test_the_plain_list_imports_neither_typer_nor_rich() -> None:
    modules = imported("import sys; sys.argv = ['mlpcalc', '--help']; from mlpcalc.cli import main; main()")
    assert not {"typer", "rich", "click"} & modules


@pytest.mark.skipif(not MLPCALC, reason="the mlpcalc script is not installed")
def test_colours_asked_for_are_typers_to_draw() -> None:
    done = run(MLPCALC, "--help", FORCE_COLOR="1")
    assert done.returncode == 0 and "\x1b[" in done.stdout


@pytest.mark.skipif(not MLPCALC, reason="the mlpcalc script is not installed")
@pytest.mark.parametrize(
    "environment",
    [
        {"TYPER_USE_RICH": "0"},  # click's own help, no panels
        {"PYTHONIOENCODING": "gb18030"},  # not UTF-8: rich draws ASCII boxes
        {"PYTHONIOENCODING": "ascii"},
        {"COLUMNS": "0"},  # rich takes it as it is
        {"COLUMNS": "39"},
        {"TERMINAL_WIDTH": "100"},
        {"GITHUB_ACTIONS": "true"},
        {"PY_COLORS": "1"},
        {"TTY_COMPATIBLE": "1"},
        {"NO_COLOR": "1"},
        {"TERM": "dumb"},
        {"COLUMNS": "²"},  # digits to rich, which fails on them: dropped, as Python drops them
        {"_MLPCALC_COMPLETE": "bash_complete"},  # click's shell completion, not help
    ],
)
def test_the_list_is_typers_in_every_environment(environment: dict[str, str]) -> None:
    # `--debug --help` always runs typer: the reference for what `--help` must do.
    drawn, typer_drew = (
        run(MLPCALC, "--help", **environment),
        run(MLPCALC, "--debug", "--help", **environment),
    )
    assert (drawn.returncode, drawn.stdout, drawn.stderr) == (
        typer_drew.returncode,
        typer_drew.stdout,
        typer_drew.stderr,
    )
    assert typer_drew.returncode == 0 or "_MLPCALC_COMPLETE" in environment


def test_another_program_name_is_typers_to_draw() -> None:
    done = run(sys.executable, "-m", "mlpcalc", "--help")
    assert done.returncode == 0
    assert done.stdout == typer_help(80, program="python -m mlpcalc")


@pytest.mark.skipif(not MLPCALC, reason="the mlpcalc script is not installed")
def test_a_narrow_console_is_typers_to_draw() -> None:
    done = run(MLPCALC, "--help", COLUMNS="30")
    assert done.returncode == 0 and done.stdout == typer_help(30)


@pytest.mark.skipif(not MLPCALC, reason="the mlpcalc script is not installed")
def test_a_reader_gone_ends_the_list_quietly() -> None:
    environment = {**os.environ, "COLUMNS": "80"}
    with subprocess.Popen(
        [MLPCALC, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # before it writes: its write meets a pipe with no reader
        assert (process.wait(timeout=60), process.stderr.read()) == (0, b"")
