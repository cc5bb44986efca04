"""Start-up is a feature: the modules `summary`, `variables`, `check` and `--help` import beyond
what the floor (benchmarks/floor.py: typer and rich, a table printed) imports are recorded in
startup_modules.json, and the list may not grow. numpy, drawsvg and the interop libraries never
appear on it, a summary written to a pipe or a file (plain text) does not import rich at all,
and the command list so written imports neither typer nor rich (tests/test_plain_help.py).

A module taken off the list (an import made lazy) is taken off the record in the same change; one
added is a start-up cost someone must decide to pay, in startup_modules.json, with the reason in
the commit. benchmarks/run.py measures what the list costs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECORD = Path(__file__).with_name("startup_modules.json")
SPEC = "784->512->10 relu"
COMMANDS = {
    "summary": ["summary", SPEC],
    "variables": ["variables", SPEC],
    "check": ["check", SPEC, "--max-params", "1000000"],
    "--help": ["--help"],  # the command list, drawn without typer (render/typer_help.py)
}
NEVER = ("numpy", "drawsvg", "h5py", "onnx", "vl_convert", "torch", "keras")
# Run before the code: as the process ends, it writes the name of every module it holds, from
# sys.modules (which has what importlib.import_module loaded too, where -X importtime has not).
REPORT = (
    "import atexit, json, sys\n"
    "atexit.register(lambda: sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules))))\n"
)


def imported(code: str) -> set[str]:
    """The modules a process running `code` holds as it ends, its output a pipe; private ones
    ("_json") left out, since their names change between Python versions."""
    environment = {
        key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "TTY_COMPATIBLE")
    }
    done = subprocess.run(
        [sys.executable, "-c", REPORT + code],
        capture_output=True, text=True, check=False, env={**environment, "COLUMNS": "80"}, cwd=ROOT,
    )  # fmt: skip
    names = json.loads(done.stderr.rsplit("MODULES ", 1)[1])
    return {name for name in names if not any(part.startswith("_") for part in name.split("."))}


def floor_code() -> str:
    argv = ["floor.py", "summary", SPEC]
    return (
        f"import runpy, sys; sys.argv = {argv!r}; runpy.run_path('benchmarks/floor.py', run_name='__main__')"
    )


def command_code(command: str) -> str:
    argv = ["mlpcalc", *COMMANDS[command]]
    return f"import sys; sys.argv = {argv!r}; from mlpcalc.cli import main; main()"


@pytest.fixture(scope="module")
def floor() -> set[str]:
    return imported(floor_code()) - {"runpy"}  # the floor's runner, not the floor


@pytest.mark.parametrize("command", COMMANDS)
def test_start_up_imports_no_more_than_recorded(command: str, floor: set[str]) -> None:
    extra = imported(command_code(command)) - floor
    assert not [module for module in extra if module.split(".")[0] in NEVER]
    recorded = set(json.loads(RECORD.read_text())[command])
    assert extra <= recorded, f"new start-up imports: {sorted(extra - recorded)}"
    assert recorded <= extra, f"no longer imported, take off {RECORD.name}: {sorted(recorded - extra)}"


def test_the_report_sees_modules_imported_by_name() -> None:
    # importlib.import_module's imports count too (-X importtime, used before, missed them).
    assert "mlpcalc.cli.describe" in imported(command_code("summary"))


def test_a_plain_summary_does_not_import_rich() -> None:
    # rich is a third of the floor's start-up: a summary that is plain text draws it without rich
    # (render/keras_table.py), and so starts faster than the floor.
    assert "rich" not in imported(command_code("summary"))
