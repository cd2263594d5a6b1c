"""The Jinja sandbox of definition files: var() and env_var(), a few filters and tests, bounded sizes.

A definition file may come from an untrusted change, and `validate` renders it in CI. The
sandbox therefore admits only the template constructs on an allow-list, which it checks on the
parsed template before compiling it. It also counts the characters that operators, filters and
calls produce, so that no template can build a value much larger than the 5 MB a definition
file may have.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import jinja2
import jinja2.nodes
import jinja2.sandbox

# Maximum length of a text, list or tuple that one operator in a template may produce.
MAX_TEMPLATE_VALUE = 10_000
# Maximum number of characters that all operators, filters and calls of one file produce together,
# and maximum length of the rendered file.
MAX_TEMPLATE_CHARACTERS = 5 * 1024 * 1024
# Maximum nesting of expressions, because deeper templates exhaust the stacks of Jinja's parser
# and Python's compiler.
MAX_TEMPLATE_DEPTH = 32
# Largest integer an operator in a template may produce.
MAX_TEMPLATE_INTEGER = 10 ** 18

FUNCTIONS = ("var", "env_var")
# Filters whose result is at most a few times the size of their input and whose arguments cannot
# make it larger. Filters such as center, indent, format, join, replace and wordwrap can turn a short
# input into gigabytes, and list, map or groupby build large structures, so they are not available.
ALLOWED_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "first", "float", "int", "last", "length", "lower", "max",
    "min", "round", "string", "title", "tojson", "trim", "upper",
})
ALLOWED_TESTS = frozenset({
    "!=", "<", "<=", "==", ">", ">=", "boolean", "defined", "eq", "equalto", "even", "false", "float", "ge",
    "greaterthan", "gt", "in", "integer", "le", "lessthan", "lower", "lt", "mapping", "ne", "none", "number",
    "odd", "sameas", "sequence", "string", "true", "undefined", "upper",
})
# Expression nodes a template may contain, besides calls, filters and tests, which are checked by name.
_EXPRESSION_NODES: tuple[type[jinja2.nodes.Node], ...] = (
    jinja2.nodes.Const, jinja2.nodes.Name, jinja2.nodes.Keyword, jinja2.nodes.CondExpr, jinja2.nodes.And,
    jinja2.nodes.Or, jinja2.nodes.Not, jinja2.nodes.Neg, jinja2.nodes.Pos, jinja2.nodes.Compare,
    jinja2.nodes.Operand, jinja2.nodes.Add, jinja2.nodes.Sub, jinja2.nodes.Mul, jinja2.nodes.Div,
    jinja2.nodes.FloorDiv, jinja2.nodes.Mod, jinja2.nodes.Pow, jinja2.nodes.Concat, jinja2.nodes.List,
    jinja2.nodes.Tuple, jinja2.nodes.Dict, jinja2.nodes.Pair, jinja2.nodes.Getattr, jinja2.nodes.Getitem,
    jinja2.nodes.Slice,
)
_ALLOWED_FUNCTIONS_HINT = "Templates may only call var() and env_var()."


class TemplateRejected(Exception):
    """A construct that the parsed template may not contain, with its line, issue code and hint."""

    def __init__(self, code: str, message: str, line: int | None, hint: str) -> None:
        super().__init__(message)
        self.code = code
        self.line = line
        self.hint = hint


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple, dict)) else 0


class BoundedEnvironment(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """A sandbox whose operators, filters and calls cannot build huge strings or numbers.

    Every value that an operator, filter, call or subscript produces counts against a budget of
    MAX_TEMPLATE_CHARACTERS per render, because a template can otherwise reach any size by
    combining many values that are each small.
    """

    intercepted_binops = frozenset(["*", "**", "+", "-", "/", "//", "%"])

    def __init__(self, functions: dict[str, Callable[..., Any]], **options: Any) -> None:
        super().__init__(**options)
        self.produced = 0
        self.globals = dict(functions)
        self._functions = tuple(functions.values())
        self.filters = {name: self._counted(function) for name, function in self.filters.items()
                        if name in ALLOWED_FILTERS}
        self.tests = {name: test for name, test in self.tests.items() if name in ALLOWED_TESTS}

    def _count(self, value: Any) -> Any:
        self.produced += _size(value)
        if self.produced > MAX_TEMPLATE_CHARACTERS:
            raise jinja2.exceptions.SecurityError(
                f"the template's expressions produce more than {MAX_TEMPLATE_CHARACTERS:,} characters")
        return value

    def _counted(self, function: Callable[..., Any]) -> Callable[..., Any]:
        # functools.wraps copies the attribute that tells Jinja to pass the environment or context.
        @functools.wraps(function)
        def counted(*args: Any, **kwargs: Any) -> Any:
            return self._count(function(*args, **kwargs))
        return counted

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise jinja2.exceptions.SecurityError("exponents above 64 are not allowed in templates")
        if operator == "%" and isinstance(left, str):
            raise jinja2.exceptions.SecurityError("string formatting with '%' is not allowed in templates")
        if operator == "*":
            sizes = [len(value) for value in (left, right) if isinstance(value, (str, list, tuple))]
            counts = [value for value in (left, right) if isinstance(value, int) and not isinstance(value, bool)]
            if sizes and counts and sizes[0] * counts[0] > MAX_TEMPLATE_VALUE:
                raise jinja2.exceptions.SecurityError("a template expression produced a value that is too large")
        result = super().call_binop(context, operator, left, right)
        too_long = isinstance(result, (str, list, tuple)) and len(result) > MAX_TEMPLATE_VALUE
        too_large = isinstance(result, int) and abs(result) > MAX_TEMPLATE_INTEGER
        if too_long or too_large:
            raise jinja2.exceptions.SecurityError("a template expression produced a value that is too large")
        return self._count(result)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        # The parsed template is checked to call only var() and env_var(); this holds for any call path.
        if not any(__obj is function for function in __self._functions):
            raise jinja2.exceptions.SecurityError("templates may only call var() and env_var()")
        return __self._count(super().call(__context, __obj, *args, **kwargs))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self._count(super().getitem(obj, argument))

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self._count(super().getattr(obj, attribute))


def check_template(template: jinja2.nodes.Template) -> None:
    """Raise TemplateRejected for the first construct of a parsed template that is not allowed."""
    for node in template.body:
        if not isinstance(node, jinja2.nodes.Output):
            raise TemplateRejected("template-statement", "Jinja statements ({% ... %}) are not supported",
                                   node.lineno, "Use expressions only: {{ var('name', default) }} or "
                                   "{{ env_var('NAME') }}.")
        for child in node.nodes:
            if not isinstance(child, jinja2.nodes.TemplateData):
                _check_expression(child, 1)


def too_deep(line: int | None) -> TemplateRejected:
    """Return the rejection of a template whose expressions nest too deeply."""
    return TemplateRejected("template-unsafe", f"the template nests expressions more than {MAX_TEMPLATE_DEPTH} "
                            "levels deep", line, "Simplify the expression.")


def _check_expression(node: jinja2.nodes.Node, depth: int) -> None:
    if depth > MAX_TEMPLATE_DEPTH:
        raise too_deep(node.lineno)
    if isinstance(node, jinja2.nodes.Call):
        _check_call(node)
    elif isinstance(node, jinja2.nodes.Filter):
        _check_named(node, "filter", ALLOWED_FILTERS)
    elif isinstance(node, jinja2.nodes.Test):
        _check_named(node, "test", ALLOWED_TESTS)
    elif isinstance(node, jinja2.nodes.Name):
        if node.name not in FUNCTIONS:
            raise TemplateRejected("template-undefined", f"undefined name in template: '{node.name}' is undefined",
                                   node.lineno, "Only var() and env_var() are available in templates.")
    elif not isinstance(node, _EXPRESSION_NODES):
        raise TemplateRejected("template-unsafe", f"'{type(node).__name__}' is not allowed in templates",
                               node.lineno, _ALLOWED_FUNCTIONS_HINT)
    for child in node.iter_child_nodes():
        _check_expression(child, depth + 1)


def _check_call(node: jinja2.nodes.Call) -> None:
    if not isinstance(node.node, jinja2.nodes.Name):
        raise TemplateRejected("template-unsafe", "templates may only call var() and env_var(), not methods",
                               node.lineno, _ALLOWED_FUNCTIONS_HINT)
    if node.node.name not in FUNCTIONS:
        raise TemplateRejected("template-undefined", f"undefined name in template: '{node.node.name}' is undefined",
                               node.lineno, "Only var() and env_var() are available in templates.")
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        raise TemplateRejected("template-unsafe", f"{node.node.name}() takes its arguments written out, "
                               "not with * or **", node.lineno, "Write var('name', default).")


def _check_named(node: jinja2.nodes.Filter | jinja2.nodes.Test, kind: str, allowed: frozenset[str]) -> None:
    if node.name not in allowed:
        listed = ", ".join(sorted(name for name in allowed if name.isalpha()))
        raise TemplateRejected("template-unsafe", f"the {kind} '{node.name}' is not allowed in templates",
                               node.lineno, f"Allowed {kind}s: {listed}.")
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        raise TemplateRejected("template-unsafe", f"the {kind} '{node.name}' takes its arguments written out, "
                               "not with * or **", node.lineno, "Write the arguments out.")


def bounded_output(chunks: Iterator[str]) -> str | None:
    """Join rendered chunks; return None as soon as they exceed MAX_TEMPLATE_CHARACTERS."""
    parts = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_TEMPLATE_CHARACTERS:
            return None
        parts.append(chunk)
    return "".join(parts)
