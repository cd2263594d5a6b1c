"""Quote names that a dialect reads as keywords, so that they keep referring to the same object.

Plain lower-case names stay unquoted in the plan (see sql.ident), so that each engine folds them
as it folds the names of its own DDL. A name such as `value`, `global` or `match_recognize` is a
keyword in some dialects, where an unquoted use breaks the statement or changes what it means.
Such names are quoted per dialect when a relation is rendered, after folding them as the dialect
folds unquoted names (upper case on Snowflake), so the quoted name refers to the same column,
view or table as the unquoted one.
"""

from __future__ import annotations

import functools
import re

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.cache
def keywords(dialect: str) -> frozenset[str]:
    """Return the lower-case words that sqlglot reads as keywords in a dialect, or that it reserves there."""
    resolved = Dialect.get_or_raise(dialect)
    words = {word.lower() for word, token in resolved.tokenizer_class.KEYWORDS.items()
             if token != TokenType.VAR and _WORD.match(word)}
    words |= {word.lower() for word in resolved.generator_class.RESERVED_KEYWORDS}
    return frozenset(words)


def quote_keywords(expression: exp.Expr, dialect: str) -> exp.Expr:
    """Return the expression with every unquoted identifier that is a keyword of the dialect quoted.

    Returns the same object when no identifier needs quotes, and a changed copy otherwise.
    """
    words = keywords(dialect)
    if not any(_needs_quotes(identifier, words) for identifier in expression.find_all(exp.Identifier)):
        return expression
    expression = expression.copy()
    resolved = Dialect.get_or_raise(dialect)
    for identifier in list(expression.find_all(exp.Identifier)):
        if _needs_quotes(identifier, words):
            folded = resolved.normalize_identifier(identifier.copy())
            identifier.set("this", folded.this)
            identifier.set("quoted", True)
    return expression


def _needs_quotes(identifier: exp.Identifier, words: frozenset[str]) -> bool:
    return not identifier.quoted and identifier.name.lower() in words
