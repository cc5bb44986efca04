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
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from mlpcalc.core.errors import MlpcalcError, SettingsError, SpecError
from mlpcalc.core.model import Model, parse
from mlpcalc.core.quantities import NUMBER, SI_PREFIXES, exact, received
from mlpcalc.core.spec import MAX_SIZE
from mlpcalc.core.text import TooLong, read_text, shown
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import CHOICES, Settings

CONFIG_NAMES = ("mlpcalc.toml", "pyproject.toml")
CONFIG_BYTES = 16 * 2**20  # a budget file past this is a mistake (/dev/zero), not budgets
# Sizes: KB, MB, GB are powers of 1000; KiB, MiB, GiB powers of 1024 (Keras's summary prints
# the latter as "MB": its table keeps Keras's text, everything else mlpcalc prints says MiB).
SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
SIZE_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
# Counts: K thousand, M million, G or B billion, T trillion.
COUNT_UNITS = {unit: SI_PREFIXES[unit] for unit in ("", "K", "M", "G", "T")} | {"B": 10**9}
QUANTITY = re.compile(rf"\s*({NUMBER})\s*([A-Za-z]{{0,3}})\s*")
LARGEST = 10**36  # past any model's figure (and past it, JSON could not print the number)
LIMITS: tuple[str, ...] = ("params", "max_params", "max_trainable_params", "output_shape")
LIMITS += ("max_weights_bytes", "max_macs", "max_flops", "max_training_bytes", "max_inference_bytes")
SETTINGS = ("spec", "batch", "optimizer", "dtype", "flops_convention", "mixed_precision")
SIZE_KEYS = ("max_weights_bytes", "max_training_bytes", "max_inference_bytes")
Fail = Callable[[str], "BudgetError"]


class BudgetError(MlpcalcError):
    """A budget file or inline budget that is wrong: names the file, line and key."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.file, self.line = file, line


@dataclass(frozen=True)
class Budget:
    """One model's limits, with where each came from (file and line) for messages and annotations."""

    name: str
    spec: str
    limits: dict[str, int | tuple[int, ...]]
    settings: Settings = field(default_factory=Settings)
    file: str | None = None
    lines: dict[str, int] = field(default_factory=dict)  # each key's line in `file`
    line: int = 1  # the table's line in `file`

    def line_of(self, key: str) -> int | None:
        """Where `key` is set (its table's line if it is not set there); None when inline."""
        return self.lines.get(key, self.line) if self.file else None

    def where(self, key: str) -> str:
        return f"{shown(self.file)}:{self.line_of(key)}" if self.file else "inline"


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


Results = list[tuple[Budget, Model, list[Outcome]]]


def measure(budget: Budget, model: Model, figures: Figures | None = None) -> list[Outcome]:
    """Each limit of `budget` against `model`, in the order of LIMITS (`figures`: the model's
    under the budget's settings, if they are at hand)."""
    figures = figures or Figures(model, budget.settings)
    # Each figure worked out when a limit asks for it: a budget of parameters counts no memory.
    actual: dict[str, Callable[[], int | tuple[int, ...]]] = {
        "params": lambda: figures.params,
        "max_params": lambda: figures.params,
        "max_trainable_params": lambda: figures.trainable_params,
        "output_shape": lambda: model.output_features,
        "max_weights_bytes": lambda: figures.memory.params,
        "max_macs": lambda: figures.batch_macs,
        "max_flops": lambda: figures.batch_flops,
        "max_training_bytes": lambda: figures.memory.training,
        "max_inference_bytes": lambda: figures.memory.inference,
    }
    return [Outcome(budget, key, budget.limits[key], actual[key]()) for key in LIMITS if key in budget.limits]


def check(budget: Budget, load: Callable[[str], Model] = parse) -> tuple[Model, list[Outcome]]:
    """Build the budget's model with `load` (the CLI's reads model files too; a spec's
    SpecError says where in the budget file it is) and measure it."""
    try:
        model = load(budget.spec)
    except SpecError as error:
        if budget.file is None:
            raise
        raise BudgetError(
            f"{budget.where('spec')}: [{shown(budget.name)}] spec: {error}",
            budget.file,
            budget.line_of("spec"),
        ) from None
    return model, measure(budget, model)


# ------------------------------------------------------------------ reading


