"""`fit`'s core: templates (design/template.py) and the exact search (design/fit.py), each
answer checked against brute force: every design of a small grid measured by budgets.measure."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mlpcalc.budgets import LIMITS, Budget, make_budget, measure
from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.core.errors import MlpcalcError, SpecError
from mlpcalc.core.model import parse
from mlpcalc.costs.flops import by_convention
from mlpcalc.design.fit import PAST_RANGE, FitError, NoFitError, Range, fit, frontier
from mlpcalc.design.template import Template, parse_template

UPPER_LIMITS = [key for key in LIMITS if key.startswith("max_")]


def budget(**values: object) -> Budget:
    """An inline budget, as `check` builds one from its options."""
    return make_budget("fit", {"spec": "template", **values})


# ---------------------------------------------------------------------------- brute force


@dataclass(frozen=True)
class Grid:
    """A name's values for brute force: lower..upper, multiples of `step`; `open`: fit is given
    no upper end (the brute force checks that nothing past `upper` fits)."""

    lower: int
    upper: int
    step: int = 1
    open: bool = False

    @property
    def values(self) -> list[int]:
        return [v for v in range(self.lower, self.upper + 1) if v % self.step == 0]

    @property
    def range(self) -> Range:
        return Range(self.lower, None if self.open else self.upper, self.step)


def fits(template: Template, limits: Budget, values: dict[str, int]) -> tuple[bool, int, tuple[str, ...]]:
    """Whether the design at `values` fits, its parameters and the limits it breaks."""
    try:
        model = template.build(values)
    except SpecError:
        return False, 0, (PAST_RANGE,)
    broken = tuple(o.key for o in measure(limits, model) if not o.ok)
    return not broken, model.total_params, broken


def brute(
    template: Template, limits: Budget, grids: dict[str, Grid], maximize: str = "params"
) -> tuple[dict[str, int], dict[str, tuple[str, ...]]] | None:
    """The best design by enumeration, and what the next grid value of each name breaks; the
    smallest design's SpecError if it is no spec (fit refuses then too)."""
    names = template.names
    smallest = {name: grids[name].values[0] for name in names}
    template.build(smallest)
    for name in names:
        if grids[name].open:  # the grid must reach past every design that fits
            beyond = {**smallest, name: grids[name].values[-1] + grids[name].step}
            assert not fits(template, limits, beyond)[0], f"widen the brute-force grid of {name}"
    best: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # (rank, values)
    for combo in itertools.product(*(grids[name].values for name in names)):
        values = dict(zip(names, combo, strict=True))
        ok, params, _ = fits(template, limits, values)
        if ok:
            rank = (params,) if maximize == "params" else (values[maximize], params)
            best = (rank, combo) if best is None or (rank, combo) > best else best
    if best is None:
        return None
    values = dict(zip(names, best[1], strict=True))
    binds: dict[str, tuple[str, ...]] = {}
    for name in names:
        following = values[name] + grids[name].step
        if following > grids[name].upper and not grids[name].open:
            binds[name] = (PAST_RANGE,)
        else:
            binds[name] = fits(template, limits, {**values, name: following})[2]
    return values, binds


def brute_frontier(
    template: Template, limits: Budget, grids: dict[str, Grid], along: str
) -> list[tuple[int, int, int]]:
    """Each `along` value's largest other value that fits, grouped in runs (first, last, best)."""
    across = next(name for name in template.names if name != along)
    runs: list[tuple[int, int, int]] = []
    for value in grids[along].values:
        fitting = [w for w in grids[across].values if fits(template, limits, {along: value, across: w})[0]]
        if not fitting:
            break
        if runs and runs[-1][2] == max(fitting):
            runs[-1] = (runs[-1][0], value, max(fitting))
        else:
            runs.append((value, value, max(fitting)))
    return runs


# ---------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    template: str
    limits: dict[str, object]
    grids: dict[str, Grid]
    maximize: str = "params"
    frontier_along: str | None = None
    multiple_of: int | None = None  # for every name (the grids then say the same)
    id: str = field(default="", compare=False)


