"""Conventions of a good CLI, across commands: --json everywhere, '-' and '@file', colours."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from test_cli import run

from mlpcalc.cli import app


def test_every_command_has_json() -> None:
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert any("--json" in param.opts for param in command.params), name


def test_spec_from_stdin() -> None:
    result = runner_input("784->512->10 relu\n", "summary", "-", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total_params"] == 784 * 512 + 512 + 512 * 10 + 10


def runner_input(text: str, *args: str):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    return CliRunner().invoke(app, list(args), input=text, env={"COLUMNS": "80"})


def test_spec_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "model.spec").write_text("  20x16->32:gelu->8\n")
    result = run("variables", f"@{tmp_path / 'model.spec'}", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["spec"] == "20x16->32:gelu->8"


def test_spec_file_errors(tmp_path: Path) -> None:
    result = run("summary", f"@{tmp_path / 'nothing.spec'}")
    assert result.exit_code == 2
    assert "cannot read the spec from" in result.stderr
    (tmp_path / "bad.spec").write_text("784->rleu")
    bad = run("summary", f"@{tmp_path / 'bad.spec'}")
    assert bad.exit_code == 2
    assert "  784->rleu" in bad.stderr


@pytest.mark.parametrize(
    ("env", "coloured"), [({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False)]
)
def test_colour_switches(env: dict[str, str], coloured: bool) -> None:
    result = run("summary", "3->2->2", TERM="xterm-256color", **env)
    assert result.exit_code == 0
    assert "Total params" in result.stdout
    assert ("\x1b[38;5;34m" in result.stdout) is coloured


def test_quiet_where_output_is_optional(tmp_path: Path) -> None:
    # A command that failed would print nothing too: each must also have done its work.
    forward = run("forward", "3->2", "--quiet", "-o", str(tmp_path / "y.npy"))
    assert (forward.exit_code, forward.stdout, forward.stderr) == (0, "", "")
    assert np.load(tmp_path / "y.npy").shape == (4, 2)  # the default 4 rows
    init = run("init", "3->2", "-o", str(tmp_path / "w.npz"), "--quiet")
    assert (init.exit_code, init.stdout, init.stderr) == (0, "", "")
    with np.load(tmp_path / "w.npz") as archive:
        assert sorted(archive.files) == ["dense/bias", "dense/kernel"]
    within = run("check", "3->2", "--max-params", "100", "--quiet")
    over = run("check", "3->2", "--max-params", str(3 * 2 + 2 - 1), "--quiet")  # one under its 8
    assert [(r.exit_code, r.stdout, r.stderr) for r in (within, over)] == [(0, "", ""), (1, "", "")]
