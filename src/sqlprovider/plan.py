"""A Plan: what a statement will do, as plain data that EXPLAIN, dry runs and tests read."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlglot import exp

from sqlprovider.model import Method, Resource

# The private DuckDB catalog loaded resources live in (never the user's database file).
LOADED_CATALOG = "_sp"


def loaded_table(name: str) -> exp.Table:
    """The table node for a loaded resource's table or view in the private catalog."""

    def ident(part: str) -> exp.Identifier:
        return exp.to_identifier(part, quoted=True)

    return exp.Table(this=ident(name), db=ident("main"), catalog=ident(LOADED_CATALOG))


@dataclass(frozen=True)
class Evaluated:
    """A constant as DuckDB sees it when it is compared with a column of a given type.

    Attributes:
        value: the constant cast to the column's type (None when it is NULL or cannot be).
        kind: the constant's own DuckDB type (``typeof``).
        is_null: the constant is NULL.
        exact: the cast value equals the constant, by DuckDB's own comparison.
        raw: the constant's own value.
    """

    value: Any
    kind: str
    is_null: bool
    exact: bool
    raw: Any


class ValueKind(StrEnum):
    """Where a param's values come from."""

    LITERAL = "literal"  # computed from the statement's constants before any request
    QUERY = "query"  # the distinct values of another source, once that source is loaded


@dataclass(frozen=True)
class ValueSource:
    """Where a param's values come from.

    Attributes:
        kind: a ValueKind.
        values: the values sent (``LITERAL``); several mean one request per value.
        sql: for ``QUERY``, the DuckDB SQL that yields the values (one column).
        origin: how the statement wrote it, for EXPLAIN.
    """

    kind: ValueKind
    values: tuple[Any, ...] = ()
    sql: str = ""
    origin: str = ""


@dataclass(frozen=True)
class Fetch:
    """Fetch a resource's rows with one method and load them into a DuckDB table.

    Attributes:
        table: the DuckDB table the rows are loaded into.
        resource: what is fetched.
        method: the chosen method.
        bindings: param name → where its values come from.
        depends_on: tables that must be loaded first (their values feed ``bindings``).
        row_limit: stop fetching once this many rows are in (a pushed-down LIMIT).
        columns: the record columns the statement can read (None: all of them); the others
            are not loaded, which makes loading faster.
        reason: why this method was chosen.
        empty: why no row of the table can meet the WHERE (nothing is fetched), if so.
        alias: the name the statement gives the table, when it gives one.
        strict: values from another table that no request can carry are an error, not
            skipped (the objects a write reads: a NULL id from a subquery stops it).
        defaults: params given by the session's environment (``AMPERITY_TENANT``), read
            when planning.
        exact: the conditions on the table (as DuckDB SQL) that its requests answer
            exactly: every row they return meets them and none that meets them is missed.
    """

    table: str
    resource: Resource
    method: Method
    bindings: tuple[tuple[str, ValueSource], ...]
    depends_on: tuple[str, ...] = ()
    row_limit: int | None = None
    columns: tuple[str, ...] | None = None
    reason: str = ""
    empty: str | None = None
    alias: str = ""
    strict: bool = False
    defaults: tuple[tuple[str, Any], ...] = ()
    exact: tuple[str, ...] = ()

    def binding(self, name: str) -> ValueSource | None:
        """The source of param ``name``, if bound."""
        return dict(self.bindings).get(name)

    def planned_requests(self) -> str:
        """How many requests the fetch makes, as far as it is known before running."""
        if self.empty is not None:
            return f"none, the WHERE selects no row ({self.empty})"
        count = 1
        for name, source in self.bindings:
            param = self.method.param(name)
            if param is not None and param.many:
                continue  # every value goes in one request
            if source.kind is ValueKind.QUERY:
                return "one per distinct value of " + source.origin
            count *= max(len(source.values), 1)
        paging = self.method.pagination.kind.value
        pages = "" if paging == "none" else f", every page ({paging})"
        if self.row_limit is not None and paging != "none":
            pages = f", pages until {self.row_limit} rows ({paging})"
        window = self.method.window
        if window is not None:
            days = window.max_seconds / 86400
            span = f"{days:g} days" if days >= 1 else f"{window.max_seconds:g} s"
            slices = self._slices()
            if slices is not None:
                count *= slices
            pages += f", the {window.start}..{window.end} range in slices of at most {span}"
        return f"{count} request{'s' if count != 1 else ''}{pages}"

    def _slices(self) -> int | None:
        """How many slices the window's range is sent in, when its ends are known."""
        window = self.method.window
        assert window is not None
        start, end = self.binding(window.start), self.binding(window.end)
        if start is None or end is None or len(start.values) != 1 or len(end.values) != 1:
            return None
        try:
            first = datetime.datetime.fromisoformat(str(start.values[0]).replace("Z", "+00:00"))
            last = datetime.datetime.fromisoformat(str(end.values[0]).replace("Z", "+00:00"))
            seconds = (last - first).total_seconds()
        except (TypeError, ValueError):
            return None
        return max(1, math.ceil(seconds / window.max_seconds))


