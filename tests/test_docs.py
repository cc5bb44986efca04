"""The documentation's examples really run and print what they show, and together cover every command and
option. The documentation is README.md, CONTRIBUTING.md and every docs/*.md; each file's examples run in a
folder of their own, in order, so each file can be followed on its own.

In a ```console block every `$ ` line runs, in one of four forms: `mlpcalc ...`, `NAME=VALUE mlpcalc ...`
(an environment variable for that command), `echo "TEXT" | mlpcalc ...` and `echo "TEXT" > FILE`; the lines
under it, up to the next `$ `, are what it prints (stdout, then stderr); a command shown without output is
checked by its exit code alone. A ```toml block whose first line is `# NAME` is written to that file's folder
as NAME before its examples run. Every ```pycon block is a doctest."""

from __future__ import annotations

import doctest
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner

from mlpcalc.cli import app

ROOT = Path(__file__).parent.parent
DOCUMENTS = {
    path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
    for path in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
}
README = DOCUMENTS["README.md"]

# What the examples run in, whatever the shell running the tests has: an 80-column terminal, no GitHub
# Actions (which adds annotations to `check`), no colour settings, and as home the example's own folder, so
# that `completions --install` writes nothing outside it. An example sets a variable with
# `NAME=VALUE mlpcalc ...`.
ENVIRONMENT: dict[str, str | None] = {
    "COLUMNS": "80",
    "GITHUB_ACTIONS": None,
    "GITHUB_WORKSPACE": None,
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "XDG_CONFIG_HOME": None,
    "XDG_DATA_HOME": None,
}
ASSIGNMENT = re.compile(r"[A-Z_][A-Z0-9_]*=\S*")


@dataclass(frozen=True)
class Example:
    document: str
    line: str  # as shown, after `$ `
    output: str

    @property
    def words(self) -> list[str]:
        return shlex.split(self.line)

    @property
    def mlpcalc(self) -> list[str] | None:
        """The words from `mlpcalc` on, when the line runs mlpcalc."""
        words = self.words
        if words[0] == "echo" and len(words) > 3 and words[2] == "|":
            words = words[3:]
        while words and ASSIGNMENT.fullmatch(words[0]):
            words = words[1:]
        return words if words and words[0] == "mlpcalc" else None

    @property
    def environment(self) -> dict[str, str]:
        """The variables a `NAME=VALUE mlpcalc ...` line sets."""
        words = self.words
        if words[0] == "echo":
            return {}
        assignments = words[: words.index("mlpcalc")] if "mlpcalc" in words else []
        return dict(word.split("=", 1) for word in assignments)

    @property
    def writes_file(self) -> bool:
        words = self.words
        return words[0] == "echo" and len(words) == 4 and words[2] == ">"

    def __str__(self) -> str:
        return f"{self.document}: {self.line}"


def console_blocks(text: str) -> list[str]:
    return re.findall(r"```console\n(.*?)```", text, flags=re.S)


def examples(document: str) -> list[Example]:
    """Each `$ ...` line of the document's console blocks, with the output shown under it."""
    found = []
    for block in console_blocks(DOCUMENTS[document]):
        for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
            if chunk:
                command, _, output = chunk.partition("\n")
                found.append(Example(document, command.removeprefix("$ "), output))
    return found


EXAMPLES = [example for document in DOCUMENTS for example in examples(document)]


def test_the_documentation_is_all_there() -> None:
    assert {"README.md", "CONTRIBUTING.md"} <= DOCUMENTS.keys()
    assert any(name.startswith("docs/") for name in DOCUMENTS)


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_every_console_line_is_a_command_that_runs(example: Example) -> None:
    """No text in a console block escapes the tests: each chunk starts with `$ ` and is a form they run."""
    assert example.mlpcalc is not None or example.writes_file, f"not a form the tests run: {example}"
    if example.writes_file:
        assert not example.output, "`echo ... > FILE` prints nothing"


def test_console_blocks_start_with_a_command() -> None:
    for document, text in DOCUMENTS.items():
        for block in console_blocks(text):
            assert block.startswith("$ "), f"{document}: a console block that starts with output:\n{block}"


