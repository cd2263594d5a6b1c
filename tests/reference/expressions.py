"""Evaluation of the SQL filters and value expressions of definitions over one row dict.

sqlglot only parses the text. The evaluation is plain Python with SQL's three-valued logic:
None is NULL, a comparison with NULL is NULL, and a filter keeps a row only when its value,
read as a BOOLEAN, is true. Values, casts and functions follow DuckDB (see sql_values.py).
Every node type on healthlayer's allow-list (healthlayer/compiler/expressions.py) is evaluated.
Other node types, arguments that sqlglot sets but `_ARGUMENTS` does not list, and the value
types that sql_values.py does not model raise NotImplementedError, so that a test never
silently compares against a wrong value.

NOTE: CASE, IF, COALESCE and NULLIF return the chosen argument in its own type. DuckDB converts
it to the common type of all the arguments, so CASE WHEN c THEN 1 ELSE 0.5 END is 1 here and
1.0 there. Only a cast to text and the last bits of later float arithmetic can tell them apart.
Overflow is not modelled either: DuckDB raises an error where Python's int grows or where a
DECIMAL needs more than 38 digits.
"""

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import expressions as exp

from . import sql_values as values
from .sql_values import ConversionError

Row = Mapping[str, Any]

# The arguments of each node type that `_evaluate` reads.
_OPERANDS = {"this", "expression"}
_ARGUMENTS: dict[type[exp.Expression], set[str]] = {
    exp.Column: {"this"},
    exp.Literal: {"this", "is_string"},
    exp.Boolean: {"this"},
    exp.Null: set(),
    exp.Paren: {"this"},
    exp.Tuple: {"expressions"},
    exp.Not: {"this"},
    exp.Neg: {"this"},
    exp.And: _OPERANDS, exp.Or: _OPERANDS,
    exp.EQ: _OPERANDS, exp.NEQ: _OPERANDS, exp.GT: _OPERANDS, exp.GTE: _OPERANDS, exp.LT: _OPERANDS, exp.LTE: _OPERANDS,
    exp.Add: _OPERANDS, exp.Sub: _OPERANDS, exp.Mul: _OPERANDS, exp.Div: _OPERANDS, exp.Mod: _OPERANDS,
    exp.Is: _OPERANDS,
    exp.In: {"this", "expressions"},
    exp.Between: {"this", "low", "high", "symmetric"},
    exp.Like: {"this", "expression", "negate"},
    exp.ILike: {"this", "expression", "negate"},
    exp.Case: {"this", "ifs", "default"},
    exp.If: {"this", "true", "false"},
    # is_nvl and is_null only record the spelling IFNULL, NVL or ISNULL, which mean COALESCE.
    exp.Coalesce: {"this", "expressions", "is_nvl", "is_null"},
    exp.Nullif: _OPERANDS,
    exp.Cast: {"this", "to"},
    exp.TryCast: {"this", "to", "safe"},
    exp.Lower: {"this"},
    exp.Upper: {"this"},
    exp.Length: {"this"},
    exp.Trim: {"this", "expression", "position"},
    exp.Substring: {"this", "start", "length"},
    exp.Abs: {"this"},
    exp.Round: {"this", "decimals"},
    exp.Floor: {"this", "decimals"},
    exp.Ceil: {"this", "decimals"},
    # ignore_nulls is True for DuckDB, which skips NULL arguments of LEAST and GREATEST.
    exp.Least: {"this", "expressions", "ignore_nulls"},
    exp.Greatest: {"this", "expressions", "ignore_nulls"},
}

_COMPARISONS: dict[type[exp.Expression], Callable[[int], bool]] = {
    exp.EQ: lambda order: order == 0,
    exp.NEQ: lambda order: order != 0,
    exp.GT: lambda order: order > 0,
    exp.GTE: lambda order: order >= 0,
    exp.LT: lambda order: order < 0,
    exp.LTE: lambda order: order <= 0,
}
_ARITHMETIC = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}

_CAST_TARGETS = {
    exp.DataType.Type.VARCHAR: "text",
    exp.DataType.Type.TEXT: "text",
    exp.DataType.Type.INT: "integer",
    exp.DataType.Type.BIGINT: "bigint",
    exp.DataType.Type.DOUBLE: "double",
    exp.DataType.Type.FLOAT: "real",  # FLOAT is DuckDB's 32-bit REAL
    exp.DataType.Type.DECIMAL: "decimal",
    exp.DataType.Type.BOOLEAN: "boolean",
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.TIMESTAMP: "timestamp",
    exp.DataType.Type.TIMESTAMPNTZ: "timestamp",  # sqlglot 30 reads DuckDB's TIMESTAMP as this
    exp.DataType.Type.TIMESTAMPTZ: "timestamptz",
}