@dataclass(frozen=True)
class Answer:
    """A result set made while planning, without any request or DuckDB query."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Plan:
    """Everything one statement does: fetches in dependency order, then one DuckDB query."""

    statement: str
    fetches: tuple[Fetch, ...]
    query: str
    warnings: tuple[str, ...] = field(default=())
    returns_rows: bool = True  # a query (SELECT, UNION, ...), not DDL or a local INSERT
    mutation: Mutate | None = None
    answer: Answer | None = None  # rows known when planning (SHOW, DESCRIBE, EXPLAIN)
    analyze: bool = False  # EXPLAIN ANALYZE: run it, then answer the plan and what it cost

    def explain(self) -> str:
        """A readable account of the plan; it makes no request. Loaded tables are named
        after their resources (``digitalocean.genai.indexing_jobs``), as the user wrote them."""
        lines = []
        numbers = {f.table: n for n, f in enumerate(self.fetches, 1)}
        for number, fetch in enumerate(self.fetches, 1):
            m = fetch.method
            alias = f" AS {fetch.alias}" if fetch.alias else ""
            lines.append(f"{number}. fetch {fetch.resource.qualified_name}{alias}")
            if fetch.empty is not None:
                lines.append(f"   requests: none, the WHERE selects no row ({fetch.empty})")
                continue
            lines.append(f"   method: {m.name} ({m.http_verb} {m.path}) - {fetch.reason}")
            lines.extend(_param_lines(fetch))
            lines.append(f"   requests: {fetch.planned_requests()}")
            if fetch.columns is not None:
                lines.append(f"   columns loaded: {', '.join(fetch.columns) or '(none)'}")
            if fetch.depends_on:
                after = ", ".join(f"step {numbers.get(t, '?')}" for t in fetch.depends_on)
                lines.append(f"   after: {after}")
        step = len(self.fetches) + 1
        if self.mutation is not None:
            first, *rest = self.mutation.explain()
            lines.append(f"{step}. {first}")
            lines.extend(self.shown(line) for line in rest)
            step += 1
        if self.query and not (self.mutation is not None and self.query == self.mutation.returning):
            lines.append(f"{step}. run in DuckDB: {self.shown(self.query)}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def shown(self, sql: str) -> str:
        """Generated SQL as a person reads it: loaded tables named after their resources."""
        for fetch in self.fetches:
            sql = sql.replace(_loaded_name(fetch.table), fetch.resource.qualified_name)
        if self.mutation is not None:
            sql = sql.replace(_loaded_name(self.mutation.response_table), "the response")
        return sql


@dataclass(frozen=True)
class Mutate:
    """Send one write request per row of a values query, then answer RETURNING.

    Attributes:
        resource: the target.
        method: the chosen method.
        values_sql: DuckDB SQL with one row per request; its columns are ``columns``.
        columns: binding names: a param name, ``data__<field>`` for a body field, or
            ``@@json`` for a raw body.
        response_table: the DuckDB table responses are loaded into.
        returning: DuckDB SQL over ``response_table`` answering RETURNING, if any.
        wait: poll each started job until it finishes (``/*+ AWAIT */``).
        reason: why this method was chosen.
        written: the statement's keyword as written (``EXEC``, ``REPLACE``, ...).
        defaults: params of the method given by the session's environment.
        poll_defaults: the same for the method that waiting polls.
        distinct: a row repeating an earlier one is the same object (read twice): it is
            written once (the values keep the API's order, which SQL's DISTINCT would not).
    """

    resource: Resource
    method: Method
    values_sql: str
    columns: tuple[str, ...]
    response_table: str
    returning: str | None = None
    wait: bool = False
    reason: str = ""
    written: str = ""
    defaults: tuple[tuple[str, Any], ...] = ()
    poll_defaults: tuple[tuple[str, Any], ...] = ()
    distinct: bool = False

    def explain(self) -> list[str]:
        """Lines describing the mutation."""
        m = self.method
        keyword = self.written or m.sql_verb.value.upper()
        lines = [
            f"{keyword} {self.resource.qualified_name}: one {m.http_verb} per row of the values",
            f"   method: {m.name} ({m.http_verb} {m.path}) - {self.reason}",
            f"   values: {', '.join(self.columns) or '(none)'}",
        ]
        if self.wait and m.wait is not None:
            lines.append(f"   then wait: poll {m.wait.method} until the job is done")
        if self.returning:
            lines.append(f"   returning: {self.returning}")
        return lines


def _loaded_name(table: str) -> str:
    """How generated SQL writes a loaded table (the store's private catalog)."""
    return loaded_table(table).sql(dialect="duckdb")


def _param_lines(fetch: Fetch) -> list[str]:
    """One line per param the request carries: from the statement, from another table, or
    from the environment or a default."""
    lines = []
    for param in fetch.method.params:
        where = param.location.value
        source = fetch.binding(param.name)
        if source is None:
            if param.env:
                lines.append(f"   param {param.name} ({where}) <- environment {param.env[0]}")
            elif param.default is not None:
                lines.append(f"   param {param.name} ({where}) <- default {param.default!r}")
            continue
        if source.kind is ValueKind.QUERY:
            lines.append(f"   param {param.name} ({where}) <- values of {source.origin}")
            continue
        shown = ", ".join(repr(v) for v in source.values)
        # Where the value came from, unless the condition was simply on the param itself.
        plain = source.origin.lower().startswith(f"{param.name.lower()} ")
        origin = f" (from {source.origin})" if source.origin and not plain else ""
        lines.append(f"   param {param.name} ({where}) <- {shown}{origin}")
    return lines
