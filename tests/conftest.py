"""Shared test data: the golden fixtures made by the real Keras (see golden/regenerate.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).parent / "golden"


def keras_fixtures() -> list[dict[str, Any]]:
    """Every fixture under golden/keras/, each a case plus the Keras report for it."""
    return [json.loads(path.read_text()) for path in sorted((GOLDEN / "keras").glob("*.json"))]


def keras_fixture(case_id: str) -> dict[str, Any]:
    """One fixture of golden/keras/ by its id: the case and what Keras reported for it."""
    return json.loads((GOLDEN / "keras" / f"{case_id}.json").read_text())


def reference_text(name: str) -> str:
    """A reference text recorded from real Keras (copied from ../shared/keras-reference)."""
    return (GOLDEN / "reference" / name).read_text()
