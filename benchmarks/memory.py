"""forward's memory estimate against the process's measured peak, across a table of cases.

    python benchmarks/memory.py

Each case runs `mlpcalc forward ... --json` as a fresh process; its `estimated_peak_bytes`
(what mlpcalc predicts before allocating, and refuses work by) is set beside the peak
resident memory the kernel measured for that process (wait4's ru_maxrss). The bar: every
estimate within 10% of the measured peak. The files the cases read are made first, in a
temporary folder: float32 and float64 weights, inputs, an output streamed to disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BAR = 0.10
BIG = "4096->4096*12"  # 201 million weights: 768 MiB in float32, 1.5 GiB in float64


FILES = """
import sys
import numpy as np
folder = sys.argv[1]
with np.load(f"{folder}/w32.npz") as archive:
    np.savez(f"{folder}/w64.npz", **{key: archive[key].astype(np.float64) for key in archive.files})
x = np.random.default_rng(0).standard_normal((200_000, 784), dtype=np.float32)
np.save(f"{folder}/x32.npy", x)
np.save(f"{folder}/x64.npy", x.astype(np.float64))
"""


def cases(folder: Path) -> list[tuple[str, list[str]]]:
    """(name, forward's arguments) for each case; the files they read are written here, by
    other processes: Linux's peak memory of a child starts at its parent's, so this one stays small."""
    w32, w64 = folder / "w32.npz", folder / "w64.npz"
    subprocess.run([sys.executable, "-m", "mlpcalc", "init", BIG, "-o", str(w32), "-q"], check=True)
    subprocess.run([sys.executable, "-c", FILES, str(folder)], check=True)
    x32, x64 = folder / "x32.npy", folder / "x64.npy"
    out = str(folder / "y.npy")
    return [
        ("float32, seeded, small", ["784->512->10 relu"]),
        ("float32, seeded, batch 8192", ["784->4096*3->10 relu", "--batch", "8192"]),
        ("float16, seeded, batch 8192", ["784->4096*3->10 relu", "--batch", "8192", "--dtype", "float16"]),
        ("float64, seeded, batch 1", [BIG, "--dtype", "float64", "--batch", "1"]),
        ("float32 from a float64 file", [BIG, "--weights", str(w64), "--batch", "1"]),
        ("float64 from a float32 file", [BIG, "--weights", str(w32), "--dtype", "float64", "--batch", "1"]),
        ("float32 from a float32 file", [BIG, "--weights", str(w32), "--batch", "64"]),
        ("orthogonal init", ["2048->2048*4", "--init", "orthogonal", "--batch", "1"]),
        ("he_normal init", ["4096->4096*6", "--init", "he_normal", "--batch", "1"]),
        ("gelu, batch 100,000", ["784->4096:gelu->10", "--batch", "100000"]),
        ("rank 3, layernorm, stats", ["32x64->256:silu->ln->10:softmax", "--batch", "20000", "--stats"]),
        ("streamed float32 file", ["784->1024:relu->784", "--input", str(x32), "-o", out, "--force"]),
        ("streamed float64 file", ["784->1024:relu->784", "--input", str(x64), "-o", out, "--force"]),
        (
            "float64 streamed",
            ["784->1024:relu->784", "--input", str(x64), "-o", out, "--dtype", "float64", "--force"],
        ),
    ]


def measure(arguments: list[str]) -> tuple[int, int]:
    """(estimated peak, measured peak) in bytes for one forward run."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpcalc", "forward", *arguments, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    document = json.loads(process.stdout.read())
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"forward {' '.join(arguments)} failed")
    return document["estimated_peak_bytes"], usage.ru_maxrss * 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        table = [(name, *measure(arguments)) for name, arguments in cases(Path(folder))]
    width = max(len(name) for name, _, _ in table)
    print(f"{'case':<{width}}  {'estimated':>11}  {'measured':>11}  error")
    worst = 0.0
    for name, estimated, measured in table:
        error = estimated / measured - 1
        worst = max(worst, abs(error))
        print(f"{name:<{width}}  {estimated / 2**20:>7.1f} MiB  {measured / 2**20:>7.1f} MiB  {error:+.1%}")
    print(f"worst error {worst:.1%}: the bar (within {BAR:.0%}) is {'met' if worst <= BAR else 'NOT met'}")


if __name__ == "__main__":
    main()