def compile_expression(text: str) -> Callable[[Row], Any]:
    """Parse a DuckDB SQL expression and return a function that evaluates it over a row.

    Raises NotImplementedError for a node type or argument that the evaluator does not read.
    """
    tree = sqlglot.parse_one(text, read="duckdb")
    for node in tree.walk():
        # Identifiers and data types are read by their Column or Cast node.
        if not isinstance(node, (exp.Identifier, exp.DataType, exp.DataTypeParam)):
            _check_arguments(node)
    return lambda row: _evaluate(tree, row)


def compile_filter(text: str | None) -> Callable[[Row], bool]:
    """Return a predicate that is True for the rows a SQL filter keeps (all rows when text is None).

    The filter's value is read as a BOOLEAN the way DuckDB reads a WHERE condition, so a
    non-zero number keeps the row and the text 'false' drops it.
    """
    if text is None:
        return lambda row: True
    expression = compile_expression(text)
    return lambda row: values.to_boolean(expression(row)) is True


def _unsupported(node: exp.Expression, reason: str = "") -> NotImplementedError:
    suffix = f": {reason}" if reason else ""
    return NotImplementedError(f"the reference cannot evaluate SQL {node.sql(dialect='duckdb')!r}{suffix}")


def _check_arguments(node: exp.Expression) -> None:
    known = _ARGUMENTS.get(type(node))
    if known is None:
        raise _unsupported(node)
    extra = sorted(key for key, value in node.args.items() if key not in known and value not in (None, False, []))
    if extra:
        raise _unsupported(node, f"sqlglot sets the arguments {extra}, which the reference does not read")


def _evaluate(node: exp.Expression, row: Row) -> Any:
    kind = type(node)

    if kind is exp.Paren:
        return _evaluate(node.this, row)
    if kind is exp.Column:
        return _column_value(node.name, row)
    if kind is exp.Null:
        return None
    if kind is exp.Boolean:
        return node.this
    if kind is exp.Literal:
        return _literal_value(node)
    if kind is exp.Tuple:
        return tuple(_evaluate(item, row) for item in node.expressions)

    if kind in (exp.Not, exp.And, exp.Or, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike) or kind in _COMPARISONS:
        return _evaluate_condition(node, row)
    if kind in (exp.Case, exp.If, exp.Coalesce, exp.Nullif):
        return _evaluate_conditional(node, row)
    if kind in (exp.Cast, exp.TryCast):
        return _evaluate_cast(node, row)
    return _evaluate_function(node, row)


def _column_value(name: str, row: Row) -> Any:
    if name in row:
        return row[name]
    lowered = {key.lower(): key for key in row}
    if name.lower() in lowered:
        return row[lowered[name.lower()]]
    raise KeyError(f"column {name!r} not found in the row; the row has {sorted(row)}")


def _literal_value(node: exp.Literal) -> Any:
    """Return a literal in DuckDB's type: 7 is an integer, 1.5 a DECIMAL, 1e3 a DOUBLE, '…' text."""
    if node.is_string:
        return node.this
    text = str(node.this)
    if "e" in text.lower():
        return float(text)
    if "." in text:
        return Decimal(text)
    return int(text)


