"""benchmarks/run.py runs (with tiny sizes): a benchmark nobody can run is one nobody runs. Nothing
here is timed; the bars are the script's to measure, on a quiet machine (docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_the_benchmark_runs_and_reports_every_bar() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--markdown"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    for machine in ("- CPU:", "- BLAS:", "- Python:", "- numpy:"):
        assert machine in done.stdout
    lines = done.stdout.splitlines()
    rows = [line for line in lines if line.startswith("| ") and line[2:5] not in ("mea", "---")]
    names = [row.split(" | ")[0] for row in rows]
    for bar in ("start-up: summary", "start-up: variables", "start-up: check", "start-up: --help",
                "forward loop", "forward process", "forward peak memory", "streaming", "summary 100000",
                "summary of", "diff of", "check of"):  # fmt: skip
        assert any(name.startswith(f"| {bar}") for name in names), bar
    assert all(row.rstrip(" |").endswith(("met", "NOT MET", "reference")) for row in rows)
    references = [row for row in rows if row.rstrip(" |").endswith("reference")]
    assert [row.split(" | ")[0] for row in references] == [
        "| streaming 0.01 GB: hand-written NumPy / max(GEMM, disk)"
    ]
    assert f"of {len(rows) - len(references)} bars met" in done.stdout
