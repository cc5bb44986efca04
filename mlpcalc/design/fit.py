"""`fit`: the largest design of a template within a budget, found exactly by binary search.

The inverse of `check`: given `784->W*3->10 relu` and limits (1M parameters, 4 MiB of
float16 weights, 2 GFLOPs, 8 GiB of training memory at batch 256 with Adam), how wide may
W be? Each candidate is built by the template and held against the budget by
`budgets.measure`, exactly as `check` would hold the fitted spec: integers throughout,
never a float or an estimate.

Why binary search is exact: every figure is non-decreasing in every free size, and so are
the spec's own limits (template.py's docstring argues it), so the designs that fit are
closed downwards: if (W, V) fits, so does every smaller design. A design is a point of the
grid of each name's values: the multiples of its `multiple_of` within its range, whose
upper end defaults to what the spec allows (a design past MAX_SIZE, MAX_LAYERS or
MAX_VALUES does not fit, as one past the range does not).

- One free name: the largest grid value that fits, by binary search (galloping upwards
  first when the range has no upper end).
- Two free names W, V: each V's best W is non-increasing in V, a staircase, and only a
  corner of it (a run's last V) can hold the most parameters. The search halves stretches
  of V, galloping out from the origin (deep designs are dear to build), and drops a
  stretch whose best conceivable design (its first V's best W with its last V, which bounds
  every design in it, in parameters and in values) cannot beat the best corner found, or
  that can at best tie a corner with exactly max_params. `maximize=W` takes the largest W
  (at the smallest V), then the largest V. `frontier` walks every run.
- Three or more: the grid values of the name with the fewest (one with an upper end) are
  enumerated, from the smallest while one fits with every other name at its smallest,
  and the rest solved for each, down to two.

Exactness has a price on wide grids: a staircase can have a corner per value. A search
stops, with an error that says to narrow a range or coarsen the grid, at MAX_STEPS
corners or MAX_WORK designs measured (a deep design counting as several, as it costs),
so that the refusal comes within seconds rather than the answer within minutes.

Ties in parameters go to the design whose values, in the order the names first appear in
the template, are largest (compared as a tuple): one answer, whatever the order of search.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from mlpcalc.budgets import LIMITS, SIZE_KEYS, Budget, Outcome, measure
from mlpcalc.core.errors import MlpcalcError, SpecError
from mlpcalc.core.model import Model
from mlpcalc.design.template import Template, names_in

PARAMS = "params"  # maximize the parameter count (the default)
PAST_RANGE = "range"  # what binds when the next grid value is past the range or the spec's limits
EXACT_LIMITS = ("params", "output_shape")  # check's exact limits: no design that varies can aim at them
UPPER_LIMITS = tuple(key for key in LIMITS if key not in EXACT_LIMITS)  # what fit fits within
MAX_STEPS = 10_000  # staircase steps (and enumerated values) before a search is refused
# Designs measured before a search is refused, a deep one counting as more (a measure takes
# about 0.1 ms plus 10 us a layer): the refusal comes within seconds, with what to narrow.
MAX_WORK = 20_000
LAYERS_PER_WORK = 10
UNBOUNDED = 10**100  # a value past this fits the budget and the spec: the name changes nothing limited


class FitError(MlpcalcError):
    """A fit that cannot be made as asked: a range, a limit or a goal that makes no sense, or a
    search too long to finish; `key` names the argument at fault, as fit's keywords and the
    CLI's options do (range, multiple_of, maximize, frontier), None when none is."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class NoFitError(FitError):
    """Even the smallest design breaks the budget: `design` is that design, and `broken` the
    outcomes that do not hold, each with by how much."""

    def __init__(self, message: str, design: Design) -> None:
        super().__init__(message)
        self.design = design

    @property
    def broken(self) -> tuple[Outcome, ...]:
        return tuple(outcome for outcome in self.design.outcomes if not outcome.ok)


@dataclass(frozen=True)
class Range:
    """The values a free size may take: from `lower` to `upper` (None: as far as the spec
    allows), multiples of `multiple_of` (None: fit's own default, else 1)."""

    lower: int = 1
    upper: int | None = None
    multiple_of: int | None = None


