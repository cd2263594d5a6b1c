"""Parse filter and value expressions written in definitions, and allow only safe, known parts."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from healthlayer.compiler import sql
from healthlayer.definitions.issues import did_you_mean

MAX_EXPRESSION_LENGTH = 2000
MAX_EXPRESSION_NODES = 500
# Characters that reorder how text is displayed (Unicode bidirectional controls), so that a reviewer
# would read an expression in another order than the SQL parser does.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Expression node types a filter or value may contain: comparisons, logic, arithmetic, literals,
# CASE, casts to simple types and a few scalar functions that every supported engine has.
_ALLOWED_NODES: tuple[type[exp.Expr], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Tuple,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not, exp.Is,
    exp.In, exp.Between, exp.Like, exp.ILike, exp.Neg,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod,
    exp.Case, exp.If, exp.Coalesce, exp.Nullif,
    exp.Cast, exp.DataType, exp.DataTypeParam,
    exp.Lower, exp.Upper, exp.Length, exp.Trim, exp.Substring, exp.Abs, exp.Round, exp.Floor, exp.Ceil,
    exp.Least, exp.Greatest,
)
_ALLOWED_TYPES = {
    exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
    exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL, exp.DataType.Type.BOOLEAN,
    exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ,
    exp.DataType.Type.TIMESTAMPTZ,
}
ALLOWED_FUNCTIONS = "lower, upper, length, trim, substring, abs, round, floor, ceil, coalesce, nullif, " \
                    "least, greatest, cast, case"


@dataclass(frozen=True)
class ExpressionError(Exception):
    """A filter or value that cannot be used, with a hint for the fix."""

    message: str
    hint: str

    def __str__(self) -> str:
        return self.message


# Node types whose value is true, false or NULL: what a filter may be at its top.
_CONDITIONS: tuple[type[exp.Expr], ...] = (
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not, exp.Is, exp.In,
    exp.Between, exp.Like, exp.ILike, exp.Boolean,
)


def parse_expression(text: str, columns: set[str], role: str, condition: bool = False,
                     boolean_columns: set[str] | None = None) -> exp.Expr:
    """Parse an expression over `columns`; raise ExpressionError for anything but a safe scalar expression.

    Column names in the result are quoted where their case or a keyword requires it (see sql.ident).
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"the {role} is empty", "Write an expression such as \"plan = 'enterprise'\".")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the {role} has {len(text):,} characters, more than {MAX_EXPRESSION_LENGTH:,}",
                              "Shorten the expression.")
    if any(unicodedata.category(character) == "Cc" and character not in "\t\n\r" for character in text):
        raise ExpressionError(f"the {role} contains control characters", "Remove them.")
    bidi = sorted({f"U+{ord(character):04X}" for character in text if character in BIDI_CONTROLS})
    if bidi:
        raise ExpressionError(f"the {role} contains bidirectional control characters ({', '.join(bidi)})",
                              "Remove them: they make the text display in an order other than the one it is read in.")
    try:
        statements = sqlglot.parse(text, read="duckdb")
    except RecursionError:
        raise ExpressionError(f"the {role} is nested too deeply", "Remove redundant parentheses.") from None
    except (ParseError, TokenError) as error:
        raise ExpressionError(f"the {role} is not a valid SQL expression: {_describe_parse_error(error)}",
                              "Check quotes and parentheses; text values go in single quotes.") from None
    parsed = [statement for statement in statements if statement is not None]
    if len(parsed) != 1:
        raise ExpressionError(f"the {role} contains {len(parsed)} statements",
                              "Write one expression, without ';'.")
    expression = parsed[0]
    if isinstance(expression, (exp.Select, exp.Query, exp.Command, exp.DDL, exp.DML)):
        raise ExpressionError(f"the {role} is a statement, not an expression",
                              "Write a condition or value over the source's columns, such as \"amount > 0\".")

    count = 0
    for node in expression.walk():
        count += 1
        if count > MAX_EXPRESSION_NODES:
            raise ExpressionError(f"the {role} is too complex", "Simplify the expression.")
        if node.comments:
            # A comment can hide part of what a reviewer reads as the condition, so none is accepted.
            raise ExpressionError(f"the {role} contains a SQL comment ('--' or '/* */')",
                                  "Remove the comment; explain the expression in a YAML comment (#) instead.")
        _check_node(node, columns, role)
    if condition:
        _check_condition(expression, role, boolean_columns or set())

    for node in expression.find_all(exp.Column):
        node.set("this", sql.ident(node.name))
    return expression


def _check_condition(expression: exp.Expr, role: str, boolean_columns: set[str]) -> None:
    root = expression
    while isinstance(root, exp.Paren):
        root = root.this
    if isinstance(root, _CONDITIONS):
        return
    if isinstance(root, exp.Column) and root.name in boolean_columns:
        return
    raise ExpressionError(f"the {role} is not a condition: '{expression.sql()}' is a value, not true or false",
                          "Compare the value, for example \"plan = 'enterprise'\" or \"amount > 0\".")


def _check_node(node: exp.Expr, columns: set[str], role: str) -> None:
    if isinstance(node, exp.Column):
        if node.table:
            raise ExpressionError(f"the {role} refers to '{node.sql()}' with a table name",
                                  "Use the source's column names without a table prefix.")
        if node.name not in columns:
            raise ExpressionError(f"unknown column '{node.name}' in the {role}",
                                  did_you_mean(node.name, columns) + " Declare it under the source's 'columns'.")
        return
    if isinstance(node, exp.DataType):
        if node.this not in _ALLOWED_TYPES:
            raise ExpressionError(f"cast to {node.sql()} is not allowed in the {role}",
                                  "Cast to text, integer, double, decimal, boolean, date or timestamp.")
        return
    if isinstance(node, (exp.Subquery, exp.Select, exp.Query)):
        raise ExpressionError(f"the {role} contains a subquery", "Use only the source's columns and literals.")
    if isinstance(node, exp.In) and not any(value for key, value in node.args.items() if key != "this"):
        raise ExpressionError(f"the {role} contains an empty IN list", "List at least one value: x IN ('a', 'b').")
    if isinstance(node, (exp.Floor, exp.Ceil)) and node.args.get("decimals") is not None:
        raise ExpressionError(f"{node.sql_name().lower()} with a second argument is not allowed in the {role}",
                              "Use round(x, n) to round to n decimals.")
    if isinstance(node, exp.Anonymous):
        raise ExpressionError(f"function '{node.name}' is not allowed in the {role}",
                              f"Allowed functions: {ALLOWED_FUNCTIONS}.")
    if not isinstance(node, _ALLOWED_NODES):
        name = node.key.upper()
        if isinstance(node, exp.Func):
            raise ExpressionError(f"function '{node.sql_name().lower()}' is not allowed in the {role}",
                                  f"Allowed functions: {ALLOWED_FUNCTIONS}.")
        raise ExpressionError(f"'{name}' is not allowed in the {role}",
                              "Use comparisons, AND/OR/NOT, IN, LIKE, BETWEEN, IS NULL, arithmetic, CASE and "
                              f"the functions {ALLOWED_FUNCTIONS}.")


def _describe_parse_error(error: Exception) -> str:
    """Describe a sqlglot parse error without its internal class names."""
    details = getattr(error, "errors", None) or []
    if details:
        first = details[0]
        description = str(first.get("description") or "")
        if "<class" in description or "Required keyword" in description:
            description = "the expression is incomplete"
        position = f" (column {first['col']})" if first.get("col") else ""
        return f"{description}{position}"[:200]
    text = str(error).splitlines()[0] if str(error) else "parse error"
    return text[:200]
