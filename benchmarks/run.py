"""Every performance bar of mlpcalc, measured side by side in one run on this machine.

    python benchmarks/run.py                 # all of it (a few minutes; 3 GB of disk for streaming)
    python benchmarks/run.py --markdown      # the same, as the table docs/performance.md shows
    python benchmarks/run.py --smoke         # tiny sizes, one run each: that it runs (the tests)

Absolute times are noise on a shared machine: each bar is a ratio of two things measured in the
same run, interleaved, and medians are compared (the spread is the lowest to the highest run).

- start-up: `mlpcalc summary`, `variables`, `check` (one inline budget) and `--help`, whole
  processes, against the floor (benchmarks/floor.py: typer and rich, a table printed): 1.10x;
- the forward loop: the engine's GFLOP/s (its GEMM work over the time of its layer loop, on a
  drawn input) against the raw float32 GEMM rate of the same BLAS at the same shapes: 0.95x;
- the forward process: `mlpcalc forward SPEC --batch 8192` against a hand-written NumPy script
  doing the same work: 1.05x; its peak memory against weights + 2 chunk buffers + 10% (above
  what the process holds before any work: the interpreter with forward's modules imported);
- streaming: a 3 GB memory-mapped `--input` through `--output`, against the slower of the GEMM
  time and the time to read the input and write the output: 1.1x (beside it, as a reference
  with no bar, a hand-written NumPy pass over the same file against the same bound);
- size: summary of 100000->100000*1000->10 and of 10,000 layers, diff and check of 10,000-layer
  models: under 0.5 s and 60 MiB each;
- design: fit of one width over a range of 10^9 values (0.5 s), of two free sizes (1 s), and
  compare of 1,000 designs (1 s), whole processes.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLOOR = HERE / "floor.py"
SPEC = "784->512->10 relu"
FORWARD_SPEC, FORWARD_BATCH = "784->4096*3->10 relu", 8192
STREAM_SIZES = [784, 512, 10]  # the streamed model: these widths, relu between them
STREAM_SPEC = "->".join(map(str, STREAM_SIZES)) + " relu"
# What an engineer writes in five minutes: the same Glorot-uniform weights drawn in float32, the
# same input size, the whole batch at once with `@` and np.maximum.
GLOROT_KERNELS = """
import sys
import numpy as np
def glorot_kernels(sizes):
    rng = np.random.default_rng(0)
    kernels = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        limit = np.float32(np.sqrt(6 / (fan_in + fan_out)))
        kernel = rng.random((fan_in, fan_out), dtype=np.float32)
        kernel *= 2 * limit
        kernel -= limit
        kernels.append(kernel)
    return kernels, rng
"""
HAND_WRITTEN = (
    GLOROT_KERNELS
    + """
rows, sizes = int(sys.argv[1]), [int(size) for size in sys.argv[2:]]
kernels, rng = glorot_kernels(sizes)
x = rng.standard_normal((rows, sizes[0]), dtype=np.float32)
for i, kernel in enumerate(kernels):
    x = x @ kernel + np.zeros(kernel.shape[1], dtype=np.float32)
    if i < len(kernels) - 1:
        np.maximum(x, 0, out=x)
"""
)
# The same by the chunk, streamed: the least a pass over a memory-mapped input does (the GEMMs over
# 4,096 rows at a time, the relu, the output written into a mapped .npy), with none of what
# mlpcalc adds (statistics, progress, the input's pages handed back, an atomic output). It is no
# bar, but the reference that shows what NumPy on this machine can reach.
HAND_STREAMED = (
    GLOROT_KERNELS
    + """
x = np.load(sys.argv[1], mmap_mode="r")
kernels, _ = glorot_kernels([x.shape[1], *(int(size) for size in sys.argv[3:])])
shape = (len(x), kernels[-1].shape[1])
out = np.lib.format.open_memmap(sys.argv[2], mode="w+", dtype=np.float32, shape=shape)
for start in range(0, len(x), 4096):
    h = x[start : start + 4096]
    for i, kernel in enumerate(kernels):
        h = h @ kernel
        if i < len(kernels) - 1:
            np.maximum(h, 0, out=h)
    out[start : start + 4096] = h
