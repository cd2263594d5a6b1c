"""Read a relation that a query references more than once through one common table expression.

Views are expanded where they are read, so a query that reads the same relation twice computes
it twice. DuckDB (1.1 and later) and PostgreSQL (12 and later) compute a common table expression
that is referenced more than once only once, so routing repeated references through one keeps
the cost of a view close to the cost of its inputs. Engines that inline every common table
expression compute the same result as before.
"""

from __future__ import annotations

from collections import Counter

from sqlglot import exp

from healthlayer.compiler.plan import RELATION_META_KEY

SHARED_PREFIX = "shared"


def shared_name(relation: str) -> str:
    return f"{SHARED_PREFIX}{relation}" if relation.startswith("_") else f"{SHARED_PREFIX}_{relation}"


def share_repeated_relations(query: exp.Query, unshared: frozenset[str] = frozenset()) -> exp.Query:
    """Return the query with each relation read more than once replaced by one common table expression.

    Relations in `unshared` are read where they are referenced: an engine that stores a common
    table expression would store all their rows, and each reference may read only a few columns.
    The common table expressions come before those the query already has, since those may read them.
    """
    tables = [table for table in query.find_all(exp.Table) if table.meta.get(RELATION_META_KEY)]
    counts = Counter(table.meta[RELATION_META_KEY] for table in tables)
    repeated = [name for name, count in counts.items() if count > 1 and name not in unshared]
    if not repeated:
        return query
    ctes = []
    for name in repeated:
        references = [table for table in tables if table.meta[RELATION_META_KEY] == name]
        source = references[0].copy()
        source.set("alias", None)
        ctes.append(exp.CTE(this=exp.select("*").from_(source),
                            alias=exp.TableAlias(this=exp.to_identifier(shared_name(name)))))
        for table in references:
            alias = table.args.get("alias")
            replacement = exp.Table(this=exp.to_identifier(shared_name(name)))
            replacement.set("alias", alias.copy() if alias else exp.TableAlias(this=exp.to_identifier(name)))
            table.replace(replacement)
    existing = query.args.get("with_")
    if existing is None:
        query.set("with_", exp.With(expressions=ctes))
    else:
        existing.set("expressions", ctes + list(existing.expressions))
    return query
