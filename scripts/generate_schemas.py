"""Write the facts of mlpcalc/schemas/*.json from the Python tables that hold them.

A JSON Schema is a contract readers take from the package; the closed lists in it (dtypes,
optimizers, FLOP conventions, activations, layer classes, initializers, budget keys) and the
schema ids are facts the code keeps in one place each. This script copies them into the
schemas, so that the schema files never have to be kept equal by hand:

    python scripts/generate_schemas.py           # rewrite the schema files
    python scripts/generate_schemas.py --check   # exit 1 if a committed schema is stale

tests/test_schemas.py fails when a committed schema differs from what this writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mlpcalc import documents
from mlpcalc.budgets import LIMITS
from mlpcalc.cli.completions import SCRIPTS
from mlpcalc.cli.diagram import FORMATS
from mlpcalc.cli.export import TARGETS
from mlpcalc.core.activations import KINDS
from mlpcalc.core.conventions import CONVENTIONS
from mlpcalc.core.dtypes import DTYPE_BYTES
from mlpcalc.core.layers import DATA_FORMAT, LAYER_KINDS
from mlpcalc.costs.optimizers import OPTIMIZERS
from mlpcalc.design.fit import PAST_RANGE, UPPER_LIMITS
from mlpcalc.design.sweep import FIELDS, SORTS
from mlpcalc.diff import CHANGES
from mlpcalc.engine.names import COMPUTE_DTYPES, INITIALIZERS

OUT = Path(__file__).resolve().parent.parent / "mlpcalc" / "schemas"
LAYER_CLASSES = [kind.keras_class for kind in LAYER_KINDS]

# Each schema: its id, and the closed lists at JSON pointers inside it.
FACTS: dict[str, tuple[str, dict[str, list[Any]]]] = {
    "summary": (
        documents.SUMMARY_SCHEMA,
        {
            "/properties/dtype/enum": list(DTYPE_BYTES),
            "/properties/memory/properties/dtype/enum": list(DTYPE_BYTES),
            "/$defs/activation/enum": list(KINDS),
            "/$defs/layer/properties/type/enum": LAYER_CLASSES,
            "/$defs/convention/enum": list(CONVENTIONS),
            "/$defs/optimizer/enum": list(OPTIMIZERS),
            "/$defs/layer/properties/data_format/const": DATA_FORMAT,
        },
    ),
    "variables": (documents.VARIABLES_SCHEMA, {}),
    "check": (
        documents.CHECK_SCHEMA,
        {"/properties/models/items/properties/checks/items/properties/key/enum": list(LIMITS)},
    ),
    "diff": (
        documents.DIFF_SCHEMA,
        {
            "/properties/flops_convention/enum": list(CONVENTIONS),
            "/properties/layers/items/properties/change/enum": list(CHANGES),
        },
    ),
    "forward": (
        documents.FORWARD_SCHEMA,
        {"/properties/dtype/enum": list(COMPUTE_DTYPES), "/properties/init/enum": [None, *INITIALIZERS]},
    ),
    "init": (documents.INIT_SCHEMA, {"/properties/init/enum": list(INITIALIZERS)}),
    "completions": (documents.COMPLETIONS_SCHEMA, {"/properties/shell/enum": list(SCRIPTS)}),
    "spec": (documents.SPEC_SCHEMA, {}),
    "export": (documents.EXPORT_SCHEMA, {"/properties/target/enum": list(TARGETS)}),
    "diagram": (documents.DIAGRAM_SCHEMA, {"/properties/format/enum": list(FORMATS)}),
    "compare": (
        documents.COMPARE_SCHEMA,
        {
            "/properties/dtype/enum": list(DTYPE_BYTES),
            "/properties/optimizer/enum": list(OPTIMIZERS),
            "/properties/flops_convention/enum": list(CONVENTIONS),
            "/properties/sort/enum": list(SORTS),
            "/properties/limits/propertyNames/enum": list(LIMITS),
            "/properties/designs/items/properties/failed/items/enum": list(LIMITS),
        },
    ),
    "fit": (
        documents.FIT_SCHEMA,
        {
            "/properties/dtype/enum": list(DTYPE_BYTES),
            "/properties/optimizer/enum": list(OPTIMIZERS),
            "/properties/flops_convention/enum": list(CONVENTIONS),
            "/properties/limits/propertyNames/enum": list(UPPER_LIMITS),
            "/properties/slack/propertyNames/enum": list(UPPER_LIMITS),
            "/properties/binds/additionalProperties/items/enum": [*UPPER_LIMITS, PAST_RANGE],
            "/properties/figures/required": list(FIELDS.values()),
            "/properties/figures/properties": {
                field: {"type": "integer", "minimum": 0} for field in FIELDS.values()
            },
        },
    ),
    "frontier": (
        documents.FRONTIER_SCHEMA,
        {
            "/properties/dtype/enum": list(DTYPE_BYTES),
            "/properties/optimizer/enum": list(OPTIMIZERS),
            "/properties/flops_convention/enum": list(CONVENTIONS),
            "/properties/limits/propertyNames/enum": list(UPPER_LIMITS),
        },
    ),
}


def _set(document: dict[str, Any], pointer: str, value: object) -> None:
    *parents, last = pointer.strip("/").split("/")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if last not in node:
        raise KeyError(f"no {pointer} in the schema: the generator and the schema disagree on its layout")
    node[last] = value


def schemas() -> dict[str, str]:
    """Every schema file's name and text, its facts filled in from the code."""
    texts = {}
    for name, (schema_id, lists) in FACTS.items():
        path = OUT / f"{name}.v1.json"
        document = json.loads(path.read_text())
        document["$id"] = schema_id
        _set(document, "/properties/schema/const", schema_id)
        for pointer, values in lists.items():
            _set(document, pointer, values)
        texts[path.name] = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed schema differs")
    args = parser.parse_args()
    texts = schemas()
    stale = [name for name, text in texts.items() if (OUT / name).read_text() != text]
    if args.check:
        if stale:
            sys.exit(f"schemas out of date: {', '.join(stale)}; run python scripts/generate_schemas.py")
        return
    for name, text in texts.items():
        (OUT / name).write_text(text)
    print(f"wrote {len(texts)} schemas to {OUT}")


if __name__ == "__main__":
    main()
