"""What only a real process shows: entry points, import cost, pipes, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import reference_text

# The console script installed beside this Python (the test venv's bin/ or Scripts/).
MLPCALC = (
    str(Path(sys.executable).with_name("mlpcalc"))
    if Path(sys.executable).with_name("mlpcalc").exists()
    else ""
)
ENV = {**os.environ, "COLUMNS": "80"}


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=ENV, check=False, timeout=60, **kwargs)  # type: ignore[call-overload]


@pytest.mark.skipif(not MLPCALC, reason="the mlpcalc script is not installed")
def test_console_script() -> None:
    done = run(MLPCALC, "summary", "3->2->2->2 relu")
    assert done.returncode == 0
    assert done.stdout == reference_text("seed_3-2-2-2_relu.keras3.width76.txt")  # Keras 3, 80 columns


@pytest.mark.skipif(not MLPCALC, reason="the mlpcalc script is not installed")
def test_an_output_that_is_not_utf8_gets_richs_ascii_boxes() -> None:
    # rich (so Keras) draws its boxes in ASCII for any encoding whose name does not start with
    # "utf": gb18030 could encode the box characters, and got them once, unlike Keras's table.
    def summary(encoding: str) -> str:
        done = subprocess.run(
            [MLPCALC, "summary", "784->512->10 relu"], capture_output=True, check=False, timeout=60,
            env={**ENV, "PYTHONIOENCODING": encoding},
        )  # fmt: skip
        assert done.returncode == 0 and done.stderr == b""
        return done.stdout.decode("ascii")

    assert summary("gb18030") == summary("ascii")
    assert "+---" in summary("gb18030")


@pytest.mark.skipif(not MLPCALC, reason="the mlpcalc script is not installed")
def test_a_width_rich_cannot_read_is_ignored() -> None:
    # "²" is a digit to str.isdigit, which rich trusts before int() fails on it: the width is
    # dropped, as Python's own terminal size drops it, and the table drawn 80 wide.
    environment = {key: value for key, value in ENV.items() if key != "COLUMNS"}
    done = [
        subprocess.run(
            [MLPCALC, "summary", "4->2", "--costs"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env={**environment, **columns},
        )
        for columns in ({"COLUMNS": "²"}, {})
    ]
    assert (done[0].returncode, done[0].stderr) == (0, "")
    assert done[0].stdout == done[1].stdout


def test_python_dash_m() -> None:
    done = run(sys.executable, "-m", "mlpcalc", "--version")
    assert done.returncode == 0
    assert done.stdout.startswith("mlpcalc ")


def test_the_command_run_is_registered_alone_and_the_list_has_them_all() -> None:
    # main registers the command it runs alone (start-up); the list, and a mistyped name, see all.
    listed = run(sys.executable, "-m", "mlpcalc", "--help")
    assert listed.returncode == 0
    from mlpcalc.cli import MODULES

    assert all(f"│ {command} " in listed.stdout for command in MODULES), listed.stdout
    typo = run(sys.executable, "-m", "mlpcalc", "--debug", "summry", "3->2")
    assert typo.returncode == 2 and "Did you mean 'summary'?" in typo.stderr
    done = run(sys.executable, "-m", "mlpcalc", "--debug", "spec", "3->2")
    assert (done.returncode, done.stdout) == (0, "3->2\n")
    done = run(sys.executable, "-m", "mlpcalc", "--", "spec", "3->2")  # the end of options, then the command
    assert (done.returncode, done.stdout) == (0, "3->2\n")


def test_every_command_has_its_module_in_help_order() -> None:
    # main registers a command by MODULES: a command missing there could not be run.
    from mlpcalc.cli import MODULES, app
    from mlpcalc.cli.base import command_name

    assert [command_name(info) for info in app.registered_commands] == list(MODULES)


def test_spec_error_exit_code_in_a_real_process() -> None:
    done = run(sys.executable, "-m", "mlpcalc", "summary", "784->512:rleu")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Did you mean 'relu'?" in done.stderr


def modules_after(args: list[str], prefixes: tuple[str, ...]) -> tuple[object, str, list[str]]:
    """The exit code, stdout and the loaded modules starting with `prefixes` after `mlpcalc ARGS`."""
    code = (
        "import json, sys; from mlpcalc.cli import app\n"
        f"try: app({args!r})\n"
        "except SystemExit as end: code = end.code\n"
        "else: code = 'returned'\n"
        f"loaded = sorted(m for m in sys.modules if m.startswith({prefixes!r}))\n"
        "sys.stderr.write(json.dumps([code, loaded]))"
    )
    done = run(sys.executable, "-c", code)
    code, loaded = json.loads(done.stderr)
    return code, done.stdout, loaded


@pytest.mark.parametrize("command", ["summary", "variables"])
def test_never_imports_numpy(command: str) -> None:
    code, stdout, loaded = modules_after([command, "784->512->10 relu"], ("numpy",))
    assert code == 0  # the command ran to its end
    assert "dense_1" in stdout
    assert loaded == []


def test_json_does_not_import_rich_tables() -> None:
    code, stdout, loaded = modules_after(["summary", "784->512->10", "--json"], ("rich.table", "numpy"))
    assert code == 0
    assert json.loads(stdout)["total_params"] == 784 * 512 + 512 + 512 * 10 + 10
    assert loaded == []


def test_closed_pipe_ends_quietly() -> None:
    # 3,000 layers make far more output than a pipe buffer holds; head reads one line.
    shell = f"'{sys.executable}' -m mlpcalc summary '8->8*3000' | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert done.stdout == 'Model: "sequential"\n'
    assert done.stderr == ""
    assert done.returncode == 0


def test_ctrl_c_ends_quietly_with_130() -> None:
    # A parse that sleeps stands in for a long run: interrupt it mid-command, once it
    # has said it is there (a fixed delay could land in the imports on a slow machine).
    code = (
        "import sys, time, mlpcalc.cli as cli, mlpcalc.cli.describe as describe\n"
        "def slow(*args, **kwargs):\n"
        "    sys.stderr.write('ready\\n'); sys.stderr.flush(); time.sleep(60)\n"
        "describe.model_from = slow\n"
        "sys.argv = ['mlpcalc', 'summary', '3->2']\n"
        "cli.main()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert process.stderr is not None
    assert process.stderr.readline() == "ready\n"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stdout == ""
    assert "Traceback" not in stderr


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["summary", "--help"]])
def test_closed_pipe_after_help_and_version_is_quiet(args: list[str]) -> None:
    shell = f"'{sys.executable}' -m mlpcalc {' '.join(args)} | true"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, env=ENV)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["summary", "3->2"], ["summary", "3->2", "--json"], ["--version"]])
def test_full_disk_is_one_line_and_exit_74(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "mlpcalc", *args], stdout=full, stderr=subprocess.PIPE, text=True, env=ENV
        )
    assert done.returncode == 74
    assert done.stderr == "Error: cannot write the output: No space left on device\n"


def test_ascii_terminal_gets_ascii_boxes() -> None:
    env = {**ENV, "PYTHONIOENCODING": "ascii"}
    args = [sys.executable, "-m", "mlpcalc", "summary", "784->512->10 relu", "--name", "modèle"]
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    # The table is 80 - 4 = 76 wide, as Keras draws it: two corners and 74 rules.
    assert done.stdout.splitlines()[:2] == ['Model: "mod?le"', "+" + "-" * (80 - 4 - 2) + "+"]
    assert done.stdout.isascii()


def test_ascii_terminal_gets_valid_json() -> None:
    env = {**ENV, "PYTHONIOENCODING": "ascii"}
    args = [sys.executable, "-m", "mlpcalc", "summary", "3->2", "--name", "modèle", "--json"]
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0
    assert json.loads(done.stdout)["name"] == "modèle"


def test_a_bug_is_one_line_and_exit_70() -> None:
    code = (
        "import sys, mlpcalc.cli as cli, mlpcalc.cli.describe as describe\n"
        "def broken(*args, **kwargs): raise RuntimeError('boom')\n"
        "describe.model_from = broken\n"
        "sys.argv = ['mlpcalc', 'summary', '3->2']\n"
        "cli.main()"
    )
    done = run(sys.executable, "-c", code)
    assert done.returncode == 70
    assert done.stderr.startswith("Error: internal error (RuntimeError: boom). This is a bug in mlpcalc")
    assert "Traceback" not in done.stderr


def test_a_failing_check_keeps_exit_1_when_its_reader_stops_early(tmp_path: Path) -> None:
    models = "".join(f'[models.m{i}]\nspec = "784->512->10"\nmax_params = 10\n' for i in range(400))
    (tmp_path / "mlpcalc.toml").write_text(models)
    shell = f"cd '{tmp_path}' && '{sys.executable}' -m mlpcalc check --json | head -c 20"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, env=ENV)
    assert done.returncode == 1
    assert done.stderr == ""
