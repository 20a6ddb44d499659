"""The committed JSON Schemas match the models; every shipped entry validates against its schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.schema import all_schemas

RULES = Path(__file__).parents[1] / "rules"


@pytest.mark.parametrize(("name", "text"), all_schemas().items())
def test_committed_schema_is_fresh(name, text):
    committed = (RULES / name).read_text(encoding="utf-8")
    assert committed == text, f"rules/{name} is stale: run ./scripts/gen-schema"


def test_entry_files_point_editors_at_the_schema():
    for path in sorted((RULES.parent / "catalog" / "entries").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../rules/entry.schema.json", path.name
