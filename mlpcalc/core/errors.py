"""The exceptions mlpcalc raises, and the exit codes the CLI maps them to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, named once for the CLI and its tests."""

    OK = 0
    CHECK_FAILED = 1  # a budget or check did not hold (used by `check`)
    USAGE = 2  # bad spec, bad option, bad file: the user's input is wrong
    INTERNAL_ERROR = 70  # a bug in mlpcalc; EX_SOFTWARE of sysexits.h
    OUTPUT_ERROR = 74  # the result could not be written (a full disk); EX_IOERR of sysexits.h
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class MlpcalcError(Exception):
    """Root of every error mlpcalc raises on purpose: a user error, never a bug."""


class SpecError(MlpcalcError):
    """A spec that does not parse; carries the source and the span of the bad token.

    `message` says what was received, `expected` what would have been valid, and
    `hint` an optional suggestion (a did-you-mean). `start`/`end` index `source`.
    """

    def __init__(
        self,
        message: str,
        source: str,
        start: int,
        end: int | None = None,
        *,
        expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.start = max(0, min(start, len(source)))
        self.end = max(self.start, min(end if end is not None else start + 1, len(source)))
        self.expected = expected
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.message} (at column {self.start + 1})"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.hint:
            text += f"; {self.hint}"
        return text


class ModelError(MlpcalcError):
    """A valid spec with invalid model options (a batch of 0, a name Keras would refuse)."""


class SettingsError(MlpcalcError):
    """Settings that contradict each other or name no known choice; `key` names the setting
    as a budget file does (dtype, optimizer, mixed_precision, flops_convention, batch)."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


class FileError(MlpcalcError):
    """A file that cannot be read or written, or does not fit the model."""


class WeightsError(FileError):
    """A weights file that cannot be read, or does not fit the model (every problem listed)."""


class ResourceError(MlpcalcError):
    """Work that would need more memory than the machine has: refused before allocating."""
