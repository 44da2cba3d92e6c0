"""Walk a Plan: fetch each resource into DuckDB (in dependency order), send writes, run
the final query.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlprovider.cache import CachedTable, CacheUse
from sqlprovider.errors import DataError, OperationalError
from sqlprovider.executor.fetch import FetchRun, fetch_key
from sqlprovider.executor.mutate import MutationRun, requests_for_rows
from sqlprovider.executor.wait import WaitOptions
from sqlprovider.http import (
    ApiClient,
    RequestSpec,
    build_request,
    server_url,
    split_window,
)
from sqlprovider.model import Param, Provider, param_columns
from sqlprovider.plan import Fetch, Plan, ValueKind
from sqlprovider.planner import Unsendable, product_of_bindings, to_wire
from sqlprovider.result import Result
from sqlprovider.store import Store, TableLoader, TableSpec, duckdb_version, spec_fingerprint

__all__ = ["Executor", "Finish", "Stats", "WaitOptions"]

log = logging.getLogger("sqlprovider.executor")

Finish = Callable[[str, Mapping[str, str]], Result]


@dataclass
class Stats:
    """What a statement cost."""

    requests: int = 0
    pages: int = 0
    rows_loaded: int = 0
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)
    by_fetch: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # requests, pages, rows
    from_cache: dict[str, tuple[int, float]] = field(default_factory=dict)  # requests, oldest (s)

    def as_dict(self) -> dict[str, float]:
        """The numbers as a flat dict."""
        numbers: dict[str, float] = {
            "requests": self.requests,
            "pages": self.pages,
            "rows_loaded": self.rows_loaded,
            "seconds": round(self.seconds, 4),
            **self.extra,
        }
        if self.from_cache:
            numbers["cached_requests"] = sum(n for n, _ in self.from_cache.values())
            numbers["cache_age"] = round(max(age for _, age in self.from_cache.values()), 1)
        return numbers


class Executor:
    """Runs plans against a store, with one ApiClient per provider.

    Args:
        store: the session's DuckDB.
        client_for: the ApiClient of a provider (created on first use, in the event loop).
        base_url_for: the base URL requests of a provider go to.
        allow_partial: when a provider table cannot be fetched (the API failed after its
            retries), go on without its rows and say so in a warning, instead of failing
            the statement. Never for writes.
        cache: the result cache reads take answers from (never the reads of a write, which
            must see the objects as they are); a write drops its provider's cached reads.
    """

    def __init__(
        self,
        store: Store,
        client_for: Callable[[Provider], ApiClient],
        base_url_for: Callable[[Provider], str],
        provider_for: Callable[[str], Provider],
        wait_options: WaitOptions | None = None,
        allow_partial: bool = False,
        cache: CacheUse | None = None,
    ) -> None:
        self.store = store
        self.cache = cache
        self.allow_partial = allow_partial
        self.wait_options = wait_options or WaitOptions()
        self.client_for = client_for
        self.base_url_for = base_url_for
        self.provider_for = provider_for

    async def run(self, plan: Plan, finish: Finish | None = None) -> Result:
        """Fetch, load and query; loaded tables are dropped afterwards.

        Args:
            plan: what to do.
            finish: runs the final query (default: ``store.run``, rows into Python); the
                CLI passes one that has DuckDB write CSV or JSON straight to the output.
        """
        started = time.perf_counter()
        stats = Stats()
        names = {f.table: f.resource.qualified_name for f in plan.fetches}
        missing: list[str] = []
        # A write never goes on without a source: it would send fewer writes than asked.
        partial = self.allow_partial and plan.mutation is None
        try:
            cache = self.cache if plan.mutation is None else None
            for fetch in plan.fetches:
                await self._fetch(fetch, stats, names, missing if partial else None, cache)
            if plan.mutation is not None:
                provider = self.provider_for(plan.mutation.resource.provider)
                run = MutationRun(
                    plan.mutation,
                    self.store,
                    self.client_for(provider),
                    self.base_url_for(provider),
                    self.wait_options,
                )
                try:
                    result = await run.run(names, finish or self.store.run)
                finally:
                    if self.cache is not None:
                        self.cache.cache.invalidate(provider.name)
                stats.requests += run.requests
            elif plan.analyze:
                ran = await asyncio.to_thread(self.store.run, plan.query, names)
                stats.seconds = time.perf_counter() - started
                result = _analysis(plan, ran, stats)
            else:
                result = await asyncio.to_thread(finish or self.store.run, plan.query, names)
        finally:
            dropped = [f.table for f in plan.fetches]
            if plan.mutation is not None:
                dropped.append(plan.mutation.response_table)
            if dropped:
                await asyncio.to_thread(self.store.drop, dropped)
        stats.seconds = time.perf_counter() - started
        result.warnings.extend(plan.warnings)
        result.warnings.extend(missing)
        result.stats = stats.as_dict()
        return result

    async def describe(
        self, plan: Plan, auth_for: Callable[[Provider], Mapping[str, str]]
    ) -> list[str]:
        """The requests ``plan`` would send, one block each (credentials as ``***``); no
        write is sent. A write that selects its objects by reading reads them first, so the
        requests shown are the very ones it would send."""
        lines: list[str] = []
        mutate = plan.mutation
        names = {f.table: f.resource.qualified_name for f in plan.fetches}
        if mutate is not None and plan.fetches:
            try:
                for fetch in plan.fetches:
                    lines.extend(
                        self._describe_fetch(fetch, auth_for, await self.requests_for(fetch, names))
                    )
                    await self._fetch(fetch, Stats(), names)
                rows = await asyncio.to_thread(self.store.query_rows, mutate.values_sql, names)
            finally:
                await asyncio.to_thread(self.store.drop, list(names))
        else:
            for fetch in plan.fetches:
                dependent = [s.origin for _, s in fetch.bindings if s.kind is ValueKind.QUERY]
                if dependent:
                    provider = self.provider_for(fetch.resource.provider)
                    lines.append(
                        f"{fetch.method.http_verb} "
                        f"{server_url(fetch.method, self.base_url_for(provider))}"
                        f"{fetch.method.path}"
                        f"  (once per value of {', '.join(dependent)})"
                    )
                    continue
                lines.extend(
                    self._describe_fetch(fetch, auth_for, await self.requests_for(fetch, {}))
                )
            if mutate is None:
                return lines
            rows = await asyncio.to_thread(self.store.query_rows, mutate.values_sql, {})
        provider = self.provider_for(mutate.resource.provider)
        requests = requests_for_rows(mutate, rows, self.base_url_for(provider))
        if not requests:
            lines.append(f"(no {mutate.method.http_verb}: the statement selects no object)")
        lines.extend(r.describe(auth_for(provider)) for r in requests)
        return lines

    def _describe_fetch(
        self,
        fetch: Fetch,
        auth_for: Callable[[Provider], Mapping[str, str]],
        requests: list[RequestSpec],
    ) -> list[str]:
        if fetch.empty is not None:
            return [f"(no request for {fetch.resource.qualified_name}: {fetch.empty})"]
        auth = auth_for(self.provider_for(fetch.resource.provider))
        return [request.describe(auth) for request in requests]

    async def requests_for(self, fetch: Fetch, names: dict[str, str]) -> list[RequestSpec]:
        """The requests a fetch makes (reading dependent values from DuckDB)."""
        if fetch.empty is not None:
            return []
        provider = self.provider_for(fetch.resource.provider)
        values: dict[str, tuple[Any, ...]] = {}
        for name, source in fetch.bindings:
            param = fetch.method.param(name)
            assert param is not None
            if source.kind is ValueKind.QUERY:
                found = await asyncio.to_thread(self.store.values, source.sql, names)
                sent = _sendable(param, found, fetch if fetch.strict else None, source.origin)
                values[name] = tuple(dict.fromkeys(sent))
            else:
                values[name] = source.values
            if param.many:  # the API takes the values as one list: one request for all
                values[name] = (list(values[name]),) if values[name] else ()
        base = self.base_url_for(provider)
        requests: list[RequestSpec] = []
        for combo in product_of_bindings(values):
            # Rows carry the values the statement bound, whatever slices were sent.
            combo = {**dict(fetch.defaults), **combo}
            requests.extend(
                dataclasses.replace(build_request(fetch.method, base, part), bindings=combo)
                for part in split_window(fetch.method, combo)
            )
        return requests

    async def _fetch(
        self,
        fetch: Fetch,
        stats: Stats,
        names: dict[str, str],
        missing: list[str] | None = None,
        cache: CacheUse | None = None,
    ) -> None:
        requests = await self.requests_for(fetch, names)
        await self.load(fetch, requests, stats, missing=missing, cache=cache)

    async def load(
        self,
        fetch: Fetch,
        requests: list[RequestSpec],
        stats: Stats,
        *,
        missing: list[str] | None = None,
        cache: CacheUse | None = None,
        single_pages: frozenset[int] = frozenset(),
        known_pages: Mapping[int, bytes] | None = None,
    ) -> None:
        """Send ``requests`` (every page of each) and load their rows into the fetch's
        table, as a statement does; Spark tasks call it with their share of a fetch's
        requests.

        Args:
            fetch: what is fetched, and the table it loads into.
            requests: as ``requests_for`` makes them, or a share of them.
            stats: counts what was sent and loaded.
            missing: where a failed fetch's warning goes (None: a failure raises).
            cache: the result cache to take answers from and keep them in.
            single_pages: indexes of ``requests`` that ask for one page only.
            known_pages: request index → the body of its only page, fetched already: it
                is loaded and the request is not sent.
        """
        provider = self.provider_for(fetch.resource.provider)
        spec = _table_spec(fetch)
        loader = await asyncio.to_thread(self.store.create, spec)
        failed = False
        sent = 0
        if requests:
            client = self.client_for(provider)
            before = dict(client.stats)
            # A whole fetch's loaded rows are kept too: a repeat loads them as they were.
            table_key = None
            if cache is not None and known_pages is None:
                table_key = _table_key(cache, client, provider, fetch, spec, requests, single_pages)
            kept = None if table_key is None else await _restore(cache, table_key, loader)
            if kept is not None:
                stats.from_cache[fetch.table] = (len(requests), kept.age)
            else:
                run = FetchRun(
                    fetch,
                    client,
                    loader,
                    requests,
                    self.wait_options.progress,
                    cache=cache,
                    single_pages=single_pages,
                    known_pages=known_pages,
                )
                try:
                    await run.run()
                except OperationalError as exc:
                    if missing is None:
                        raise
                    failed = True
                    missing.append(
                        f"{fetch.resource.qualified_name}: no rows, the API failed ({exc}); "
                        "the result holds the other tables' rows only"
                    )
                if run.from_cache:
                    stats.from_cache[fetch.table] = (run.from_cache, run.cache_age)
                if table_key is not None and not failed:
                    await _keep(cache, table_key, loader, run.asked_at)
            sent = client.stats["requests"] - before["requests"]
            stats.requests += sent
            stats.extra["retries"] = stats.extra.get("retries", 0) + (
                client.stats["retries"] - before["retries"]
            )
            stats.extra["bytes"] = stats.extra.get("bytes", 0) + (
                client.stats["bytes"] - before["bytes"]
            )
        # Nothing half-loaded of a failed fetch counts: its table is empty, a warning says why.
        await asyncio.to_thread(loader.finish, failed)
        stats.rows_loaded += loader.rows
        stats.pages += loader.pages
        stats.by_fetch[fetch.table] = (sent, loader.pages, loader.rows)
        log.debug("loaded %d rows of %s", loader.rows, fetch.resource.qualified_name)


def _table_spec(fetch: Fetch) -> TableSpec:
    """The table a fetch loads: the columns it reads, those its requests' values fill."""
    # Slices of a window can return the same row twice (the API filters on another
    # time than the one it reports); the resource's key drops the repeats.
    dedupe = fetch.resource.key if fetch.method.window is not None else ()
    bound = [name for name, _ in fetch.bindings]
    wanted = None if fetch.columns is None else {*fetch.columns, *dedupe, *bound}
    record_columns = tuple(c for c in fetch.resource.columns if wanted is None or c.name in wanted)
    own = [c for c in fetch.resource.columns if not c.path[0].startswith("^")]
    if own and not any(c in own for c in record_columns):
        # Each record needs a field of its own to be read (and counted, for count(*)).
        record_columns = (own[0], *record_columns)
    return TableSpec(
        name=fetch.table,
        records=fetch.method.records,
        record_columns=record_columns,
        param_columns=param_columns(fetch.resource),
        bound_record_columns=tuple(
            c
            for c in record_columns
            if (param := fetch.method.param(c.name)) is not None and not param.many
        ),
        dedupe=dedupe,
        label=fetch.resource.qualified_name,
    )


