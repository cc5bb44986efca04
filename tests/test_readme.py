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
    """Each `$ mlpcalc ...` line of a console block, with the output shown under it."""
    found = []
    for block in BLOCKS:
        for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
            if chunk.startswith("$ mlpcalc "):
                command, _, output = chunk.partition("\n")
                found.append((command[2:], output))
    return found


EXAMPLES = examples()


@pytest.mark.parametrize(("command", "output"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_example_runs_and_prints_what_the_readme_shows(command: str, output: str) -> None:
    result = CliRunner().invoke(app, shlex.split(command)[1:], env={"COLUMNS": "80"})
    expected_code = 2 if output.startswith("Error:") else 0
    assert result.exit_code == expected_code, result.stderr
    if output:  # a block that shows no output checks the exit code alone
        assert result.stdout + result.stderr == output


def _options(command: typer.main.TyperCommand | typer.main.TyperGroup) -> set[str]:
    return {
        name for param in command.params for name in param.opts if name.startswith("--") and name != "--help"
    }


def test_every_command_and_option_has_an_example() -> None:
    group = typer.main.get_command(app)
    lines = [command for command, _ in EXAMPLES]
    for option in _options(group):
        assert any(option in line for line in lines), option
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        mine = [line for line in lines if f"mlpcalc {name} " in line or f" {name} " in line]
        assert mine, name
        for option in _options(command):
            assert any(option in line for line in mine), f"{name} {option}"


def test_python_api_example() -> None:
    block = re.search(r"```pycon\n(.*?)```", README, flags=re.S)
    assert block is not None
    test = doctest.DocTestParser().get_doctest(block.group(1), {}, "README", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert runner.summarize(verbose=False).attempted >= 8
