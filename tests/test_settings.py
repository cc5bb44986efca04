"""Option rules live once, in costs/settings.py: every command refuses the same settings alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import run

from mlpcalc.core.errors import SettingsError
from mlpcalc.costs.settings import Settings

SPEC = "784->512->10 relu"
# Each command given the same settings: (arguments before the options, and after them).
COMMANDS = {
    "summary": (["summary", SPEC], []),
    "costs": (["costs", SPEC], []),
    "check": (["check", SPEC], ["--max-params", "1000000"]),
    "diff": (["diff", SPEC, "784->256->10 relu"], []),
}
RULES = {
    "int8 cannot train": (
        ["--dtype", "int8", "--optimizer", "adam"],
        "--optimizer",
        "Keras cannot build int8",
    ),
    "mixed precision keeps float32": (
        ["--dtype", "float16", "--mixed-precision", "--optimizer", "adam"],
        "--mixed-precision",
        "mixed precision keeps float32 weights, received dtype float16",
    ),
}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_alike(command: str, rule: str) -> None:
    before, after = COMMANDS[command]
    options, option, reason = RULES[rule]
    result = run(*before, *options, *after)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert option in result.stderr and reason in result.stderr
    assert result.stderr.startswith("Error: ")


@pytest.mark.parametrize("command", COMMANDS)
def test_int8_alone_is_fine_everywhere(command: str) -> None:
    before, after = COMMANDS[command]
    assert run(*before, "--dtype", "int8", *after).exit_code == 0


@pytest.mark.parametrize(
    ("budget", "line"),
    [
        ('dtype = "int8"\noptimizer = "adam"\n', "budgets.toml:5: [m] optimizer: Keras cannot build int8"),
        (
            'dtype = "float16"\nmixed_precision = true\n',
            "budgets.toml:5: [m] mixed_precision: mixed precision keeps float32 weights",
        ),
    ],
)
def test_budget_files_follow_the_same_rules(tmp_path: Path, budget: str, line: str) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text(f'[models.m]\nspec = "3->2"\nmax_params = 100\n{budget}')
    result = run("check", "--config", str(path))
    assert result.exit_code == 2
    assert line in result.stderr


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"dtype": "int4"}, "dtype"),
        ({"optimizer": "adamm"}, "optimizer"),
        ({"flops_convention": "fvcor"}, "flops_convention"),
        ({"dtype": "int8", "optimizer": "sgd"}, "optimizer"),
        ({"dtype": "bfloat16", "mixed_precision": True}, "mixed_precision"),
        ({"batch": 0}, "batch"),
    ],
)
def test_settings_are_checked_at_construction(values: dict[str, object], key: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings(**values)  # type: ignore[arg-type]
    assert raised.value.key == key


def test_defaults() -> None:
    settings = Settings()
    assert (settings.dtype, settings.optimizer, settings.samples) == ("float32", None, 1)
    assert settings.training_optimizer.name == "adam"  # what training memory assumes
    assert Settings(dtype="int8").training_optimizer.name == "adam"
