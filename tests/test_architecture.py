"""The layering of pyproject.toml's [tool.importlinter] holds: imports flow one way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def test_import_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint).exists():
        pytest.fail("lint-imports is missing: install the test extra, pip install -e '.[test]'")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_core_has_no_circular_imports() -> None:
    # Each core module imports alone, in a fresh interpreter, without numpy, rich or typer.
    for module in ("errors", "conventions", "dtypes", "activations", "layers", "spec", "model"):
        code = (
            f"import sys; import mlpcalc.core.{module}; "
            "assert not {'numpy', 'rich', 'typer'} & set(sys.modules), sorted(sys.modules)"
        )
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
