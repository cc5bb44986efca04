"""Start-up is a feature: the modules `summary`, `variables` and `check` import beyond what the floor
(benchmarks/floor.py: typer and rich, a table printed) imports are recorded in startup_modules.json,
and the list may not grow. numpy, drawsvg and the interop libraries never appear on it.

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
}
NEVER = ("numpy", "drawsvg", "h5py", "onnx", "vl_convert", "torch", "keras")


def imported(arguments: list[str]) -> set[str]:
    """Every module a process imports (python -X importtime names each one on stderr)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *arguments],
        capture_output=True, text=True, check=True, env={**os.environ, "COLUMNS": "80"}, cwd=ROOT,
    )  # fmt: skip
    return {
        line.split("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    }


@pytest.fixture(scope="module")
def floor() -> set[str]:
    return imported(["benchmarks/floor.py", "summary", SPEC])


@pytest.mark.parametrize("command", COMMANDS)
def test_start_up_imports_no_more_than_recorded(command: str, floor: set[str]) -> None:
    entry = (
        f"import sys; sys.argv = ['mlpcalc', *{COMMANDS[command]!r}]; from mlpcalc.cli import main; main()"
    )
    extra = imported(["-c", entry]) - floor
    assert not [module for module in extra if module.split(".")[0] in NEVER]
    recorded = set(json.loads(RECORD.read_text())[command])
    assert extra <= recorded, f"new start-up imports: {sorted(extra - recorded)}"
    assert recorded <= extra, f"no longer imported, take off {RECORD.name}: {sorted(recorded - extra)}"