def _read(path: Path) -> str:
    """A budget file's text: TOML is UTF-8, whatever the locale says; never an unbounded read."""
    try:
        with path.open("rb") as file:
            return read_text(file, CONFIG_BYTES)
    except OSError as error:
        raise BudgetError(f"{shown(path)}: cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise BudgetError(f"{shown(path)}: not UTF-8 text (byte {error.start}), as TOML must be") from None
    except TooLong as error:
        raise BudgetError(f"{shown(path)}: {error}: not a budget file") from None


def _toml(text: str) -> dict[str, Any]:
    import tomllib  # budget files alone need it: an inline budget starts without it

    return tomllib.loads(text)


def find_config(start: Path) -> Path | None:
    """The nearest mlpcalc.toml, or pyproject.toml with [tool.mlpcalc], from `start` upwards."""
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name == "mlpcalc.toml":
                return candidate
            try:
                text = _read(candidate)
                if "[tool.mlpcalc" in text or "mlpcalc" in _toml(text).get("tool", {}):
                    return candidate
            except (BudgetError, ValueError):  # TOMLDecodeError, or an integer past Python's digit limit
                continue  # not ours to judge: a broken pyproject.toml elsewhere is not a budget file
    return None


def load_budgets(path: Path, required: bool = True) -> list[Budget]:
    """Every model's budget in `path`; a BudgetError for the first thing wrong in it. A
    pyproject.toml without [tool.mlpcalc] has none: an error if `required`, else no budgets."""
    text = _read(path)
    try:
        data = _toml(text)
    except ValueError as error:  # TOMLDecodeError, or an integer of more digits than Python reads
        raise BudgetError(f"{shown(path)}: not valid TOML: {error}") from None
    if path.name == "pyproject.toml" and not required and "mlpcalc" not in data.get("tool", {}):
        return []
    prefix = ("models",) if path.name != "pyproject.toml" else ("tool", "mlpcalc", "models")
    positions = key_lines(text)
    section: object = data
    for part in prefix:
        section = section.get(part, {}) if isinstance(section, dict) else None
    where = f"{shown(path)}:{positions.get(prefix, 1)}"
    if not isinstance(section, dict):
        raise BudgetError(
            f"{where}: {'.'.join(prefix)}: expected tables of budgets, received {received(section)}"
        )
    if not section:
        raise BudgetError(f"{shown(path)}: no [{'.'.join(prefix)}.NAME] table: nothing to check")
    budgets = []
    for name, table in section.items():
        table_path = (*prefix, name)
        if not isinstance(table, dict):
            place = f"{shown(path)}:{positions.get(table_path, 1)}"
            name_shown = shown(".".join(table_path))
            raise BudgetError(
                f"{place}: {name_shown}: expected a table of budgets, received {received(table)}"
            )
        lines = {key: positions.get((*table_path, key), positions.get(table_path, 1)) for key in table}
        budgets.append(
            make_budget(name, table, file=str(path), lines=lines, line=positions.get(table_path, 1))
        )
    return budgets


KEY_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*""")


def _key_path(text: str) -> tuple[tuple[str, ...], int] | None:
    """A dotted TOML key at the start of `text` (quoted parts allowed), and where it ends."""
    parts, position = [], 0
    while True:
        match = KEY_PART.match(text, position)
        if match is None:
            return None
        part = match.group(1)
        parts.append(part[1:-1] if part[0] in "\"'" else part)
        position = match.end()
        if text[position : position + 1] != ".":
            return tuple(parts), position
        position += 1


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The line of every table and key of a TOML text, by its full path: tomllib gives no positions.

    It follows [table] headers, dotted keys and the keys of one-line inline tables, which
    covers how budget files are written; anything else falls back to its table's line.
    """
    positions: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            found = _key_path(stripped.strip("[]"))
            if found is not None:
                table = found[0]
                for depth in range(1, len(table) + 1):
                    positions.setdefault(table[:depth], number)
            continue
        found = _key_path(stripped)
        if found is None or stripped[found[1] : found[1] + 1] != "=":
            continue
        key = (*table, *found[0])
        for depth in range(len(table) + 1, len(key) + 1):
            positions.setdefault(key[:depth], number)
        value = stripped[found[1] + 1 :].strip()
        if value.startswith("{"):  # an inline table: its keys sit on this line
            for inner in re.finditer(r"(?:^|,)\s*([A-Za-z0-9_.\"'-]+)\s*=", value[1:]):
                inner_key = _key_path(inner.group(1))
                if inner_key is not None:
                    positions.setdefault((*key, *inner_key[0]), number)
    return positions


def make_budget(
    name: str,
    values: dict[str, object],
    file: str | None = None,
    lines: dict[str, int] | None = None,
    line: int = 1,
) -> Budget:
    """A Budget from raw values (a TOML table, or the inline options), every value checked.
    `lines` gives each key's line in `file`, `line` the table's."""
    lines = lines or {}

    def fail(key: str, message: str) -> BudgetError:
        if file is None:  # given inline: the key is the option that set it
            return BudgetError(f"--{key.replace('_', '-')}: {message}")
        where = lines.get(key, line)
        return BudgetError(f"{shown(file)}:{where}: [{shown(name)}] {shown(key)}: {message}", file, where)

    for key in values:
        if key not in (*LIMITS, *SETTINGS):
            close = difflib.get_close_matches(key, [*LIMITS, *SETTINGS], n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise fail(key, f"unknown key{hint} (expected one of {', '.join((*SETTINGS, *LIMITS))})")
    spec = values.get("spec")
    if not isinstance(spec, str):
        raise fail("spec", f"expected the model's spec as a string, received {received(spec)}")
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
    settings: dict[str, object] = {}
    if "batch" in values:
        settings["batch"] = _count(values["batch"], partial(fail, "batch"), positive=True, largest=MAX_SIZE)
    for key, choices in CHOICES.items():
        if key in values:
            settings[key] = _choice(values[key], choices, partial(fail, key))
    if "mixed_precision" in values:
        if not isinstance(values["mixed_precision"], bool):
            raise fail(
                "mixed_precision", f"expected true or false, received {received(values['mixed_precision'])}"
            )
        settings["mixed_precision"] = values["mixed_precision"]
    try:
        checked = Settings(**settings)  # type: ignore[arg-type]  # each value was checked above
    except SettingsError as error:
        raise fail(error.key, str(error)) from None
    return Budget(name, spec, limits, checked, file=file, lines=lines, line=line)


def _number(value: object, units: dict[str, int], fail: Fail, what: str, example: str) -> Decimal:
    """A number as TOML or the command line gives it: an int, an integral float, or text such
    as "1.5M", "2 MiB" or "1e6" with one of `units` (case aside), exact (Decimal)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise fail(f"expected {what}, received {received(value)} (write {example})")
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise fail(f"expected {what}, received {received(value)} (write {example})")
        if abs(value) > 2**53:
            raise fail(f"{value!r} is past what a float holds exactly: write it as an integer")
        return Decimal(int(value))
    if isinstance(value, int):
        number = Decimal(value) if value.bit_length() < 256 else Decimal(LARGEST + 1).copy_sign(value)
    else:
        match = QUANTITY.fullmatch(value)
        unit = match.group(2).upper() if match else ""
        if match is None or unit not in units:
            raise fail(f"expected {what}, received {received(value)} (write {example})")
        number = exact(match.group(1)) * units[unit]
    if number > LARGEST:
        raise fail(f"expected at most {LARGEST:.0e}, received {received(value)}")
    return number


def _count(value: object, fail: Fail, positive: bool = False, largest: int | None = None) -> int:
    """A whole number: 1000000, 1e6, "1M" and "1_000_000" are all fine, 1.5 and "many" are not."""
    number = _number(value, COUNT_UNITS, fail, "a whole number", "1000000, 1e6 or 1M")
    if number != number.to_integral_value():
        raise fail(f"expected a whole number, received {received(value)} ({number:,} is not)")
    if number < (1 if positive else 0):
        raise fail(
            f"expected a {'positive' if positive else 'non-negative'} number, received {received(value)}"
        )
    if largest is not None and number > largest:
        raise fail(f"expected at most {largest:,}, received {received(value)}")
    return int(number)


def _size(value: object, fail: Fail) -> int:
    """Bytes: a number, or text such as "2 MiB" (2 x 1024**2), "1.5 GB" (1.5 x 1000**3) or
    "1.6 MiB" (fractions round down to a whole byte)."""
    units = ", ".join(unit for unit in SIZE_UNITS if unit).replace("I", "i")
    number = _number(value, SIZE_UNITS, fail, f"a size ({units})", '"2 MiB" or "1.5 GB"')
    if number < 0:
        raise fail(f"expected a size, received {received(value)}")
    return int(number)  # down to a whole byte


def _shape(value: object, fail: Fail) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(_dimension(d) for d in value):
        raise fail(
            f"expected the output shape without the batch, as [10] or [20, 8], received {received(value)}"
        )
    return tuple(value)


def _dimension(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_SIZE


def _choice(value: object, choices: tuple[str, ...], fail: Fail) -> str:
    if not isinstance(value, str) or value not in choices:
        raise fail(f"expected one of {', '.join(choices)}, received {received(value)}")
    return str(value)


def inline_values(limits: dict[str, str]) -> dict[str, object]:
    """Limits given as command-line text, as a TOML file would hold them: 20x8 is a shape;
    numbers ("1e6", "1M", "2 MiB") stay text, read exactly as a budget file's strings are."""
    values: dict[str, object] = dict(limits)
    if "output_shape" in limits:
        parts = re.split(r"[x×, ]+", limits["output_shape"].strip())
        # Digits alone (not "²"), and few enough to be a size: the rest is refused as it is.
        values["output_shape"] = [int(p) if p.isascii() and p.isdigit() and len(p) < 20 else p for p in parts]
    return values