def _table_key(
    cache: CacheUse,
    client: ApiClient,
    provider: Provider,
    fetch: Fetch,
    spec: TableSpec,
    requests: list[RequestSpec],
    single_pages: frozenset[int],
) -> tuple[str, str]:
    """The key of a whole fetch's loaded rows: every request (as the page cache keys each)
    and who sends it, the table the store derives from the pages, and the provider's
    definition."""
    identity = cache.cache.identity(client.credentials.headers())
    whole = {
        "requests": fetch_key(fetch, requests, single_pages),
        "table": spec_fingerprint(spec),
        "provider": [provider.source, provider.version, provider.origin],
        "duckdb": duckdb_version(),
    }
    return cache.cache.key(provider.name, identity, whole)


async def _restore(
    cache: CacheUse | None, key: tuple[str, str], loader: TableLoader
) -> CachedTable | None:
    """Load the rows kept under ``key`` if they are young enough; None for a miss."""
    assert cache is not None
    kept = cache.cache.get_table(key, cache.ttl)
    if kept is None:
        return None
    restored = await asyncio.to_thread(loader.restore, kept.data, kept.pages, kept.rows)
    return kept if restored else None


async def _keep(
    cache: CacheUse | None, key: tuple[str, str], loader: TableLoader, asked_at: float
) -> None:
    """Keep the rows ``loader`` loaded, as old as the oldest answer they came from."""
    assert cache is not None
    data = await asyncio.to_thread(loader.snapshot)
    if data is not None:
        cache.cache.put_table(key, CachedTable(data, loader.pages, loader.rows, asked_at))