G = Grid
CASES = [
    # One free size, each limit and setting.
    Case("8->W*3->4 relu", {"max_params": 2000}, {"W": G(1, 60)}, id="params"),
    Case("8->W*3->4 relu", {"max_params": 2000}, {"W": G(1, 80, open=True)}, id="params-open-range"),
    Case("8->W->W/2->4 relu", {"max_params": "3K"}, {"W": G(2, 120)}, id="floor-division"),
    Case("4x8->W:gelu->ln->W->4", {"max_flops": 60_000}, {"W": G(1, 90)}, id="rank3-ln-flops"),
    Case("8->(2*W)->W->4", {"max_weights_bytes": "4 KiB", "dtype": "float16"}, {"W": G(1, 60)}, id="f16"),
    Case("8->W+8->4", {"max_trainable_params": 1500}, {"W": G(1, 200)}, id="sum-trainable"),
    Case(
        "8->W->bn->dropout(0.2)->W->4 relu",
        {"max_params": 3000, "max_trainable_params": 2900},
        {"W": G(1, 80)},
        id="bn-dropout",
    ),
    Case("16->W->4", {"max_weights_bytes": 1000, "dtype": "int8"}, {"W": G(1, 80)}, id="int8"),
    Case("16->W->4", {"max_weights_bytes": "20 KB", "dtype": "float64"}, {"W": G(1, 300)}, id="float64"),
    Case("16->W->4", {"max_weights_bytes": "3 KiB", "dtype": "bfloat16"}, {"W": G(1, 120)}, id="bfloat16"),
    Case("16->W->4", {"max_weights_bytes": "3 KiB"}, {"W": G(1, 120)}, id="float32"),
    Case("8->W*2->4", {"max_macs": 5000, "batch": 4}, {"W": G(1, 60)}, id="macs-batch"),
    Case("8->W*2->4 relu", {"max_flops": 9000, "flops_convention": "torchinfo", "batch": 8}, {"W": G(1, 60)}),
    Case("4x8->W->relu->4", {"max_flops": 3000, "flops_convention": "ptflops", "batch": 3}, {"W": G(1, 90)}),
    Case("4x8->W:gelu->4", {"max_flops": 4321, "flops_convention": "calflops"}, {"W": G(1, 90)}),
    Case("8->W->ln->4:softmax", {"max_flops": 2000, "flops_convention": "tf-profiler"}, {"W": G(1, 90)}),
    Case("8->W*2->4 relu", {"max_flops": 4000, "flops_convention": "fvcore"}, {"W": G(1, 90)}),
    Case("8->W*2->4 silu", {"max_flops": 4000, "flops_convention": "thop"}, {"W": G(1, 90)}),
    Case(
        "8->W*2->4 relu",
        {"max_training_bytes": "64 KiB", "optimizer": "sgd", "batch": 16},
        {"W": G(1, 200)},
        id="training-sgd",
    ),
    Case(
        "8->W->dropout(0.5)->W->4 relu",
        {"max_training_bytes": "96 KiB", "optimizer": "adam", "batch": 16},
        {"W": G(1, 200)},
        id="training-adam-dropout",
    ),
    Case(
        "8->W->bn->W->4 relu",
        {"max_training_bytes": "96 KiB", "mixed_precision": True, "batch": 16},
        {"W": G(1, 200)},
        id="mixed-precision",
    ),
    Case("8->W->W->4 relu", {"max_inference_bytes": "16 KiB", "batch": 32}, {"W": G(1, 200)}, id="inference"),
    Case("Hx16->32->4", {"max_flops": 50_000}, {"H": G(1, 80)}, id="free-input-dimension"),
    Case("4xWx4->flatten->16->4", {"max_params": 3000}, {"W": G(1, 80)}, id="flatten"),
    Case("8->W->relu->W->softmax", {"max_params": 2500}, {"W": G(1, 80)}, id="activation-layers"),
    Case("8->W*2:nobias->4", {"max_params": 1200}, {"W": G(1, 80)}, id="nobias"),
    Case("8->W->ln(1e-5)->W/3+1->4 tanh", {"max_params": 2500}, {"W": G(1, 120)}, id="ln-epsilon"),
    Case("8->16*D->4 relu", {"max_params": 3000}, {"D": G(1, 20)}, id="depth"),
    Case("8->16*D->4 relu", {"max_params": 3000}, {"D": G(1, 20, open=True)}, id="depth-open"),
    Case("8->W*3->4 relu", {"max_params": 5000}, {"W": G(8, 120, 8)}, multiple_of=8, id="multiple-of"),
    Case("8->W*3->4 relu", {"max_params": 5000}, {"W": G(5, 120, 4)}, id="multiple-of-per-name"),
    Case("8->W*3->4 relu", {"max_params": 5000}, {"W": G(3, 20)}, id="the-range-binds"),
    Case("8->(W+V)/2->4", {"max_params": 10**6}, {"W": G(1, 9), "V": G(1, 7)}, id="two-range-bound"),
    # Two free sizes: the most parameters, the largest of one name, and the staircase.
    Case("8->W*D->4 relu", {"max_params": 3000}, {"W": G(1, 70), "D": G(1, 12)}, frontier_along="D"),
    Case("8->W*D->4 relu", {"max_params": 3000}, {"W": G(1, 70), "D": G(1, 12)}, maximize="W"),
    Case("8->W*D->4 relu", {"max_params": 3000}, {"W": G(1, 70), "D": G(1, 12)}, maximize="D"),
    Case("8->W*D->4 relu", {"max_flops": 9000}, {"W": G(1, 70), "D": G(1, 12)}, frontier_along="W"),
    Case("8->W->V->4 relu", {"max_flops": 7000}, {"W": G(1, 60), "V": G(1, 60)}, frontier_along="V"),
    Case("8->W->V->4 relu", {"max_params": 1500}, {"W": G(1, 60), "V": G(1, 60)}, maximize="V"),
    Case("Vx8->W->4", {"max_flops": 4000}, {"V": G(1, 40), "W": G(1, 60)}, frontier_along="V", id="ties"),
    Case(
        "8->(W+V)/2->W->4",
        {"max_training_bytes": "32 KiB", "optimizer": "adam", "batch": 4},
        {"W": G(1, 60), "V": G(1, 60)},
        frontier_along="W",
    ),
    Case("8->W*D->4 relu", {"max_params": 3000}, {"W": G(4, 68, 4), "D": G(1, 12)}, id="two-multiple-of"),
    Case(
        "8->W*D->4 relu",
        {"max_params": 1500},
        {"W": G(8, 120, open=True), "D": G(1, 22, open=True)},
        frontier_along="D",
        id="two-open",
    ),
    # Three free sizes: enumerated, down to a staircase of the last two.
    Case("8->W->V*D->4 relu", {"max_params": 700}, {"W": G(1, 14), "V": G(1, 14), "D": G(1, 4)}),
    Case(
        "8->W->V*D->4 relu", {"max_params": 700}, {"W": G(1, 14), "V": G(1, 14), "D": G(1, 4)}, maximize="V"
    ),
]


