"""The committed JSON Schemas match the models; every shipped entry validates against its schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RULES = Path(__file__).parents[1] / "rules"
GENERATE = (
    "import json; from matcher.curation.schema import all_schemas; print(json.dumps(all_schemas()))"
)


def test_committed_schemas_are_fresh():
    # Field descriptions are read only with CARTMATCH_SCHEMA_DOCS=1 (see matcher.model.base).
    env = {**os.environ, "CARTMATCH_SCHEMA_DOCS": "1"}
    done = subprocess.run([sys.executable, "-c", GENERATE], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    for name, text in json.loads(done.stdout).items():
        committed = (RULES / name).read_text(encoding="utf-8")
        assert committed == text, f"rules/{name} is stale: run ./scripts/gen-schema"
        assert '"description"' in text


def test_entry_files_point_editors_at_the_schema():
    for path in sorted((RULES.parent / "catalog" / "entries").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../rules/entry.schema.json", path.name
