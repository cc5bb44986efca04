"""Defects found by trying mlpcalc as a hostile and as a new user would: each reproduced here
first, then fixed. Grouped as the issue lists them."""

from __future__ import annotations

import json

import pytest
from test_cli import run

# ---------------------------------------------------------------- a spec is a spec, whatever its first character


@pytest.mark.parametrize(
    "args",
    [
        ["check", "->512:tanh", "--max-params", "1", "--json"],  # its h was read as -h: help, exit 0
        ["forward", "->10:softmax"],  # its o and q were read as -o and -q
        ["summary", "->10", "--json"],
        ["variables", "-5->3"],
        ["costs", "--batch", "2", "->h"],
        ["init", "->q", "-o", "never-written.npz"],
        ["diff", "3->2", "->h"],
    ],
)
def test_a_spec_starting_with_a_dash_is_a_spec(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: invalid spec: ")
    assert "Usage:" not in result.stderr


def test_options_still_work_around_a_dashed_spec() -> None:
    result = run("summary", "--name", "-x", "3->2", "--json")  # an option's value may start with '-'
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "-x"
    both = run("diff", "->3", "3->2")  # the order of the two specs is kept: A is the bad one
    assert both.exit_code == 2 and "  ->3\n" in both.stderr


def test_a_mistyped_option_is_still_an_option() -> None:
    result = run("summary", "3->2", "--jsn")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: No such option: --jsn. Did you mean --json?")


def test_debug_is_accepted_after_the_command() -> None:
    result = run("summary", "3->2", "--name", "a/b", "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "ModelError" in result.stderr