def _case_id(case: Case) -> str:
    return case.id or f"{case.template} {','.join(map(str, case.limits.values()))} {case.maximize}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_fit_agrees_with_brute_force(case: Case) -> None:
    template = parse_template(case.template)
    limits = budget(**case.limits)
    expected = brute(template, limits, case.grids, case.maximize)
    assert expected is not None
    ranges = {name: grid.range for name, grid in case.grids.items()}
    if case.multiple_of is not None:  # given once for every name
        ranges = {name: Range(r.lower, r.upper) for name, r in ranges.items()}
    result = fit(template, limits, ranges, multiple_of=case.multiple_of, maximize=case.maximize)
    assert (result.design.values, result.binds) == expected
    assert result.design.spec == template.render(expected[0])
    assert result.design.model == parse(result.design.spec)
    assert result.design.fits
    assert result.design.slack == {o.key: o.expected - o.actual for o in result.design.outcomes}  # type: ignore[operator]


@pytest.mark.parametrize("case", [case for case in CASES if case.frontier_along], ids=_case_id)
def test_frontier_agrees_with_brute_force(case: Case) -> None:
    template = parse_template(case.template)
    limits = budget(**case.limits)
    assert case.frontier_along is not None
    ranges = {name: grid.range for name, grid in case.grids.items()}
    result = frontier(template, limits, case.frontier_along, ranges)
    expected = brute_frontier(template, limits, case.grids, case.frontier_along)
    assert [(s.first, s.last, s.best) for s in result.steps] == expected
    across = result.across
    for step in result.steps:
        values = {case.frontier_along: step.last, across: step.best}
        model = template.build(values)
        assert (step.spec, step.params) == (str(model.spec), model.total_params)


def test_the_most_parameters_is_a_corner_of_the_frontier() -> None:
    template, limits = parse_template("8->W*D->4 relu"), budget(max_params=3000)
    ranges = {"W": Range(1, 70), "D": Range(1, 12)}
    steps = frontier(template, limits, "D", ranges).steps
    best = fit(template, limits, ranges).design
    assert best.params == max(step.params for step in steps)
    assert {"W": best.values["W"], "D": best.values["D"]} in [{"W": s.best, "D": s.last} for s in steps]


# ---------------------------------------------------------------------------- properties

NAMES = ("W", "V")
SIZES = st.sampled_from(["{N}", "{N}+3", "{N}/2+1", "(2*{N})", "({N}+{M})/2", "{N}-1+2", "5"])


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, tuple[str, ...]]:
    """A small template over W and perhaps V, with every kind of layer and size."""
    names = NAMES[: draw(st.integers(1, 2))]

    def size() -> str:
        text = draw(SIZES)
        return text.format(N=draw(st.sampled_from(names)), M=draw(st.sampled_from(names)))

    first = draw(st.sampled_from(["8", "4x8", "{N}x4", "3x{N}"])).format(N=draw(st.sampled_from(names)))
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        layer = size()
        if draw(st.booleans()):
            layer += f"*{draw(st.sampled_from(['2', *names]))}"
        layers.append(layer + draw(st.sampled_from(["", ":relu", ":gelu", ":nobias"])))
        layers += draw(st.lists(st.sampled_from(["bn", "ln", "dropout(0.1)", "tanh"]), max_size=1))
    layers += [name for name in names if name not in "".join([first, *layers])]  # every name used
    layers.append(draw(st.sampled_from(["3", "flatten->3", "3:softmax"])))
    text = "->".join([first, *layers]) + draw(st.sampled_from(["", " relu"]))
    template = parse_template(text)
    return text, template.names


