"""Many designs at once, for `mlpcalc compare`: sweep patterns expanded, lists of specs read,
each design's figures measured (and held against a budget), the designs sorted.

A sweep pattern is a spec with braces; each brace is a choice, and the pattern stands for
every combination of its choices (the cartesian product, the first brace varying slowest):

    pattern  = { text | brace } ;
    brace    = "{" , ( choices | range ) , "}" ;
    choices  = choice , { "," , choice } ;            (* 256,512 or relu,gelu; a choice may be empty *)
    range    = integer , ".." , integer , [ ".." , step ] ;
    step     = integer | "x" , integer ;              (* add it, or multiply by it *)

`784->{256,512}*{2,3}->10 relu` stands for four specs, 784->256*2->10 relu first;
`{64..1024..x2}` for 64, 128, 256, 512, 1024; `{1..4}` for 1 to 4; `{0..100..25}` for 0, 25, 50,
75, 100. A range ends at the last value not past its end. Braces do not nest, and no spec
holds a brace or a comma, so neither needs escaping. Errors are SpecErrors with the span of
the brace at fault.

A list of specs (a file, stdin) holds one spec a line; empty lines are skipped, and `#`
starts a comment to the end of its line (no spec holds a `#`).

Pure Python: no numpy, rich or typer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING

from mlpcalc.core.errors import SpecError
from mlpcalc.core.model import Model
from mlpcalc.core.spec import MAX_SIZE
from mlpcalc.costs.figures import Figures
from mlpcalc.costs.settings import Settings

if TYPE_CHECKING:
    from mlpcalc.budgets import Budget

MAX_DESIGNS = 10_000  # compared at once: past this a sweep is a mistake, and its table unreadable
# Layers compared at once, all designs together: what a comparison costs in time and memory
# (10,000 designs of 25 layers; a second or two).
MAX_TOTAL_LAYERS = 250_000
RANGE = re.compile(
    r"\s*([0-9](?:_?[0-9])*)\s*\.\.\s*([0-9](?:_?[0-9])*)\s*(?:\.\.\s*(x?)\s*([0-9](?:_?[0-9])*)\s*)?"
)
RANGE_EXAMPLE = "{64..1024}, {25..100..25} or {64..1024..x2}"


# ------------------------------------------------------------------ sweeps


@dataclass(frozen=True)
class Brace:
    """One brace of a pattern: where it stands (start, end) and what it may be (a range's
    values as numbers: a range() is counted without being listed)."""

    start: int
    end: int
    choices: Sequence[str | int]


def _count_text(count: int) -> str:
    return f"{count:,}" if count < 10**15 else f"about 10^{len(str(count)) - 1}"


def _range(pattern: str, start: int, end: int, match: re.Match[str]) -> Sequence[int]:
    """The values of a range brace: first, then by adding or multiplying by the step, up to
    the last not past the end."""
    first, last = int(match[1].replace("_", "")), int(match[2].replace("_", ""))
    times, step = match[3] == "x", int((match[4] or "1").replace("_", ""))

    def fail(message: str) -> SpecError:
        return SpecError(message, pattern, start, end, expected=f"a range such as {RANGE_EXAMPLE}")

    if last > MAX_SIZE:
        raise fail(f"a range ends at {MAX_SIZE:,} at most, the largest number a spec takes")
    if first > last:
        raise fail(f"the range runs down from {first:,} to {last:,}: write its smaller end first")
    if not times:
        if step < 1:
            raise fail("a range's step is 1 or more")
        return range(first, last + 1, step)
    if step < 2 or first < 1:
        raise fail("a range that multiplies starts at 1 or more and multiplies by 2 or more")
    values = [first]  # at most 50 of them: MAX_SIZE < 2**50
    while values[-1] * step <= last:
        values.append(values[-1] * step)
    return values


def braces(pattern: str) -> tuple[list[str], list[Brace]]:
    """The literal texts between the braces (one more than the braces) and the braces."""
    texts: list[str] = []
    found: list[Brace] = []
    position = 0
    while True:
        opening = _next_brace(pattern, position)
        if opening is None:
            texts.append(pattern[position:])
            return texts, found
        texts.append(pattern[position:opening])
        closing = _closing(pattern, opening)
        found.append(_brace(pattern, opening, closing + 1))
        position = closing + 1


def _next_brace(pattern: str, position: int) -> int | None:
    """Where the next '{' is; a '}' before it is an error."""
    for index in range(position, len(pattern)):
        if pattern[index] == "{":
            return index
        if pattern[index] == "}":
            raise SpecError("'}' closes no brace", pattern, index, expected="'{' before it, as in {256,512}")
    return None


def _closing(pattern: str, opening: int) -> int:
    for index in range(opening + 1, len(pattern)):
        if pattern[index] == "}":
            return index
        if pattern[index] == "{":
            raise SpecError(
                "braces do not nest",
                pattern,
                index,
                expected="'}' first",
                hint="list every choice in one brace: {256,512,1024}, not {256,{512,1024}}",
            )
    raise SpecError("'{' is never closed", pattern, opening, len(pattern), expected="'}' after its choices")


def _brace(pattern: str, start: int, end: int) -> Brace:
    inside = pattern[start + 1 : end - 1]
    if ".." in inside:  # no spec holds "..": a range
        match = RANGE.fullmatch(inside)
        if match is None:
            raise SpecError("not a range", pattern, start, end, expected=f"a range such as {RANGE_EXAMPLE}")
        return Brace(start, end, _range(pattern, start, end, match))
    if not inside:
        raise SpecError(
            "empty braces",
            pattern,
            start,
            end,
            expected="choices between them, as in {256,512} or {,:nobias}",
        )
    return Brace(start, end, inside.split(","))


def expand(pattern: str, limit: int = MAX_DESIGNS) -> list[str]:
    """Every spec `pattern` stands for, in order; SpecError past `limit` of them."""
    texts, found = braces(pattern)
    total = math.prod(len(brace.choices) for brace in found)
    if total > limit:
        raise SpecError(
            f"the sweep stands for {_count_text(total)} designs, more than {limit:,}",
            pattern,
            found[0].start,
            found[-1].end,
            hint="narrow a range, or compare the sweep in parts",
        )
    head, tails = texts[0], texts[1:]
    return [
        head + "".join(f"{choice}{tail}" for choice, tail in zip(choices, tails, strict=True))
        for choices in product(*(brace.choices for brace in found))
    ]


# ------------------------------------------------------------------ lists of specs


def spec_lines(text: str) -> list[tuple[int, str]]:
    """Each spec of a list and its line number: comments (from '#') and empty lines skipped."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        spec = line.split("#", 1)[0].strip()
        if spec:
            found.append((number, spec))
    return found


