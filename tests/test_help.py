"""`--help` of mlpcalc and of every command: usage, every option, examples, and the examples run.

The commands are found by walking the typer app, not from a list kept here: a new command is
tested as soon as it is registered.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from mlpcalc.cli import app
from mlpcalc.core.spec import parse_spec

runner = CliRunner()  # help at 200 columns unless told: rich wraps no example and no option name


def _walk(path: tuple[str, ...], command: Any, found: dict[tuple[str, ...], Any]) -> None:
    found[path] = command
    for name, sub in getattr(command, "commands", {}).items():
        _walk((*path, name), sub, found)


def all_commands() -> dict[tuple[str, ...], Any]:
    """Every click command of the app by its words: () for mlpcalc itself, ("summary",), ..."""
    found: dict[tuple[str, ...], Any] = {}
    _walk((), typer.main.get_command(app), found)
    return found


COMMANDS = all_commands()
PATHS = sorted(COMMANDS)
IDS = [" ".join(("mlpcalc", *path)) for path in PATHS]


def show_help(path: tuple[str, ...], flag: str = "--help", columns: int = 200) -> Any:
    return runner.invoke(app, [*path, flag], env={"COLUMNS": str(columns)})


def panel_rows(text: str) -> dict[str, list[list[str]]]:
    """The rows of each panel of a rich help (Arguments, Options, Commands), as lists of words,
    without the '*' that marks a required argument or option."""
    panels: dict[str, list[list[str]]] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("╭─"):
            title = line.strip("╭╮─ ")
            panels[title] = []
        elif line.startswith("│") and title is not None:
            words = line.strip("│ ").split()
            panels[title].append(words[1:] if words[:1] == ["*"] else words)
    return panels


def listed_names(text: str) -> set[str]:
    """The option names of the Options panel (the leading words of its rows) and the command
    names of the Commands panel."""
    panels = panel_rows(text)
    names = set()
    for words in panels.get("Options", []):
        for word in words:
            if not word.startswith("-"):
                break
            names.add(word)
    names.update(words[0] for words in panels.get("Commands", []) if words)
    return names


EXAMPLE = re.compile(r"(?:Examples?:\s+)?mlpcalc\s+(.+)")


def examples(text: str) -> list[list[str]]:
    """The example command lines of a help text, as argument lists without 'mlpcalc'."""
    found = []
    for line in text.splitlines():
        match = EXAMPLE.fullmatch(line.strip())  # a row of a panel starts with │: never an example
        if match:
            found.append(shlex.split(match.group(1)))
    return found


def test_the_app_has_commands() -> None:
    assert len(PATHS) > 1
    assert () in COMMANDS


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_help_prints_usage_on_stdout_alone(path: tuple[str, ...]) -> None:
    result = show_help(path)
    assert result.exit_code == 0
    assert result.stderr == ""
    usage = " ".join(("Usage: mlpcalc", *path))
    assert any(line.strip().startswith(usage + " ") for line in result.stdout.splitlines()), result.stdout
    assert show_help(path, "-h").stdout == result.stdout  # -h is --help


@pytest.mark.parametrize("columns", [80, 200])  # a common terminal, and a wide one
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_help_lists_every_option_argument_and_command(path: tuple[str, ...], columns: int) -> None:
    command = COMMANDS[path]
    text = show_help(path, columns=columns).stdout
    listed = listed_names(text)
    assert {"--help", "-h"} <= listed
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "option":
            for name in (*param.opts, *param.secondary_opts):
                assert name in listed, f"{name} is missing from the help of {' '.join(path)}"
        else:  # an argument: a row of the Arguments panel, by its metavar
            arguments = [words[0] for words in panel_rows(text)["Arguments"] if words]
            assert (param.metavar or param.name.upper()) in arguments
    for name in getattr(command, "commands", {}):
        assert name in listed, f"command {name} is missing from mlpcalc --help"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_help_shows_examples_of_the_command(path: tuple[str, ...]) -> None:
    found = examples(show_help(path).stdout)
    assert found, f"no example in the help of {' '.join(('mlpcalc', *path))}"
    for args in found:
        if path:
            assert tuple(args[: len(path)]) == path, args  # an example of this command
        else:
            assert (args[0],) in COMMANDS, args  # a command that exists


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_examples_fit_an_80_column_terminal(path: tuple[str, ...]) -> None:
    # Each example is one line a user can copy, in an 80-column terminal too (they broke over two
    # lines in costs, check and forward, whose docstrings were wrapped wider than that).
    assert examples(show_help(path, columns=80).stdout) == examples(show_help(path).stdout)
    prose = show_help(path, columns=80).stdout.split("Examples:")[0]
    assert all(len(line.rstrip()) <= 80 for line in prose.splitlines())


EXAMPLES = [(path, args) for path in PATHS for args in examples(show_help(path).stdout)]

# What the examples of `check` presuppose: a budget file, here one whose budgets hold.
BUDGETS = '[models.mnist]\nspec = "784->512->10 relu"\nmax_params = 1000000\n'


def option_value(args: list[str], *names: str) -> str | None:
    """The value given to the first of `names` in `args`, if any."""
    for index, arg in enumerate(args[:-1]):
        if arg in names:
            return args[index + 1]
    return None


def prepare(args: list[str], folder: Path) -> None:
    """Make the files an example reads, as a user following it would have them in `folder`."""
    spec = args[1] if len(args) > 1 and not args[1].startswith("-") else None
    if (weights := option_value(args, "--weights")) is not None:
        assert spec is not None
        made = runner.invoke(app, ["init", spec, "-o", str(folder / weights)])
        assert made.exit_code == 0, made.stderr
    written = option_value(args, "-o", "--output")
    for arg in args[1:]:  # the model files it reads, made by export from a spec
        target = {".keras": "keras-archive", ".onnx": "onnx"}.get(Path(arg).suffix)
        if target is not None and arg != written:
            made = runner.invoke(
                app, ["export", "784->512->10 relu", "--to", target, "-o", str(folder / arg)]
            )
            assert made.exit_code == 0, made.stderr
    if (inputs := option_value(args, "--input")) is not None:
        assert spec is not None
        rows = np.random.default_rng(0).standard_normal((5, *parse_spec(spec).input_shape))
        np.save(folder / inputs, rows.astype(np.float32))
    if args[0] == "check":  # the budget files it names (by their .toml), or the one found
        named = [arg for arg in args[1:] if arg.endswith(".toml")]
        for name in named or ([] if spec else ["mlpcalc.toml"]):
            config = folder / name
            config.parent.mkdir(parents=True, exist_ok=True)
            table = "[tool.mlpcalc.models.mnist]" if config.name == "pyproject.toml" else "[models.mnist]"
            config.write_text(BUDGETS.replace("[models.mnist]", table))


@pytest.mark.parametrize(
    "args",
    [args for _, args in EXAMPLES],
    ids=[f"{' '.join(('mlpcalc', *path, '--help'))}: {shlex.join(args)}" for path, args in EXAMPLES],
)
def test_every_example_in_the_help_runs(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a folder of its own, so that the files an example writes (-o weights.npz) land there.
    monkeypatch.chdir(tmp_path)
    prepare(args, tmp_path)
    result = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, f"mlpcalc {shlex.join(args)}\n{result.stderr}"
    assert result.stderr == ""
    assert result.stdout.strip(), "the example printed nothing"
    if (output := option_value(args, "-o", "--output")) is not None:
        assert (tmp_path / output).stat().st_size > 0
