"""Rewrites that make a query give the same rows on ClickHouse as on DuckDB, whatever the session settings.

ClickHouse differs from the other engines in ways that sqlglot 30.31 does not translate (checked on
ClickHouse 26.9 through chdb 4.4):

- Columns are not Nullable unless declared so. `lag`/`lead` outside the frame, and the right side of
  an unmatched LEFT JOIN, then return the type's default (0, '', 1970-01-01) instead of NULL,
  unless the reader's session sets `join_use_nulls`.
- `Date` covers only 1970-01-01 to 2149-06-06. `Date32` covers 1900-01-01 to 2299-12-31.
- A `DateTime` without a time zone is shown in the session time zone, so a cast of a date to one
  depends on the reader's session.
- `COUNT(DISTINCT x)` runs the function named by the `count_distinct_implementation` setting,
  which a session may set to the approximate `uniq`.
- Comparisons return UInt8, not Bool.
- `concat` returns NULL when an argument is NULL, where sqlglot's safe CONCAT skips it.
- `length`, `lower`, `upper` and `substring` work on bytes and ASCII letters, where the UTF8 variants
  work on characters.
- `round` of a Float64 rounds halves to even (round(2.5) = 2), where DuckDB rounds them away from zero.
"""

from __future__ import annotations

from sqlglot import exp

from healthlayer.errors import UnsupportedError

# The column added to the right side of every LEFT JOIN: 1 on matched rows, 0 or NULL on the others.
MATCHED_COLUMN = "_hl_matched"

_DATE = exp.DataType.build(exp.DataType.Type.DATE32)
# Timestamps the plan computes (deadlines) are project-time wall clocks. A fixed UTC type keeps
# them independent of the reader's session time zone.
# NOTE: clients therefore label these wall clocks as UTC, although they are in the project time zone.
_TIMESTAMP = exp.DataType.build("Nullable(DateTime64(6, 'UTC'))", dialect="clickhouse")
_BOOLEAN = exp.DataType.build(exp.DataType.Type.BOOLEAN)
_CONDITIONS = (exp.Predicate, exp.Connector, exp.Not)
_TEXT_FUNCTIONS = {exp.Length: "lengthUTF8", exp.Lower: "lowerUTF8", exp.Upper: "upperUTF8"}


def prepare(query: exp.Expr) -> exp.Expr:
    """Rewrite a plan query for ClickHouse; the caller passes a copy that may be changed."""
    query = _local_dates(query)
    for select in list(query.find_all(exp.Select)):
        _null_unmatched_columns(select)
        _name_columns(select)

    for data_type in list(query.find_all(exp.DataType)):
        data_type.replace(_data_type(data_type))
    for window in list(query.find_all(exp.Window)):
        if isinstance(window.this, (exp.Lag, exp.Lead)):
            _offset_window(window)

    for count in list(query.find_all(exp.Count)):
        if isinstance(count.this, exp.Distinct):
            # uniqExact is exact whatever the count_distinct_implementation setting, and skips NULLs.
            count.replace(exp.Anonymous(this="uniqExact", expressions=count.this.expressions))
    for concat in list(query.find_all(exp.Concat)):
        if concat.args.get("safe"):
            parts = [exp.Coalesce(this=part, expressions=[exp.Literal.string("")]) for part in concat.expressions]
            concat.replace(exp.Concat(expressions=parts, safe=False))

    # Text functions count characters, not bytes, and round() rounds halves away from zero.
    for function in list(query.find_all(*_TEXT_FUNCTIONS)):
        function.replace(exp.Anonymous(this=_TEXT_FUNCTIONS[type(function)], expressions=[function.this]))
    for substring in list(query.find_all(exp.Substring)):
        arguments = [substring.this, substring.args.get("start") or exp.Literal.number(1)]
        if substring.args.get("length") is not None:
            arguments.append(substring.args["length"])
        substring.replace(exp.Anonymous(this="substringUTF8", expressions=arguments))
    for rounded in list(query.find_all(exp.Round)):
        rounded.replace(_round_half_away_from_zero(rounded))

    for alias in list(query.find_all(exp.Alias)):
        if isinstance(alias.this, _CONDITIONS):
            alias.set("this", exp.Cast(this=alias.this, to=_BOOLEAN.copy()))
    return query


