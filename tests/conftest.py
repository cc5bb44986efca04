"""Shared test data: the golden fixtures made by the real Keras (see golden/regenerate.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With MLPCALC_REQUIRE_FRAMEWORKS set (.ci/run's pass with torch and Keras installed), a
    test skipped for want of a framework fails instead: that pass exists to run them."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("MLPCALC_REQUIRE_FRAMEWORKS") and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped, and MLPCALC_REQUIRE_FRAMEWORKS is set: {report.longrepr}"