out.flush()
"""
)
# A child's peak resident memory (KiB on Linux), read by its parent once it has ended.
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


@dataclass(frozen=True)
class Result:
    """One bar: what was measured (its median and spread, in `unit`), against what, and the bar."""

    name: str
    unit: str
    samples: list[float]
    ratio: float  # the figure the bar holds
    bar: str
    met: bool | None  # None: a reference beside a bar, not a bar

    def row(self) -> tuple[str, ...]:
        median, low, high = statistics.median(self.samples), min(self.samples), max(self.samples)
        return (
            self.name,
            f"{median:.3g} {self.unit}",
            f"{low:.3g} to {high:.3g}",
            f"{self.ratio:.3f}",
            self.bar,
            "reference" if self.met is None else "met" if self.met else "NOT MET",
        )


def mlpcalc(*arguments: str) -> list[str]:
    """The command a user runs: the console script beside this Python, else `python -m mlpcalc`."""
    script = Path(sys.executable).with_name("mlpcalc")
    return [str(script), *arguments] if script.exists() else [sys.executable, "-m", "mlpcalc", *arguments]


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
    return time.perf_counter() - started


def peak_mib(command: list[str]) -> float:
    done = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True, check=True)
    return int(done.stdout) / 1024


ENV = {**os.environ, "COLUMNS": "80"}


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Each command's wall times, run in turn `runs` times so that noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(wall(command))
    return times


def start_up(runs: int) -> list[Result]:
    commands = {
        "floor": [sys.executable, str(FLOOR), "summary", SPEC],
        "floor --help": [sys.executable, str(FLOOR), "--help"],
        "summary": mlpcalc("summary", SPEC),
        "variables": mlpcalc("variables", SPEC),
        "check": mlpcalc("check", SPEC, "--max-params", "1000000"),
        "--help": mlpcalc("--help"),
    }
    times = interleaved(commands, runs)
    results = []
    for name in ("summary", "variables", "check", "--help"):
        floor = "floor --help" if name == "--help" else "floor"
        ratio = statistics.median(times[name]) / statistics.median(times[floor])
        results.append(
            Result(f"start-up: {name} / {floor}", "s", times[name], ratio, "at most 1.10", ratio <= 1.10)
        )
    return results


def forward_loop(rows: int, runs: int) -> Result:
    """The engine's layer loop against the raw GEMMs of the same shapes, chunk by chunk."""
    import numpy as np

    from mlpcalc.core.model import parse
    from mlpcalc.engine.forward import forward, plan
    from mlpcalc.engine.weights import generators, init_weights

    model = parse(FORWARD_SPEC)
    the_plan = plan(model, rows, np.float32, None)
    weights = init_weights(model, generators(0)[0], "glorot_uniform")
    x = np.random.default_rng(1).standard_normal((rows, *model.spec.input_shape), dtype=np.float32)
    kernels = [weights[v.path] for v in model.variables if v.name == "kernel"]
    work = 2 * rows * sum(k.shape[0] * k.shape[1] for k in kernels)

    def raw() -> float:
        started = time.perf_counter()
        for start in range(0, rows, the_plan.chunk):
            h = x[start : start + the_plan.chunk]
            for kernel in kernels:
                h = h @ kernel
        return time.perf_counter() - started

    def engine() -> float:
        started = time.perf_counter()
        forward(the_plan, weights, x)
        return time.perf_counter() - started

    raw_times, engine_times = [], []
    for _ in range(runs):
        raw_times.append(raw())
        engine_times.append(engine())
    rates = [work / t / 1e9 for t in engine_times]
    ratio = statistics.median(raw_times) / statistics.median(engine_times)  # GFLOP/s over GFLOP/s
    raw_rate = work / statistics.median(raw_times) / 1e9
    name = f"forward loop: engine / raw GEMM ({raw_rate:.0f} GFLOP/s)"
    return Result(name, "GFLOP/s", rates, ratio, "at least 0.95", ratio >= 0.95)