def _round_half_away_from_zero(rounded: exp.Round) -> exp.Expr:
    """Return `round(x, n)` as DuckDB computes it: the nearest multiple of 10^-n, halves away from zero."""
    value = rounded.this
    decimals = rounded.args.get("decimals")
    scale = None if decimals is None else exp.Anonymous(this="pow", expressions=[exp.Literal.number(10), decimals])

    def floor_half_up(magnitude: exp.Expr) -> exp.Expr:
        if scale is None:
            return exp.Floor(this=exp.Add(this=magnitude, expression=exp.Literal.number(0.5)))
        shifted = exp.Add(this=exp.Mul(this=magnitude, expression=scale.copy()), expression=exp.Literal.number(0.5))
        return exp.Div(this=exp.Floor(this=shifted), expression=scale.copy())

    negative = exp.LT(this=value.copy(), expression=exp.Literal.number(0))
    return exp.Paren(this=exp.If(this=negative, true=exp.Neg(this=floor_half_up(exp.Neg(this=value.copy()))),
                                 false=floor_half_up(value.copy())))


def _data_type(node: exp.DataType) -> exp.DataType:
    if node.this == exp.DataType.Type.DATE:
        return _DATE.copy()
    if node.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ):
        return _TIMESTAMP.copy()
    return node


def _offset_window(window: exp.Window) -> exp.Window:
    """Rewrite lag/lead to lagInFrame/leadInFrame over the whole partition, returning NULL outside it.

    The argument is made Nullable, so that a missing neighbour is NULL and not the type's default.
    """
    function = window.this
    name = "lagInFrame" if isinstance(function, exp.Lag) else "leadInFrame"
    arguments: list[exp.Expr] = [exp.Anonymous(this="toNullable", expressions=[function.this])]
    offset = function.args.get("offset")
    default = function.args.get("default")
    if offset is not None or default is not None:
        arguments.append(offset if offset is not None else exp.Literal.number(1))
    if default is not None:
        arguments.append(default)
    window.set("this", exp.Anonymous(this=name, expressions=arguments))
    window.set("spec", exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                      end="UNBOUNDED", end_side="FOLLOWING"))
    return window


def _local_dates(query: exp.Expr) -> exp.Expr:
    """Rewrite the local calendar dates that `sources.local_date` builds to toTimeZone, which keeps the instant.

    A ClickHouse DateTime stores a Unix time. A column without a time zone is read as UTC, as
    healthlayer reads naive timestamps on every engine. `toDateTime64(x, 6, 'UTC')` keeps the
    Unix time, and it turns a Date into midnight UTC.
    """
    for cast in list(query.find_all(exp.Cast)):
        parts = _local_date_parts(cast)
        if parts is None:
            continue
        timestamp, zone, has_time_zone = parts
        instant = timestamp.copy()
        if not has_time_zone:
            instant = exp.Anonymous(this="toDateTime64", expressions=[instant, exp.Literal.number(6),
                                                                       exp.Literal.string("UTC")])
        local = exp.Anonymous(this="toTimeZone", expressions=[instant, zone.copy()])
        replacement = exp.Cast(this=local, to=_DATE.copy())
        if cast is query:
            return replacement
        cast.replace(replacement)
    return query


def _local_date_parts(cast: exp.Cast) -> tuple[exp.Expr, exp.Expr, bool] | None:
    """Return (timestamp, zone, whether the timestamp has a time zone) of a local date cast, else None."""
    if not cast.to.is_type(exp.DataType.Type.DATE):
        return None
    value = cast.this
    if isinstance(value, exp.AtTimeZone) and isinstance(value.this, exp.Cast) \
            and value.this.to.is_type(exp.DataType.Type.TIMESTAMPTZ):
        return value.this.this, value.args["zone"], True
    if isinstance(value, exp.ConvertTimezone) and value.args.get("source_tz") is not None \
            and value.args["source_tz"].name == "UTC":
        return value.args["timestamp"], value.args["target_tz"], False
    return None