@st.composite
def settings_values(draw: st.DrawFn) -> dict[str, object]:
    """The settings of a budget, as its file would give them."""
    values: dict[str, object] = {
        "batch": draw(st.sampled_from([1, 4])),
        "flops_convention": draw(st.sampled_from(list(CONVENTIONS))),
        "dtype": draw(st.sampled_from(["float32", "float16", "int8"])),
    }
    if values["dtype"] != "int8" and draw(st.booleans()):
        values["optimizer"] = draw(st.sampled_from(["adam", "sgd", "rmsprop"]))
    if values["dtype"] == "float32":
        values["mixed_precision"] = draw(st.booleans())
    return values


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates(), settings_values(), st.integers(1, 2), st.sampled_from([1, 2]), st.data())
def test_fit_is_brute_force(
    drawn: tuple[str, tuple[str, ...]],
    options: dict[str, object],
    lower: int,
    step: int,
    data: st.DataObject,
) -> None:
    text, names = drawn
    template = parse_template(text)
    grids = {name: Grid(lower, 9, step) for name in names}
    ranges = {name: grid.range for name, grid in grids.items()}
    maximize = data.draw(st.sampled_from(["params", *names]), label="maximize")
    # Limits about the figures of a design of the grid, so that they bind inside it.
    keys = data.draw(st.lists(st.sampled_from(UPPER_LIMITS), min_size=1, max_size=2, unique=True))
    reference = {name: data.draw(st.integers(2, 9), label=f"reference {name}") for name in names}
    try:
        model = template.build(reference)
    except SpecError:  # W/2+1 is fine, but a depth of 1 with a default activation is not
        event("the reference design is no spec")
        return
    everything = budget(**dict.fromkeys(keys, 10**30), **options)
    actual = {o.key: o.actual for o in measure(everything, model)}
    limits = budget(
        **{key: actual[key] * data.draw(st.integers(70, 200), label=key) // 100 for key in keys},  # type: ignore[operator]
        **options,
    )
    try:
        expected = brute(template, limits, grids, maximize)
    except SpecError:  # the smallest design is no spec: fit says so too
        event("the smallest design is no spec")
        with pytest.raises(SpecError):
            fit(template, limits, ranges, maximize=maximize)
        return
    if expected is None:
        event("nothing fits")
        with pytest.raises(NoFitError):
            fit(template, limits, ranges, maximize=maximize)
        return
    result = fit(template, limits, ranges, maximize=maximize)
    assert (result.design.values, result.binds) == expected
    event(f"{len(names)} names, binding: {sorted(set(sum(expected[1].values(), ())))}")


@settings(max_examples=60, deadline=None)
@given(templates(), settings_values(), st.data())
def test_every_figure_grows_with_every_name(
    drawn: tuple[str, tuple[str, ...]], options: dict[str, object], data: st.DataObject
) -> None:
    text, names = drawn
    template = parse_template(text)
    everything = budget(**dict.fromkeys(UPPER_LIMITS, 10**30), **options)
    values = {name: data.draw(st.integers(2, 40), label=name) for name in names}
    grown = data.draw(st.sampled_from(names), label="grown")
    small, large = template.build(values), template.build({**values, grown: values[grown] + 1})
    for old, new in zip(measure(everything, small), measure(everything, large), strict=True):
        assert isinstance(old.actual, int) and isinstance(new.actual, int)
        assert new.actual >= old.actual, (old.key, text, values, grown)
    for convention, count in by_convention(small).items():
        assert by_convention(large)[convention] >= count, (convention, text, values, grown)


# ---------------------------------------------------------------------------- templates


@pytest.mark.parametrize(
    ("text", "names", "values", "spec"),
    [
        ("784->W*3->10 relu", ("W",), {"W": 512}, "784->512*3->10 relu"),
        ("784->W->W/2->10 relu", ("W",), {"W": 255}, "784->255->127->10 relu"),
        ("32x784->W:gelu->ln->W->10", ("W",), {"W": 64}, "32x784->64:gelu->ln->64->10"),
        ("784->W*D->10 relu", ("W", "D"), {"W": 128, "D": 4}, "784->128*4->10 relu"),
        ("784->(2*W)->W->10", ("W",), {"W": 100}, "784->200->100->10"),
        ("784->W+8->10", ("W",), {"W": 56}, "784->64->10"),
        ("784 -> W - 8 -> 10", ("W",), {"W": 72}, "784 -> 64 -> 10"),
        ("784->(W+V)/2->V*(2*D)->10", ("W", "V", "D"), {"W": 9, "V": 4, "D": 3}, "784->6->4*6->10"),
        ("Hx28->WIDTH_1->10", ("H", "WIDTH_1"), {"H": 28, "WIDTH_1": 99}, "28x28->99->10"),
        ("28 x H→W→10", ("H", "W"), {"H": 3, "W": 5}, "28 x 3→5→10"),
        (
            "784->1_000->W->dropout(0.5)->bn(1e-5)->10",
            ("W",),
            {"W": 7},
            "784->1_000->7->dropout(0.5)->bn(1e-5)->10",
        ),
        ("784->2*W->10", ("W",), {"W": 3}, "784->2*3->10"),  # W layers of 2: `*` repeats
    ],
)
def test_render(text: str, names: tuple[str, ...], values: dict[str, int], spec: str) -> None:
    template = parse_template(text)
    assert template.names == names
    assert template.render(values) == spec
    assert template.build(values) == parse(spec)


@pytest.mark.parametrize(
    ("text", "message", "span"),
    [
        (
            "784->512->10 relu",
            "a template needs at least one free size such as W: 784->512->10 relu has none (at column 1); "
            "name the sizes to fit in capitals, as in 784->W*3->10 relu",
            (0, 17),
        ),
        (
            "784->(10-W)->10",
            "W stands on the right of '-': a size may not shrink as a free size grows (at column 10); only "
            "constants may be subtracted, as in W-8 or (W+V)/2; every size must grow with each free size",
            (9, 10),
        ),
        (
            "784->W/(V+1)->10",
            "V stands on the right of '/': a size may not shrink as a free size grows (at column 9); only "
            "constants may be divided by, as in W-8 or (W+V)/2; every size must grow with each free size",
            (8, 9),
        ),
        (
            "784->W%2->10",
            "unexpected character '%' (at column 7); expected a layer size, a layer name, '->', ':', '*' or "
            "parentheses",
            (6, 7),
        ),
        (
            "784->(W#2)->10",
            "expected ')' to close the '(' at column 6, received '#' (at column 8); expected an operator "
            "(+ - * /) or ')'",
            (7, 8),
        ),
        (
            "784->(W+)->10",
            "expected a size in the number of units, received ')' (at column 9); expected an integer, a free "
            "size such as W, or '('",
            (8, 9),
        ),
        (
            "784->W*2*D->10",
            "'*' after a repeat count: '*' multiplies only inside parentheses (at column 9); write the "
            "product in parentheses, as in W*(2*D)",
            (8, 9),
        ),
        (
            "784*W->10",
            "'*' after the input shape: '*' multiplies only inside parentheses (at column 4); write the "
            "product in parentheses, as in (2*W)",
            (3, 4),
        ),
        ("784->W/0->10", "a divisor must be a positive integer, received 0 (at column 8)", (7, 8)),
        ("784->W/(1-2)->10", "a divisor must be a positive integer, received -1 (at column 8)", (7, 12)),
        (
            "784->W" + "+1" * 101 + "->10",
            "a size has at most 100 operators and parentheses (at column 208); simplify it",
            (207, 208),
        ),
        (
            "784->W->10 rleu",
            "unknown activation 'rleu' (at column 12); expected one of relu, sigmoid, tanh, softmax, linear, "
            "gelu, elu, selu, softplus, swish, silu, leaky_relu; did you mean 'relu'?",
            (11, 15),
        ),
        (
            "784->Relu->W",
            "unknown layer or activation 'Relu' (at column 6); expected one of bn, batchnorm, ln, layernorm, "
            "flatten, dropout, relu, sigmoid, tanh, softmax, linear, gelu, elu, selu, softplus, swish, silu, "
            "leaky_relu; did you mean 'relu'?",
            (5, 9),
        ),
        ("784->W->dropout(2)", "the dropout rate must be in [0, 1), received 2 (at column 17)", (16, 17)),
        (
            "784->W.5->10",
            "the number of units must be a positive integer, received 1.5 (at column 6)",
            (5, 8),
        ),
    ],
)
def test_template_errors(text: str, message: str, span: tuple[int, int]) -> None:
    with pytest.raises(SpecError) as caught:
        parse_template(text)
    assert str(caught.value) == message
    assert (caught.value.start, caught.value.end) == span
    assert caught.value.source == text


@pytest.mark.parametrize(
    ("text", "values", "message", "span"),
    [
        (
            "784->W/2->10",
            {"W": 1},
            "the number of units W/2 is 0 at W=1 (at column 6); expected a positive integer; it is positive "
            "from W=2 on: raise the lower end of the range",
            (5, 8),
        ),
        (
            "784->W-64->10",
            {"W": 1},
            "the number of units W-64 is -63 at W=1 (at column 6); expected a positive integer; it is "
            "positive from W=65 on: raise the lower end of the range",
            (5, 9),
        ),
        (
            "784->((W-3)*V)->10",
            {"W": 1, "V": 2},
            "a factor of the number of units (W-3) is -2 at W=1 (at column 7); expected a factor that is not "
            "negative; it is not negative from W=3 on: raise the lower end of the range",
            (6, 11),
        ),
        (
            "784->W*D relu",
            {"W": 3, "D": 1},
            "the default activation 'relu' applies to no layer: it goes to the Dense layers without an "
            "activation, except the last, with W=3, D=1 (at column 10); for an output activation, write it "
            "after the units, as in 784->10:softmax",
            (9, 13),
        ),
        (
            "784->W->10",
            {"W": 10**16},
            "the number of units is too large: at most 1,000,000,000,000,000, with W=10,000,000,000,000,000 "
            "(at column 6)",
            (5, 6),
        ),
        (
            "784->W*D->10",
            {"W": 5, "D": 20_000},
            "the repeat count is too large: at most 10,000, with W=5, D=20,000 (at column 8)",
            (7, 8),
        ),
    ],
)
def test_build_errors(text: str, values: dict[str, int], message: str, span: tuple[int, int]) -> None:
    with pytest.raises(SpecError) as caught:
        parse_template(text).build(values)
    assert str(caught.value) == message
    assert (caught.value.start, caught.value.end) == span


# ---------------------------------------------------------------------------- fit's errors


def test_the_smallest_design_breaking_a_budget_says_which_and_by_how_much() -> None:
    with pytest.raises(NoFitError) as caught:
        fit(parse_template("784->W*3->10 relu"), budget(max_params="1M", max_weights_bytes="1 KiB"))
    assert str(caught.value) == (
        "even the smallest design, 784->1*3->10 relu (W=1), breaks the budget: max_weights_bytes: "
        "1,024 B allowed, 3,236 B (+2,212, +216.0%); no design of this template fits: raise the limit, "
        "or make the template smaller"
    )
    assert [o.key for o in caught.value.broken] == ["max_weights_bytes"]
    assert isinstance(caught.value, MlpcalcError)


def test_the_smallest_design_of_a_range_breaking_a_budget() -> None:
    with pytest.raises(NoFitError) as caught:
        fit(parse_template("784->W->10"), budget(max_params=50_000, max_flops=50_000), {"W": Range(64)})
    assert str(caught.value) == (
        "even the smallest design, 784->64->10 (W=64), breaks the budget: max_params: 50,000 allowed, "
        "50,890 (+890, +1.8%); max_flops: 50,000 allowed, 101,706 (+51,706, +103.4%); raise the limit, "
        "or start from smaller values (a range's lower end, multiple_of)"
    )


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            {"max_params": "1M", "params": 5},
            "fit looks for the largest design within upper limits (max_*): the exact params cannot hold "
            "while the sizes vary; drop it, and check the fitted spec against it instead",
        ),
        (
            {"params": 5, "output_shape": [10]},
            "fit looks for the largest design within upper limits (max_*): the exact params and "
            "output_shape cannot hold while the sizes vary; drop them, and check the fitted spec against "
            "them instead",
        ),
    ],
)
def test_exact_limits_are_refused(limits: dict[str, object], message: str) -> None:
    with pytest.raises(FitError) as caught:
        fit(parse_template("784->W->10"), budget(**limits))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("ranges", "options", "message"),
    [
        (
            {"V": Range()},
            {},
            "a range is given for V, which is not a free size of 784->W->10 (its free sizes: W)",
        ),
        ({"W": Range(0)}, {}, "the range of W starts at 1 or more (a size is positive), received 0"),
        ({"W": Range(10, 5)}, {}, "the range of W is empty: 10 to 5"),
        ({"W": Range(1, 50)}, {"multiple_of": 64}, "no multiple of 64 lies in the range of W, 1 to 50"),
        ({}, {"multiple_of": 0}, "the values of W are multiples of a positive integer, received 0"),
        (
            {},
            {"maximize": "V"},
            "expected 'params' or a free size of the template (W), received 'V'",
        ),
    ],
)
def test_bad_ranges_and_goals(ranges: dict[str, Range], options: dict[str, object], message: str) -> None:
    with pytest.raises(FitError) as caught:
        fit(parse_template("784->W->10"), budget(max_params="1M"), ranges, **options)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_an_expression_reaching_0_at_the_smallest_design() -> None:
    with pytest.raises(SpecError) as caught:
        fit(parse_template("784->W->W/4->10"), budget(max_params="1M"), multiple_of=2)
    assert str(caught.value) == (
        "the number of units W/4 is 0 at W=2 (at column 9); expected a positive integer; it is positive "
        "from W=4 on: raise the lower end of the range"
    )
    assert fit(parse_template("784->W->W/4->10"), budget(max_params="1M"), {"W": Range(4)}).design.fits


