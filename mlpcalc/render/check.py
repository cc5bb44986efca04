"""What `mlpcalc check` prints: one line a model, the failing budgets, GitHub annotations."""

from __future__ import annotations

from pathlib import Path

from mlpcalc.budgets import SIZE_KEYS, Outcome, Results
from mlpcalc.core.text import shown


def limit_value(key: str, value: int | tuple[int, ...]) -> str:
    """A budget key's value as `check` states it: 1,000,000; 2,097,152 B; (20, 8)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    return f"{value:,} B" if key in SIZE_KEYS else f"{value:,}"


def _failure(outcome: Outcome) -> str:
    key = outcome.key
    if key.startswith("max_"):
        text = f"{key}: {limit_value(key, outcome.expected)} allowed, {limit_value(key, outcome.actual)}"
    else:
        text = f"{key}: {limit_value(key, outcome.expected)} expected, {limit_value(key, outcome.actual)}"
    excess, expected = outcome.excess, outcome.expected
    if excess is not None:
        share = f", {excess / expected:+.1%}" if isinstance(expected, int) and expected else ""
        text += f" ({excess:+,}{share})"
    return text


def check_text(results: Results, source: str) -> str:
    if not results:  # files without budgets (a pyproject.toml a hook handed over)
        return f"{shown(source)}: no budgets, nothing to check\n"
    failing = sum(1 for _, _, outcomes in results if not all(o.ok for o in outcomes))
    verdict = "all within budget" if not failing else f"{failing} over budget"
    lines = [f"{shown(source)}: {len(results)} model{'s' if len(results) != 1 else ''}, {verdict}"]
    width = max(len(shown(budget.name)) for budget, _, _ in results)
    for budget, model, outcomes in results:
        bad = [o for o in outcomes if not o.ok]
        if not bad:
            count = len(outcomes)
            counted = f"{count} budget{'s' if count != 1 else ''} hold{'' if count != 1 else 's'}"
            lines.append(f"  {shown(budget.name):<{width}}  ok    {counted} ({model.spec})")
            continue
        for index, outcome in enumerate(bad):
            label = f"{shown(budget.name):<{width}}  FAIL" if index == 0 else " " * (width + 6)
            lines.append(f"  {label}  {_failure(outcome)}  [{budget.where(outcome.key)}]")
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(message: str, file: str | None, line: int | None, workspace: str | None = None) -> str:
    """A GitHub Actions `::error` workflow command, escaped as GitHub's rules ask; the file
    relative to the workspace, so that the error shows on the pull request's diff."""
    properties = []
    if file is not None:
        path = Path(file).resolve()
        if workspace and path.is_relative_to(Path(workspace).resolve()):
            file = str(path.relative_to(Path(workspace).resolve()))
        properties += [f"file={_escape_property(file)}", f"line={line or 1}"]
    properties.append("title=mlpcalc check")
    return f"::error {','.join(properties)}::{_escape_data(message)}\n"


def github_annotations(results: Results, workspace: str | None = None) -> str:
    """Each failing budget as an error on its file and line."""
    return "".join(
        annotation(
            f"{shown(budget.name)}: {_failure(outcome)}", budget.file, budget.line_of(outcome.key), workspace
        )
        for budget, _, outcomes in results
        for outcome in outcomes
        if not outcome.ok
    )
