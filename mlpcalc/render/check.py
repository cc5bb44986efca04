"""What `mlpcalc check` prints: one line a model, the failing budgets, GitHub annotations."""

from __future__ import annotations

from mlpcalc.budgets import Budget, Outcome
from mlpcalc.model import Model

CHECK_SCHEMA = "mlpcalc/check/v1"
Results = list[tuple[Budget, Model, list[Outcome]]]


def _value(key: str, value: int | tuple[int, ...]) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    return f"{value:,} B" if key.endswith("_bytes") else f"{value:,}"


def _failure(outcome: Outcome) -> str:
    key = outcome.key
    if key.startswith("max_"):
        text = f"{key}: {_value(key, outcome.expected)} allowed, {_value(key, outcome.actual)}"
    else:
        text = f"{key}: {_value(key, outcome.expected)} expected, {_value(key, outcome.actual)}"
    excess, expected = outcome.excess, outcome.expected
    if excess is not None:
        share = f", {excess / expected:+.1%}" if isinstance(expected, int) and expected else ""
        text += f" ({excess:+,}{share})"
    return text


def check_text(results: Results, source: str) -> str:
    failing = sum(1 for _, _, outcomes in results if not all(o.ok for o in outcomes))
    verdict = "all within budget" if not failing else f"{failing} over budget"
    lines = [f"{source}: {len(results)} model{'s' if len(results) != 1 else ''}, {verdict}"]
    width = max(len(budget.name) for budget, _, _ in results)
    for budget, model, outcomes in results:
        bad = [o for o in outcomes if not o.ok]
        if not bad:
            count = len(outcomes)
            plural = "s" if count != 1 else ""
            lines.append(f"  {budget.name:<{width}}  ok    {count} budget{plural} hold ({model.spec})")
            continue
        for index, outcome in enumerate(bad):
            label = f"{budget.name:<{width}}  FAIL" if index == 0 else " " * (width + 6)
            lines.append(f"  {label}  {_failure(outcome)}  [{budget.where(outcome.key)}]")
    return "\n".join(lines) + "\n"


def check_document(results: Results, source: str) -> dict[str, object]:
    """The `mlpcalc/check/v1` JSON document."""
    return {
        "schema": CHECK_SCHEMA,
        "source": source,
        "ok": all(o.ok for _, _, outcomes in results for o in outcomes),
        "models": [
            {
                "name": budget.name,
                "spec": str(model.spec),
                "ok": all(o.ok for o in outcomes),
                "checks": [outcome.to_dict() for outcome in outcomes],
            }
            for budget, model, outcomes in results
        ],
    }


def github_annotations(results: Results) -> str:
    """GitHub Actions workflow commands: each failing budget as an error on its file and line."""
    lines = []
    for budget, _, outcomes in results:
        for outcome in outcomes:
            if outcome.ok:
                continue
            message = f"{budget.name}: {_failure(outcome)}".replace("%", "%25").replace("\n", "%0A")
            line = budget.lines.get(outcome.key, budget.lines.get(""))
            place = f" file={budget.file},line={line}," if budget.file else " "
            lines.append(f"::error{place}title=mlpcalc check::{message}")
    return "".join(line + "\n" for line in lines)