def test_a_frontier_needs_two_names() -> None:
    with pytest.raises(FitError) as caught:
        frontier(parse_template("784->W->10"), budget(max_params="1M"), "W")
    assert str(caught.value) == (
        "a frontier is drawn for a template of two free sizes, along one of them: 784->W->10 has W, "
        "and the frontier was asked along 'W'"
    )


def test_a_search_with_too_many_corners_is_refused_with_what_to_narrow() -> None:
    with pytest.raises(FitError) as caught:
        fit(parse_template("784->W*D->10 relu"), budget(max_flops="2G"))
    assert str(caught.value).startswith("the search for W, D stopped after measuring ")
    assert str(caught.value).endswith(
        " layers in all, unfinished: the design with the most parameters is one of too many that come "
        "close to the budget, or too deep, to try one by one; maximize one size instead (W: the largest "
        "W, then the most parameters, found at once); give D an upper end (a depth up to 64, say), or "
        "search a coarser grid (multiple_of)"
    )
    with pytest.raises(FitError, match="the frontier has too many steps, or too deep designs"):
        frontier(parse_template("784->W*D->10 relu"), budget(max_params="1M"), "W")
    # With a depth of at most 32, the same question has an answer.
    result = fit(parse_template("784->W*D->10 relu"), budget(max_flops="2G"), {"D": Range(1, 32)})
    assert result.design.fits


