"""The live progress display of long work (a forward pass): on stderr, only on a terminal.

It shows from the start: while the weights are drawn or read, the time it has taken; then
the bar, rows done, rows per second, elapsed time and the time left, redrawn on a timer
(four times a second), so that the clock moves even while a long chunk is computed.
"""

from __future__ import annotations

import time
from typing import Any


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class Progress:
    """Call with (rows done, rows) as the work goes; `close` when it ends (the bar is erased)."""

    def __init__(self, enabled: bool, console: Any = None) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None
        self._pass_started: float | None = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rows]}"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[left]}"),
            console=console or Console(stderr=True),
            transient=True,
            auto_refresh=True,
            refresh_per_second=4,
        )
        self._task = self._bar.add_task("weights", total=None, rows="", rate="", left="")
        self._bar.start()

    def __call__(self, done: float, total: int) -> None:
        """Rows done (a fraction of a chunk counts as its layers go), of `total`."""
        if self._bar is None:
            return
        now = time.perf_counter()
        if self._pass_started is None:  # the weights are ready: the pass starts
            self._pass_started = now
        elapsed = now - self._pass_started
        rate = done / elapsed if done and elapsed > 0 else None
        left = (total - done) / rate if rate else None
        self._bar.update(
            self._task,
            description="forward",
            total=total,
            completed=done,
            rows=f"{done:,.0f}/{total:,} rows",
            rate=f"{rate:,.0f} rows/s" if rate else "- rows/s",
            left=f"ETA {_clock(left)}",
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
