"""Statement + providers → Plan: choose a method per provider table, bind its params.

Every predicate stays in the query DuckDB runs, whatever was sent to the API, so pushing a
predicate down can only reduce what is fetched, never change the answer.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from sqlprovider.errors import MissingParamsError, UnknownNameError
from sqlprovider.model import Filtering, Method, Param, Resource, SqlVerb, param_columns
from sqlprovider.plan import Fetch, Plan, ValueSource
from sqlprovider.planner.methods import choose_method, coerce_param, dependency_order
from sqlprovider.providers.registry import Registry, suggest
from sqlprovider.sql import (
    ColumnRef,
    Qual,
    TableOccurrence,
    conjuncts,
    find_occurrences,
    quals_for,
    rewrite_tables,
)
from sqlprovider.store import loaded_table

DIALECT = "duckdb"


@dataclass
class _Table:
    """A provider table occurrence while it is being planned."""

    occurrence: TableOccurrence
    resource: Resource
    name: str  # the DuckDB table it loads into


@dataclass
class Reads:
    """The provider tables a statement reads, planned.

    Attributes:
        fetches: in dependency order.
        loaded: ``id(table node)`` → the table its rows are loaded into.
        warnings: for the user.
    """

    fetches: list[Fetch]
    loaded: dict[int, exp.Table]
    warnings: list[str]


class ReadPlanner:
    """Plans the reading of provider tables (SELECT, and the sources of writes).

    Args:
        registry: where providers come from.
        local_catalogs: DuckDB catalogs (attached databases) that three-part names may
            name without being a provider.
        table_names: yields fresh DuckDB table names for loaded resources.
        evaluate: computes a column-free expression (``now() - INTERVAL 7 DAY``) so it can
            be sent; without it such conditions stay with DuckDB alone.
    """

    def __init__(
        self,
        registry: Registry,
        local_catalogs: Callable[[], Iterable[str]] = lambda: (),
        table_names: Iterable[str] | None = None,
        evaluate: Callable[[str], Any] | None = None,
    ) -> None:
        self.registry = registry
        self.local_catalogs = local_catalogs
        self.evaluate = evaluate
        self._names = (
            iter(table_names)
            if table_names is not None
            else (f"_sp_{n}" for n in itertools.count(1))
        )

    def next_name(self, suffix: str) -> str:
        """A fresh DuckDB table name."""
        return f"{next(self._names)}_{suffix}"

    def plan_query(self, statement: exp.Expression, text: str) -> Plan:
        """The plan of a query (SELECT, UNION, ...)."""
        reads = self.plan_reads(statement)
        if not reads.fetches:
            return Plan(statement=text, fetches=(), query=text)
        query = rewrite_tables(statement, reads.loaded).sql(dialect=DIALECT)
        return Plan(
            statement=text,
            fetches=tuple(reads.fetches),
            query=query,
            warnings=tuple(reads.warnings),
        )

    def plan_reads(self, root: exp.Expression, exclude: exp.Table | None = None) -> Reads:
        """Plan a fetch for every provider table under ``root`` except ``exclude``."""
        tables = [
            _Table(occ, self._resource(occ), self.next_name(occ.resource))
            for occ in find_occurrences(root, self._is_provider_table)
            if occ.node is not exclude
        ]
        for table in tables:
            self._check_columns(root, table)
        by_node = {id(t.occurrence.node): t for t in tables}
        warnings: list[str] = []
        fetches = [self._plan_fetch(root, t, tables, by_node, warnings) for t in tables]
        loaded = {id(t.occurrence.node): loaded_table(t.name) for t in tables}
        return Reads(dependency_order(fetches), loaded, warnings)

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
        quals = self._evaluated(quals_for(table.occurrence, self._owns))
        param_names = set(resource.param_names(SqlVerb.SELECT))
        bound: dict[str, Qual] = {}
        for qual in quals:
            if qual.column in param_names and qual.op in ("=", "in") and qual.ref is None:
                bound.setdefault(qual.column, qual)
        _bind_comparisons(resource, quals, bound)
        try:
            method, reason = choose_method(resource, SqlVerb.SELECT, set(bound))
        except MissingParamsError:
            # Only now read params from join partners: a table that can run on its own
            # never waits for another, so two joined tables cannot wait for each other.
            for qual in quals:
                if qual.column in param_names and qual.ref is not None:
                    bound.setdefault(qual.column, qual)
            method, reason = choose_method(resource, SqlVerb.SELECT, set(bound))
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

    def _evaluated(self, quals: list[Qual]) -> list[Qual]:
        """Quals with their constant expressions computed; those that cannot be are left
        to DuckDB."""
        kept = []
        for qual in quals:
            if qual.constant is not None:
                if self.evaluate is None:
                    continue
                value = self.evaluate(qual.constant.sql(dialect=DIALECT))
                if value is None:
                    continue
                qual = dataclasses.replace(qual, values=(value,), constant=None)
            kept.append(qual)
        return kept

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


_CONTAINS = re.compile(r"^%([^%_\\]+)%$")


def _bind_comparisons(resource: Resource, quals: list[Qual], bound: dict[str, Qual]) -> None:
    """Bind params declared to take comparisons on a column (``docs_indexed > 5``,
    ``started_at >= '2024-10-01'``, ``name ILIKE '%wiki%'``), and their operator params.

    The comparison itself stays in the query DuckDB runs, so the API only has to return a
    superset of the rows."""
    for method in resource.methods_for(SqlVerb.SELECT):
        for param in method.params:
            if param.column is None or param.name in bound:
                continue
            for qual in quals:
                if qual.column != param.column or qual.ref or qual.subquery or not qual.values:
                    continue
                operator, value = qual.op, qual.values[0]
                if operator in ("like", "ilike"):
                    match = _CONTAINS.match(value) if isinstance(value, str) else None
                    if match is None:
                        continue
                    operator, value = "contains", match.group(1)
                if operator not in param.operators or len(qual.values) != 1:
                    continue
                bound[param.name] = Qual(param.name, "=", (value,), expression=qual.expression)
                if param.operator_param and param.operator_param not in bound:
                    wire = param.operator_value(operator)
                    bound[param.operator_param] = Qual(
                        param.operator_param, "=", (wire,), expression=qual.expression
                    )
                break


def _inside(node: exp.Expression, ancestor: exp.Expression | None) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


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
    if where is not None and any(id(c) not in pushed_exact for c in conjuncts(where.this)):
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
