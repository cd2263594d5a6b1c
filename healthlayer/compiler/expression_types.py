"""Find comparisons and arithmetic that mix text and numbers in a parsed expression.

The types come from the source's `columns`. A column without a declared type, and any value whose
type only the warehouse decides (CASE, COALESCE and the like), is never reported, so that a report
is always a real mismatch. DuckDB 2.0.1 rejects `text_column >= 4` and `text_column / 2` when it
binds the query, and fails on `number_column <> 'internal'` when it runs. It accepts
`number_column = '5'` and `text_column IN (1, 2)` by converting values, but a definition should
not depend on one engine's conversions, so every mix is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

TEXT = "text"
NUMBER = "number"
# Declared column types by the kind of value they contain. Other types (boolean, dates) are not checked.
_DECLARED_KINDS = {"text": TEXT, "number": NUMBER, "integer": NUMBER}
_TEXT_TYPES = {exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT}
_NUMBER_TYPES = {exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.DOUBLE,
                 exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_NUMBER_FUNCTIONS = (exp.Abs, exp.Round, exp.Floor, exp.Ceil)
_TEXT_FUNCTIONS = (exp.Lower, exp.Upper, exp.Trim, exp.Substring)


@dataclass(frozen=True)
class TypeMismatch:
    """A declared column used against its type: compared with a literal of the other kind, or in arithmetic."""

    column: str
    declared: str
    # The literal as written, such as 4 or 'gold', or None when the column is used in arithmetic.
    literal: str | None
    # The SQL of the comparison or arithmetic that contains the mismatch.
    context: str


@dataclass(frozen=True)
class _Typed:
    kind: str
    # The declared column whose type gives the kind, or None for literals, casts and computed values.
    column: str | None = None
    literal: exp.Expr | None = None


def find_type_mismatches(expression: exp.Expr, column_types: dict[str, str]) -> list[TypeMismatch]:
    """Return each mismatch of an expression, at most one per column, in the order of the text."""
    found: dict[str, TypeMismatch] = {}
    for node in expression.walk():
        for mismatch in _node_mismatches(node, column_types):
            found.setdefault(mismatch.column, mismatch)
    return list(found.values())


def _node_mismatches(node: exp.Expr, column_types: dict[str, str]) -> list[TypeMismatch]:
    if isinstance(node, _COMPARISONS):
        return _compare(node, node.this, [node.expression], column_types)
    if isinstance(node, exp.Between):
        return _compare(node, node.this, [node.args.get("low"), node.args.get("high")], column_types)
    if isinstance(node, exp.In):
        return _compare(node, node.this, list(node.expressions), column_types)
    if isinstance(node, _ARITHMETIC):
        operands = [node.this, node.expression]
    elif isinstance(node, (exp.Neg,) + _NUMBER_FUNCTIONS):
        operands = [node.this]
    else:
        return []
    mismatches = []
    for operand in operands:
        typed = _infer(operand, column_types)
        if typed is not None and typed.kind == TEXT and typed.column is not None:
            mismatches.append(TypeMismatch(typed.column, column_types[typed.column], None, node.sql()))
    return mismatches


def _compare(node: exp.Expr, left: exp.Expr, others: list[exp.Expr | None],
             column_types: dict[str, str]) -> list[TypeMismatch]:
    """Report a declared column on one side and a literal of the other kind on the other side."""
    left_typed = _infer(left, column_types)
    mismatches = []
    for other in others:
        if other is None:
            continue
        right_typed = _infer(other, column_types)
        if left_typed is None or right_typed is None or left_typed.kind == right_typed.kind:
            continue
        for column_side, literal_side in ((left_typed, right_typed), (right_typed, left_typed)):
            if column_side.column is not None and literal_side.literal is not None:
                mismatches.append(TypeMismatch(column_side.column, column_types[column_side.column],
                                               literal_side.literal.sql(), node.sql()))
    return mismatches


def _infer(node: exp.Expr, column_types: dict[str, str]) -> _Typed | None:
    """Return the kind of value a node has when it is certain without the warehouse, else None."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column):
        kind = _DECLARED_KINDS.get(column_types.get(node.name, ""))
        return _Typed(kind, node.name) if kind else None
    if isinstance(node, exp.Literal):
        return _Typed(TEXT if node.is_string else NUMBER, literal=node)
    if isinstance(node, exp.Neg):
        inner = _infer(node.this, column_types)
        if inner is None or inner.kind != NUMBER:
            return None
        return _Typed(NUMBER, inner.column, node if inner.literal is not None else None)
    if isinstance(node, exp.Cast):
        target = node.to.this if isinstance(node.to, exp.DataType) else None
        if target in _TEXT_TYPES:
            return _Typed(TEXT)
        return _Typed(NUMBER) if target in _NUMBER_TYPES else None
    if isinstance(node, _TEXT_FUNCTIONS):
        return _Typed(TEXT, _column_of_kind(node.this, TEXT, column_types))
    if isinstance(node, exp.Length):
        return _Typed(NUMBER)
    if isinstance(node, _NUMBER_FUNCTIONS):
        return _Typed(NUMBER, _column_of_kind(node.this, NUMBER, column_types))
    if isinstance(node, _ARITHMETIC):
        column = _column_of_kind(node.this, NUMBER, column_types) or \
            _column_of_kind(node.expression, NUMBER, column_types)
        return _Typed(NUMBER, column)
    return None


def _column_of_kind(node: exp.Expr, kind: str, column_types: dict[str, str]) -> str | None:
    """Return the declared column that gives a function argument its kind, if the argument has that kind."""
    typed = _infer(node, column_types)
    return typed.column if typed is not None and typed.kind == kind else None
