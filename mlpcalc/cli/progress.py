"""The live progress display of long work (a forward pass): on stderr, only on a terminal."""

from __future__ import annotations

import time
from typing import Any


class Progress:
    """A progress bar on stderr for work that lasts: it appears only after a second."""

    DELAY = 1.0

    def __init__(self, enabled: bool, console: Any = None) -> None:
        self.enabled, self.console = enabled, console
        self.started = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or (done >= total and self._bar is None):
            return
        if self._bar is None:
            if time.perf_counter() - self.started < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("forward"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} rows"),
                TimeRemainingColumn(), console=self.console or Console(stderr=True), transient=True,
            )  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task("forward", total=total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
