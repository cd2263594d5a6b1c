"""JSON Schemas (draft 2020-12) of definition files and of healthlayer.yml, generated from the models.

Editors such as VS Code with the YAML extension use them to check a file while it is written.
A schema checks keys, types, names, durations and enum values. Rules that span several keys or
files, such as "exactly one of file and table", weights that sum to 100 or references between
definitions, are checked by `healthlayer validate` only. An editor applies the schema to the file
before Jinja renders it, so a value written as a `{{ ... }}` expression does not match.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from healthlayer.definitions import models
from healthlayer.definitions.project import NAMED_KINDS

SCHEMA_KINDS = ("definitions", "project")
# File names of the copies shipped in the repository's schema/ folder.
SCHEMA_FILE_NAMES = {"definitions": "healthlayer-definitions.schema.json",
                     "project": "healthlayer-project.schema.json"}
_MODELS: dict[str, type[BaseModel]] = {"definitions": models.DefinitionFile, "project": models.ProjectFile}
_TITLES = {"definitions": "healthlayer definition file", "project": "healthlayer project file (healthlayer.yml)"}


class _Generator(GenerateJsonSchema):
    """Pydantic's generator with the dialect stated, without per-field titles, and closed maps."""

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        generated = super().generate(schema, mode)
        return {"$schema": self.schema_dialect, **generated}

    def field_title_should_be_set(self, schema: Any) -> bool:
        # Titles such as "Tier Window" only repeat the key, and the description explains it.
        return False

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # Pydantic rejects a key that does not match the key pattern, but patternProperties alone
        # would let such a key through.
        generated = super().dict_schema(schema)
        if "patternProperties" in generated:
            generated.setdefault("additionalProperties", False)
        return generated


def json_schema(kind: str) -> dict[str, Any]:
    """Return the JSON Schema of a definition file (`definitions`) or of healthlayer.yml (`project`)."""
    if kind not in _MODELS:
        raise ValueError(f"unknown schema kind {kind!r}; expected one of {', '.join(SCHEMA_KINDS)}")
    generated = _MODELS[kind].model_json_schema(mode="validation", schema_generator=_Generator)
    generated["title"] = _TITLES[kind]
    if kind == "definitions":
        _match_loader(generated)
    return generated


def _match_loader(schema: dict[str, Any]) -> None:
    """Change the top-level keys to what the project loader accepts, which differs from the model.

    The loader validates each top-level key on its own: it skips a list kind written without
    items (`stickiness:` alone is null), and it validates `engagement` as an Engagement, so a
    null engagement is an error.
    """
    properties = schema["properties"]
    for kind in NAMED_KINDS:
        if properties.get(kind, {}).get("type") == "array":
            properties[kind]["type"] = ["array", "null"]
            properties[kind].pop("default", None)
    engagement = properties.get("engagement", {})
    branches = [branch for branch in engagement.get("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        description = engagement.get("description")
        properties["engagement"] = {**branches[0], **({"description": description} if description else {})}


def schema_text(kind: str) -> str:
    """Return the JSON Schema of `kind` as indented JSON text with a final newline."""
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
