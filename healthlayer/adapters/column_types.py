"""Warehouse column types by family, and whether a type declared in a source matches one.

Every engine's type names are mapped here, as the engines report them: DuckDB's DESCRIBE,
PostgreSQL's format_type(), the Snowflake connector's result metadata, Spark's simpleString() and
ClickHouse's DESCRIBE. tests/engines/test_warehouse_check.py creates a column of each listed type
on each engine and checks the family of the name the engine reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Family = Literal["text", "integer", "decimal", "float", "boolean", "date", "timestamp", "timestamptz", "other"]
Match = Literal["match", "warning", "mismatch"]

_TEXT = {"varchar", "char", "character", "character varying", "bpchar", "text", "string", "nvarchar", "nchar",
         "name", "citext", "fixedstring", "enum", "enum8", "enum16"}
_INTEGER = {"tinyint", "smallint", "int", "integer", "bigint", "hugeint", "uhugeint", "utinyint", "usmallint",
            "uinteger", "ubigint", "int2", "int4", "int8", "int16", "int32", "int64", "int128", "int256", "uint8",
            "uint16", "uint32", "uint64", "uint128", "uint256", "byte", "short", "long", "varint", "bignum"}
_DECIMAL = {"decimal", "numeric", "number", "fixed", "decimal32", "decimal64", "decimal128", "decimal256"}
_FLOAT = {"real", "float", "float4", "float8", "double", "double precision", "float32", "float64", "bfloat16"}
_BOOLEAN = {"boolean", "bool"}
_DATE = {"date", "date32"}
_TIMESTAMP = {"timestamp", "timestamp without time zone", "timestamp_ntz", "timestamp_ns", "timestamp_ms",
              "timestamp_s", "timestamp_us", "datetime", "datetime64"}
_TIMESTAMPTZ = {"timestamptz", "timestamp with time zone", "timestamp_tz", "timestamp_ltz"}

# Scale of a DECIMAL written without one, per engine: PostgreSQL's bare numeric has any scale.
_DEFAULT_SCALE = {"duckdb": 3, "snowflake": 0, "spark": 0, "clickhouse": 0, "postgres": None}
# ClickHouse wraps types that allow NULL or are dictionary-encoded.
_WRAPPER = re.compile(r"^(?:Nullable|LowCardinality)\((.*)\)$", re.IGNORECASE)
# A type's name and its parameters, for example `numeric(10,2)` or `timestamp(3) with time zone`.
_TYPE = re.compile(r"^(?P<name>[a-z_ ]+?[a-z0-9_]*)\s*(?:\((?P<parameters>.*)\))?(?P<suffix>[a-z ]*)$")


@dataclass(frozen=True)
class ColumnType:
    """A column's type as the engine names it, with its family and, for decimals, its scale."""

    text: str
    family: Family
    scale: int | None = None


def column_type(dialect: str, text: str) -> ColumnType:
    """Classify a type name that an engine of `dialect` reports for a column."""
    inner = text.strip()
    while (wrapped := _WRAPPER.match(inner)) is not None:
        inner = wrapped.group(1).strip()
    match = _TYPE.match(inner.lower())
    if match is None:
        return ColumnType(text, "other")
    name = " ".join((match.group("name") + " " + match.group("suffix")).split())
    parameters = [part.strip() for part in (match.group("parameters") or "").split(",") if part.strip()]
    base = " ".join(match.group("name").split())

    if dialect == "spark" and name == "timestamp":
        # Spark's TIMESTAMP is an instant in the session time zone, TIMESTAMP_NTZ a wall clock.
        return ColumnType(text, "timestamptz")
    if dialect == "clickhouse" and base in ("datetime", "datetime64"):
        # DateTime('Europe/Berlin') and DateTime64(6, 'UTC') name their zone in quotes.
        return ColumnType(text, "timestamptz" if any("'" in part for part in parameters) else "timestamp")
    if dialect == "snowflake" and name == "timestamp":
        # A bare TIMESTAMP follows TIMESTAMP_TYPE_MAPPING, which is TIMESTAMP_NTZ unless a session sets it.
        return ColumnType(text, "timestamp")
    if name.endswith("with time zone") and name.startswith("timestamp") and "without" not in name:
        return ColumnType(text, "timestamptz")
    if name.startswith("timestamp") and name.endswith("without time zone"):
        return ColumnType(text, "timestamp")
    if name in _DECIMAL:
        return ColumnType(text, "decimal", _decimal_scale(dialect, base, parameters))
    for family, names in (("text", _TEXT), ("integer", _INTEGER), ("float", _FLOAT), ("boolean", _BOOLEAN),
                          ("date", _DATE), ("timestamp", _TIMESTAMP), ("timestamptz", _TIMESTAMPTZ)):
        if name in names:
            return ColumnType(text, family)  # type: ignore[arg-type]
    return ColumnType(text, "other")


def _decimal_scale(dialect: str, base: str, parameters: list[str]) -> int | None:
    """Return the scale of a DECIMAL type, or None when the column may hold any scale."""
    numbers = [int(part) for part in parameters if part.isdigit()]
    if base.startswith("decimal") and base[len("decimal"):].isdigit():
        # ClickHouse's Decimal32(S) and its siblings take the scale alone.
        return numbers[0] if numbers else 0
    if len(numbers) >= 2:
        return numbers[1]
    if len(numbers) == 1:
        return 0
    return _DEFAULT_SCALE.get(dialect)


def compare(declared: str, actual: ColumnType) -> Match:
    """Return whether a column type declared in a source fits the warehouse column's type.

    `number` takes any integer, decimal or floating-point column. `integer` also takes a decimal
    of scale 0, such as Snowflake's NUMBER(38,0). A timestamp with a time zone where one without
    was declared, or the reverse, is only a warning, since the compiled SQL follows the
    warehouse's type. A type outside every family cannot be checked, which is a warning too.
    """
    family = actual.family
    if family == "other":
        return "warning"
    if declared == "number":
        return "match" if family in ("integer", "decimal", "float") else "mismatch"
    if declared == "integer":
        if family == "integer" or (family == "decimal" and actual.scale == 0):
            return "match"
        return "mismatch"
    if declared in ("timestamp", "timestamptz") and family in ("timestamp", "timestamptz"):
        return "match" if declared == family else "warning"
    return "match" if declared == family else "mismatch"


def is_time(actual: ColumnType) -> bool:
    """Return whether a column can be a source's timestamp: a date or a timestamp with or without a zone."""
    return actual.family in ("date", "timestamp", "timestamptz")


def family_description(actual: ColumnType) -> str:
    """Return the family of a warehouse type in words, for messages."""
    words = {"text": "text", "integer": "an integer", "float": "a floating-point number", "boolean": "a boolean",
             "date": "a date", "timestamp": "a timestamp without time zone",
             "timestamptz": "a timestamp with time zone", "other": "a type healthlayer does not classify"}
    if actual.family == "decimal":
        return "a decimal" + (f" with scale {actual.scale}" if actual.scale is not None else " of any scale")
    return words[actual.family]


def suggested_type(actual: ColumnType) -> str | None:
    """Return the source column type to declare for a warehouse type, or None when there is none."""
    if actual.family == "decimal":
        return "integer" if actual.scale == 0 else "number"
    if actual.family == "float":
        return "number"
    if actual.family == "other":
        return None
    return actual.family