def _null_unmatched_columns(select: exp.Select) -> None:
    """Make every column of a LEFT JOIN's right side NULL on unmatched rows, whatever `join_use_nulls` is.

    The right side gets a column that is 1 on every row. Outside the join's own ON condition, each
    reference `alias.column` becomes `CASE WHEN alias._hl_matched = 1 THEN alias.column END`: on an
    unmatched row the marker is 0 (or NULL with `join_use_nulls`), so the reference is NULL.
    """
    for join in select.args.get("joins") or []:
        if join.side != "LEFT":
            continue
        alias = join.alias_or_name
        if not alias:
            raise UnsupportedError("a LEFT JOIN without an alias cannot be rendered for ClickHouse")
        join.set("this", _with_marker(join.this, alias))
        for node in _scope_nodes(select, skip=join):
            if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star)):
                raise UnsupportedError("SELECT * over a LEFT JOIN cannot be rendered for ClickHouse")
            if isinstance(node, exp.Column) and not node.table:
                raise UnsupportedError(f"column '{node.name}' in a query with a LEFT JOIN needs a table alias "
                                       "to be rendered for ClickHouse")
            if isinstance(node, exp.Column) and node.table == alias:
                matched = exp.EQ(this=exp.column(MATCHED_COLUMN, alias), expression=exp.Literal.number(1))
                value: exp.Expr = exp.Case(ifs=[exp.If(this=matched, true=node.copy())])
                if node.parent is select and node.arg_key == "expressions":
                    # A bare column in the select list keeps its name as the output column name.
                    value = exp.alias_(value, node.name)
                node.replace(value)


def _name_columns(select: exp.Select) -> None:
    """Alias every bare column of a select list with its own name.

    ClickHouse names the result column of `t.x` `t.x` when another FROM item also has a column x,
    so a view would have a column that other views cannot read as x.
    """
    for expression in select.expressions:
        if isinstance(expression, exp.Column) and not isinstance(expression.this, exp.Star):
            expression.replace(exp.alias_(expression.copy(), expression.args["this"].copy()))


def _with_marker(relation: exp.Expr, alias: str) -> exp.Subquery:
    """Return a LEFT JOIN's right side as a subquery with the matched marker column."""
    marker = exp.alias_(exp.Literal.number(1), MATCHED_COLUMN)
    if isinstance(relation, exp.Subquery) and isinstance(relation.this, exp.Select):
        relation.this.select(marker, copy=False)
        return relation
    if isinstance(relation, exp.Subquery):
        body: exp.Expr = exp.Subquery(this=relation.this, alias=exp.TableAlias(this=exp.to_identifier("r")))
    else:
        body = relation.copy()
        body.set("alias", None)
    return exp.Subquery(this=exp.select(exp.Star(), marker).from_(body),
                        alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _scope_nodes(select: exp.Select, skip: exp.Join) -> list[exp.Expr]:
    """Return the nodes of a SELECT outside its FROM items and outside `skip`'s ON condition.

    Nested queries are not entered, because their columns refer to their own FROM items.
    """
    roots: list[exp.Expr] = []
    for key, value in select.args.items():
        if key in ("from", "from_", "with", "with_"):
            continue
        if key == "joins":
            roots += [join.args["on"] for join in value if join is not skip and join.args.get("on") is not None]
            continue
        if isinstance(value, list):
            roots += value
        elif isinstance(value, exp.Expr):
            roots.append(value)
    nodes: list[exp.Expr] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, (exp.Subquery, exp.Select, exp.Union)) and node not in roots:
            continue
        stack += list(node.iter_expressions())
    return nodes
