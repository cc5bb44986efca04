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


# "784->4096*3->10 relu": 784 x 4096 + 4096, twice 4096 x 4096 + 4096, then 4096 x 10 + 10.
WIDE_PARAMS = 784 * 4096 + 4096 + 2 * (4096 * 4096 + 4096) + 4096 * 10 + 10
# Its training step on a batch of 32, float32, Adam (docs/costs.md works the rule out): weights and
# gradients, Adam's two moments plus its iteration and learning rate, and what the backward pass
# keeps, each Dense's input (784, then 4096 three times) and the three ReLU Dense's results.
WIDE_TRAINING = 2 * 4 * WIDE_PARAMS + (2 * 4 * WIDE_PARAMS + 2 * 4) + 32 * 4 * (784 + 3 * 4096 + 3 * 4096)
MIB = 2**20


def exceeded(allowed: int, actual: int, unit: str = "") -> str:
    """How check words a limit exceeded: allowed, actual, and by how much."""
    by = actual - allowed
    return f"{allowed:,}{unit} allowed, {actual:,}{unit} ({by:+,}, {by / allowed:+.1%})"


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
        f"  wide   FAIL  max_params: {exceeded(10**6, WIDE_PARAMS)}  [pyproject.toml:14]",
        f"               max_training_bytes: {exceeded(100 * MIB, WIDE_TRAINING, ' B')}  [pyproject.toml:15]",
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
    assert f"params: 9 expected, {3 * 2 + 2} (-1, {-1 / 9:+.1%})  [mlpcalc.toml:3]" in result.stdout


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
    weights = 4 * (16 * 32 + 32 + 32 * 8 + 8)  # float32
    assert f"max_weights_bytes: {exceeded(1024, weights, ' B')}" in over.stdout


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--max-params", "10"], "--max-params set an inline check and need a SPEC"),
        (["--dtype", "float16"], "--dtype set an inline check and need a SPEC"),
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
        "key": "max_params", "expected": 1_000_000, "actual": WIDE_PARAMS, "ok": False,
        "by": WIDE_PARAMS - 1_000_000, "file": "pyproject.toml", "line": 14,
    }  # fmt: skip


def test_github_annotations_on_stderr(project: Path) -> None:
    result = run("check", "--json", GITHUB_ACTIONS="true")
    json.loads(result.stdout)  # stdout stays pure JSON
    assert result.stderr.splitlines()[0] == (  # '%' escaped as %25 in an annotation
        "::error file=pyproject.toml,line=14,title=mlpcalc check::wide: max_params: "
        + exceeded(10**6, WIDE_PARAMS).replace("%", "%25")
    )
    assert run("check").stderr == ""  # only under GitHub Actions


def test_quiet_keeps_the_exit_code(project: Path) -> None:
    result = run("check", "--quiet")
    assert (result.exit_code, result.stdout) == (1, "")


def test_pre_commit_hook_is_declared() -> None:
    hooks = (Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text()
    assert "id: mlpcalc-check" in hooks
    assert "entry: mlpcalc check" in hooks


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # dotted keys under [models]
        (
            '[models]\na.spec = "784->10"\n\n\na.max_param = 10\n',
            "mlpcalc.toml:5: [a] max_param: unknown key",
        ),
        # a quoted table name
        (
            '# budgets\n\n[models."my.model"]\nspec = "784->10"\nmax_params = "x"\n',
            "mlpcalc.toml:5: [my.model] max_params",
        ),
        # an inline table
        ('[models]\n\nm = { spec = "784->10", max_params = "x" }\n', "mlpcalc.toml:3: [m] max_params"),
        # comments and blank lines between the header and the key
        (
            '[models.m]\n# the spec\nspec = "784->10"\n\n# limits\noutput_shape = "ten"\n',
            "mlpcalc.toml:6: [m] output_shape",
        ),
        # a sub-table is not a budget value
        (
            '[models.m]\nspec = "784->10"\nmax_params = 9\n[models.m.extra]\nx = 1\n',
            "mlpcalc.toml:4: [m] extra: unknown key",
        ),
    ],
)
def test_line_numbers_in_other_toml_layouts(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "mlpcalc.toml").write_text(content)
    result = run("check", "--config", str(tmp_path / "mlpcalc.toml"))
    assert result.exit_code == 2
    assert message in result.stderr


def test_models_that_are_not_tables(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mlpcalc]\nmodels = 3\n")
    result = run("check", "--config", str(tmp_path / "pyproject.toml"))
    assert result.exit_code == 2
    assert "pyproject.toml:2: tool.mlpcalc.models: expected tables of budgets, received 3" in result.stderr


def test_files_are_read_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    (tmp_path / "mlpcalc.toml").write_bytes(
        '# budgets — mnist\n[models.m]\nspec = "3->2"\nparams = 8\n'.encode()
    )
    assert run("check", "--config", str(tmp_path / "mlpcalc.toml")).exit_code == 0
    (tmp_path / "latin1.toml").write_bytes(b"# caf\xe9\n[models.m]\n")
    result = run("check", "--config", str(tmp_path / "latin1.toml"))
    assert result.exit_code == 2
    assert "not UTF-8 text (byte 5)" in result.stderr


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("2.01 MB", 201 * 10**6 // 100),  # exactly, where 2.01 * 10**6 in floats is 2009999.9999999998
        ("1.5 KiB", 3 * 1024 // 2),
        ("3GB", 3 * 10**9),
        (1e6, 10**6),
        ("7", 7),
        # A fraction of a byte rounds down to a whole one.
        ("1.6 MiB", 16 * 2**20 // 10),
        ("1.5 B", 1),
    ],
)
def test_sizes_are_exact(size: object, expected: int) -> None:
    from mlpcalc.budgets import make_budget

    budget = make_budget("m", {"spec": "3->2", "max_weights_bytes": size})
    assert budget.limits["max_weights_bytes"] == expected


@pytest.mark.parametrize(("size", "message"), [(1e300, "write it as an integer")])
def test_sizes_refused(size: object, message: str) -> None:
    from mlpcalc.budgets import BudgetError, make_budget

    with pytest.raises(BudgetError, match=message):
        make_budget("m", {"spec": "3->2", "max_weights_bytes": size})


def test_mixed_precision_needs_float32(tmp_path: Path) -> None:
    (tmp_path / "mlpcalc.toml").write_text(
        '[models.m]\nspec = "3->2"\nparams = 8\ndtype = "float16"\nmixed_precision = true\n'
    )
    result = run("check", "--config", str(tmp_path / "mlpcalc.toml"))
    assert result.exit_code == 2
    assert "mixed_precision: mixed precision keeps float32 weights, received dtype float16" in result.stderr


def test_annotations_are_escaped_and_relative_to_the_workspace(tmp_path: Path) -> None:
    from mlpcalc.render.check import annotation

    folder = tmp_path / "odd, name: here"
    folder.mkdir()
    text = annotation("50% over\nbudget", str(folder / "mlpcalc.toml"), 3, str(tmp_path))
    assert (
        text
        == "::error file=odd%2C name%3A here/mlpcalc.toml,line=3,title=mlpcalc check::50%25 over%0Abudget\n"
    )
    assert annotation("x", None, None) == "::error title=mlpcalc check::x\n"


def test_a_wrong_config_is_annotated_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mlpcalc.toml").write_text('[models.m]\nspec = "3->2"\nmax_param = 8\n')
    monkeypatch.chdir(tmp_path)
    result = run("check", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "::error file=mlpcalc.toml,line=3,title=mlpcalc check::mlpcalc.toml:3: [m] max_param"
    )
