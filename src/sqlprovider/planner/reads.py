"""Statement + providers → Plan: choose a method per provider table, bind its params.

Every predicate stays in the query DuckDB runs, whatever was sent to the API, and only what
the API provably answers with a superset of is sent (see ``pushdown``), so pushing a
predicate down can only reduce what is fetched, never change the answer.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from sqlprovider.errors import MissingParamsError, UnknownNameError
from sqlprovider.model import Filtering, Method, Param, Resource, SqlVerb, param_columns
from sqlprovider.plan import Fetch, Plan, ValueKind, ValueSource, loaded_table
from sqlprovider.planner.columns import (
    check_columns,
    referenced_columns,
    resolve_body_aliases,
)
from sqlprovider.planner.limits import pushable_limit
from sqlprovider.planner.methods import choose_method, dependency_order, environment_values
from sqlprovider.planner.pushdown import (
    Bound,
    Evaluator,
    Pushdown,
    exact_conjuncts,
)
from sqlprovider.providers.registry import Registry, suggest
from sqlprovider.sql import (
    ColumnRef,
    Qual,
    TableOccurrence,
    find_occurrences,
    quals_for,
    rewrite_tables,
)

DIALECT = "duckdb"


@dataclass
class Table:
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
        evaluator: evaluates constants as DuckDB compares them (the session's store, so its
            time zone counts); default: a DuckDB of its own.
        environ: the session's environment, read for params with ``env`` (default: the
            process's).
    """

    def __init__(
        self,
        registry: Registry,
        local_catalogs: Callable[[], Iterable[str]] = lambda: (),
        table_names: Iterable[str] | None = None,
        evaluator: Evaluator | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.registry = registry
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.local_catalogs = local_catalogs
        self._evaluator = evaluator
        self._names = (
            iter(table_names)
            if table_names is not None
            else (f"_sp_{n}" for n in itertools.count(1))
        )

    @property
    def evaluator(self) -> Evaluator:
        """What evaluates constants (made on first use when none was given)."""
        if self._evaluator is None:
            from sqlprovider.store import Store

            self._evaluator = Store()
        return self._evaluator

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
            Table(occ, self.resource_of(occ), self.next_name(occ.resource.lower()))
            for occ in find_occurrences(root, self.is_provider_table)
            if occ.node is not exclude
        ]
        resolve_body_aliases(root, [(t.occurrence, t.resource) for t in tables])
        check_columns(root, [(t.occurrence, t.resource) for t in tables])
        by_node = {id(t.occurrence.node): t for t in tables}
        warnings: list[str] = []
        fetches = [self._plan_fetch(root, t, tables, by_node, warnings) for t in tables]
        loaded = {id(t.occurrence.node): loaded_table(t.name) for t in tables}
        return Reads(dependency_order(fetches), loaded, warnings)

    # -- names ---------------------------------------------------------------------------

    def is_provider_table(self, node: exp.Table) -> bool:
        """Whether a three-part name is a provider table (else an attached database's)."""
        if self.registry.has(node.catalog):
            return True
        catalogs = {c.lower() for c in self.local_catalogs()} | {"memory", "temp", "system"}
        if node.catalog.lower() in catalogs:
            return False
        candidates = suggest(node.catalog, self.registry.names())
        raise UnknownNameError(
            "provider",
            node.catalog,
            candidates,
            hint=f"in {node.catalog}.{node.db}.{node.name}; SHOW PROVIDERS lists them",
        )

    def resource_of(self, occ: TableOccurrence) -> Resource:
        """The resource an occurrence names."""
        return self.registry.resource(occ.provider, occ.service, occ.resource)

    def owns(self, occ: TableOccurrence, column: str) -> bool:
        """Whether a provider table has a column (or param) of that name, in any case."""
        if not self.registry.has(occ.provider):
            return False
        resource = self.resource_of(occ)
        folded = column.lower()
        return any(c.name.lower() == folded for c in resource.columns) or any(
            p.lower() == folded for p in resource.param_names()
        )

    # -- methods and params ---------------------------------------------------------------

    def _plan_fetch(
        self,
        statement: exp.Expression,
        table: Table,
        tables: list[Table],
        by_node: dict[int, Table],
        warnings: list[str],
    ) -> Fetch:
        resource = table.resource
        every = quals_for(table.occurrence, self.owns)
        quals = [q for q in every if q.bindable]
        pushdown = Pushdown(resource, self.evaluator, self.environ)
        constraints = pushdown.constraints(quals)
        if len(quals) < len(every):  # conditions that may not be sent still show emptiness
            constraints.nothing = constraints.nothing or pushdown.constraints(every).nothing
        columns = referenced_columns(statement, table.occurrence, resource)
        if constraints.nothing is not None:
            method = resource.methods_for(SqlVerb.SELECT)[0]
            return Fetch(
                table.name,
                resource,
                method,
                (),
                columns=columns,
                empty=constraints.nothing,
                alias=table.occurrence.node.alias,
            )
        literal = pushdown.bindings(constraints)
        sources = _subquery_sources(quals, resource)
        method, reason = self._choose(resource, literal, sources, quals)
        bindings: list[tuple[str, ValueSource]] = []
        depends: list[str] = []
        sent: list[Bound] = []
        for param in method.params:
            bound = literal.get((method.name, param.name))
            if bound is not None:
                bindings.append(
                    (param.name, ValueSource(ValueKind.LITERAL, bound.values, origin=bound.origin))
                )
                sent.append(bound)
                continue
            qual = sources.get(param.name.lower())
            if qual is None or (qual.ref is not None and param.filtering is Filtering.NONE):
                continue  # a paging control is never bound from a join
            source, deps = self._value_source(qual, tables, by_node)
            bindings.append((param.name, source))
            depends.extend(deps)
        warnings.extend(_method_warnings(resource, method, dict(bindings)))
        exact = exact_conjuncts(constraints, sent) if _exact_method(method, bindings) else set()
        return Fetch(
            table=table.name,
            resource=resource,
            method=method,
            bindings=tuple(bindings),
            depends_on=tuple(dict.fromkeys(depends)),
            row_limit=pushable_limit(statement, table.occurrence.node, exact),
            columns=columns,
            reason=reason,
            alias=table.occurrence.node.alias,
            defaults=environment_values(method, (n for n, _ in bindings), self.environ),
            exact=tuple(
                q.expression.sql(dialect=DIALECT) for q in every if id(q.expression) in exact
            ),
        )

    def _choose(
        self,
        resource: Resource,
        literal: dict[tuple[str, str], Bound],
        sources: dict[str, Qual],
        quals: list[Qual],
    ) -> tuple[Method, str]:
        """The method: bound by constants and subqueries if one can run so; else also by
        join partners (a table that can run on its own never waits for another, so two
        joined tables cannot wait for each other)."""

        def bound_by(refs: bool) -> Callable[[Method], set[str]]:
            def names(method: Method) -> set[str]:
                found = {p for (m, p) in literal if m == method.name}
                for param in method.params:
                    qual = sources.get(param.name.lower())
                    if qual is not None and (refs or qual.ref is None):
                        found.add(param.name)
                return found

            return names

        try:
            return choose_method(resource, SqlVerb.SELECT, bound_by(False), self.environ)
        except MissingParamsError:
            for qual in quals:
                if qual.ref is not None:
                    sources.setdefault(qual.column.lower(), qual)
            return choose_method(resource, SqlVerb.SELECT, bound_by(True), self.environ)

    def _value_source(
        self, qual: Qual, tables: list[Table], by_node: dict[int, Table]
    ) -> tuple[ValueSource, list[str]]:
        loaded = {id(t.occurrence.node): loaded_table(t.name) for t in tables}
        if qual.ref is not None:
            return self._values_from_join(qual.ref, tables, loaded)
        assert qual.subquery is not None
        query = rewrite_tables(qual.subquery, loaded)
        ctes = _needed_ctes(qual.subquery)
        if ctes:
            query.set("with_", _rewritten_with(ctes, loaded))
        sql = f"SELECT DISTINCT * FROM ({query.sql(dialect=DIALECT)})"
        origin = qual.subquery.sql(dialect=DIALECT)
        return ValueSource(ValueKind.QUERY, sql=sql, origin=origin), _within(
            tables, qual.subquery, *ctes
        )

    def _values_from_join(
        self, ref: ColumnRef, tables: list[Table], loaded: dict[int, exp.Table]
    ) -> tuple[ValueSource, list[str]]:
        """The distinct values of the partner's column, read once the partner is loaded (a
        CTE partner brings its WITH along)."""
        select = exp.select(exp.column(ref.column, table=ref.alias)).distinct()
        select = select.from_(_loaded_source(ref.source, loaded), copy=False)
        for condition in ref.filters:
            select = select.where(condition.copy(), copy=False)
        not_null = exp.column(ref.column, table=ref.alias).is_(exp.null()).not_()
        select = select.where(not_null, copy=False)
        ctes = _needed_ctes(ref.source)
        if ctes:
            select.set("with_", _rewritten_with(ctes, loaded))
        sql = select.sql(dialect=DIALECT)
        origin = f"{ref.alias}.{ref.column}"
        return ValueSource(ValueKind.QUERY, sql=sql, origin=origin), _within(
            tables, ref.source, *ctes
        )


