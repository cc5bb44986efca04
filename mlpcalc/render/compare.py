"""What `mlpcalc compare` prints: one row a design, as aligned text, a markdown table or CSV.

The text is a line a design, as wide as its longest spec (never wrapped), so that `grep`,
`sort` and `less -S` read it row by row; drawn without rich, so that 10,000 rows take a
fraction of a second. Sizes print as every mlpcalc table prints them (1.55 MiB); the CSV
holds exact integers (bytes in B) under the JSON document's names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from mlpcalc.core.text import binary_size
from mlpcalc.costs.settings import Settings
from mlpcalc.design.sweep import FIELDS, FIGURES, SIZES, ComparedDesign
from mlpcalc.render.check import limit_value
from mlpcalc.render.formats import columns_text, flops_header, settings_text

Limits = Mapping[str, int | tuple[int, ...]]


def _header(name: str, settings: Settings) -> str:
    """A figure's column header: its name, MACs, and FLOPs as the convention names them."""
    return {"macs": "MACs", "flops": flops_header(settings.flops_convention)}.get(name, name)


def _headers(settings: Settings, limits: Limits | None) -> list[str]:
    figures = [_header(name, settings) for name in FIGURES]
    return ["#", "spec", *figures, *(["fits"] if limits is not None else [])]


def _cells(design: ComparedDesign) -> list[str]:
    figures = [
        binary_size(design.figure(name)) if name in SIZES else f"{design.figure(name):,}" for name in FIGURES
    ]
    fits = [] if design.failed is None else ["no: " + ", ".join(design.failed) if design.failed else "yes"]
    return [str(design.index), design.spec, *figures, *fits]


def _limit(key: str, value: int | tuple[int, ...]) -> str:
    """A limit as `check` states it: max_params <= 1,000,000; output_shape = (20, 8)."""
    return f"{key} {'<=' if key.startswith('max_') else '='} {limit_value(key, value)}"


def title(designs: Sequence[ComparedDesign], settings: Settings, limits: Limits | None) -> str:
    """What the designs are, under which settings, and how many fit the limits."""
    count = len(designs)
    text = f"{count:,} design{'s' if count != 1 else ''} ({settings_text(settings)})"
    if limits is not None:
        fitting = sum(1 for design in designs if design.fits)
        text += f"; {fitting:,} of {count:,} fit: " + ", ".join(_limit(k, v) for k, v in limits.items())
    return text


def compare_table(designs: Sequence[ComparedDesign], settings: Settings, limits: Limits | None = None) -> str:
    """The title, then a row a design, columns two spaces apart, numbers right-aligned."""
    rows = [_headers(settings, limits), *(_cells(design) for design in designs)]
    left = {1, len(FIGURES) + 2}  # the spec and fits columns
    return "\n".join([title(designs, settings, limits), "", *columns_text(rows, left)]) + "\n"


def compare_markdown(
    designs: Sequence[ComparedDesign], settings: Settings, limits: Limits | None = None
) -> str:
    """A GitHub table: the title in bold, the spec in code, the numbers right-aligned."""
    headers = _headers(settings, limits)
    aligns = ["---:", ":---", *("---:" for _ in FIGURES), *([":---"] if limits is not None else [])]
    lines = [f"**{title(designs, settings, limits)}**", ""]
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("| " + " | ".join(aligns) + " |")
    for design in designs:
        cells = _cells(design)
        cells[1] = f"`{cells[1]}`"  # a canonical spec holds no backtick and no '|'
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def compare_csv(designs: Sequence[ComparedDesign], limits: Limits | None = None) -> str:
    """A header and a row a design: exact integers, bytes in B; fits as true or false and the
    limits broken, space-separated, when limits are given."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    fits = ["fits", "failed"] if limits is not None else []
    writer.writerow(["index", "spec", *FIELDS.values(), *fits])
    for design in designs:
        verdict = [] if design.failed is None else [str(not design.failed).lower(), " ".join(design.failed)]
        writer.writerow([design.index, design.spec, *(design.figure(name) for name in FIGURES), *verdict])
    return out.getvalue()
