"""A read split into shares: the plan's independent requests, planned on the driver and
fetched by Spark tasks through the engine's own HTTP layer and loader.

How requests become partitions (docs/scale-out.md tells users the same):

* the values of an IN fan-out and the slices of a time window are separate requests already
  (``Executor.requests_for``); each is one unit of work;
* a ``page_number`` list whose first page names the total: the driver fetches page 1, learns
  the total, and pages 2..N become units of their own (page 1 travels in the first share, so
  no page is fetched twice);
* a list walked page by page (next-URL, link header, token, offset) is one unit: its pages
  can only be found in turn, so one task walks them;
* a window whose slices may return the same row twice (the resource declares a key) stays
  in one unit, so the engine's key drops the repeats as it does in a statement.

Units are dealt in order into at most ``partitions`` contiguous shares, so the rows come out
in the API's order and no more tasks than that ever send at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError

from sqlprovider.errors import InterfaceError, MissingParamsError
from sqlprovider.executor import Executor, Stats
from sqlprovider.http import (
    ApiClient,
    Page,
    RequestSpec,
    page_request,
    sized_request,
    total_pages,
)
from sqlprovider.http.auth import require
from sqlprovider.model import PaginationKind, Provider, RateLimit
from sqlprovider.plan import Fetch, Plan, ValueKind, loaded_table
from sqlprovider.session import Session
from sqlprovider.spark.settings import Settings, spark_select, task_rate


@dataclass(frozen=True)
class Share:
    """The requests one task sends.

    Attributes:
        index: the share's place among the read's shares.
        requests: in the API's order.
        single: indexes of ``requests`` that ask for one page only.
        known: request index → the body of its only page, fetched already by the driver.
        parts: how many shares the read has (tasks that may send at once).
    """

    index: int
    requests: tuple[RequestSpec, ...]
    single: frozenset[int] = frozenset()
    known: tuple[tuple[int, bytes], ...] = field(default=(), repr=False)
    parts: int = 1


@dataclass(frozen=True)
class Unit:
    """Requests one task must send together (most often one): every page of each, or one
    page (``single``), or one page already fetched (``body``)."""

    requests: tuple[RequestSpec, ...]
    single: bool = False
    body: bytes | None = None


# The alias of the read's own table in the query the planner is given: it tells the read's
# fetch from those of the tables its ``where`` option reads.
READ_ALIAS = "spark_read"


def query_of(settings: Settings, conditions: tuple[str, ...]) -> exp.Select:
    """``SELECT * FROM <table> WHERE <where option> AND <conditions>``: what a read asks the
    planner for."""
    table = settings.table_node()
    table.set("alias", exp.TableAlias(this=exp.to_identifier(READ_ALIAS)))
    select = exp.select("*").from_(table)
    for condition in (*where_conditions(settings), *conditions):
        select = select.where(exp.maybe_parse(condition, dialect="duckdb"), copy=False)
    return select


def where_conditions(settings: Settings) -> tuple[str, ...]:
    """The conjuncts of the ``where`` option, as DuckDB SQL.

    Raises:
        InterfaceError: when it is not a condition.
    """
    if settings.where is None:
        return ()
    try:
        node: exp.Expression | None = exp.maybe_parse(settings.where, dialect="duckdb")
    except ParseError:
        node = None
    if not isinstance(node, exp.Condition) or isinstance(node, exp.Query):
        raise InterfaceError(
            f"option where is not a SQL condition: {settings.where!r} (for instance: "
            "indexing_job_uuid IN (SELECT uuid FROM digitalocean.genai.indexing_jobs))"
        )
    conjuncts = node.flatten() if isinstance(node, exp.And) else (node,)
    return tuple(c.sql(dialect="duckdb") for c in conjuncts)


def planned(
    session: Session, settings: Settings, conditions: tuple[str, ...]
) -> tuple[Plan, Fetch]:
    """The engine's plan of the read under ``conditions`` (DuckDB SQL), and its own fetch
    (the plan's others read the tables the ``where`` option names)."""
    select = query_of(settings, conditions)
    try:
        plan = session.planner.plan_query(select, select.sql(dialect="duckdb"))
    except MissingParamsError as exc:
        raise InterfaceError(
            f"{exc}; or, to read it for each row of another table, "
            f".option('where', \"{next(iter(exc.missing.values()), ('param',))[0]} IN "
            '(SELECT ... FROM provider.service.resource)")'
        ) from None
    (fetch,) = [f for f in plan.fetches if f.alias == READ_ALIAS]
    return plan, fetch


def planned_fetch(session: Session, settings: Settings, conditions: tuple[str, ...]) -> Fetch:
    """The engine's fetch of the table under ``conditions`` (DuckDB SQL)."""
    return planned(session, settings, conditions)[1]


def check_where(settings: Settings, fetch: Fetch) -> None:
    """Refuse a ``where`` conjunct the requests do not answer exactly: Spark never sees it,
    so nothing would check it on the rows.

    A ``param IN (SELECT ...)`` that binds one of the method's params is answered: every
    row comes from a request sent for one of the subquery's values.
    """
    dependent = {name.lower() for name, source in fetch.bindings if source.kind is ValueKind.QUERY}
    for condition in where_conditions(settings):
        node: exp.Expression = exp.maybe_parse(condition, dialect="duckdb")
        binds = (
            isinstance(node, exp.In)
            and node.args.get("query") is not None
            and isinstance(node.this, exp.Column)
            and node.this.name.lower() in dependent
        )
        if not binds and condition not in fetch.exact:
            raise InterfaceError(
                f"{settings.table}: the where option's condition {condition} is not one the "
                f"API's requests answer exactly; filter with DataFrame.where() instead, "
                "and keep in the option only exact filters and param IN (SELECT ...)"
            )


def exact_conditions(session: Session, settings: Settings, conditions: tuple[str, ...]) -> set[str]:
    """Which ``conditions`` the requests answer exactly (Spark need not check them again)."""
    fetch = planned_fetch(session, settings, conditions)
    if fetch.empty is not None:
        return set()  # nothing is fetched; Spark checking them again costs nothing
    return set(fetch.exact) & set(conditions)


def plan_shares(session: Session, settings: Settings, conditions: tuple[str, ...]) -> list[Share]:
    """Split the table's read under ``conditions`` into shares (run on the driver)."""
    plan, fetch = planned(session, settings, conditions)
    if fetch.empty is not None:
        return []
    check_where(settings, fetch)
    provider = session.registry.get(fetch.resource.provider)
    units = asyncio.run(_units(session, settings, plan, fetch))
    limit = settings.partitions or provider.concurrency
    return deal(units, limit)


def deal(units: list[Unit], limit: int) -> list[Share]:
    """Units in order into at most ``limit`` contiguous shares of nearly equal size."""
    count = min(limit, len(units))
    shares = []
    start = 0
    for index in range(count):
        size = len(units) // count + (1 if index < len(units) % count else 0)
        requests: list[RequestSpec] = []
        single: set[int] = set()
        known: list[tuple[int, bytes]] = []
        for unit in units[start : start + size]:
            if unit.single:
                single.add(len(requests))
            if unit.body is not None:
                known.append((len(requests), unit.body))
            requests.extend(unit.requests)
        start += size
        shares.append(Share(index, tuple(requests), frozenset(single), tuple(known), count))
    return shares


async def _units(session: Session, settings: Settings, plan: Plan, fetch: Fetch) -> list[Unit]:
    """The fetch's independent requests. The tables a dependent read takes its values from
    are read here, once, and each request for one of their values is a unit; page 1 of a
    lone numbered list is sent here."""
    clients: dict[str, ApiClient] = {}

    def client_for(provider: Provider) -> ApiClient:
        if provider.name not in clients:  # no task sends yet: the whole rate is the driver's
            clients[provider.name] = task_client(session, settings, provider, parts=1)
        return clients[provider.name]

    executor = Executor(session.store, client_for, session.base_url, session.registry.get)
    names = {f.table: f.resource.qualified_name for f in plan.fetches}
    try:
        parents = [f for f in plan.fetches if f is not fetch]
        for parent in parents:
            await executor.load(parent, await executor.requests_for(parent, names), Stats())
        requests = await executor.requests_for(fetch, names)
        if parents:
            return [Unit((r,)) for r in requests]  # one unit per value of the other table
        provider = session.registry.get(fetch.resource.provider)
        return await _list_units(client_for(provider), fetch, requests)
    finally:
        for client in clients.values():
            await client.aclose()


async def _list_units(client: ApiClient, fetch: Fetch, requests: list[RequestSpec]) -> list[Unit]:
    """The units of an independent read's requests (page 1 of a lone numbered list is
    sent here, to learn how many pages there are)."""
    method = fetch.method
    if method.window is not None and fetch.resource.key:
        # Slices may return a row twice; only a task that loads them all can drop the
        # repeats by the resource's key, as the engine does.
        return [Unit(tuple(requests))] if requests else []
    numbered = method.pagination.kind is PaginationKind.PAGE_NUMBER and not any(
        name == method.pagination.page_param for name, _ in fetch.bindings
    )
    if len(requests) != 1 or not numbered or not method.pagination.total_pages_path:
        return [Unit((r,)) for r in requests]
    first = page_request(method, sized_request(method, requests[0], fetch.row_limit), 0)
    reply = await client.send(first, accept=method.empty_on, context=fetch.resource.qualified_name)
    if reply is None:
        return []
    total = total_pages(method, Page(reply.content, 0, 0))
    if total is None:  # the API named no total: the pages are walked in turn
        return [Unit((requests[0],))]
    units = [Unit((first,), single=True, body=reply.content)]
    units.extend(Unit((page_request(method, first, i),), single=True) for i in range(1, total))
    return units


def task_client(session: Session, settings: Settings, provider: Provider, parts: int) -> ApiClient:
    """An ApiClient keeping to this task's part of the provider's rate and concurrency."""
    credentials = session.credentials(provider)
    if provider.name not in session.auth:
        require(provider, credentials, session.environ)
    rate = task_rate(settings, provider.rate_limit, parts)
    limited = dataclasses.replace(
        provider,
        rate_limit=None if rate is None else RateLimit(per_second=rate[0], burst=rate[1]),
    )
    return ApiClient(
        limited,
        credentials,
        concurrency=max(1, provider.concurrency // max(parts, 1)),
    )


def _executor(session: Session, client: ApiClient) -> Executor:
    return Executor(session.store, lambda _: client, session.base_url, session.registry.get)


def read_share(settings: Settings, conditions: tuple[str, ...], share: Share) -> Iterator[Any]:
    """The rows of one share as Arrow record batches (run in a Spark task).

    Yields:
        ``pyarrow.RecordBatch`` values, columns cast as the Spark schema says.
    """
    session = settings.session()
    try:
        fetch = planned_fetch(session, settings, conditions)
        provider = session.registry.get(fetch.resource.provider)
        run = _loader(session, settings, provider, fetch, share)
        asyncio.run(run())
        sql = spark_select(fetch.resource, loaded_table(fetch.table))
        reader = session.store.connection.sql(sql).to_arrow_reader(65_536)
        yield from reader
    finally:
        session.close()


def _loader(
    session: Session, settings: Settings, provider: Provider, fetch: Fetch, share: Share
) -> Callable[[], Any]:
    async def run() -> Stats:
        client = task_client(session, settings, provider, share.parts)
        stats = Stats()
        try:
            await _executor(session, client).load(
                fetch,
                list(share.requests),
                stats,
                single_pages=share.single,
                known_pages=dict(share.known),
            )
        finally:
            await client.aclose()
        return stats

    return run


__all__ = [
    "Share",
    "Unit",
    "deal",
    "exact_conditions",
    "plan_shares",
    "read_share",
    "task_client",
]