@dataclass(frozen=True)
class Design:
    """One template's model at `values`, and the budget's outcomes for it."""

    values: dict[str, int]
    spec: str  # the template rendered: the text `check` would be given
    model: Model
    outcomes: tuple[Outcome, ...]

    @property
    def params(self) -> int:
        return self.model.total_params

    @property
    def fits(self) -> bool:
        return all(outcome.ok for outcome in self.outcomes)

    @property
    def broken(self) -> tuple[str, ...]:
        """The limits this design breaks."""
        return tuple(outcome.key for outcome in self.outcomes if not outcome.ok)

    @property
    def slack(self) -> dict[str, int]:
        """Each limit minus the design's figure: what is left (negative: broken)."""
        return {
            o.key: o.expected - o.actual
            for o in self.outcomes
            if isinstance(o.expected, int) and isinstance(o.actual, int)
        }


@dataclass(frozen=True)
class Fit:
    """The best design, and for each name what the next grid value of it alone breaks: budget
    keys, PAST_RANGE (past the range or the spec's limits), or nothing (a larger value fits, but
    gives fewer parameters than this design)."""

    template: Template
    budget: Budget
    maximize: str
    design: Design
    binds: dict[str, tuple[str, ...]]
    probes: int  # designs built and measured


@dataclass(frozen=True)
class Step:
    """A run of the staircase: for `along` from `first` to `last`, the best `across` is `best`;
    `params` and `spec` (canonical) are the run's corner's (`last`, `best`)."""

    first: int
    last: int
    best: int
    params: int
    spec: str


@dataclass(frozen=True)
class Frontier:
    """For each value of `along`, the largest `across` within the budget, as runs."""

    template: Template
    budget: Budget
    along: str
    across: str
    steps: tuple[Step, ...]
    probes: int


# ---------------------------------------------------------------------------- entry points


def fit(
    template: Template,
    budget: Budget,
    ranges: Mapping[str, Range] | None = None,
    *,
    multiple_of: int | None = None,
    maximize: str = PARAMS,
) -> Fit:
    """The design of `template` with the most parameters within `budget` (or, with `maximize`
    a free name, the largest value of it, then the most parameters); FitError if none fits."""
    if maximize != PARAMS and maximize not in template.names:
        raise FitError(
            f"expected {PARAMS!r} or a free size of the template ({', '.join(template.names)}), "
            f"received {maximize!r}",
            "maximize",
        )
    search = _Search(template, budget, ranges or {}, multiple_of, maximize=maximize)
    origin = dict.fromkeys(template.names, 0)
    if maximize == PARAMS:
        point = search.best(origin, template.names)
    else:
        point = {**origin, maximize: search.largest(origin, maximize, gallop=False)}
        point = search.best(point, tuple(name for name in template.names if name != maximize))
    design = search.design(point)
    binds = {name: search.binds(point, name) for name in template.names}
    return Fit(template, budget, maximize, design, binds, search.probes)


def frontier(
    template: Template,
    budget: Budget,
    along: str,
    ranges: Mapping[str, Range] | None = None,
    *,
    multiple_of: int | None = None,
) -> Frontier:
    """The staircase of a two-name template: for each value of `along`, the other name's
    largest value within `budget`, as runs of equal best values."""
    if len(template.names) != 2 or along not in template.names:
        raise FitError(
            "a frontier is drawn for a template of two free sizes, along one of them: "
            f"{template} has {', '.join(template.names)}, and the frontier was asked along {along!r}",
            "frontier",
        )
    across = next(name for name in template.names if name != along)
    search = _Search(template, budget, ranges or {}, multiple_of, frontier=True)
    steps = []
    for first, last, best in list(search.staircase(dict.fromkeys(template.names, 0), across, along)):
        corner = search.design({across: best, along: last})
        values = corner.values
        steps.append(
            Step(
                search.axes[along].value(first),
                values[along],
                values[across],
                corner.params,
                str(corner.model.spec),
            )
        )
    return Frontier(template, budget, along, across, tuple(steps), search.probes)


# ---------------------------------------------------------------------------- the search


@dataclass(frozen=True)
class _Axis:
    """A name's grid: value(k) = (start + k) * step, for k from 0 to `last` (None: no end)."""

    name: str
    start: int
    step: int
    last: int | None

    def value(self, index: int) -> int:
        return (self.start + index) * self.step