def _is_text_literal(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _operand(node: exp.Expression, row: Row, other: Any) -> Any:
    """Evaluate an operand that meets `other`, converting a text literal to the type of `other`.

    DuckDB reads a text literal next to a number, date or timestamp as a value of that type, so
    `signup_date >= '2024-01-01'` compares dates. Text from a column stays text, so comparing it
    with a number raises NotImplementedError (DuckDB converts it for = and rejects it for <).
    """
    value = _evaluate(node, row)
    if not _is_text_literal(node) or other is None or isinstance(other, str):
        return value
    return _cast_like(value, other)


def _cast_like(text: str, other: Any) -> Any:
    """Cast a text literal to the SQL type of `other`, with the scale of `other` when it is a DECIMAL."""
    if isinstance(other, Decimal):
        return values.cast(text, "decimal", values.MAX_DECIMAL_PRECISION, values.decimal_scale(other))
    if isinstance(other, bool):
        return values.cast(text, "boolean")
    if isinstance(other, int):
        return values.cast(text, "bigint")
    if isinstance(other, values.Real):
        return values.cast(text, "real")
    if isinstance(other, float):
        return values.cast(text, "double")
    type_name = values.describe_type(other)
    if type_name in ("DATE", "TIMESTAMP", "TIMESTAMPTZ"):
        return values.cast(text, type_name.lower())
    raise NotImplementedError(f"the reference cannot read a text literal as {type_name}")


def _pair(left: exp.Expression, right: exp.Expression, row: Row) -> tuple[Any, Any]:
    """Evaluate two operands that meet, converting a text literal on either side."""
    left_value = _evaluate(left, row)
    right_value = _operand(right, row, left_value)
    if _is_text_literal(left):
        left_value = _operand(left, row, right_value)
    return left_value, right_value


def _compare(kind: type[exp.Expression], left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    return _COMPARISONS[kind](values.compare(left, right))


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _or(left: bool | None, right: bool | None) -> bool | None:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _condition(node: exp.Expression, row: Row) -> bool | None:
    return values.to_boolean(_evaluate(node, row))


def _evaluate_condition(node: exp.Expression, row: Row) -> bool | None:
    kind = type(node)
    if kind is exp.Not:
        return _not(_condition(node.this, row))
    if kind is exp.And:
        return _and(_condition(node.this, row), _condition(node.expression, row))
    if kind is exp.Or:
        return _or(_condition(node.this, row), _condition(node.expression, row))
    if kind in _COMPARISONS:
        return _compare(kind, *_pair(node.this, node.expression, row))
    if kind is exp.Is:
        return _is(node, row)
    if kind is exp.In:
        return _in(node, row)
    if kind is exp.Between:
        return _between(node, row)
    matched = _like(node, row)
    return _not(matched) if node.args.get("negate") else matched


def _is(node: exp.Is, row: Row) -> bool:
    target = node.expression
    if isinstance(target, exp.Null):
        return _evaluate(node.this, row) is None
    if isinstance(target, exp.Boolean):
        return _condition(node.this, row) is target.this
    raise _unsupported(node, "IS takes NULL, TRUE or FALSE")


def _in(node: exp.In, row: Row) -> bool | None:
    """Return True when a candidate equals the value, else NULL when a comparison was NULL, else False."""
    value = _evaluate(node.this, row)
    if value is None:
        return None
    saw_null = False
    for candidate in node.expressions:
        equal = _compare(exp.EQ, value, _operand(candidate, row, value))
        if equal is True:
            return True
        saw_null = saw_null or equal is None
    return None if saw_null else False


def _between(node: exp.Between, row: Row) -> bool | None:
    value = _evaluate(node.this, row)
    low = _operand(node.args["low"], row, value)
    high = _operand(node.args["high"], row, value)
    if _is_text_literal(node.this):
        bound = low if low is not None else high
        value = _operand(node.this, row, bound)
    inside = _and(_compare(exp.GTE, value, low), _compare(exp.LTE, value, high))
    if node.args.get("symmetric"):
        # BETWEEN SYMMETRIC accepts the bounds in either order.
        inside = _or(inside, _and(_compare(exp.GTE, value, high), _compare(exp.LTE, value, low)))
    return inside


def _like(node: exp.Like | exp.ILike, row: Row) -> bool | None:
    value, pattern = _evaluate(node.this, row), _evaluate(node.expression, row)
    if value is None or pattern is None:
        return None
    return values.like(value, pattern, case_insensitive=isinstance(node, exp.ILike))


def _evaluate_conditional(node: exp.Expression, row: Row) -> Any:
    """Evaluate CASE, IF, COALESCE or NULLIF. Only the chosen branch is evaluated, as in DuckDB."""
    if isinstance(node, exp.Case):
        subject = node.this
        subject_value = None if subject is None else _evaluate(subject, row)
        for branch in node.args.get("ifs") or []:
            if subject is None:
                chosen = _condition(branch.this, row) is True
            else:
                # CASE x WHEN v compares x = v, so a NULL x or v never matches.
                chosen = _compare(exp.EQ, subject_value, _operand(branch.this, row, subject_value)) is True
            if chosen:
                return _evaluate(branch.args["true"], row)
        default = node.args.get("default")
        return None if default is None else _evaluate(default, row)
    if isinstance(node, exp.If):
        if _condition(node.this, row) is True:
            return _evaluate(node.args["true"], row)
        otherwise = node.args.get("false")
        return None if otherwise is None else _evaluate(otherwise, row)
    if isinstance(node, exp.Coalesce):
        for argument in [node.this, *node.expressions]:
            value = _evaluate(argument, row)
            if value is not None:
                return value
        return None
    value, other = _pair(node.this, node.expression, row)
    return None if _compare(exp.EQ, value, other) is True else value


def _evaluate_cast(node: exp.Cast, row: Row) -> Any:
    data_type = node.args["to"]
    target = _CAST_TARGETS.get(data_type.this)
    if target is None:
        raise _unsupported(node, f"a cast to {data_type.sql(dialect='duckdb')}")
    parameters = [int(parameter.this.this) for parameter in data_type.expressions]
    precision = scale = None
    if parameters:
        # DECIMAL(p) has scale 0. VARCHAR(n) has a length, which DuckDB ignores, and so does cast().
        precision = parameters[0]
        scale = parameters[1] if len(parameters) > 1 else 0
    value = _evaluate(node.this, row)
    try:
        return values.cast(value, target, precision, scale)
    except ConversionError:
        if isinstance(node, exp.TryCast):
            return None
        raise


def _evaluate_function(node: exp.Expression, row: Row) -> Any:
    kind = type(node)
    if kind in _ARITHMETIC:
        left, right = _evaluate(node.this, row), _evaluate(node.expression, row)
        if left is None or right is None:
            return None
        return values.arithmetic(_ARITHMETIC[kind], left, right)
    if kind in (exp.Least, exp.Greatest):
        return _least_or_greatest(node, row)

    arguments = _function_arguments(node, row)
    if any(argument is None for argument in arguments.values() if argument is not _ABSENT):
        return None
    value = arguments["this"]
    if kind is exp.Neg:
        return values.negate(value)
    if kind is exp.Abs:
        return values.absolute(value)
    if kind is exp.Lower:
        return values.lower(value)
    if kind is exp.Upper:
        return values.upper(value)
    if kind is exp.Length:
        return values.length(value)
    if kind is exp.Trim:
        characters = arguments["expression"]
        position = node.args.get("position") or "BOTH"
        return values.trim(value, None if characters is _ABSENT else characters, position.upper())
    if kind is exp.Substring:
        count = arguments["length"]
        return values.substring(value, arguments["start"], None if count is _ABSENT else count)
    if kind is exp.Round:
        places = arguments["decimals"]
        return values.round_number(value, 0 if places is _ABSENT else places)
    if kind in (exp.Floor, exp.Ceil):
        places = arguments["decimals"]
        return values.floor_or_ceil(value, kind.__name__.lower(), None if places is _ABSENT else places)
    raise _unsupported(node)


_ABSENT = object()
"""Marks a function argument that the SQL text leaves out, as opposed to one that is NULL."""

_FUNCTION_ARGUMENTS = {
    exp.Trim: ("this", "expression"),
    exp.Substring: ("this", "start", "length"),
    exp.Round: ("this", "decimals"),
    exp.Floor: ("this", "decimals"),
    exp.Ceil: ("this", "decimals"),
}


def _function_arguments(node: exp.Expression, row: Row) -> dict[str, Any]:
    arguments = {}
    for name in _FUNCTION_ARGUMENTS.get(type(node), ("this",)):
        argument = node.args.get(name)
        arguments[name] = _ABSENT if argument is None else _evaluate(argument, row)
    return arguments


def _least_or_greatest(node: exp.Least | exp.Greatest, row: Row) -> Any:
    """Return the smallest (LEAST) or largest (GREATEST) non-NULL argument, or NULL when all are NULL.

    Numbers come back in the common type of the arguments, so LEAST(1, 2.5) is the DECIMAL 1.0.
    """
    nodes = [node.this, *node.expressions]
    evaluated = [_evaluate(argument, row) for argument in nodes]
    reference = next((value for value in evaluated if value is not None and not isinstance(value, str)), None)
    present = []
    for argument, value in zip(nodes, evaluated):
        if value is None:
            continue
        if reference is not None and _is_text_literal(argument):
            value = _cast_like(value, reference)
        present.append(value)
    if not present:
        return None
    if any(values.is_number(value) for value in present) and all(
        values.is_number(value) or isinstance(value, bool) for value in present
    ):
        present = values.promote(*present, align_scale=True)
    elif any(values.describe_type(value) == "TIMESTAMP" for value in present):
        present = [values.cast(value, "timestamp") for value in present]
    best = present[0]
    for value in present[1:]:
        order = values.compare(value, best)
        if (order < 0) if isinstance(node, exp.Least) else (order > 0):
            best = value
    return best