def forward_process(rows: int, runs: int) -> list[Result]:
    import numpy as np

    from mlpcalc.core.model import parse
    from mlpcalc.engine.forward import plan

    sizes = [784, 4096, 4096, 4096, 10]
    commands = {
        "mlpcalc": mlpcalc("forward", FORWARD_SPEC, "--batch", str(rows), "--seed", "0", "--quiet"),
        "hand-written": [sys.executable, "-c", HAND_WRITTEN, str(rows), *map(str, sizes)],
    }
    times = interleaved(commands, runs)
    ratio = statistics.median(times["mlpcalc"]) / statistics.median(times["hand-written"])
    model = parse(FORWARD_SPEC)
    the_plan = plan(model, rows, np.float32, None)
    buffers = 2 * the_plan.chunk * the_plan.largest * 4
    # What the process holds before any work: the interpreter with forward's modules imported.
    baseline = peak_mib([sys.executable, "-c", "import numpy, mlpcalc.cli; mlpcalc.cli.load('forward')"])
    allowed = baseline + (model.params_bytes + buffers) * 1.10 / 2**20
    peaks = [peak_mib(commands["mlpcalc"]) for _ in range(max(1, runs // 3))]
    peak = statistics.median(peaks)
    memory = f"forward peak memory / (weights + 2 buffers) x 1.1 + {baseline:.0f} MiB"
    return [
        Result(
            "forward process: mlpcalc / hand-written NumPy",
            "s",
            times["mlpcalc"],
            ratio,
            "at most 1.05",
            ratio <= 1.05,
        ),
        Result(memory, "MiB", peaks, peak / allowed, "at most 1.00", peak <= allowed),
    ]


def streaming(gigabytes: float, runs: int) -> list[Result]:
    """A memory-mapped input through --output against the slower of its GEMMs and its disk traffic,
    and the hand-written NumPy pass beside it (HAND_STREAMED) against the same."""
    import numpy as np

    features = STREAM_SIZES[0]
    rows = max(1024, int(gigabytes * 2**30 / (features * 4)))
    with tempfile.TemporaryDirectory(dir=os.environ.get("MLPCALC_BENCH_DIR")) as folder:
        x_path, y_path, copy = Path(folder) / "x.npy", Path(folder) / "y.npy", Path(folder) / "copy.bin"
        x = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32, shape=(rows, features))
        rng = np.random.default_rng(0)
        for start in range(0, rows, 65536):
            x[start : start + 65536] = rng.standard_normal(
                (min(65536, rows - start), features), dtype=np.float32
            )
        x.flush()
        del x
        commands = {
            "mlpcalc": mlpcalc(
                "forward", STREAM_SPEC, "--input", str(x_path), "-o", str(y_path), "--quiet", "--force"
            ),
            "hand-written NumPy": [
                sys.executable,
                "-c",
                HAND_STREAMED,
                str(x_path),
                str(y_path),
                *map(str, STREAM_SIZES[1:]),
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        disk_times, gemm_times = [], []
        for _ in range(runs):
            disk_times.append(_disk(x_path, copy, rows * STREAM_SIZES[-1] * 4))
            gemm_times.append(_gemm_time(rows))
            for name, command in commands.items():
                times[name].append(wall(command))
        bound = max(statistics.median(disk_times), statistics.median(gemm_times))
    results = []
    for name, samples in times.items():
        ratio = statistics.median(samples) / bound
        met = ratio <= 1.10 if name == "mlpcalc" else None
        bar = "at most 1.10" if name == "mlpcalc" else "(no bar)"
        results.append(
            Result(f"streaming {gigabytes:g} GB: {name} / max(GEMM, disk)", "s", samples, ratio, bar, met)
        )
    return results


def _disk(source: Path, target: Path, written: int) -> float:
    """Reading `source` whole and writing `written` bytes: the disk traffic a streamed pass has."""
    started = time.perf_counter()
    with source.open("rb") as file:
        while file.read(2**24):
            pass
    with target.open("wb") as file:
        block = bytes(2**24)
        for start in range(0, written, len(block)):
            file.write(block[: min(len(block), written - start)])
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def _gemm_time(rows: int) -> float:
    """The raw float32 GEMMs of STREAM_SPEC over `rows`, in chunks of 4,096 rows (one block of
    input, drawn once)."""
    import numpy as np

    rng = np.random.default_rng(0)
    kernels = [rng.random(shape, dtype=np.float32) for shape in itertools.pairwise(STREAM_SIZES)]
    x = rng.standard_normal((4096, STREAM_SIZES[0]), dtype=np.float32)
    started = time.perf_counter()
    for _ in range(0, rows, 4096):
        h = x
        for kernel in kernels:
            h = h @ kernel
    return time.perf_counter() - started


def size(runs: int, layers: int) -> list[Result]:
    with tempfile.TemporaryDirectory() as folder:
        a, b = Path(folder) / "a.spec", Path(folder) / "b.spec"
        a.write_text("784->" + "->".join(["512:relu", "bn"] * (layers // 2)))
        b.write_text("784->" + "->".join(["512:gelu", "bn"] * (layers // 2)))
        cases = {
            "summary 100000->100000*1000->10": mlpcalc("summary", "100000->100000*1000->10"),
            f"summary of {layers:,} layers": mlpcalc("summary", f"@{a}"),
            f"diff of two {layers:,}-layer models": mlpcalc("diff", f"@{a}", f"@{b}"),
            f"check of a {layers:,}-layer model": mlpcalc("check", f"@{a}", "--max-params", "10000000000"),
        }
        times = interleaved(cases, runs)
        results = []
        for name, command in cases.items():
            peak = peak_mib(command)
            median = statistics.median(times[name])
            met = median < 0.5 and peak < 60
            bar = "at most 1.00 (0.5 s), 60 MiB"
            results.append(Result(f"{name} (peak {peak:.0f} MiB)", "s", times[name], median / 0.5, bar, met))
    return results


def design(runs: int, smoke: bool) -> list[Result]:
    """The design tools, whole processes: fit over a range of 10^9 widths, fit of two free sizes
    (a staircase), compare of 1,000 designs; each well under a second."""
    widths, designs = ("1000", "10") if smoke else ("1000000000", "1000")
    cases = {
        "fit of one width in 1..10^9": (
            mlpcalc("fit", "784->W*3->10 relu", "--max-params", "1T", "--range", f"W=1..{widths}", "--json"),
            0.5,
        ),
        "fit of two free sizes (most parameters)": (
            mlpcalc("fit", "784->W->V->10 relu", "--max-params", "10M", "--json"),
            1.0,
        ),
        f"compare of {int(designs):,} designs": (
            mlpcalc("compare", "--sweep", f"784->{{1..{designs}}}->10 relu", "--max-params", "100K"),
            1.0,
        ),
    }
    times = interleaved({name: command for name, (command, _) in cases.items()}, runs)
    results = []
    for name, (_, limit) in cases.items():
        median = statistics.median(times[name])
        bar = f"at most 1.00 ({limit} s)"
        results.append(Result(name, "s", times[name], median / limit, bar, median < limit))
    return results


def machine() -> list[tuple[str, str]]:
    import numpy as np
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    blas = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    described = (
        ", ".join(
            f"{pool.get('internal_api')} {pool.get('version')} ({pool.get('architecture')} kernel, "
            f"{pool.get('num_threads')} threads)"
            for pool in blas
        )
        or "none found"
    )
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("BLAS", described),
        ("Python", platform.python_version()),
        ("numpy", np.__version__),
        ("OS", platform.platform()),
    ]


def table(rows: list[tuple[str, ...]], markdown: bool) -> str:
    header = ("measure", "median", "spread", "ratio", "bar", "")
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    widths = [max(len(cells[i]) for cells in (header, *rows)) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()
        for cells in (header, *rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=31, help="runs of each start-up command (31)")
    parser.add_argument("--stream-gb", type=float, default=3.0, help="size of the streamed input (3 GB)")
    parser.add_argument("--markdown", action="store_true", help="the table in markdown")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run each: that it runs")
    args = parser.parse_args()
    # Bytecode for every module, as pip writes it at install: where none can be written as Python
    # runs (PYTHONDONTWRITEBYTECODE, a read-only checkout), a module edited since would be
    # compiled from source at every start, and start-up measured with it.
    compileall.compile_dir(HERE.parent / "mlpcalc", quiet=1)
    runs = 1 if args.smoke else args.runs
    heavy_runs = 1 if args.smoke else 5
    # The short whole-process bars first, before the heavy passes: in one run, every one of them
    # measured after the 3 GB streamed pass (its files written back and discarded) took a third
    # longer than on its own.
    steps: list[Callable[[], Result | list[Result]]] = [
        lambda: start_up(runs),
        lambda: size(heavy_runs, 100 if args.smoke else 10_000),
        lambda: design(heavy_runs, args.smoke),
        lambda: forward_loop(256 if args.smoke else FORWARD_BATCH, heavy_runs),
        lambda: forward_process(256 if args.smoke else FORWARD_BATCH, heavy_runs),
        lambda: streaming(0.01 if args.smoke else args.stream_gb, 1 if args.smoke else heavy_runs),
    ]
    results: list[Result] = []
    for step in steps:
        made = step()
        results += made if isinstance(made, list) else [made]
    for name, value in machine():
        print(f"- {name}: {value}" if args.markdown else f"{name:<7} {value}")
    print()
    print(table([result.row() for result in results], args.markdown))
    bars = [result for result in results if result.met is not None]
    missed = [result.name for result in bars if not result.met]
    print(
        f"\n{len(bars) - len(missed)} of {len(bars)} bars met"
        + (f"; not met: {'; '.join(missed)}" if missed else "")
    )


if __name__ == "__main__":
    main()
