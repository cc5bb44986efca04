"""The process's standard streams and signals, and what rich would make of stdout: no typer,
no rich, so that what needs no command (the command list into a pipe) starts at once.

`take_over` is the first thing `mlpcalc` does: signals end it the way a shell reports them, a
closed stream is no crash, a reader that goes away (`| head -1`) ends it quietly.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, NoReturn

from mlpcalc.core.errors import ExitCode

# What rich reads from the environment to colour an output that is no terminal: then rich
# draws it (render/ draws plain text without rich only where nothing is coloured). typer's help
# reads more (typer/rich_utils.py, typer/core.py): colours, a width of its own, no rich at all.
RICH_TERMINAL_VARIABLES = ("TTY_COMPATIBLE", "FORCE_COLOR")
TYPER_HELP_VARIABLES = (
    *RICH_TERMINAL_VARIABLES,
    "PY_COLORS",
    "GITHUB_ACTIONS",
    "TERMINAL_WIDTH",
    "_TYPER_FORCE_DISABLE_TERMINAL",
    "TYPER_USE_RICH",
)


def take_over() -> None:
    """Signals, standard streams and the environment, as every command expects them."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and not columns.isdecimal():
        # A width such as "²": rich takes it for digits and fails on int(); Python's own
        # terminal size ignores it, and so does mlpcalc, for rich too.
        del os.environ["COLUMNS"]
    for name in ENDING_SIGNALS:
        # Not every platform has every one; one ignored already (nohup's SIGHUP) stays ignored.
        if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) is signal.SIG_DFL:
            signal.signal(getattr(signal, name), _end_on)
    _guard_standard_streams()


def may_be_terminal(variables: tuple[str, ...] = RICH_TERMINAL_VARIABLES) -> bool:
    """Whether rich might take stdout for a terminal (and colour it): a tty, or one of the
    `variables` rich (and typer, for its help) reads from the environment to say so."""
    return sys.stdout.isatty() or any(name in os.environ for name in variables)


def rich_width() -> int:
    """The width rich gives a console it is not told the width of: COLUMNS, even 0, else the
    first of stdin, stdout and stderr that is a terminal, else 80."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for descriptor in (0, 1, 2):
        try:
            return os.get_terminal_size(descriptor).columns or 80
        except (AttributeError, ValueError, OSError):  # not a terminal
            pass
    return 80


def ascii_only() -> bool:
    """Whether stdout is not UTF-8 (LANG=C, PYTHONIOENCODING=ascii or gb18030): rich then draws
    its boxes in ASCII, as it decides it (an encoding whose name does not start with "utf")."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    return not encoding.lower().startswith("utf")


def emit(text: str) -> None:
    """Write a result to stdout; a character the output cannot encode becomes '?', not a crash."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout.write(text.encode(encoding, "replace").decode(encoding))
    sys.stdout.flush()


class GuardedStdout:
    """stdout that ends the process quietly when its reader goes away (`| head -1`),
    and with a one-line reason when it cannot be written (a full disk)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.closed_pipe_exit = ExitCode.OK  # what a closed pipe ends with (check keeps its verdict)

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as error:
            self._failed(error)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            self._failed(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _failed(self, error: OSError) -> NoReturn:
        # Python flushes stdout again at exit; point it at /dev/null so that flush is quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
        self._stream = ClosedStream()
        if isinstance(error, BrokenPipeError):
            raise SystemExit(self.closed_pipe_exit)
        sys.stderr.write(f"Error: cannot write the output: {error.strerror or error}\n")
        raise SystemExit(ExitCode.OUTPUT_ERROR)


# Signals that end a process by default and that a handler can catch: each unwinds the stack
# (a partly written output is removed on the way) and exits 128 + N, as a shell reports it.
# SIGINT is Python's KeyboardInterrupt already (exit 130).
ENDING_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGPROF")


def _end_on(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


class ClosedStream:
    """What a stream the shell closed (`>&-`) becomes: writing to it is like writing to a pipe
    whose reader left, quiet, and the command keeps its exit code."""

    closed = True

    def write(self, text: str) -> int:
        raise BrokenPipeError("the stream is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class QuietStderr:
    """stderr that, once it cannot be written (its reader gone), drops what follows: notes and
    warnings are beside the result, and losing them must not lose the result or its exit code."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError:
            self._stream = open(os.devnull, "w")  # noqa: SIM115  # for the rest of the process
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            self._stream = open(os.devnull, "w")  # noqa: SIM115

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _guard_standard_streams() -> None:
    """Closed stdin, stdout or stderr (`<&-`, `>&-`, `2>&-`): their descriptors get /dev/null,
    so that no file mlpcalc opens takes their number; stderr's messages go nowhere, quietly."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  # for the whole process
    sys.stderr = QuietStderr(sys.stderr)
    sys.stdout = GuardedStdout(sys.stdout if sys.stdout is not None else ClosedStream())
