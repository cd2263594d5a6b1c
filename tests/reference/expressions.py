"""Evaluation of the SQL filters and value expressions of definitions over one row dict.

sqlglot only parses the text. The evaluation is plain Python with SQL's three-valued logic:
None is NULL, a comparison with NULL is NULL, and a filter keeps a row only when it is True.
Only the constructs listed in `_evaluate` are supported, and anything else raises
NotImplementedError so that a test never silently compares against a wrong value.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

import sqlglot
from sqlglot import expressions as exp

Row = Mapping[str, Any]


def compile_expression(text: str) -> Callable[[Row], Any]:
    """Parse a DuckDB SQL expression and return a function that evaluates it over a row."""
    tree = sqlglot.parse_one(text, read="duckdb")
    return lambda row: _evaluate(tree, row)


def compile_filter(text: str | None) -> Callable[[Row], bool]:
    """Return a predicate that is True for the rows a SQL filter keeps (all rows when text is None)."""
    if text is None:
        return lambda row: True
    expression = compile_expression(text)
    return lambda row: expression(row) is True


def _evaluate(node: exp.Expression, row: Row) -> Any:
    if isinstance(node, exp.Paren):
        return _evaluate(node.this, row)
    if isinstance(node, exp.Column):
        return _column_value(node.name, row)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Literal):
        return _literal_value(node)

    if isinstance(node, exp.Not):
        value = _evaluate(node.this, row)
        return None if value is None else not value
    if isinstance(node, exp.And):
        return _and(_evaluate(node.this, row), _evaluate(node.expression, row))
    if isinstance(node, exp.Or):
        return _or(_evaluate(node.this, row), _evaluate(node.expression, row))
    if isinstance(node, exp.Is):
        return _is(_evaluate(node.this, row), node.expression)
    if isinstance(node, exp.In):
        return _in(_evaluate(node.this, row), [_evaluate(item, row) for item in node.expressions])

    if isinstance(node, exp.Between):
        value = _evaluate(node.this, row)
        low = _compare(exp.GTE, value, _evaluate(node.args["low"], row))
        high = _compare(exp.LTE, value, _evaluate(node.args["high"], row))
        return _and(low, high)
    if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
        return _compare(type(node), _evaluate(node.this, row), _evaluate(node.expression, row))
    if isinstance(node, exp.Like):
        return _like(_evaluate(node.this, row), _evaluate(node.expression, row))

    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
        return _arithmetic(type(node), _evaluate(node.this, row), _evaluate(node.expression, row))
    if isinstance(node, exp.Neg):
        value = _evaluate(node.this, row)
        return None if value is None else -value
    if isinstance(node, exp.Coalesce):
        for argument in [node.this, *node.expressions]:
            value = _evaluate(argument, row)
            if value is not None:
                return value
        return None

    raise NotImplementedError(f"the reference cannot evaluate SQL {node.sql(dialect='duckdb')!r}")


def _column_value(name: str, row: Row) -> Any:
    if name in row:
        return row[name]
    lowered = {key.lower(): key for key in row}
    if name.lower() in lowered:
        return row[lowered[name.lower()]]
    raise KeyError(f"column {name!r} not found in the row; the row has {sorted(row)}")


def _literal_value(node: exp.Literal) -> Any:
    if node.is_string:
        return node.this
    text = str(node.this)
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


def _and(left: Any, right: Any) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _or(left: Any, right: Any) -> bool | None:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


def _is(value: Any, target: exp.Expression) -> bool:
    if isinstance(target, exp.Null):
        return value is None
    if isinstance(target, exp.Boolean):
        return value is target.this
    raise NotImplementedError(f"the reference cannot evaluate IS {target.sql(dialect='duckdb')!r}")


def _in(value: Any, candidates: list[Any]) -> bool | None:
    if value is None:
        return None
    if any(value == candidate for candidate in candidates if candidate is not None):
        return True
    return None if any(candidate is None for candidate in candidates) else False


def _compare(kind: type, left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    if kind is exp.EQ:
        return left == right
    if kind is exp.NEQ:
        return left != right
    if kind is exp.GT:
        return left > right
    if kind is exp.GTE:
        return left >= right
    if kind is exp.LT:
        return left < right
    return left <= right


def _like(value: Any, pattern: Any) -> bool | None:
    if value is None or pattern is None:
        return None
    parts = []
    for char in pattern:
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    regex = "".join(parts)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _arithmetic(kind: type, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if kind is exp.Add:
        return left + right
    if kind is exp.Sub:
        return left - right
    if kind is exp.Mul:
        return left * right
    if right == 0:
        # NOTE: engines disagree on x / 0 (NULL, an error or infinity), so the reference rejects it.
        raise ZeroDivisionError("the reference leaves division by zero in a definition expression undefined")
    return left / right
