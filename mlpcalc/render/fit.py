"""What `mlpcalc fit` prints: the design found, what it maximises, each limit's slack and what
binds it; or the frontier of a two-name template."""

from __future__ import annotations

from mlpcalc.budgets import SIZE_KEYS
from mlpcalc.core.text import binary_size
from mlpcalc.design.fit import PARAMS, PAST_RANGE, Fit, Frontier
from mlpcalc.render.formats import columns_text, settings_text


def _figure(key: str, value: int) -> str:
    """A limit or a figure: a count with its commas, a size in bytes with its binary size too."""
    return f"{value:,} B ({binary_size(value)})" if key in SIZE_KEYS and value >= 1024 else f"{value:,}"


def _binds(fit: Fit) -> list[str]:
    """For each free name, what taking its next value (the others kept) would do."""
    lines = []
    for name, keys in fit.binds.items():
        if not keys:
            lines.append(f"  {name}: a larger {name} fits, but the design has fewer parameters")
        elif keys == (PAST_RANGE,):
            lines.append(f"  {name}: the end of its range (--range) or of what a spec can hold")
        else:
            lines.append(f"  {name}: the next value of {name} breaks {', '.join(keys)}")
    return lines


def fit_text(fit: Fit) -> str:
    """The design `fit` found, each limit against it, and what binds each free name."""
    design = fit.design
    goal = "the most parameters" if fit.maximize == PARAMS else f"the largest {fit.maximize}"
    lines = [f"Fit of {fit.template.source} for {goal} ({settings_text(fit.budget.settings)})", ""]
    lines += [f"  {name} = {value:,}" for name, value in design.values.items()]
    lines += ["", f"  {design.model.spec}", f"  {design.params:,} parameters", ""]
    rows = [("limit", "at most", "design", "slack")]
    for outcome in design.outcomes:
        assert isinstance(outcome.expected, int) and isinstance(outcome.actual, int)  # fit takes max_* alone
        key = outcome.key
        slack = outcome.expected - outcome.actual
        rows.append((key, _figure(key, outcome.expected), _figure(key, outcome.actual), _figure(key, slack)))
    lines += columns_text(rows, left={0}, indent="  ")
    lines += ["", "What binds:", *_binds(fit)]
    return "\n".join(lines) + "\n"


def frontier_text(frontier: Frontier) -> str:
    """For each run of values of the frontier's name, the other's largest value and its design."""
    along, across = frontier.along, frontier.across
    settings = settings_text(frontier.budget.settings)
    title = f"Frontier of {frontier.template.source}: the largest {across} for each {along}"
    lines = [f"{title} ({settings})", ""]
    rows = [(along, across, "params", "spec (at the last value)")]
    for step in frontier.steps:
        values = f"{step.first:,}" if step.first == step.last else f"{step.first:,} to {step.last:,}"
        rows.append((values, f"{step.best:,}", f"{step.params:,}", step.spec))
    lines += columns_text(rows, left={0, 3}, indent="  ")
    return "\n".join(lines) + "\n"
