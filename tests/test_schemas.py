"""The JSON Schemas' closed lists and ids come from the code (scripts/generate_schemas.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).parent.parent
spec = importlib.util.spec_from_file_location("generate_schemas", ROOT / "scripts" / "generate_schemas.py")
assert spec is not None and spec.loader is not None
generator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generator)
SCHEMAS = generator.schemas()


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_what_the_code_says(name: str) -> None:
    assert (generator.OUT / name).read_text() == SCHEMAS[name], "run: python scripts/generate_schemas.py"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_schema_is_a_valid_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMAS[name]))