def _loaded_source(source: exp.Expression, loaded: dict[int, exp.Table]) -> exp.Expression:
    """A copy of a FROM source with provider tables replaced by their loaded tables."""
    if isinstance(source, exp.Table) and id(source) in loaded:
        replacement = loaded[id(source)].copy()
        alias = exp.to_identifier(source.alias_or_name, quoted=True)
        replacement.set("alias", exp.TableAlias(this=alias))
        return replacement
    return rewrite_tables(source, loaded)


def _within(tables: list[Table], *parts: exp.Expression | None) -> list[str]:
    """The loaded tables of the provider tables inside any of ``parts``."""
    return [
        t.name
        for t in tables
        if any(
            part is not None and (t.occurrence.node is part or _inside(t.occurrence.node, part))
            for part in parts
        )
    ]


def _subquery_sources(quals: list[Qual], resource: Resource) -> dict[str, Qual]:
    """``param IN (SELECT ...)`` quals, by lower-case param name."""
    params = {p.lower() for p in resource.param_names(SqlVerb.SELECT)}
    found: dict[str, Qual] = {}
    for qual in quals:
        if qual.subquery is not None and qual.column.lower() in params:
            found.setdefault(qual.column.lower(), qual)
    return found


def _exact_method(method: Method, bindings: list[tuple[str, ValueSource]]) -> bool:
    """A method whose rows arrive once each and unchanged (no window slices to merge)."""
    return method.window is None and all(s.kind is ValueKind.LITERAL for _, s in bindings)


