"""How fast mlpcalc answers: start-up against bare Python, and the largest model of the docs.

Run from the repo with mlpcalc installed:  python benchmarks/startup.py [--runs 15]
Each command runs --runs times, interleaved so that machine noise hits all alike;
the medians are printed, and their ratios, which are what to compare between machines.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    "mlpcalc --version": [sys.executable, "-m", "mlpcalc", "--version"],
    "summary 784->512->10 relu": [sys.executable, "-m", "mlpcalc", "summary", "784->512->10 relu"],
    "summary --json 784->512->10": [
        sys.executable,
        "-m",
        "mlpcalc",
        "summary",
        "784->512->10 relu",
        "--json",
    ],
    "summary 100000->100000*1000->10": [
        sys.executable,
        "-m",
        "mlpcalc",
        "summary",
        "100000->100000*1000->10",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env={"COLUMNS": "80", "PATH": ""})
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["python -c pass"])
    print(f"{'command':<36} {'median':>9} {'x python':>9}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:<36} {median * 1000:>7.1f}ms {median / base:>9.1f}")


if __name__ == "__main__":
    main()
