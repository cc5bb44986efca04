"""The README's examples really run, print what it shows, and cover every command and option."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mlpcalc.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```console\n(.*?)```", README, flags=re.S)


def examples() -> list[tuple[str, str]]:
    """Each `$ ...` line of a console block, with the output shown under it. Three forms run:
    `mlpcalc ...`, `echo "TEXT" | mlpcalc ...` and `echo "TEXT" > FILE`."""
    found = []
    for block in BLOCKS:
        for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
            if chunk.startswith(("$ mlpcalc ", "$ echo ")):
                command, _, output = chunk.partition("\n")
                found.append((command[2:], output))
    return found


FILES = re.findall(r"```toml\n# (\S+)\n(.*?)```", README, flags=re.S)  # blocks the examples use as files


EXAMPLES = examples()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for all the examples, run in order: a file one writes, a later one reads.
    The README's TOML blocks that start with `# NAME` are written there as files NAME."""
    folder = tmp_path_factory.mktemp("readme")
    for name, body in FILES:
        (folder / name).write_text(f"# {name}\n{body}")
    return folder


def matches(actual: str, expected: str) -> bool:
    """Line by line; an expected line ending in '…' matches any line that starts like it."""
    actual_lines, expected_lines = actual.splitlines(), expected.splitlines()
    if expected_lines and expected_lines[-1].endswith("…") and len(actual_lines) > len(expected_lines):
        actual_lines = actual_lines[: len(expected_lines)]  # a trailing elision stands for the rest
    if len(actual_lines) != len(expected_lines):
        return False
    return all(
        a.startswith(e[:-1]) if e.endswith("…") else a == e
        for a, e in zip(actual_lines, expected_lines, strict=True)
    )


@pytest.mark.parametrize(("command", "output"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_example_runs_and_prints_what_the_readme_shows(
    command: str, output: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    stdin = None
    if command.startswith("echo "):
        words = shlex.split(command)
        if words[2] == ">":  # echo "TEXT" > FILE
            (workdir / words[3]).write_text(words[1] + "\n")
            return
        stdin, command = words[1] + "\n", command.split("| ", 1)[1]  # echo "TEXT" | mlpcalc ...
    result = CliRunner().invoke(app, shlex.split(command)[1:], input=stdin, env={"COLUMNS": "80"})
    expected_code = 2 if output.startswith("Error:") else 1 if "over budget" in output.split("\n")[0] else 0
    assert result.exit_code == expected_code, result.stderr
    if output:  # a block that shows no output checks the exit code alone
        shown = result.stdout + result.stderr
        assert shown == output if "…" not in output else matches(shown, output), shown


def _options(command: typer.main.TyperCommand | typer.main.TyperGroup) -> list[tuple[str, ...]]:
    """Each option's names (--output, -o); --help aside."""
    return [
        tuple(param.opts)
        for param in command.params
        if param.opts[0].startswith("-") and "--help" not in param.opts
    ]


def _shown(names: tuple[str, ...], line: str) -> bool:
    return any(re.search(rf"(^|\s){re.escape(name)}(\s|$)", line) for name in names)


def test_every_command_and_option_has_an_example() -> None:
    group = typer.main.get_command(app)
    lines = [command for command, _ in EXAMPLES if command.startswith("mlpcalc") or "| mlpcalc" in command]
    for option in _options(group):
        assert any(_shown(option, line) for line in lines), option
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        mine = [line for line in lines if f"mlpcalc {name} " in line or f" {name} " in line]
        assert mine, name
        for option in _options(command):
            assert any(_shown(option, line) for line in mine), f"{name} {option}"


def test_python_api_example() -> None:
    block = re.search(r"```pycon\n(.*?)```", README, flags=re.S)
    assert block is not None
    test = doctest.DocTestParser().get_doctest(block.group(1), {}, "README", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert runner.summarize(verbose=False).attempted >= 8
