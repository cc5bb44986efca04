"""`mlpcalc check`: budgets from files or inline; exit 0, 1 or 2; JSON and GitHub annotations."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from test_cli import flat, run, schema

from mlpcalc.budgets import find_config

PYPROJECT = """\
[project]
name = "demo"

[tool.mlpcalc.models.mnist]
spec = "784->512->10 relu"
params = 407050
max_params = 500000
output_shape = [10]
max_weights_bytes = "2 MiB"
max_flops = 1e6

[tool.mlpcalc.models.wide]
spec = "784->4096*3->10 relu"
max_params = 1e6
max_training_bytes = "100 MiB"
batch = 32
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_failing_budget_exits_1_with_what_how_much_and_where(project: Path) -> None:
    result = run("check")
    assert result.exit_code == 1
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "pyproject.toml: 2 models, 1 over budget",
        "  mnist  ok    5 budgets hold (784->512:relu->10)",
        "  wide   FAIL  max_params: 1,000,000 allowed, 36,818,954 (+35,818,954, +3581.9%)"
        "  [pyproject.toml:14]",
        "               max_training_bytes: 104,857,600 B allowed, 592,349,352 B (+487,491,752, +464.9%)"
        "  [pyproject.toml:15]",
    ]


def test_all_budgets_holding_exits_0(project: Path) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT.split("[tool.mlpcalc.models.wide]")[0])
    result = run("check")
    assert result.exit_code == 0
    assert result.stdout.startswith("pyproject.toml: 1 model, all within budget\n")


def test_the_config_is_found_from_a_subfolder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(project / "src" / "deep")
    assert run("check").exit_code == 1
    assert find_config(project / "src" / "deep") == project / "pyproject.toml"


def test_mlpcalc_toml_and_config_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "budgets.toml").write_text('[models.tiny]\nspec = "3->2"\nparams = 8\n')
    monkeypatch.chdir(tmp_path)
    assert run("check").exit_code == 2  # budgets.toml is not a name that is looked for
    assert run("check", "--config", "budgets.toml").exit_code == 0
    (tmp_path / "mlpcalc.toml").write_text('[models.tiny]\nspec = "3->2"\nparams = 9\n')
    result = run("check")
    assert result.exit_code == 1
    assert "params: 9 expected, 8 (-1, -11.1%)  [mlpcalc.toml:3]" in result.stdout


def test_pyproject_without_budgets_is_passed_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    monkeypatch.chdir(tmp_path)
    result = run("check")
    assert result.exit_code == 2
    assert "no mlpcalc.toml, nor pyproject.toml with [tool.mlpcalc]" in flat(result.stderr)


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        (
            'spec = "784->10"\nmax_param = 5',
            "budgets.toml:3: [m] max_param: unknown key; did you mean 'max_params'?",
        ),
        (
            'spec = "784->10"\nmax_params = "lots"',
            "budgets.toml:3: [m] max_params: expected a whole number, received 'lots'",
        ),
        (
            'spec = "784->10"\nmax_params = 1.5',
            "budgets.toml:3: [m] max_params: expected a whole number, received 1.5",
        ),
        (
            'spec = "784->10"\nmax_weights_bytes = "2 MB per layer"',
            "budgets.toml:3: [m] max_weights_bytes: expected a size",
        ),
        (
            'spec = "784->10"\noutput_shape = "ten"',
            "budgets.toml:3: [m] output_shape: expected the output shape",
        ),
        (
            'spec = "784->10"\noptimizer = "adamm"\nmax_params = 1',
            "budgets.toml:3: [m] optimizer: expected one of sgd",
        ),
        (
            'spec = "784->rleu"\nmax_params = 1',
            "budgets.toml:2: [m] spec: unknown layer or activation 'rleu'",
        ),
        ("max_params = 1", "budgets.toml:1: [m] spec: expected the model's spec as a string, received None"),
        ('spec = "784->10"', "budgets.toml:2: [m] spec: no limits to check"),
    ],
)
def test_wrong_budgets_exit_2_naming_file_line_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: str, message: str
) -> None:
    (tmp_path / "budgets.toml").write_text("[models.m]\n" + budget + "\n")
    monkeypatch.chdir(tmp_path)
    result = run("check", "--config", "budgets.toml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: " + message)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[models.m\n", "not valid TOML"),
        ("[models]\n", "no [models.NAME] table: nothing to check"),
        ("[models]\nm = 3\n", "expected a table of budgets"),
    ],
)
def test_broken_files(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "mlpcalc.toml").write_text(content)
    result = run("check", "--config", str(tmp_path / "mlpcalc.toml"))
    assert result.exit_code == 2
    assert message in result.stderr


def test_inline() -> None:
    ok = run(
        "check", "784->512->10 relu", "--params", "407050", "--max-params", "1e6", "--output-shape", "10"
    )
    assert (ok.exit_code, ok.stdout) == (
        0,
        "inline: 1 model, all within budget\n  inline  ok    3 budgets hold (784->512:relu->10)\n",
    )
    over = run("check", "20x16->32->8", "--output-shape", "20x9", "--max-weights-bytes", "1 KiB")
    assert over.exit_code == 1
    assert "output_shape: (20, 9) expected, (20, 8)" in over.stdout
    assert "max_weights_bytes: 1,024 B allowed, 3,232 B (+2,208, +215.6%)" in over.stdout


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--max-params", "10"], "limits given inline need a SPEC"),
        (["3->2"], "nothing to check"),
        (["3->2", "--max-params", "10", "--config", "x.toml"], "checked inline, not against --config"),
        (["3->2", "--max-params", "10", "--json", "--quiet"], "it prints nothing"),
    ],
)
def test_inline_mistakes(args: list[str], complaint: str) -> None:
    result = run("check", *args)
    assert result.exit_code == 2
    assert complaint in flat(result.stderr)


def test_json_report(project: Path) -> None:
    result = run("check", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema("check"))
    assert document["ok"] is False
    wide = document["models"][1]
    assert wide["checks"][0] == {
        "key": "max_params", "expected": 1_000_000, "actual": 36_818_954, "ok": False, "by": 35_818_954,
        "file": "pyproject.toml", "line": 14,
    }  # fmt: skip


def test_github_annotations_on_stderr(project: Path) -> None:
    result = run("check", "--json", GITHUB_ACTIONS="true")
    json.loads(result.stdout)  # stdout stays pure JSON
    assert result.stderr.splitlines()[0] == (
        "::error file=pyproject.toml,line=14,title=mlpcalc check::wide: max_params: 1,000,000 allowed, "
        "36,818,954 (+35,818,954, +3581.9%25)"
    )
    assert run("check").stderr == ""  # only under GitHub Actions


def test_quiet_keeps_the_exit_code(project: Path) -> None:
    result = run("check", "--quiet")
    assert (result.exit_code, result.stdout) == (1, "")


def test_pre_commit_hook_is_declared() -> None:
    hooks = (Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text()
    assert "id: mlpcalc-check" in hooks
    assert "entry: mlpcalc check" in hooks
