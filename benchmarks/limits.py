"""Refusals and big inputs, timed: each must answer (or refuse) in under a second.

    python benchmarks/limits.py [--runs 5]

Each case is a fresh `mlpcalc` process, so start-up counts; the medians are printed against
the bar. The cases are those a hostile user tried: a million layers, a million input dims,
an input of 300 dims of 10**15, and the diff of two 10,000-layer models (a realistic pair, and
a pathological one where every layer repeats).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BAR = 1.0  # seconds


def specs(folder: Path) -> dict[str, tuple[list[str], str | None]]:
    """Each case: mlpcalc's arguments, and what it reads on stdin."""
    rng = random.Random(1)
    words = ["512", "bn", "256:relu", "dropout(0.1)", "64"]
    a = "784->" + "->".join(rng.choice(words) for _ in range(10_000))
    b = "784->" + "->".join(rng.choice([*words[:2], "256:gelu", *words[3:]]) for _ in range(10_000))
    (folder / "a.spec").write_text(a)
    (folder / "b.spec").write_text(b)
    (folder / "c.spec").write_text("784->" + "->".join(["512", "bn"] * 5000))
    (folder / "d.spec").write_text("784->" + "->".join(["bn", "512"] * 5000))
    return {
        "10^6 layers on stdin": (["summary", "-"], "784" + "->10" * 1_000_000),
        "10^6 input dims on stdin": (["summary", "-"], "x".join(["1"] * 1_000_000) + "->10"),
        "300 dims of 10^15": (["costs", "x".join(["1000000000000000"] * 300) + "->10"], None),
        "diff, two 10,000-layer models": (["diff", f"@{folder / 'a.spec'}", f"@{folder / 'b.spec'}"], None),
        "diff, 10,000 repeated layers": (["diff", f"@{folder / 'c.spec'}", f"@{folder / 'd.spec'}"], None),
    }


def timed(arguments: list[str], stdin: str | None) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mlpcalc", *arguments],
        input=stdin.encode() if stdin is not None else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        cases = specs(Path(folder))
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):  # interleaved, so that machine noise hits every case alike
            for name, (arguments, stdin) in cases.items():
                times[name].append(timed(arguments, stdin))
    width = max(map(len, times))
    worst = 0.0
    for name, values in times.items():
        median = statistics.median(values)
        worst = max(worst, median)
        print(f"{name:<{width}}  median {median:6.3f} s")
    print(
        f"slowest median {worst:.3f} s: the bar (under {BAR:.0f} s) is {'met' if worst < BAR else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