def _method_warnings(resource: Resource, method: Method, bound: dict[str, Any]) -> list[str]:
    found = []
    page_param = method.page_number_param
    if page_param and page_param in bound:
        found.append(
            f"{resource.qualified_name}: only the page named in WHERE "
            f"{page_param} = ... is fetched; drop that condition to fetch all pages"
        )
    if method.max_rows is not None:
        found.append(
            f"{resource.qualified_name}: {method.name} returns at most {method.max_rows} "
            "rows per request (the API's own limit), so older rows may be missing"
        )
    return found


def _inside(node: exp.Expression, ancestor: exp.Expression | None) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _cte_named(table: exp.Table) -> exp.CTE | None:
    """The CTE a table node names, if any (the nearest WITH that defines the name)."""
    if table.db:
        return None
    name = table.name.lower()
    parent = table.parent
    while parent is not None:
        with_ = parent.args.get("with_")
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if (
                    isinstance(cte, exp.CTE)
                    and cte.alias_or_name.lower() == name
                    and not _inside(table, cte)
                ):
                    return cte
        parent = parent.parent
    return None


def _needed_ctes(node: exp.Expression) -> list[exp.CTE]:
    """The CTEs a part of a statement reads, directly or through other CTEs, in the order
    they are defined: it runs on its own, so it takes them along."""
    found: dict[int, exp.CTE] = {}
    pending = [node]
    while pending:
        part = pending.pop()
        tables = [part] if isinstance(part, exp.Table) else list(part.find_all(exp.Table))
        for table in tables:
            cte = _cte_named(table)
            if cte is not None and id(cte) not in found:
                found[id(cte)] = cte
                pending.append(cte.this)
    return sorted(found.values(), key=_order)


def _order(cte: exp.CTE) -> int:
    parent = cte.parent
    return parent.expressions.index(cte) if isinstance(parent, exp.With) else 0


def _rewritten_with(ctes: list[exp.CTE], loaded: dict[int, exp.Table]) -> exp.With:
    """A WITH of the given CTEs, their provider tables replaced by the loaded ones."""
    return exp.With(expressions=[rewrite_tables(cte, loaded) for cte in ctes])


def param_named(resource: Resource, name: str) -> Param | None:
    """A SELECT param of ``resource`` called ``name`` (any case)."""
    folded = name.lower()
    for method in resource.methods_for(SqlVerb.SELECT):
        for param in method.params:
            if param.name.lower() == folded:
                return param
    return None


__all__ = ["ReadPlanner", "Reads", "Table", "param_columns", "param_named"]