def _analysis(plan: Plan, ran: Result, stats: Stats) -> Result:
    """EXPLAIN ANALYZE's answer: the plan, then what each fetch and the query cost."""
    lines = plan.explain().splitlines()
    for number, fetch in enumerate(plan.fetches, 1):
        requests, pages, rows = stats.by_fetch.get(fetch.table, (0, 0, 0))
        cached, age = stats.from_cache.get(fetch.table, (0, 0.0))
        sent = f"{requests} request{'s' if requests != 1 else ''}"
        if cached:
            sent += f" sent, {cached} answered from the cache ({age:.0f} s old)"
        lines.append(
            f"actual {number}. {fetch.resource.qualified_name}: {sent}, "
            f"{pages} page{'s' if pages != 1 else ''}, "
            f"{rows:,} row{'s' if rows != 1 else ''} loaded"
        )
    count = len(ran.rows)
    lines.append(
        f"actual: the query returned {count:,} row{'s' if count != 1 else ''}; "
        f"{stats.seconds:.3f} s in all"
    )
    return Result(columns=["plan"], types=["VARCHAR"], rows=[(line,) for line in lines])


def _sendable(
    param: Param, values: list[Any], strict: Fetch | None = None, origin: str = ""
) -> list[Any]:
    """The values of a dependent param as the API takes them; a value no request can carry
    (NULL, empty, a fraction for an integer) identifies no row, so it is skipped, unless the
    fetch is ``strict`` (it reads the objects of a write): then nothing is sent at all."""
    sent = []
    for value in values:
        try:
            sent.append(to_wire(param, value))
        except Unsendable as exc:
            if strict is not None:
                raise DataError(
                    f"{strict.resource.qualified_name}: {param.name} from {origin} is "
                    f"{value!r}, which cannot identify an object ({exc}); nothing was sent"
                ) from None
    return sent
