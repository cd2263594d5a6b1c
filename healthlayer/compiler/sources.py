"""Read sources: a warehouse table or, on DuckDB, a Parquet or CSV file; and local calendar days."""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.definitions.models import Source

FILE_READERS = {".parquet": "read_parquet", ".csv": "read_csv_auto"}
# Key in the meta of a source's table node, or of its file reader node, that names the source.
SOURCE_META_KEY = "healthlayer_source"


def source_table(source: Source, project_root: Path) -> exp.Expr:
    """Return the FROM item of a source; file readers are DuckDB functions, rejected when rendering elsewhere."""
    if source.table is not None:
        parts = source.table.split(".")
        identifiers = [sql.ident(part) for part in parts]
        if len(identifiers) == 3:
            table = exp.Table(this=identifiers[2], db=identifiers[1], catalog=identifiers[0])
        elif len(identifiers) == 2:
            table = exp.Table(this=identifiers[1], db=identifiers[0])
        else:
            table = exp.Table(this=identifiers[0])
        table.meta[SOURCE_META_KEY] = source.name
        return table
    assert source.file is not None
    path = (project_root / source.file).resolve()
    reader = FILE_READERS.get(path.suffix.lower(), "read_parquet")
    call = exp.Anonymous(this=reader, expressions=[sql.string(str(path))])
    call.meta[SOURCE_META_KEY] = source.name
    return exp.Table(this=call)


def local_date(timestamp: exp.Expr, time_zone: str, has_time_zone: bool) -> exp.Expr:
    """Return the calendar date of a timestamp in the project time zone.

    A timestamp with a time zone is an instant and is converted; one without is read as UTC.
    """
    local: exp.Expr
    if has_time_zone:
        instant = exp.Cast(this=timestamp, to=exp.DataType.build("TIMESTAMPTZ"))
        local = exp.AtTimeZone(this=instant, zone=sql.string(time_zone))
    else:
        local = exp.ConvertTimezone(source_tz=sql.string("UTC"), target_tz=sql.string(time_zone),
                                    timestamp=timestamp)
    return exp.Cast(this=local, to=exp.DataType.build("DATE"))
