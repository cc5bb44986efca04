"""Budgets for `mlpcalc check`: read from TOML or given inline, held against the model.

A budget file lists models, each a spec and limits:

    [tool.mlpcalc.models.mnist]      # in pyproject.toml; in mlpcalc.toml: [models.mnist]
    spec = "784->512->10 relu"
    params = 407050                  # exact
    max_params = 500000
    output_shape = [10]              # without the batch
    max_weights_bytes = "2 MiB"      # B, KB/MB/GB (1000s), KiB/MiB/GiB (1024s)
    max_flops = 1e6                  # and max_macs, max_training_bytes
    batch = 32                       # settings the limits are computed with
    optimizer = "adam"

Every problem in a file is a BudgetError naming the file, line and key.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mlpcalc.conventions import CONVENTIONS, convention_total
from mlpcalc.errors import MlpcalcError, SpecError
from mlpcalc.memory import DTYPE_BYTES, OPTIMIZERS, memory_report
from mlpcalc.model import Model, parse

CONFIG_NAMES = ("mlpcalc.toml", "pyproject.toml")
SIZE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
SIZE_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
LIMITS: tuple[str, ...] = ("params", "max_params", "max_trainable_params", "output_shape")
LIMITS += ("max_weights_bytes", "max_macs", "max_flops", "max_training_bytes", "max_inference_bytes")
SETTINGS = ("spec", "batch", "optimizer", "dtype", "flops_convention", "mixed_precision")
SIZE_KEYS = ("max_weights_bytes", "max_training_bytes", "max_inference_bytes")
Fail = Callable[[str], "BudgetError"]


class BudgetError(MlpcalcError):
    """A budget file or inline budget that is wrong: names the file, line and key."""


@dataclass(frozen=True)
class Budget:
    """One model's limits, with where each came from (file and line) for messages and annotations."""

    name: str
    spec: str
    limits: dict[str, int | tuple[int, ...]]
    batch: int = 1
    optimizer: str = "adam"
    dtype: str = "float32"
    flops_convention: str = "mlpcalc"
    mixed_precision: bool = False
    file: str | None = None
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, key: str) -> str:
        line = self.lines.get(key, self.lines.get("", 0))
        return f"{self.file}:{line}" if self.file else "inline"


@dataclass(frozen=True)
class Outcome:
    """One limit held against the model: expected, actual, and whether it holds."""

    budget: Budget
    key: str
    expected: int | tuple[int, ...]
    actual: int | tuple[int, ...]

    @property
    def ok(self) -> bool:
        if isinstance(self.actual, int) and isinstance(self.expected, int) and self.key.startswith("max_"):
            return self.actual <= self.expected
        return self.actual == self.expected

    @property
    def excess(self) -> int | None:
        """By how much an upper limit or exact count is missed (negative: under)."""
        if isinstance(self.actual, int) and isinstance(self.expected, int):
            return self.actual - self.expected
        return None

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "expected": list(self.expected) if isinstance(self.expected, tuple) else self.expected,
            "actual": list(self.actual) if isinstance(self.actual, tuple) else self.actual,
            "ok": self.ok,
            "by": self.excess,
            "file": self.budget.file,
            "line": self.budget.lines.get(self.key),
        }


def measure(budget: Budget, model: Model) -> list[Outcome]:
    """Each limit of `budget` against `model`, in the order of LIMITS."""
    report = memory_report(model, budget.batch, budget.dtype, budget.optimizer, budget.mixed_precision)
    actual: dict[str, int | tuple[int, ...]] = {
        "params": model.total_params,
        "max_params": model.total_params,
        "max_trainable_params": model.trainable_params,
        "output_shape": model.output_features,
        "max_weights_bytes": report.params,
        "max_macs": model.total_macs * budget.batch,
        "max_flops": convention_total(model, budget.flops_convention, budget.batch),
        "max_training_bytes": report.training,
        "max_inference_bytes": report.inference,
    }
    return [Outcome(budget, key, budget.limits[key], actual[key]) for key in LIMITS if key in budget.limits]


def check(budget: Budget) -> tuple[Model, list[Outcome]]:
    """Parse the budget's spec (a SpecError says where in the file it is) and measure it."""
    try:
        model = parse(budget.spec)
    except SpecError as error:
        if budget.file is None:
            raise
        raise BudgetError(f"{budget.where('spec')}: [{budget.name}] spec: {error}") from None
    return model, measure(budget, model)


# ------------------------------------------------------------------ reading


def find_config(start: Path) -> Path | None:
    """The nearest mlpcalc.toml, or pyproject.toml with [tool.mlpcalc], from `start` upwards."""
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file() and (name == "mlpcalc.toml" or "[tool.mlpcalc" in candidate.read_text()):
                return candidate
    return None