def _axis(name: str, given: Range, multiple_of: int | None) -> _Axis:
    step = next((m for m in (given.multiple_of, multiple_of) if m is not None), 1)
    if step < 1:
        raise FitError(
            f"the values of {name} are multiples of a positive integer, received {step}", "multiple_of"
        )
    if given.lower < 1:
        raise FitError(
            f"the range of {name} starts at 1 or more (a size is positive), received {given.lower}", "range"
        )
    if given.upper is not None and given.upper < given.lower:
        raise FitError(f"the range of {name} is empty: {given.lower:,} to {given.upper:,}", "range")
    start = -(-given.lower // step)  # the first multiple of `step` from the lower end
    last = None if given.upper is None else given.upper // step - start
    if last is not None and last < 0:
        raise FitError(
            f"no multiple of {step:,} lies in the range of {name}, {given.lower:,} to {given.upper:,}",
            "multiple_of",
        )
    return _Axis(name, start, step, last)


Point = dict[str, int]  # grid indexes by name


@dataclass
class _Search:
    """The searches over one template, budget and grid, with every design measured once."""

    template: Template
    budget: Budget
    ranges: Mapping[str, Range]
    multiple_of: int | None
    axes: dict[str, _Axis] = field(init=False)
    cache: dict[tuple[int, ...], Design | None] = field(init=False, default_factory=dict)
    frontier: bool = False  # walking every step (else: looking for the best design)
    maximize: str = PARAMS  # what the best design has the most of
    probes: int = 0
    steps: int = 0
    work: int = 0
    layers: int = 0  # built, in all

    def __post_init__(self) -> None:
        exact = [key for key in EXACT_LIMITS if key in self.budget.limits]
        if exact:
            raise FitError(
                f"fit looks for the largest design within upper limits (max_*): the exact "
                f"{' and '.join(exact)} cannot hold while the sizes vary; drop "
                f"{'it' if len(exact) == 1 else 'them'}, and check the fitted spec against "
                f"{'it' if len(exact) == 1 else 'them'} instead"
            )
        unknown = [name for name in self.ranges if name not in self.template.names]
        if unknown:
            raise FitError(
                f"a range is given for {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} "
                f"not a free size of {self.template} (its free sizes: {', '.join(self.template.names)})",
                "range",
            )
        self.axes = {
            name: _axis(name, self.ranges.get(name, Range()), self.multiple_of)
            for name in self.template.names
        }
        smallest = self.design(dict.fromkeys(self.template.names, 0))  # SpecError: it is not valid
        if not smallest.fits:
            raise NoFitError(_no_fit_message(smallest), smallest)

    # -- designs

    def values(self, point: Point) -> dict[str, int]:
        return {name: self.axes[name].value(point[name]) for name in self.template.names}

    def probe(self, point: Point) -> Design | None:
        """The design at `point`, or None if past the spec's limits; measured once."""
        values = self.values(point)
        key = tuple(values.values())
        if key not in self.cache:
            for name, value in values.items():
                if value > UNBOUNDED:
                    raise FitError(
                        f"{name} grows past {UNBOUNDED:.0e} within the budget and the spec's limits: the "
                        f"budget limits no figure {name} changes; give {name} an upper end"
                    )
            self.probes += 1
            self.work += 1
            try:
                model = self.template.build(values)
            except SpecError:
                # Only past the spec's limits (a size, the layers, the input's values): the
                # smallest design parsed, and nothing else fails as sizes grow.
                self.cache[key] = None
            else:
                spec = self.template.render(values)
                self.cache[key] = Design(values, spec, model, tuple(measure(self.budget, model)))
                self.work += len(model.spec.layers) // LAYERS_PER_WORK
                self.layers += len(model.spec.layers)
            if self.work > MAX_WORK:
                where = f"after measuring {self.probes:,} designs of {self.layers:,} layers in all"
                raise FitError(self._too_long(where))
        return self.cache[key]

    def design(self, point: Point) -> Design:
        design = self.probe(point)
        if design is None:
            # The smallest design's SpecError, to the user; any other point asked for fits.
            self.template.build(self.values(point))
            raise AssertionError(f"no design at {point}")
        return design

    def fits(self, point: Point) -> bool:
        for name, index in point.items():
            last = self.axes[name].last
            if index < 0 or (last is not None and index > last):
                return False
        design = self.probe(point)
        return design is not None and design.fits

    def fits_along(self, point: Point, name: str) -> Callable[[int], bool]:
        """Whether the design fits as `name`'s index varies and the others stay as in `point`."""
        return lambda index: self.fits({**point, name: index})

    def binds(self, point: Point, name: str) -> tuple[str, ...]:
        """What the next grid value of `name` breaks, alone: budget keys, or PAST_RANGE."""
        last = self.axes[name].last
        if last is not None and point[name] >= last:
            return (PAST_RANGE,)
        design = self.probe({**point, name: point[name] + 1})
        return (PAST_RANGE,) if design is None else design.broken

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise FitError(self._too_long(f"at {MAX_STEPS:,} corners"))

    def _too_long(self, where: str) -> str:
        names = ", ".join(self.template.names)
        # A depth left to the spec's limit (MAX_LAYERS) makes the deepest, slowest designs.
        depths = [
            slot_name
            for slot in self.template.slots
            if slot.what == "the repeat count"
            for slot_name in names_in(slot.expr)
            if self.axes[slot_name].last is None
        ]
        advice = f"give {depths[0]} an upper end (a depth up to 64, say)" if depths else "narrow a range"
        first = self.template.names[0]
        if self.frontier:
            why = "the frontier has too many steps, or too deep designs, to find one by one"
        elif self.maximize != PARAMS:
            why = (
                "the designs with the largest "
                + self.maximize
                + " are too many, or too deep, to try one by one"
            )
        else:
            why = (
                "the design with the most parameters is one of too many that come close to the "
                f"budget, or too deep, to try one by one; maximize one size instead ({first}: the "
                f"largest {first}, then the most parameters, found at once)"
            )
        coarser = "or search a coarser grid (multiple_of)"
        return f"the search for {names} stopped {where}, unfinished: {why}; {advice}, {coarser}"

    # -- searches

    def largest(self, point: Point, name: str, gallop: bool = True) -> int:
        """The largest index of `name` that fits with the others as in `point`, from point[name]
        (which fits): galloping up from it, or, if the range has an upper end and `gallop` is
        false, trying the end and then bisecting."""

        fits = self.fits_along(point, name)
        low, high = point[name], self.axes[name].last
        if not gallop and high is not None:
            return high if fits(high) else _bisect(fits, low, high)
        return _gallop_up(fits, low, high)

    def staircase(self, origin: Point, across: str, along: str) -> Iterator[tuple[int, int, int]]:
        """The runs (first, last, best) of `along` indexes sharing the best `across` index,
        walked from the origin (which fits) with galloping searches from corner to corner."""
        best = self.largest(origin, across)
        first = origin[along]
        while True:
            self.step()
            last = self.largest({**origin, across: best, along: first}, along)
            yield first, last, best
            first = last + 1
            end = self.axes[along].last
            if end is not None and first > end:
                return
            # The best `across` at `first` is below `best` (else `last` would be later).
            below = _gallop_down(self.fits_along({**origin, along: first}, across), best, origin[across])
            if below is None:
                return
            best = below

    def best(self, fixed: Point, free: tuple[str, ...]) -> Point:
        """The point with the most parameters (ties: the largest values in the names' order)
        among those with `fixed`'s values of every other name and any of `free` (in the names'
        order); `fixed` (with `free` at their smallest) fits."""
        if not free:
            return fixed
        if len(free) == 1:
            return {**fixed, free[0]: self.largest(fixed, free[0], gallop=False)}
        if len(free) > 2:
            # Enumerate the name with the fewest values (one with an upper end), the rest for each.
            outer = min(free, key=lambda name: (self.axes[name].last is None, self.axes[name].last or 0))
            rest = tuple(name for name in free if name != outer)
            candidates = []
            index = fixed[outer]
            while self.fits({**fixed, outer: index}):
                self.step()
                candidates.append(self.best({**fixed, outer: index}, rest))
                index += 1
            return max(candidates, key=self.rank)
        return self.best_of_two(fixed, *free)

    def best_of_two(self, fixed: Point, across: str, along: str) -> Point:
        """The corner of the staircase (each `along` index's largest `across` index) with the
        most parameters, found by halving stretches of `along` and dropping each stretch whose
        best conceivable design (its largest `across` with its largest `along`, which bounds
        every design in it, parameters and values) cannot beat the best corner found."""
        lo = fixed[along]
        top = {lo: self.largest(fixed, across)}  # each `along` index's largest `across` index
        best = {**fixed, across: top[lo], along: lo}
        ceiling = self.budget.limits.get("max_params")
        stretches: list[tuple[int, int | None]] = [(lo, None)]  # None: to `along`'s last that fits
        while stretches:  # the stretch nearest the origin first: its designs are the cheapest
            start, end = stretches.pop()
            self.step()
            # Nothing has more parameters than max_params: at it, only a tie can match the best.
            at_ceiling = self.design(best).params == ceiling
            upper = {**fixed, across: top[start], along: UNBOUNDED if end is None else end}
            if at_ceiling and (ceiling, self.order(upper)) <= self.rank(best):
                continue
            if end is None:  # no known end: galloping out, as deep designs are dear to build
                reach = 2 * start + 1
                if not self.fits({**fixed, along: reach}):
                    reach = _bisect(self.fits_along(fixed, along), start, reach)
                    stretches.append((start, reach))
                else:
                    stretches += [(reach, None), (start, reach)]
                if reach not in top:
                    top[reach] = _bisect(
                        self.fits_along({**fixed, along: reach}, across), fixed[across], top[start] + 1
                    )
                    best = max(best, {**fixed, across: top[reach], along: reach}, key=self.rank)
                continue
            if end - start <= 1 or top[start] == top[end]:  # no corner between them but `end`'s
                continue
            bound = self.probe(upper)
            if bound is not None and (bound.params, self.order(upper)) <= self.rank(best):
                continue
            middle = (start + end) // 2
            # Between the stretch's ends' best values: the largest `across` that fits at `middle`.
            top[middle] = _bisect(self.fits_along({**fixed, along: middle}, across), top[end], top[start] + 1)
            best = max(best, {**fixed, across: top[middle], along: middle}, key=self.rank)
            stretches += [(middle, end), (start, middle)]
        return best

    def order(self, point: Point) -> tuple[int, ...]:
        """The values in the names' order: what breaks a tie in parameters."""
        return tuple(point[name] for name in self.template.names)

    def rank(self, point: Point) -> tuple[int, tuple[int, ...]]:
        """Parameters first, then the values in the names' order."""
        return self.design(point).params, self.order(point)


def _bisect(fits: Callable[[int], bool], yes: int, no: int) -> int:
    """The largest index that fits, between `yes` (fits) and `no` (does not)."""
    while no - yes > 1:
        middle = (yes + no) // 2
        yes, no = (middle, no) if fits(middle) else (yes, middle)
    return yes


def _gallop_up(fits: Callable[[int], bool], yes: int, end: int | None) -> int:
    """The largest index from `yes` (which fits) to `end` (None: no end) that fits, probing
    yes+1, yes+2, yes+4, ... then bisecting: O(log distance) probes, cheap for near answers."""
    distance, start = 1, yes
    while True:
        probe = start + distance
        if end is not None and probe >= end:
            return end if fits(end) else _bisect(fits, yes, end)
        if not fits(probe):
            return _bisect(fits, yes, probe)
        yes, distance = probe, distance * 2


def _gallop_down(fits: Callable[[int], bool], no: int, floor: int) -> int | None:
    """The largest index from `floor` to `no` (which does not fit) that fits, or None if not
    even `floor` does: probing no-1, no-2, no-4, ... then bisecting."""
    distance, start = 1, no
    while True:
        probe = start - distance
        if probe <= floor:
            return _bisect(fits, floor, no) if fits(floor) else None
        if fits(probe):
            return _bisect(fits, probe, no)
        no, distance = probe, distance * 2


def _no_fit_message(design: Design) -> str:
    values = ", ".join(f"{name}={value:,}" for name, value in design.values.items())
    broken = []
    for outcome in design.outcomes:
        if outcome.ok or not isinstance(outcome.actual, int) or not isinstance(outcome.expected, int):
            continue
        unit = " B" if outcome.key in SIZE_KEYS else ""
        by = outcome.actual - outcome.expected
        share = f", {by / outcome.expected:+.1%}" if outcome.expected else ""
        broken.append(
            f"{outcome.key}: {outcome.expected:,}{unit} allowed, {outcome.actual:,}{unit} ({by:+,}{share})"
        )
    if all(value == 1 for value in design.values.values()):
        advice = "no design of this template fits: raise the limit, or make the template smaller"
    else:
        advice = "raise the limit, or start from smaller values (a range's lower end, multiple_of)"
    return (
        f"even the smallest design, {design.spec} ({values}), breaks the budget: {'; '.join(broken)}; "
        + advice
    )
