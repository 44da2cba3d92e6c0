"""When a LIMIT may stop fetching early: only when the API alone decides which rows qualify."""

from __future__ import annotations

from sqlglot import exp

from sqlprovider.sql import conjuncts

# Clauses after which the rows DuckDB returns are not the first rows the API returns.
_REORDERING = ("joins", "group", "having", "order", "distinct", "qualify", "sample", "laterals")


def pushable_limit(statement: exp.Expression, table: exp.Table, exact: set[int]) -> int | None:
    """``LIMIT n`` (+ ``OFFSET m``) as a row count to stop at, or None to fetch everything.

    Args:
        statement: the statement being planned.
        table: the provider table node.
        exact: ids of the WHERE conjuncts the request applies exactly.
    """
    if not isinstance(statement, exp.Select) or table.parent_select is not statement:
        return None
    limit = statement.args.get("limit")
    if limit is None or table.args.get("sample") is not None:
        return None
    options = limit.args.get("limit_options")
    if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
        return None
    if any(statement.args.get(k) for k in _REORDERING):
        return None
    if any(statement.find_all(exp.AggFunc, exp.Window, exp.Unnest, exp.Explode)):
        return None
    where = statement.args.get("where")
    if where is not None and any(id(c) not in exact for c in conjuncts(where.this)):
        return None
    count = limit.args.get("count") if isinstance(limit, exp.Fetch) else limit.expression
    offset = statement.args.get("offset")
    total = 0
    for node in (count, offset.expression if offset is not None else None):
        if node is None:
            continue
        if not isinstance(node, exp.Literal) or node.is_string or not node.this.isdigit():
            return None
        total += int(node.this)
    return total if count is not None else None