# ------------------------------------------------------------------ designs


@dataclass(frozen=True)
class ComparedDesign:
    """One design compared: its place in the input (`index`, from 1), where it came from
    (`origin`: "argument 2", "designs.txt:7", "sweep design 3"), the text given (`source`),
    its figures, and the limits it breaks (None when no budget is given)."""

    index: int
    origin: str
    source: str
    figures: Figures
    failed: tuple[str, ...] | None = None

    @classmethod
    def of(
        cls, index: int, origin: str, source: str, model: Model, settings: Settings, budget: Budget | None
    ) -> ComparedDesign:
        """A design's figures under `settings`, held against `budget` (its settings: `settings`)."""
        from mlpcalc.budgets import measure  # here: the command list imports this module, not budgets

        figures = Figures(model, settings)
        held = budget is not None and budget.settings == settings  # else measured under the budget's
        outcomes = [] if budget is None else measure(budget, model, figures if held else None)
        failed = None if budget is None else tuple(o.key for o in outcomes if not o.ok)
        return cls(index, origin, source, figures, failed)

    @property
    def spec(self) -> str:
        """The canonical spec."""
        return str(self.figures.model.spec)

    @property
    def fits(self) -> bool | None:
        return None if self.failed is None else not self.failed

    def figure(self, name: str) -> int:
        """One of FIGURES."""
        return FIGURES[name](self.figures)


# Each figure a design is compared by, as its table column and `--sort` name it; compute is for
# the batch (one sample by default), as `check` holds it against max_macs and max_flops.
FIGURES: dict[str, Callable[[Figures], int]] = {
    "params": lambda figures: figures.params,
    "weights": lambda figures: figures.memory.params,
    "macs": lambda figures: figures.batch_macs,
    "flops": lambda figures: figures.batch_flops,
    "inference": lambda figures: figures.memory.inference,
    "training": lambda figures: figures.memory.training,
}
SIZES = ("weights", "inference", "training")  # the figures in bytes
# Each figure's name in the JSON document and the CSV header: a size says it is in bytes.
FIELDS = {name: f"{name}_bytes" if name in SIZES else name for name in FIGURES}
SORTS = ("index", "spec", *FIGURES, "fits")  # what designs sort by; "fits": those that fit first


def sort_key(name: str) -> Callable[[ComparedDesign], int | str | bool]:
    """How designs compare by `name` (one of SORTS)."""
    if name == "index":
        return lambda design: design.index
    if name == "spec":
        return lambda design: design.spec
    if name == "fits":
        return lambda design: not design.fits
    return lambda design: design.figure(name)


def sorted_designs(
    designs: Iterable[ComparedDesign], by: str = "index", reverse: bool = False
) -> list[ComparedDesign]:
    """The designs in order of `by`, ascending (descending with `reverse`); ties keep their
    input order either way."""
    return sorted(designs, key=sort_key(by), reverse=reverse)