def load_budgets(path: Path) -> list[Budget]:
    """Every model's budget in `path`; a BudgetError for the first thing wrong in it."""
    try:
        text = path.read_text()
    except OSError as error:
        raise BudgetError(f"{path}: cannot be read: {error.strerror or error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BudgetError(f"{path}: not valid TOML: {error}") from None
    prefix = ("models",) if path.name != "pyproject.toml" else ("tool", "mlpcalc", "models")
    section = data
    for part in prefix:
        section = section.get(part, {}) if isinstance(section, dict) else {}
    if not section:
        raise BudgetError(f"{path}: no [{'.'.join(prefix)}.NAME] table: nothing to check")
    return [_budget(path, text, prefix, name, table) for name, table in section.items()]


def _line_of(text: str, table: str, key: str | None) -> int:
    """The line of `[table]` (or of `key = ...` inside it): tomllib gives no positions."""
    lines = text.splitlines()
    header = re.compile(r"\s*\[\s*" + r"\s*\.\s*".join(map(re.escape, table.split("."))) + r"\s*\]")
    for number, line in enumerate(lines, 1):
        if header.match(line):
            if key is None:
                return number
            for offset, inner in enumerate(lines[number:], number + 1):
                if inner.lstrip().startswith("["):
                    break
                if re.match(rf"\s*{re.escape(key)}\s*=", inner):
                    return offset
            return number
    return 1


def _budget(path: Path, text: str, prefix: tuple[str, ...], name: str, table: object) -> Budget:
    table_name = ".".join((*prefix, name))
    header = _line_of(text, table_name, None)
    if not isinstance(table, dict):
        raise BudgetError(f"{path}:{header}: {table_name}: expected a table of budgets, received {table!r}")
    lines = {"": header} | {key: _line_of(text, table_name, key) for key in table}
    return make_budget(name, table, file=str(path), lines=lines)


def make_budget(
    name: str, values: dict[str, object], file: str | None = None, lines: dict[str, int] | None = None
) -> Budget:
    """A Budget from raw values (a TOML table, or the inline options), every value checked."""
    lines = lines or {}

    def fail(key: str, message: str) -> BudgetError:
        place = f"{file}:{lines.get(key, lines.get('', 1))}: [{name}] " if file else ""
        return BudgetError(f"{place}{key}: {message}")

    for key in values:
        if key not in (*LIMITS, *SETTINGS):
            close = difflib.get_close_matches(key, [*LIMITS, *SETTINGS], n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise fail(key, f"unknown key{hint} (expected one of {', '.join((*SETTINGS, *LIMITS))})")
    spec = values.get("spec")
    if not isinstance(spec, str):
        raise fail("spec", f"expected the model's spec as a string, received {spec!r}")
    limits: dict[str, int | tuple[int, ...]] = {}
    for key in LIMITS:
        if key not in values:
            continue
        value = values[key]
        if key == "output_shape":
            limits[key] = _shape(value, partial(fail, key))
        elif key in SIZE_KEYS:
            limits[key] = _size(value, partial(fail, key))
        else:
            limits[key] = _count(value, partial(fail, key))
    if not limits:
        raise fail("spec", f"no limits to check (expected one of {', '.join(LIMITS)})")
    settings = {
        "batch": _count(values.get("batch", 1), partial(fail, "batch"), positive=True),
        "optimizer": _choice(values.get("optimizer", "adam"), OPTIMIZERS, partial(fail, "optimizer")),
        "dtype": _choice(values.get("dtype", "float32"), DTYPE_BYTES, partial(fail, "dtype")),
        "flops_convention": _choice(
            values.get("flops_convention", "mlpcalc"), CONVENTIONS, partial(fail, "flops_convention")
        ),
    }
    mixed = values.get("mixed_precision", False)
    if not isinstance(mixed, bool):
        raise fail("mixed_precision", f"expected true or false, received {mixed!r}")
    return Budget(name, spec, limits, **settings, mixed_precision=mixed, file=file, lines=lines)  # type: ignore[arg-type]


def _count(value: object, fail: Fail, positive: bool = False) -> int:
    """A whole number; 1e6 and 1_000_000 are both fine, 1.5 and "many" are not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"expected a whole number, received {value!r}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise fail(f"expected a whole number, received {value!r}")
    number = int(value)
    if number < (1 if positive else 0):
        raise fail(f"expected a {'positive' if positive else 'non-negative'} number, received {value!r}")
    return number


def _size(value: object, fail: Fail) -> int:
    """Bytes: a number, or text such as "2 MiB" or "1.5GB"."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", value)
        unit = match.group(2).upper() if match else ""
        if match is None or (unit or "B") not in SIZE_UNITS:
            units = "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB"
            raise fail(f'expected a size such as "2 MiB" ({units}), received {value!r}')
        return int(float(match.group(1)) * SIZE_UNITS[unit or "B"])
    return _count(value, fail)


def _shape(value: object, fail: Fail) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(d, int) and d > 0 for d in value):
        raise fail(f"expected the output shape without the batch, as [10] or [20, 8], received {value!r}")
    return tuple(value)


def _choice(value: object, choices: Mapping[str, object], fail: Fail) -> str:
    if value not in choices:
        raise fail(f"expected one of {', '.join(choices)}, received {value!r}")
    return str(value)
