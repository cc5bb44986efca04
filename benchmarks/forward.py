"""The forward pass against a hand-written NumPy script doing the same work.

    python benchmarks/forward.py [--runs 5]

The work, from issue 3: `mlpcalc forward "784->4096*3->10 relu" --batch 8192 --seed 0 --quiet`
(140 MiB of weights). The hand-written script initialises the same Glorot-uniform weights
drawing float32 directly, draws the same input size, and runs the whole batch with `@` and
np.maximum: what an engineer would write in five minutes. Both run as fresh processes,
interleaved, so that start-up and noise count alike. Printed: the median wall time of each,
their ratio (the bar: within 10%), and each one's peak resident memory (the bar: < 500 MiB).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

SPEC = "784->4096*3->10 relu"
MLPCALC = [sys.executable, "-m", "mlpcalc", "forward", SPEC, "--batch", "8192", "--seed", "0", "--quiet"]
HAND_WRITTEN = """
import numpy as np
rng = np.random.default_rng(0)
sizes = [784, 4096, 4096, 4096, 10]
layers = []
for fan_in, fan_out in zip(sizes, sizes[1:]):
    limit = np.float32(np.sqrt(6 / (fan_in + fan_out)))
    kernel = rng.random((fan_in, fan_out), dtype=np.float32)
    kernel *= 2 * limit
    kernel -= limit
    layers.append((kernel, np.zeros(fan_out, dtype=np.float32)))
x = rng.standard_normal((8192, 784), dtype=np.float32)
for i, (kernel, bias) in enumerate(layers):
    x = x @ kernel + bias
    if i < len(layers) - 1:
        np.maximum(x, 0, out=x)
"""
MEASURE = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); " \
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"  # fmt: skip


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run of `command` in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True
    )
    return time.perf_counter() - start, int(done.stdout) / 1024


def streaming(folder: Path) -> None:
    """A 1,000,000 x 784 float32 input (3 GB) through `--input`/`--output`: memory stays bounded."""
    import numpy as np

    x_path, y_path = folder / "x_3gb.npy", folder / "y_3gb.npy"
    x = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32, shape=(1_000_000, 784))
    rng = np.random.default_rng(0)
    for start in range(0, len(x), 100_000):
        x[start : start + 100_000] = rng.standard_normal((100_000, 784), dtype=np.float32)
    x.flush()
    del x
    command = [sys.executable, "-m", "mlpcalc", "forward", "784->512->10 relu", "--input", str(x_path)]
    seconds, peak = timed([*command, "--output", str(y_path), "--quiet"])
    size = x_path.stat().st_size / 2**30
    print(f"streamed 3 GB: {seconds:.1f} s, peak RSS {peak:.0f} MiB (the file is {size:.2f} GiB)")
    x_path.unlink()
    y_path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--streaming", metavar="DIR", help="also stream a 3 GB input from DIR (needs 3.2 GB free)"
    )
    args = parser.parse_args()
    if args.streaming:
        streaming(Path(args.streaming))
    runs = args.runs
    results: dict[str, list[tuple[float, float]]] = {"mlpcalc": [], "hand-written": []}
    for _ in range(runs):
        results["mlpcalc"].append(timed(MLPCALC))
        results["hand-written"].append(timed([sys.executable, "-c", HAND_WRITTEN]))
    medians = {name: statistics.median(t for t, _ in samples) for name, samples in results.items()}
    peaks = {name: max(m for _, m in samples) for name, samples in results.items()}
    for name in results:
        print(f"{name:<13} median {medians[name]:6.2f} s   peak RSS {peaks[name]:6.0f} MiB")
    ratio, peak = medians["mlpcalc"] / medians["hand-written"], peaks["mlpcalc"]
    print(f"ratio mlpcalc / hand-written: {ratio:.3f}  (bar: at most 1.10: {_verdict(ratio <= 1.10)})")
    print(f"mlpcalc peak: {peak:.0f} MiB  (bar: under 500 MiB: {_verdict(peak < 500)})")


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
