"""Statement + providers → Plan: choose a method per provider table, bind its params.

Every predicate stays in the query DuckDB runs, whatever was sent to the API, so pushing a
predicate down can only reduce what is fetched, never change the answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from sqlprovider.errors import DataError, MissingParamsError, NotSupportedError, UnknownNameError
from sqlprovider.model import Filtering, Method, Param, Resource, SqlVerb, param_columns
from sqlprovider.plan import Fetch, Plan, ValueSource
from sqlprovider.providers.registry import Registry, suggest
from sqlprovider.sql import (
    ColumnRef,
    Qual,
    TableOccurrence,
    find_occurrences,
    quals_for,
    rewrite_tables,
)
from sqlprovider.store import loaded_table

DIALECT = "duckdb"
_QUERY_TYPES = (exp.Query,)


@dataclass
class _Table:
    """A provider table occurrence while it is being planned."""

    occurrence: TableOccurrence
    resource: Resource
    name: str  # the DuckDB table it loads into


class Planner:
    """Plans statements against the providers of a registry.

    Args:
        registry: where providers come from.
        local_catalogs: DuckDB catalogs (attached databases) that three-part names may
            name without being a provider.
        table_names: yields fresh DuckDB table names for loaded resources.
    """

    def __init__(
        self,
        registry: Registry,
        local_catalogs: Callable[[], Iterable[str]] = lambda: (),
        table_names: Iterable[str] | None = None,
    ) -> None:
        self.registry = registry
        self.local_catalogs = local_catalogs
        self._names = (
            iter(table_names)
            if table_names is not None
            else (f"_sp_{n}" for n in itertools.count(1))
        )

    def plan(self, statement: exp.Expression, text: str | None = None) -> Plan:
        """The plan for one parsed statement.

        Args:
            statement: the parsed statement.
            text: the statement as written; run unchanged when it reads no provider table.

        Raises:
            UnknownNameError, MissingParamsError, DataError, NotSupportedError.
        """
        if text is None:
            text = statement.sql(dialect=DIALECT)
        if not isinstance(statement, _QUERY_TYPES):
            if find_occurrences(statement, self._is_provider_table):
                kind = type(statement).__name__.upper()
                raise NotSupportedError(
                    f"{kind} statements on provider tables are not supported yet; "
                    "use SELECT to read them"
                )
            return Plan(statement=text, fetches=(), query=text, returns_rows=False)
        tables = [
            _Table(occ, self._resource(occ), f"{next(self._names)}_{occ.resource}")
            for occ in find_occurrences(statement, self._is_provider_table)
        ]
        if not tables:
            return Plan(statement=text, fetches=(), query=text)
        for table in tables:
            self._check_columns(statement, table)
        by_node = {id(t.occurrence.node): t for t in tables}
        fetches: dict[str, Fetch] = {}
        warnings: list[str] = []
        for table in tables:
            fetches[table.name] = self._plan_fetch(statement, table, tables, by_node, warnings)
        ordered = _dependency_order(list(fetches.values()))
        loaded = {id(t.occurrence.node): loaded_table(t.name) for t in tables}
        query = rewrite_tables(statement, loaded).sql(dialect=DIALECT)
        return Plan(statement=text, fetches=tuple(ordered), query=query, warnings=tuple(warnings))

    # -- names ---------------------------------------------------------------------------

    def _is_provider_table(self, node: exp.Table) -> bool:
        if self.registry.has(node.catalog):
            return True
        if node.catalog in set(self.local_catalogs()) | {"memory", "temp", "system"}:
            return False
        candidates = suggest(node.catalog, self.registry.names())
        raise UnknownNameError(
            "provider",
            node.catalog,
            candidates,
            hint=f"in {node.catalog}.{node.db}.{node.name}; SHOW PROVIDERS lists them",
        )

    def _resource(self, occ: TableOccurrence) -> Resource:
        return self.registry.resource(occ.provider, occ.service, occ.resource)

    def _check_columns(self, statement: exp.Expression, table: _Table) -> None:
        known = {c.name for c in table.resource.columns} | {
            c.name for c in param_columns(table.resource)
        }
        alias = table.occurrence.alias
        select = table.occurrence.node.parent_select
        for column in statement.find_all(exp.Column):
            if column.table != alias or column.name in known or not column.name:
                continue
            if column.parent_select is not select and not _inside(column, select):
                continue
            raise UnknownNameError(
                "column",
                f"{alias}.{column.name}",
                suggest(column.name, sorted(known)),
                hint=f"DESCRIBE {table.resource.qualified_name} lists its columns",
            )

    # -- methods and params ---------------------------------------------------------------

    def _owns(self, occ: TableOccurrence, column: str) -> bool:
        if not self.registry.has(occ.provider):
            return False
        resource = self._resource(occ)
        return resource.column(column) is not None or column in resource.param_names()

    def _plan_fetch(
        self,
        statement: exp.Expression,
        table: _Table,
        tables: list[_Table],
        by_node: dict[int, _Table],
        warnings: list[str],
    ) -> Fetch:
        resource = table.resource
        quals = quals_for(table.occurrence, self._owns)
        param_names = set(resource.param_names(SqlVerb.SELECT))
        bound: dict[str, Qual] = {}
        for qual in quals:
            if qual.column in param_names and qual.op in ("=", "in") and qual.ref is None:
                bound.setdefault(qual.column, qual)
        try:
            method, reason = _choose_method(resource, SqlVerb.SELECT, set(bound))
        except MissingParamsError:
            # Only now read params from join partners: a table that can run on its own
            # never waits for another, so two joined tables cannot wait for each other.
            for qual in quals:
                if qual.column in param_names and qual.ref is not None:
                    bound.setdefault(qual.column, qual)
            method, reason = _choose_method(resource, SqlVerb.SELECT, set(bound))
        bindings: list[tuple[str, ValueSource]] = []
        depends: list[str] = []
        for param in method.params:
            binding = bound.get(param.name)
            if binding is None:
                continue
            if param.filtering is Filtering.NONE and not param.required and binding.ref:
                continue  # a paging control is never bound from a join
            source, deps = self._value_source(binding, param, table, tables, by_node)
            bindings.append((param.name, source))
            depends.extend(deps)
        pagination = method.pagination
        if pagination.page_param and pagination.page_param in dict(bindings):
            warnings.append(
                f"{resource.qualified_name}: only the page named in WHERE "
                f"{pagination.page_param} = ... is fetched; drop that condition to fetch all pages"
            )
        if method.max_rows is not None:
            warnings.append(
                f"{resource.qualified_name}: {method.name} returns at most {method.max_rows} "
                "rows per request (the API's own limit), so older rows may be missing"
            )
        row_limit = _pushable_limit(statement, table, quals, method, bound)
        return Fetch(
            table=table.name,
            resource=resource,
            method=method,
            bindings=tuple(bindings),
            depends_on=tuple(dict.fromkeys(depends)),
            row_limit=row_limit,
            columns=_referenced_columns(statement, resource),
            reason=reason,
        )

    def _value_source(
        self,
        qual: Qual,
        param: Param,
        table: _Table,
        tables: list[_Table],
        by_node: dict[int, _Table],
    ) -> tuple[ValueSource, list[str]]:
        if qual.ref is not None:
            return self._values_from_join(qual.ref, by_node)
        if qual.subquery is not None:
            inner_tables = [t for t in tables if _inside(t.occurrence.node, qual.subquery)]
            loaded = {id(t.occurrence.node): loaded_table(t.name) for t in inner_tables}
            sql = rewrite_tables(qual.subquery, loaded).sql(dialect=DIALECT)
            wrapped = f"SELECT DISTINCT * FROM ({sql})"
            origin = qual.subquery.sql(dialect=DIALECT)
            return ValueSource("query", sql=wrapped, origin=origin), [t.name for t in inner_tables]
        values = tuple(coerce_param(param, v, table.resource.qualified_name) for v in qual.values)
        return ValueSource("literal", tuple(dict.fromkeys(values)), origin=qual.describe()), []

    def _values_from_join(
        self, ref: ColumnRef, by_node: dict[int, _Table]
    ) -> tuple[ValueSource, list[str]]:
        select = exp.select(exp.column(ref.column, table=ref.alias)).distinct()
        select = select.from_(ref.source.copy(), copy=False)
        for condition in ref.filters:
            select = select.where(condition.copy(), copy=False)
        not_null = exp.column(ref.column, table=ref.alias).is_(exp.null()).not_()
        select = select.where(not_null, copy=False)
        originals = list(ref.source.find_all(exp.Table))
        copies = list(select.args["from_"].find_all(exp.Table))
        inner = [by_node[id(n)] for n in originals if id(n) in by_node]
        loaded = {
            id(copied): loaded_table(by_node[id(original)].name)
            for original, copied in zip(originals, copies, strict=True)
            if id(original) in by_node
        }
        sql = rewrite_tables(select, loaded).sql(dialect=DIALECT)
        return ValueSource("query", sql=sql, origin=f"{ref.alias}.{ref.column}"), [
            t.name for t in inner
        ]


def _inside(node: exp.Expression, ancestor: exp.Expression | None) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _choose_method(resource: Resource, verb: SqlVerb, bound: set[str]) -> tuple[Method, str]:
    """The runnable method with the most required params; declared order breaks ties."""
    candidates = resource.methods_for(verb)
    if not candidates:
        raise NotSupportedError(f"{resource.qualified_name} has no method for {verb.value.upper()}")
    runnable = [m for m in candidates if all(p.name in bound for p in m.required_params)]
    if not runnable:
        missing = {
            m.name: tuple(p.name for p in m.required_params if p.name not in bound)
            for m in candidates
        }
        raise MissingParamsError(resource.qualified_name, verb.value, missing)
    best = max(runnable, key=lambda m: (len(m.required_params), -candidates.index(m)))
    required = [p.name for p in best.required_params]
    reason = f"binds {', '.join(required)}" if required else "needs no params (lists everything)"
    return best, reason


def coerce_param(param: Param, value: Any, where: str) -> Any:
    """``value`` converted to the param's declared type, checked against its enum.

    Raises:
        DataError: naming the param, the value and what it accepts.
    """
    try:
        if param.type == "integer":
            converted: Any = int(value) if not isinstance(value, bool) else None
            if converted is None:
                raise ValueError
        elif param.type == "number":
            converted = float(value)
        elif param.type == "boolean":
            if isinstance(value, bool):
                converted = value
            elif str(value).lower() in ("true", "false", "1", "0"):
                converted = str(value).lower() in ("true", "1")
            else:
                raise ValueError
        else:
            converted = value if isinstance(value, str) else str(value)
    except (TypeError, ValueError):
        raise DataError(
            f"{where}: param {param.name} takes {param.type} values, not {value!r}"
        ) from None
    if param.enum is not None and converted not in param.enum:
        allowed = ", ".join(repr(v) for v in param.enum)
        raise DataError(f"{where}: param {param.name} must be one of {allowed}, not {value!r}")
    return converted


def _pushable_limit(
    statement: exp.Expression,
    table: _Table,
    quals: list[Qual],
    method: Method,
    bound: dict[str, Qual],
) -> int | None:
    """LIMIT n (+ OFFSET) when the API alone decides which rows qualify, else None."""
    if (
        not isinstance(statement, exp.Select)
        or table.occurrence.node.parent_select is not statement
    ):
        return None
    limit = statement.args.get("limit")
    if limit is None or any(
        statement.args.get(k) for k in ("joins", "group", "having", "order", "distinct", "qualify")
    ):
        return None
    if any(statement.find_all(exp.AggFunc, exp.Window)):
        return None
    where = statement.args.get("where")
    pushed_exact = {
        id(q.expression)
        for q in quals
        if q.column in bound
        and q.values
        and (p := method.param(q.column)) is not None
        and p.filtering is Filtering.EXACT
        and bound[q.column] is q
    }
    if where is not None:
        from sqlprovider.sql.quals import _conjuncts

        if any(id(c) not in pushed_exact for c in _conjuncts(where.this)):
            return None
    values: list[int] = []
    for node in (limit.expression, (statement.args.get("offset") or exp.Offset()).expression):
        if node is None:
            values.append(0)
            continue
        if not isinstance(node, exp.Literal) or node.is_string:
            return None
        values.append(int(node.this))
    return values[0] + values[1]


def _referenced_columns(statement: exp.Expression, resource: Resource) -> tuple[str, ...] | None:
    """The record columns the statement may read, or None when it may read them all.

    Deliberately generous: every identifier in the statement that names a column counts,
    whichever table it belongs to, and any ``*`` other than ``count(*)`` means all columns.
    """
    for star in statement.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            return None
    names = {node.name for node in statement.find_all(exp.Identifier)}
    return tuple(c.name for c in resource.columns if c.name in names)


def _dependency_order(fetches: list[Fetch]) -> list[Fetch]:
    """Fetches ordered so each comes after the tables its values are read from."""
    by_table = {f.table: f for f in fetches}
    ordered: list[Fetch] = []
    state: dict[str, str] = {}

    def visit(fetch: Fetch, chain: list[str]) -> None:
        if state.get(fetch.table) == "done":
            return
        if state.get(fetch.table) == "active":
            names = " → ".join(by_table[t].resource.qualified_name for t in [*chain, fetch.table])
            raise NotSupportedError(
                f"the tables depend on each other in a cycle ({names}); bind one of them "
                "with a constant in WHERE"
            )
        state[fetch.table] = "active"
        for dep in fetch.depends_on:
            if dep in by_table:
                visit(by_table[dep], [*chain, fetch.table])
        state[fetch.table] = "done"
        ordered.append(fetch)

    for fetch in fetches:
        visit(fetch, [])
    return ordered


def product_of_bindings(values: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """One binding set per request: the cartesian product of each param's values."""
    names = list(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]
