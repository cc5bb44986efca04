"""The shell completions: committed as generated from the CLI, and they really complete."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from generate_completions import OUT, scripts  # noqa: E402

SCRIPTS = scripts()


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_committed_script_is_what_the_cli_generates(name: str) -> None:
    assert (OUT / name).read_text() == SCRIPTS[name], "run: python scripts/generate_completions.py"


def complete(*words: str) -> list[str]:
    """What bash offers for the last word of `mlpcalc WORDS`."""
    line = " ".join(f"'{word}'" for word in ("mlpcalc", *words))
    script = (
        f"source '{OUT / 'mlpcalc.bash'}'; COMP_WORDS=({line}); COMP_CWORD={len(words)}; "
        '_mlpcalc; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_bash_completes_commands_options_and_values() -> None:
    assert complete("su") == ["summary"]
    assert complete("forward", "784->10", "--in") == ["--init", "--input"]
    assert complete("forward", "784->10", "--init", "he") == ["he_uniform", "he_normal"]
    assert complete("summary", "x", "--dtype", "") == ["float32", "bfloat16", "float16", "int8", "float64"]
    assert complete("forward", "x", "--dtype", "") == ["float32", "float64", "float16"]
    assert complete("summary", "leaky") == ["leaky_relu"]
    assert "--flops-convention" in complete("costs", "x", "--")


def test_bash_completes_inside_a_quoted_spec() -> None:
    assert complete("summary", '"784->512:re') == ['"784->512:relu']
    assert complete("summary", '"784->512->b') == ['"784->512->batchnorm', '"784->512->bn']


def test_bash_finds_the_command_after_global_options() -> None:
    assert complete("--debug", "summary", "x", "--sty") == ["--style"]


def test_bash_offers_nothing_for_a_free_value() -> None:
    assert complete("forward", "x", "--batch", "") == []
    assert complete("check", "x", "--max-params", "") == []


@pytest.mark.parametrize(
    ("shell", "name", "flag"), [("zsh", "_mlpcalc", "-n"), ("fish", "mlpcalc.fish", "--no-execute")]
)
def test_other_shells_parse_their_script(shell: str, name: str, flag: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    subprocess.run([shell, flag, str(OUT / name)], check=True)


def test_every_choice_is_offered() -> None:
    # For each option with a closed list of values, bash offers exactly what the CLI accepts.
    import typer

    from mlpcalc.cli import app

    checked = 0
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            choices = getattr(param.type, "choices", None)
            if choices:
                assert complete(name, "x", param.opts[0], "") == list(choices), (name, param.opts)
                checked += 1
    assert checked >= 10


def test_every_spec_word_is_offered_and_parses() -> None:
    from mlpcalc.core.activations import KINDS
    from mlpcalc.core.spec import parse_spec

    words = complete("summary", "")
    assert set(KINDS) | {"bn", "batchnorm", "ln", "layernorm", "dropout", "nobias"} == set(words)
    for word in words:  # each one offered is one the parser takes
        parse_spec({"dropout": "8->dropout(0.5)", "nobias": "8->4:nobias"}.get(word, f"8->{word}"))
