"""Turn pydantic validation errors into issues that name the YAML key, line and fix."""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from healthlayer.definitions.issues import Issue, KeyPath, did_you_mean
from healthlayer.definitions.models import NAME_PATTERN
from healthlayer.definitions.yaml_loader import LoadedFile

_TYPE_WORDS = {
    "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
    "float_parsing": "a number", "float_type": "a number", "bool_parsing": "true or false",
    "bool_type": "true or false", "string_type": "text", "list_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping",
}


def _data_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """Drop the parts of a pydantic location that are union tags rather than keys of the data."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in node:
            # A missing key, or a union tag: keep the missing key so the message can name it.
            continue
    return tuple(path)


def _model_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """Return the valid keys of the model at a pydantic location, following field annotations."""
    current: Any = model
    for part in loc:
        current = _unwrap(current, part)
        if current is None:
            return None
    current = _unwrap(current, None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [field.alias or name for name, field in current.model_fields.items()]
    return None


def _unwrap(annotation: Any, part: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0], part)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        for option in options:
            if isinstance(option, type) and issubclass(option, BaseModel):
                tag = option.model_fields.get("function") or option.model_fields.get("type")
                if tag is not None and part in typing.get_args(tag.annotation):
                    return option
        models = [option for option in options if isinstance(option, type) and issubclass(option, BaseModel)]
        if len(models) == 1:
            return _unwrap(models[0], part)
        lists = [option for option in options if typing.get_origin(option) is list]
        if lists and isinstance(part, int):
            return typing.get_args(lists[0])[0]
        return None if part is not None else annotation
    if part is None:
        return annotation
    if origin is list and isinstance(part, int):
        return typing.get_args(annotation)[0]
    if origin is dict:
        return typing.get_args(annotation)[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    return None


def issues_from_validation_error(
    error: ValidationError,
    model: type[BaseModel],
    loaded: LoadedFile,
    base: KeyPath = (),
) -> list[Issue]:
    """Convert every error of a pydantic validation into an issue located in the YAML file."""
    issues: list[Issue] = []
    data = loaded.data
    for node_key in base:
        data = data[node_key]
    for entry in error.errors(include_url=False):
        loc = tuple(entry["loc"])
        key_path = base + _data_path(data, loc)
        error_type = entry["type"]
        value = entry.get("input")
        hint: str | None = None
        if error_type == "extra_forbidden":
            key = loc[-1]
            fields = _model_fields(model, loc[:-1]) or []
            message = f"unknown key '{key}'"
            hint = did_you_mean(str(key), fields)
            key_path = key_path + (key,) if key_path[-1:] != (key,) else key_path
        elif error_type == "missing":
            message = f"missing required key '{loc[-1]}'"
            hint = f"Add '{loc[-1]}' to this mapping."
        elif error_type in ("literal_error", "enum"):
            expected = entry.get("ctx", {}).get("expected", "")
            message = f"invalid value {value!r}: expected {expected}" if value is not None else f"no value: expected {expected}"
            choices = [part.strip(" '") for part in expected.replace(" or ", ",").split(",")]
            if isinstance(value, str):
                hint = did_you_mean(value, [choice for choice in choices if choice])
            elif value is None:
                hint = f"Write {expected} after the colon."
        elif error_type == "union_tag_invalid":
            context = entry.get("ctx", {})
            message = f"invalid {context.get('discriminator', 'kind')} {context.get('tag')!r}: expected " \
                      f"{context.get('expected_tags')}"
            hint = did_you_mean(str(context.get("tag")),
                                [tag.strip(" '") for tag in str(context.get("expected_tags", "")).split(",")])
        elif error_type == "union_tag_not_found":
            discriminator = entry.get("ctx", {}).get("discriminator", "").strip(chr(39))
            message = f"missing key '{discriminator}'"
            if discriminator == "type":
                hint = "Say which alert type the rule is, for example type: band_change."
            else:
                hint = "Say which scoring function to use, for example function: linear."
        elif error_type == "string_pattern_mismatch":
            lower_case = entry.get("ctx", {}).get("pattern") == NAME_PATTERN
            letters = "lower-case letters" if lower_case else "letters"
            message = f"invalid name {_describe(value)}: use {letters}, digits and underscores, starting with a " \
                      "letter or underscore, at most 63 characters"
            if lower_case and isinstance(value, str) and re.match(NAME_PATTERN, value.lower()):
                hint = f"Write '{value.lower()}'."
            else:
                hint = _name_hint(lower_case)
        elif error_type in _TYPE_WORDS:
            message = f"expected {_TYPE_WORDS[error_type]}, got {_describe(value)}"
            hint = f"Write {_TYPE_WORDS[error_type]} here."
        elif error_type == "value_error":
            cause = entry.get("ctx", {}).get("error")
            message = str(cause if cause is not None else entry["msg"])
            hint = getattr(cause, "hint", None)
        else:
            message = entry["msg"][0].lower() + entry["msg"][1:]
            if value is not None and not isinstance(value, (dict, list)):
                message += f", got {_describe(value)}"
            hint = _bound_hint(error_type, entry.get("ctx", {}))
        cause = entry.get("ctx", {}).get("error")
        code = getattr(cause, "code", None) or _issue_code(error_type)
        issues.append(Issue(code, message, loaded.location(key_path), hint))
    return issues


def _name_hint(lower_case: bool) -> str:
    # No suggestion is built from the value, because a changed value would escape the redaction of
    # env_var() secrets.
    example = "'daily_stickiness'" if lower_case else "'event_ts' or 'EventTS'"
    return f"Rename it, for example to {example}."


_BOUND_WORDS = {"less_than_equal": ("le", "at most"), "less_than": ("lt", "below"),
                "greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "above")}


def _bound_hint(error_type: str, context: dict[str, Any]) -> str:
    if error_type in _BOUND_WORDS:
        key, words = _BOUND_WORDS[error_type]
        bound = context.get(key)
        shown = f"{bound:g}" if isinstance(bound, (int, float)) else str(bound)
        return f"Write a value that is {words} {shown}."
    if error_type == "finite_number":
        return "Write a finite number; NaN and infinity are not accepted."
    if error_type in ("too_short", "too_long"):
        return "Change the number of items."
    return "Check the value against the definitions reference (docs/definitions.md)."


def _issue_code(error_type: str) -> str:
    if error_type == "extra_forbidden":
        return "unknown-key"
    if error_type == "missing" or error_type == "union_tag_not_found":
        return "missing-key"
    if error_type == "string_pattern_mismatch":
        return "invalid-name"
    if error_type in _TYPE_WORDS:
        return "invalid-type"
    return "invalid-value"


def _describe(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
