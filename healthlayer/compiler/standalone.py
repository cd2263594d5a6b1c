"""A relation's query made self-contained: the plan relations it reads become common table expressions.

Each view of a plan reads earlier views by qualified name, so its query can be planned only where
those views exist. A warehouse check plans every query before anything is deployed, so it inlines
the relations a query depends on as CTEs, in plan order, and points the references at them.
"""

from __future__ import annotations

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.plan import RELATION_META_KEY, Plan, Relation
from healthlayer.compiler.render import check_dialect, prepare_query


def direct_dependencies(relation: Relation) -> set[str]:
    """Return the names of the plan relations that a relation's query reads."""
    return {table.meta[RELATION_META_KEY] for table in relation.query.find_all(exp.Table)
            if table.meta.get(RELATION_META_KEY)}


def dependencies(plan: Plan, relation: Relation, keep: frozenset[str] = frozenset()) -> list[Relation]:
    """Return every relation that a relation reads, directly or through others, in plan order.

    Relations named in `keep` are left out, with the relations that only they read.
    """
    needed: set[str] = set()
    pending = list(direct_dependencies(relation))
    while pending:
        name = pending.pop()
        if name in needed or name in keep:
            continue
        needed.add(name)
        pending += direct_dependencies(plan.get(name))
    return [item for item in plan.relations if item.name in needed]


def standalone_query(plan: Plan, relation: Relation, dialect: str,
                     prepared: dict[str, exp.Expr] | None = None, keep: frozenset[str] = frozenset(),
                     relative_references: bool | None = None) -> exp.Query:
    """Return a relation's query, with the dialect's rewrites, that reads no other relation of the plan.

    The query keeps its own CTEs after the inlined ones. `prepared` caches the rewritten query of
    each relation across calls for one plan and dialect. Relations named in `keep` are still read
    from the schema, by qualified name unless `relative_references` (see prepare_query) says
    otherwise. Raise UnsupportedError when the dialect cannot express a query, as rendering
    the view would.
    """
    check_dialect(dialect)
    cache = {} if prepared is None else prepared
    inlined = dependencies(plan, relation, keep)
    queries = {}
    for item in [*inlined, relation]:
        if item.name not in cache:
            cache[item.name] = prepare_query(item, dialect, relative_references)
        queries[item.name] = cache[item.name].copy()
    cte_names = _cte_names([item.name for item in inlined], list(queries.values()))

    ctes = []
    for item in inlined:
        body = _point_at_ctes(queries[item.name], cte_names)
        ctes.append(exp.CTE(this=body, alias=exp.TableAlias(this=sql.ident(cte_names[item.name]))))
    query = _point_at_ctes(queries[relation.name], cte_names)
    if not isinstance(query, exp.Query):
        raise TypeError(f"relation '{relation.name}' is not a query")
    if ctes:
        own = query.args.get("with_")
        query.set("with_", exp.With(expressions=ctes + (list(own.expressions) if own else [])))
    return query


def _cte_names(names: list[str], queries: list[exp.Expr]) -> dict[str, str]:
    """Name the CTE of each inlined relation after it, unless a query already has a CTE of that name."""
    used_names = {cte.alias_or_name.lower() for query in queries for cte in query.find_all(exp.CTE)}
    result = {}
    for name in names:
        cte_name = name
        while cte_name.lower() in used_names:
            cte_name += "_inlined"
        used_names.add(cte_name.lower())
        result[name] = cte_name
    return result


def _point_at_ctes(query: exp.Expr, cte_names: dict[str, str]) -> exp.Expr:
    """Replace each reference to a plan relation with a reference to its CTE, keeping the alias."""
    for table in list(query.find_all(exp.Table)):
        name = table.meta.get(RELATION_META_KEY)
        if name in cte_names:
            table.set("catalog", None)
            table.set("db", None)
            table.set("this", sql.ident(cte_names[name]))
    return query