@pytest.fixture(scope="module")
def workdirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A folder for each document, where its examples run in order (a file one writes, a later one reads).
    The document's TOML blocks that start with `# NAME` are written there as files NAME."""
    folders = {}
    for document, text in DOCUMENTS.items():
        folder = tmp_path_factory.mktemp(re.sub(r"\W", "_", document))
        files = re.findall(r"```toml\n# (\S+)\n(.*?)```", text, flags=re.S)
        names = [name for name, _ in files]
        assert len(names) == len(set(names)), f"{document}: two TOML blocks write the same file"
        for name, body in files:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(f"# {name}\n{body}", encoding="utf-8")
        folders[document] = folder
    return folders


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


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_example_runs_and_prints_what_the_documentation_shows(
    example: Example, workdirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = workdirs[example.document]
    monkeypatch.chdir(workdir)
    words = example.words
    if example.writes_file:  # echo "TEXT" > FILE
        (workdir / words[3]).write_text(words[1] + "\n", encoding="utf-8")
        return
    argv = example.mlpcalc
    assert argv is not None, f"not a form the tests run: {example}"
    stdin = words[1] + "\n" if words[0] == "echo" else None  # echo "TEXT" | mlpcalc ...
    env = ENVIRONMENT | {"HOME": str(workdir)} | example.environment
    result = CliRunner().invoke(app, argv[1:], input=stdin, env=env)
    output = example.output
    expected_code = 2 if output.startswith("Error:") else 1 if "over budget" in output.split("\n")[0] else 0
    assert result.exit_code == expected_code, result.stdout + result.stderr
    if output:  # a command that shows no output checks the exit code alone
        shown = result.stdout + result.stderr
        assert shown == output if "…" not in output else matches(shown, output), shown


def _options(command: TyperCommand | TyperGroup) -> list[tuple[str, ...]]:
    """Each option's names (--output, -o); --help aside."""
    return [
        tuple(param.opts)
        for param in command.params
        if param.opts[0].startswith("-") and "--help" not in param.opts
    ]


def test_every_command_and_option_has_an_example() -> None:
    """Somewhere in the documentation, every command and every option of it is in an example that runs."""
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    lines = [argv for example in EXAMPLES if (argv := example.mlpcalc) is not None]
    for option in _options(group):
        assert any(set(option) & set(argv[1 : _command_index(argv, group)]) for argv in lines), option
    for name, command in group.commands.items():
        assert isinstance(command, TyperCommand | TyperGroup)
        mine = [argv for argv in lines if (i := _command_index(argv, group)) < len(argv) and argv[i] == name]
        assert mine, name
        for option in _options(command):
            assert any(set(option) & set(argv[_command_index(argv, group) + 1 :]) for argv in mine), (
                f"{name} {option}"
            )


def _command_index(argv: list[str], group: TyperGroup) -> int:
    """Where the command's name is in `mlpcalc [global options] COMMAND ...` (len(argv) when none)."""
    return next((i for i, word in enumerate(argv) if word in group.commands), len(argv))


def test_python_api_examples() -> None:
    """Every pycon block is a doctest that passes; a document's blocks share their names."""
    attempted = 0
    for document, text in DOCUMENTS.items():
        globs: dict[str, object] = {}
        for number, block in enumerate(re.findall(r"```pycon\n(.*?)```", text, flags=re.S)):
            test = doctest.DocTestParser().get_doctest(block, globs, f"{document}[{number}]", document, 0)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
            runner.run(test, clear_globs=False)
            globs = test.globs  # the next block goes on from this one
            result = runner.summarize(verbose=False)
            assert result.failed == 0, f"{document}: pycon block {number} fails"
            attempted += result.attempted
    assert attempted >= 8


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _prose(text: str) -> str:
    """The text without its fenced code blocks (a fence is a line that starts with ```)."""
    kept, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            kept.append(line)
    return "\n".join(kept)


def _anchors(text: str) -> set[str]:
    return {_slug(heading) for heading in re.findall(r"^#+ (.+)$", _prose(text), flags=re.M)}


def test_links_between_the_documents_lead_somewhere() -> None:
    """Every relative link names a file of the repository, and a heading in it when it has a #fragment."""
    for document, text in DOCUMENTS.items():
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(text)):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, fragment = target.partition("#")
            file = (ROOT / document).parent / path if path else ROOT / document
            assert file.exists(), f"{document}: link to {target}: no such file"
            if fragment:
                assert file.suffix == ".md", f"{document}: link to {target}"
                assert fragment in _anchors(file.read_text(encoding="utf-8")), (
                    f"{document}: link to {target}: no such heading"
                )


def test_the_readme_links_every_document() -> None:
    linked = set(re.findall(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)", README))
    for document in DOCUMENTS:
        if document != "README.md":
            assert document in linked, f"README.md does not link {document}"


def test_the_readme_is_short() -> None:
    assert len(README.splitlines()) < 250


def test_quick_start() -> None:
    """The Quick start is two commands: install and run an example shown with its output; install the test
    tools and run the tests, the very command CI runs (.ci/run)."""
    section = README.split("## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S)
    assert block is not None
    install, test = block.group(1).splitlines()
    assert install.startswith("pip install . && mlpcalc ")
    shown = [example.line for example in EXAMPLES if example.document == "README.md" and example.output]
    assert install.removeprefix("pip install . && ") in shown
    assert test == 'pip install -e ".[test]" && pytest'
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
