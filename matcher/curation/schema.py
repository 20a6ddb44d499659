"""JSON Schemas generated from the models, for editors (rules/*.schema.json; never hand-edit)."""

from __future__ import annotations

import json
from typing import Any

from matcher.core.entry import Entry
from matcher.model.patient import Profile

#: File name in rules/ -> the model it describes.
SCHEMAS = {"entry.schema.json": Entry, "profile.schema.json": Profile}


def schema_text(model: Any) -> str:
    """The JSON Schema of a model as deterministic, readable JSON text."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def all_schemas() -> dict[str, str]:
    return {name: schema_text(model) for name, model in SCHEMAS.items()}