def test_a_name_that_changes_nothing_budgeted_needs_an_upper_end() -> None:
    with pytest.raises(FitError) as caught:
        fit(parse_template("784->(W*0)+1->10"), budget(max_params="1M"))
    assert str(caught.value) == (
        "W grows past 1e+100 within the budget and the spec's limits: the budget limits no figure W "
        "changes; give W an upper end"
    )


# ---------------------------------------------------------------------------- probes


@pytest.mark.parametrize("limit", [10**6, 10**9, 7 * 10**11, 10**15])
def test_a_range_of_a_billion_takes_few_probes(limit: int) -> None:
    result = fit(parse_template("784->W->10"), budget(max_params=limit), {"W": Range(1, 10**9)})
    expected = min(10**9, (limit - 10) // 795)  # 784 W + W + 10 W + 10 parameters
    assert result.design.values == {"W": expected}
    assert result.probes <= 40


def test_an_open_range_takes_few_probes_up_to_the_spec_limit() -> None:
    result = fit(parse_template("784->W->10"), budget(max_params=10**30))
    assert result.design.values == {"W": 10**15}  # MAX_SIZE
    assert result.binds == {"W": (PAST_RANGE,)}
    assert result.probes <= 110


def test_a_depth_and_width_under_a_parameter_limit_stop_at_the_limit() -> None:
    """Once a corner has exactly max_params, only a tie could match it, which a smaller W loses:
    the search stops short of the deep designs (up to 10,000 layers) a depth left open allows."""

    def params(width: int, depth: int) -> int:
        return parse(f"784->{width}*{depth}->10 relu").total_params

    widest = {}  # for each depth, the widest W within 1M parameters (a bisection each)
    for depth in range(1, 41):
        low, high = 0, 1300
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if params(middle, depth) <= 10**6 else (low, middle)
        widest[depth] = low
    expected = max((params(w, d), (w, d)) for d, w in widest.items() if w)
    result = fit(parse_template("784->W*D->10 relu"), budget(max_params="1M"))
    assert (result.design.params, (result.design.values["W"], result.design.values["D"])) == expected
    assert expected[0] == 10**6  # the limit, exactly
    assert result.probes <= 120


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789WVD xX×()+-*/>→:_.reluginbdotfsamx", max_size=30))
def test_any_text_is_a_template_or_a_spec_error_with_a_span_in_it(text: str) -> None:
    try:
        template = parse_template(text)
        template.build(dict.fromkeys(template.names, 3))
    except SpecError as error:
        assert error.source == text
        assert 0 <= error.start <= error.end <= len(text)
        assert error.start < error.end or error.start == len(text)  # an empty span: the end of the text


# ---------------------------------------------------------------------------- the command


def _fit_cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from mlpcalc.cli import app

    return CliRunner().invoke(app, ["fit", *args], env={"COLUMNS": "80"})


def _schema(name: str) -> Any:
    import json
    from importlib.resources import files

    import jsonschema

    schema = json.loads(files("mlpcalc").joinpath(f"schemas/{name}.v1.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def test_fit_prints_the_design_its_slack_and_its_summary() -> None:
    from typer.testing import CliRunner

    from mlpcalc.cli import app

    result = _fit_cli("784->W*3->10 relu", "--max-params", "1M")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    found = fit(parse_template("784->W*3->10 relu"), budget(max_params=10**6))
    width = found.design.values["W"]
    assert f"  W = {width:,}\n" in result.stdout
    assert f"  {found.design.model.spec}\n  {found.design.params:,} parameters\n" in result.stdout
    slack = 10**6 - found.design.params
    assert f"max_params  1,000,000  {found.design.params:,}  {slack:,}" in result.stdout
    assert "W: the next value of W breaks max_params" in result.stdout
    summary = CliRunner().invoke(app, ["summary", str(found.design.model.spec)], env={"COLUMNS": "80"})
    assert result.stdout.endswith("\n\n" + summary.stdout)


def test_fit_json_names_each_free_size_and_follows_its_schema() -> None:
    import json

    args = ["784->W*D->10 relu", "--max-flops", "2M", "--range", "D=1..8", "--multiple-of", "W=64", "--json"]
    result = _fit_cli(*args)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert not list(_schema("fit").iter_errors(document))
    found = fit(
        parse_template("784->W*D->10 relu"),
        budget(max_flops=2 * 10**6),
        {"D": Range(1, 8), "W": Range(multiple_of=64)},
    )
    assert found.design.values == {"W": document["W"], "D": document["D"]}
    assert document["W"] % 64 == 0
    assert document["spec"] == str(found.design.model.spec)
    assert document["figures"]["flops"] + document["slack"]["max_flops"] == 2 * 10**6
    assert document["binds"] == {name: list(keys) for name, keys in found.binds.items()}


def test_fit_frontier_lists_every_step() -> None:
    import json

    args = ["784->W->V->10", "--max-params", "500K", "--range", "V=1..64", "--frontier", "V"]
    staircase = frontier(
        parse_template("784->W->V->10"), budget(max_params=500_000), "V", {"V": Range(1, 64)}
    )
    text = _fit_cli(*args)
    assert text.exit_code == 0, text.stderr
    rows = text.stdout.splitlines()[3:]
    assert len(rows) == len(staircase.steps)
    assert all(row.split()[-1] == step.spec for row, step in zip(rows, staircase.steps, strict=True))
    document = json.loads(_fit_cli(*args, "--json").stdout)
    assert not list(_schema("frontier").iter_errors(document))
    assert [step["best"] for step in document["steps"]] == [step.best for step in staircase.steps]
    assert document["steps"][0]["first"] == 1 and document["steps"][-1]["last"] == 64


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["784->W->10"], "fit needs a limit to fit within"),
        (["784->512->10", "--max-params", "1M"], "a template needs at least one free size"),
        (["784->W->10", "--max-params", "100"], "even the smallest design, 784->1->10 (W=1), breaks"),
        (["784->W->W/2->10", "--max-params", "1M"], "It is positive from W=2 on"),
        (["784->W->10", "--max-params", "1M", "--range", "W=1-4"], "expected NAME=LOW..HIGH"),
        (["784->W->10", "--max-params", "1M", "--range", "X=1..4"], "--range: a range is given for X"),
        (["784->W->10", "--max-params", "1M", "--range", "W=0..4"], "a whole number from 1"),
        (["784->W->10", "--max-params", "1M", "--multiple-of", "W=x"], "expected N or NAME=N"),
        (["784->W->10", "--max-params", "1M", "--multiple-of", "V=8"], "--multiple-of: V is not a free size"),
        (["784->W->10", "--max-params", "1M", "--multiple-of", "8", "--multiple-of", "4"], "given twice"),
        (["784->W->10", "--max-params", "1M", "--range", "W=1..5", "--range", "W=9.."], "given twice"),
        (["784->W->10", "--max-params", "1M", "--range", "W=9..4"], "--range: the range of W is empty"),
        (["784->W->10", "--max-params", "1M", "--maximize", "macs"], "--maximize: expected 'params'"),
        (
            ["784->W->10", "--max-params", "1M", "--frontier", "W"],
            "a frontier is drawn for a template of two",
        ),
        (["784->W->V->10", "--max-params", "1M", "--frontier", "V", "--maximize", "W"], "--maximize chooses"),
        (["784->W->10", "--max-params", "lots"], "--max-params"),
    ],
)
def test_fit_refuses_with_what_went_wrong(args: list[str], message: str) -> None:
    result = _fit_cli(*args)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert message in " ".join(result.stderr.replace("│", " ").split()), result.stderr
