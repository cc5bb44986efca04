"""The shell completions: committed as generated from the CLI, shipped in the package, printed and
installed by `mlpcalc completions`, and they complete right in the real shells.

bash, zsh and fish run interactively under a pseudo-terminal, with the script loaded as a user
loads it; the test types a command line and TAB, then reads the line back through a key bound to
write it to a file: what the user would see. bash's candidates (COMPREPLY, as readline set
COMP_LINE, COMP_POINT and the word for it) and fish's (`complete -C`) are written too. CI installs
the three shells (.ci/run) and bash-completion; elsewhere a missing one skips its tests, saying so
(and fails them when MLPCALC_REQUIRE_SHELLS is set, as .ci/run sets it).
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import shlex
import shutil
import signal
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlpcalc.cli import app
from mlpcalc.cli.completions import SCRIPTS, script
from mlpcalc.core.activations import KINDS
from mlpcalc.core.layers import NAMED_LAYERS
from mlpcalc.core.spec import parse_spec

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from generate_completions import OUT, scripts  # noqa: E402

GENERATED = scripts()
SHELLS = ["bash", "zsh", "fish"]
ACTIVATIONS = sorted(KINDS)
LAYER_WORDS = sorted([*NAMED_LAYERS, "dropout(", *KINDS])
OPTION_WORDS = sorted([*KINDS, "nobias"])


# ---------------------------------------------------------------- the scripts


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_committed_script_is_what_the_cli_generates(name: str) -> None:
    assert (OUT / name).read_text(encoding="utf-8") == GENERATED[name], (
        "run: python scripts/generate_completions.py"
    )


def test_the_scripts_are_in_the_package() -> None:
    assert OUT == ROOT / "mlpcalc" / "completions"
    assert sorted(SCRIPTS.values()) == sorted(GENERATED)
    for shell, name in SCRIPTS.items():
        assert script(shell) == GENERATED[name]


# ---------------------------------------------------------------- mlpcalc completions

runner = CliRunner()


@pytest.mark.parametrize("shell", sorted(SCRIPTS))
def test_completions_prints_the_script(shell: str) -> None:
    result = runner.invoke(app, ["completions", shell])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == GENERATED[SCRIPTS[shell]]


def test_completions_json() -> None:
    result = runner.invoke(app, ["completions", "zsh", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document == {
        "schema": "mlpcalc/completions/v1",
        "shell": "zsh",
        "script": GENERATED["_mlpcalc"],
        "installed": None,
    }


@pytest.mark.parametrize("args", [["tcsh"], [], ["bash", "zsh"]])
def test_completions_of_an_unknown_shell_is_a_usage_error(args: list[str]) -> None:
    result = runner.invoke(app, ["completions", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder, without XDG variables: where --install writes."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return folder


INSTALLED = {
    "bash": ".local/share/bash-completion/completions/mlpcalc",
    "zsh": ".zfunc/_mlpcalc",
    "fish": ".config/fish/completions/mlpcalc.fish",
}


@pytest.mark.parametrize("shell", sorted(INSTALLED))
def test_install_writes_where_the_shell_looks(shell: str, home: Path) -> None:
    target = home / INSTALLED[shell]
    first = runner.invoke(app, ["completions", shell, "--install"])
    assert (first.exit_code, first.stderr) == (0, "")
    assert first.stdout.startswith(f"wrote {target}\n")
    assert target.read_text(encoding="utf-8") == GENERATED[SCRIPTS[shell]]
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    again = runner.invoke(app, ["completions", shell, "--install", "--json"])
    assert again.exit_code == 0
    assert json.loads(again.stdout)["installed"] == str(target)
    assert [path.name for path in target.parent.iterdir()] == [target.name]  # no temporary file left


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_install_follows_xdg_folders(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for shell, path in [
        ("bash", "data/bash-completion/completions/mlpcalc"),
        ("fish", "config/fish/completions/mlpcalc.fish"),
    ]:
        assert runner.invoke(app, ["completions", shell, "--install"]).exit_code == 0
        assert (home / path).read_text(encoding="utf-8") == GENERATED[SCRIPTS[shell]]


def test_install_replaces_an_older_script_of_ours(home: Path) -> None:
    target = home / INSTALLED["fish"]
    target.parent.mkdir(parents=True)
    target.write_text(
        "# mlpcalc shell completion, generated by scripts/generate_completions.py from an old CLI\n"
    )
    result = runner.invoke(app, ["completions", "fish", "--install"])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == GENERATED["mlpcalc.fish"]


def test_install_keeps_a_file_that_is_not_ours(home: Path) -> None:
    target = home / INSTALLED["bash"]
    target.parent.mkdir(parents=True)
    target.write_text("complete -F _my_own mlpcalc\n")
    result = runner.invoke(app, ["completions", "bash", "--install"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{target} exists and mlpcalc did not write it: it is kept" in result.stderr
    assert target.read_text() == "complete -F _my_own mlpcalc\n"


@pytest.mark.parametrize("kind", ["folder", "link", "fifo"])
def test_install_never_writes_over_anything_but_a_regular_file(kind: str, home: Path) -> None:
    target = home / INSTALLED["fish"]
    target.parent.mkdir(parents=True)
    elsewhere = home / "mine.fish"
    elsewhere.write_text("# mine\n")
    if kind == "folder":
        target.mkdir()
    elif kind == "link":
        target.symlink_to(elsewhere)
    else:
        os.mkfifo(target)
    result = runner.invoke(app, ["completions", "fish", "--install"])
    assert result.exit_code == 2
    assert f"cannot install to {target}: it is" in result.stderr
    assert elsewhere.read_text() == "# mine\n"
    assert target.is_symlink() if kind == "link" else not target.is_file()


def test_install_for_powershell_says_what_to_do(home: Path) -> None:
    result = runner.invoke(app, ["completions", "powershell", "--install"])
    assert result.exit_code == 2
    assert "Invoke-Expression" in result.stderr
    assert list(home.iterdir()) == []


def test_install_reports_a_folder_it_cannot_make(home: Path) -> None:
    (home / ".zfunc").write_text("a file where the folder goes\n")
    result = runner.invoke(app, ["completions", "zsh", "--install"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot install to ")


# ---------------------------------------------------------------- driving the shells


def missing(what: str) -> None:
    """Skip, saying what is missing; in CI (.ci/run installs the shells) fail instead."""
    if os.environ.get("MLPCALC_REQUIRE_SHELLS"):
        pytest.fail(f"{what}, and MLPCALC_REQUIRE_SHELLS is set (.ci/run installs it)")
    pytest.skip(f"{what}: .ci/run installs it with apt-get")


KEY_WRITE_LINE = b"\x18\x04"  # Ctrl-X Ctrl-D: bound to append the line to a file
KEY_WRITE_CANDIDATES = b"\x18\x0b"  # Ctrl-X Ctrl-K (fish): append `complete -C` of the line
KEY_CLEAR = b"\x15"  # Ctrl-U: empty the line for the next one
COMPINIT = "autoload -U compinit && compinit -u -d ~/.zcompdump"


@dataclass(frozen=True)
class Completed:
    line: str  # the command line after TAB
    offered: list[str] | None  # bash's COMPREPLY, fish's candidates; None for zsh (and bash set up otherwise)


class Session:
    """An interactive shell under a pseudo-terminal, with mlpcalc's completion loaded as
    `setup` says; `tab` types a line and TAB and reports what the shell made of it."""

    def __init__(self, shell: str, folder: Path, setup: str = "") -> None:
        if shutil.which(shell) is None:
            missing(f"{shell} is not installed")
        self.shell, self.probed = shell, shell == "fish" or (shell == "bash" and not setup)
        self.lines_file, self.offered_file = folder / "lines", folder / "offered"
        home, work = folder / "home", folder / "work"
        home.mkdir(exist_ok=True)
        work.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "TERM": "dumb",
            "LC_ALL": "C.UTF-8",
            "OFFERED": str(folder / "offered"),
        }
        lines, offered = self.lines_file, self.offered_file
        if shell == "bash":
            probe = (  # what the completion function replies, to what bash hands it
                '_mlpcalc_probe() { _mlpcalc "$@"; printf "%s\\t" "${COMPREPLY[@]}" >> "$OFFERED"; '
                'echo >> "$OFFERED"; }\n'
                "complete -F _mlpcalc_probe mlpcalc\n"
            )
            rc = folder / "bashrc"
            rc.write_text(
                f"PS1='READY> '\n{setup or f'source {OUT / SCRIPTS[shell]}'}\n{'' if setup else probe}"
                f'bind -x \'"\\C-x\\C-d": printf "%s\\n" "$READLINE_LINE" >> {lines}\'\n'
            )
            argv = ["bash", "--noprofile", "--rcfile", str(rc), "-i"]
        elif shell == "zsh":
            (home / ".zshrc").write_text(
                "PS1='READY> '\n"
                f"{setup or f'fpath=({OUT} $fpath) && {COMPINIT}'}\n"
                f'_write_line() {{ print -r -- "$BUFFER" >> {lines} }}\n'
                "zle -N _write_line\nbindkey '^X^D' _write_line\n"
            )
            env["ZDOTDIR"] = str(home)
            argv = ["zsh", "-i"]
        else:
            candidates = 'complete -C (commandline -cp) | string replace -r "\\t.*" "" | string join \\t'
            init = (
                "function fish_prompt; echo -n 'READY> '; end; "
                f"{setup or f'source {OUT / SCRIPTS[shell]}'}; "
                f"bind \\cx\\cd 'commandline >> {lines}'; "
                f"bind \\cx\\ck 'echo ({candidates}) >> {offered}'"
            )
            argv = ["fish", "-i", "-C", init]
            if not setup:
                argv.insert(1, "--no-config")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child becomes the shell
            os.chdir(work)
            os.execvpe(argv[0], argv, env)
        self.screen = b""
        self._wait(lambda: b"READY>" in self.screen, "the prompt")
        self.count = 0

    def tab(self, line: str, tabs: int = 1) -> Completed:
        keys = line.encode() + (KEY_WRITE_CANDIDATES if self.shell == "fish" else b"")
        os.write(self.fd, keys + b"\t" * tabs + KEY_WRITE_LINE)
        self.count += 1
        self._wait(lambda: len(self._read(self.lines_file)) >= self.count, f"the line after {line!r}<TAB>")
        os.write(self.fd, KEY_CLEAR)
        offered = None
        if self.probed:
            records = self._read(self.offered_file)
            offered = [word for word in records[-1].split("\t") if word] if records else []
            self.offered_file.unlink(missing_ok=True)
        return Completed(self._read(self.lines_file)[self.count - 1], offered)

    def close(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)

    @staticmethod
    def _read(path: Path) -> list[str]:
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    def _wait(self, done: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                shown = self.screen[-2000:].decode(errors="replace")
                raise AssertionError(f"{self.shell}: no {what} after {timeout} s; the screen:\n{shown}")
            if select.select([self.fd], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):  # the shell is gone: the timeout will say so
                    self.screen += os.read(self.fd, 65536)


@pytest.fixture(scope="module", params=SHELLS)
def session(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """One interactive shell of each kind for the module: bash and fish with the script sourced,
    zsh with it autoloaded from $fpath."""
    shell = Session(request.param, tmp_path_factory.mktemp(request.param))
    yield shell
    shell.close()


@pytest.fixture(scope="module")
def bash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    shell = Session("bash", tmp_path_factory.mktemp("bash"))
    yield shell
    shell.close()


@pytest.fixture(scope="module")
def fish(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    shell = Session("fish", tmp_path_factory.mktemp("fish"))
    yield shell
    shell.close()


# ---------------------------------------------------------------- the defects of the issue, each first


def test_a_quoted_spec_stays_open_and_unescaped(session: Session) -> None:
    # fish made `"784->512:re` `\"784-\>512:relu ` (escaped, then a space); bash closed the
    # quote, so that ->10 typed next became a redirection to a file named 10.
    completed = session.tab('mlpcalc summary "784->512:re')
    assert completed.line == 'mlpcalc summary "784->512:relu'
    assert shlex.split(completed.line + '->10"') == ["mlpcalc", "summary", "784->512:relu->10"]
    single = session.tab("mlpcalc summary '784->512->dro")
    assert single.line == "mlpcalc summary '784->512->dropout("


def test_an_unquoted_spec_is_not_completed_into_a_redirection(session: Session) -> None:
    # bash made `784->` `784->>` and `784->512:re` `784->512:relu`: the shell reads both as
    # mlpcalc summary 784- with its output sent to a file. Nothing is offered there. (zsh and fish
    # complete a redirection's target themselves, with file names: the folder here has none.)
    for line in ["mlpcalc summary 784->512:re", "mlpcalc summary 784->", "mlpcalc summary 784->512->10 re"]:
        completed = session.tab(line)
        assert completed.line == line
        assert completed.offered in ([], None)


def test_a_default_activation_is_one_candidate(session: Session) -> None:
    # bash offered two words, `"784->512->10` and `relu`. The default activation ends the spec:
    # there the quote closes and a space follows, ready for an option.
    completed = session.tab('mlpcalc summary "784->512->10 re')
    assert completed.offered in (["784->512->10 relu"], None)
    assert completed.line == 'mlpcalc summary "784->512->10 relu" '
    with_argument = session.tab('mlpcalc summary "784->512->10 gel')  # gelu(tanh) may follow
    assert with_argument.line == 'mlpcalc summary "784->512->10 gelu'


def _head(spec: str) -> str:
    """The spec without the name being typed at its end."""
    end = len(spec)
    while end and (spec[end - 1].isalnum() or spec[end - 1] == "_"):
        end -= 1
    return spec[:end]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("784->512:", OPTION_WORDS),  # after ':': an activation or nobias, never bn
        ("784->512:b", []),
        ("784->512:no", ["nobias", "nobias->"]),  # and how the spec goes on: the quote stays open
        ("784->512->", LAYER_WORDS),  # after '->': a layer, never nobias
        ("784->512->no", []),
        ("784->512->10 ", ACTIVATIONS),  # after a space at the end: the default activation
        ("784->512->10 b", []),
        ("784->512->10 no", []),
        ("784 re", []),  # the input, then an arrow: no activation yet
        ("784->512->10 relu re", []),  # one default activation
        ("784->dropout(", []),  # a rate: the user's to type
        ("784->512*", []),  # a repeat count too
        ("784->512:relu:", OPTION_WORDS),
        ("784->dropout(0.5) ", ACTIVATIONS),
        ("20x16 -> 32 : ", OPTION_WORDS),  # white space around the tokens
        ("784->relu:", []),  # ':' belongs to a Dense
    ],
)
def test_spec_words_only_where_the_grammar_allows_them(bash: Session, spec: str, words: list[str]) -> None:
    offered = bash.tab(f'mlpcalc summary "{spec}').offered
    assert offered is not None
    assert sorted(offered) == sorted(_head(spec) + word for word in words)


@pytest.mark.parametrize(
    ("spec", "words"),
    [("784->512:", OPTION_WORDS), ("784->512->", LAYER_WORDS), ("784->512->10 ", ACTIVATIONS)],
)
def test_every_word_offered_parses_in_its_place(
    bash: Session, fish: Session, spec: str, words: list[str]
) -> None:
    for shell in (bash, fish):
        offered = shell.tab(f'mlpcalc summary "{spec}').offered
        assert offered is not None
        assert sorted(offered) == sorted(spec + word for word in words), shell.shell
    for word in words:  # with what the user types after it (a rate, an argument)
        text = spec + word + ("0.5)" if word.endswith("(") else "")
        parse_spec(text if spec.endswith(" ") else text + "->4")


def test_the_unicode_arrow_needs_no_quotes(session: Session) -> None:
    completed = session.tab("mlpcalc summary 784→512:re")
    assert completed.line == "mlpcalc summary 784→512:relu"
    assert session.tab("mlpcalc summary 784→512→l").line == "mlpcalc summary 784→512→l"


# ---------------------------------------------------------------- commands, options, values


def test_commands_options_and_values(session: Session) -> None:
    cases = {
        "mlpcalc su": "mlpcalc summary ",
        "mlpcalc --debug summary x --sty": "mlpcalc --debug summary x --style ",
        'mlpcalc forward "784->10" --init he_n': 'mlpcalc forward "784->10" --init he_normal ',
        "mlpcalc summary x --dtype=bf": "mlpcalc summary x --dtype=bfloat16 ",
        "mlpcalc completions f": "mlpcalc completions fish ",
        "mlpcalc forward x --batch ": "mlpcalc forward x --batch ",  # a number: nothing
    }
    for line, expected in cases.items():
        assert session.tab(line).line == expected


def test_an_option_of_two_values_is_skipped_whole(session: Session) -> None:
    # --layer-range takes two values: bash and zsh counted the second as the spec, and then
    # offered nothing for the spec after it.
    completed = session.tab('mlpcalc summary --layer-range dense dense_1 "784->512:re')
    assert completed.line == 'mlpcalc summary --layer-range dense dense_1 "784->512:relu'
    assert session.tab('mlpcalc summary "784->10" --layer-range dense ').offered in ([], None)  # a name


def test_bash_offers_exactly_what_the_cli_accepts(bash: Session) -> None:
    import typer

    assert bash.tab("mlpcalc ").offered == [
        *(name for name in typer.main.get_command(app).commands),  # type: ignore[attr-defined]
        "--version",
        "--debug",
        "--help",
        "-h",
    ]
    checked = 0
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            choices = [str(choice) for choice in getattr(param.type, "choices", None) or []]
            if choices and param.param_type_name == "option":
                assert bash.tab(f"mlpcalc {name} x {param.opts[0]} ").offered == choices, (name, param.opts)
                checked += 1
            elif choices:
                assert bash.tab(f"mlpcalc {name} ").offered == choices, name
        options = [opt for param in command.params for opt in param.opts if opt.startswith("-")]
        expected = {opt for opt in [*options, "--help"] if opt.startswith("--")}
        assert set(bash.tab(f"mlpcalc {name} --").offered or []) == expected, name
    assert checked >= 10
    assert bash.tab("mlpcalc check x --max-params ").offered == []
    assert bash.tab('mlpcalc summary "784->10" ').offered == [
        opt
        for param in typer.main.get_command(app).commands["summary"].params
        for opt in param.opts  # type: ignore[attr-defined]
        if opt.startswith("-")
    ] + ["--help", "-h"]


def test_file_names_for_files(session: Session) -> None:
    work = session.lines_file.parent / "work"
    (work / "model.spec").write_text("784->10\n")
    try:
        assert (
            session.tab("mlpcalc summary @mod").line == "mlpcalc summary @model.spec "
        )  # a spec from a file
        assert session.tab("mlpcalc check mod").line == "mlpcalc check model.spec "  # a budget file
        assert (
            session.tab("mlpcalc forward x --weights mod").line == "mlpcalc forward x --weights model.spec "
        )
    finally:
        (work / "model.spec").unlink()


# ---------------------------------------------------------------- loaded as a user loads them


@pytest.mark.parametrize("shell", SHELLS)
def test_installed_completions_load_in_a_new_shell(shell: str, tmp_path: Path) -> None:
    """`--install`, then a new shell finds the script where it looks for completions: bash through
    bash-completion, zsh on $fpath, fish in its completions folder (for a command on the PATH)."""
    home = tmp_path / "home"
    home.mkdir()
    result = runner.invoke(
        app,
        ["completions", shell, "--install"],
        env={"HOME": str(home), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": ""},
    )
    assert result.exit_code == 0, result.stderr
    if shell == "bash":
        loader = Path("/usr/share/bash-completion/bash_completion")
        if not loader.exists():
            missing("bash-completion is not installed")
        setup = f"source {loader}"
    elif shell == "zsh":
        setup = f"fpath=(~/.zfunc $fpath) && {COMPINIT}"
    else:
        stub = home / "bin" / "mlpcalc"
        stub.parent.mkdir()
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
        setup = f"set PATH {stub.parent} $PATH"
    session = Session(shell, tmp_path, setup)
    try:
        assert session.tab('mlpcalc summary "784->512:re').line == 'mlpcalc summary "784->512:relu'
    finally:
        session.close()


def test_zsh_completions_sourced_after_compinit(tmp_path: Path) -> None:
    session = Session("zsh", tmp_path, f"{COMPINIT} && source {OUT / '_mlpcalc'}")
    try:
        assert session.tab('mlpcalc summary "784->512:re').line == 'mlpcalc summary "784->512:relu'
    finally:
        session.close()
