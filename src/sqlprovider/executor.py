"""Walk a Plan: fetch each resource into DuckDB (in dependency order), then run the query."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlprovider.http import ApiClient, Page, RequestSpec, build_request, iterate_pages
from sqlprovider.model import Provider, param_columns
from sqlprovider.plan import Fetch, Plan
from sqlprovider.planner import coerce_param, product_of_bindings
from sqlprovider.result import Result
from sqlprovider.store import Store, TableLoader, TableSpec

log = logging.getLogger("sqlprovider.executor")

Finish = Callable[[str, Mapping[str, str]], Result]

# Pages are handed to DuckDB in batches: large enough that one INSERT parses many pages,
# small enough that little is held in memory while DuckDB works.
BATCH_PAGES = 16
BATCH_BYTES = 8 * 1024 * 1024


@dataclass
class Stats:
    """What a statement cost."""

    requests: int = 0
    pages: int = 0
    rows_loaded: int = 0
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        """The numbers as a flat dict."""
        return {
            "requests": self.requests,
            "pages": self.pages,
            "rows_loaded": self.rows_loaded,
            "seconds": round(self.seconds, 4),
            **self.extra,
        }


class Executor:
    """Runs plans against a store, with one ApiClient per provider.

    Args:
        store: the session's DuckDB.
        client_for: the ApiClient of a provider (created on first use, in the event loop).
        base_url_for: the base URL requests of a provider go to.
    """

    def __init__(
        self,
        store: Store,
        client_for: Callable[[Provider], ApiClient],
        base_url_for: Callable[[Provider], str],
        provider_for: Callable[[str], Provider],
    ) -> None:
        self.store = store
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
        try:
            for fetch in plan.fetches:
                await self._fetch(fetch, stats, names)
            result = await asyncio.to_thread(finish or self.store.run, plan.query, names)
        finally:
            if plan.fetches:
                await asyncio.to_thread(self.store.drop, [f.table for f in plan.fetches])
        stats.seconds = time.perf_counter() - started
        result.warnings.extend(plan.warnings)
        result.stats = stats.as_dict()
        return result

    async def requests_for(self, fetch: Fetch, names: dict[str, str]) -> list[RequestSpec]:
        """The requests a fetch makes (reading dependent values from DuckDB)."""
        provider = self.provider_for(fetch.resource.provider)
        values: dict[str, tuple[Any, ...]] = {}
        where = fetch.resource.qualified_name
        for name, source in fetch.bindings:
            param = fetch.method.param(name)
            assert param is not None
            if source.kind == "query":
                found = await asyncio.to_thread(self.store.values, source.sql, names)
                raw = tuple(dict.fromkeys(v for v in found if v is not None))
                values[name] = tuple(coerce_param(param, v, where) for v in raw)
            else:
                values[name] = source.values
        base = self.base_url_for(provider)
        return [build_request(fetch.method, base, combo) for combo in product_of_bindings(values)]

    async def _fetch(self, fetch: Fetch, stats: Stats, names: dict[str, str]) -> None:
        provider = self.provider_for(fetch.resource.provider)
        requests = await self.requests_for(fetch, names)
        record_columns = tuple(
            c for c in fetch.resource.columns if fetch.columns is None or c.name in fetch.columns
        )
        spec = TableSpec(
            name=fetch.table,
            records=fetch.method.records,
            record_columns=record_columns,
            param_columns=param_columns(fetch.resource),
            bound_record_columns=tuple(
                c for c in record_columns if fetch.method.param(c.name) is not None
            ),
        )
        loader = await asyncio.to_thread(self.store.create, spec)
        if requests:
            client = self.client_for(provider)
            before = dict(client.stats)
            await _FetchRun(fetch, client, loader, requests).run()
            stats.requests += client.stats["requests"] - before["requests"]
            stats.extra["retries"] = stats.extra.get("retries", 0) + (
                client.stats["retries"] - before["retries"]
            )
            stats.extra["bytes"] = stats.extra.get("bytes", 0) + (
                client.stats["bytes"] - before["bytes"]
            )
        await asyncio.to_thread(loader.finish)
        stats.rows_loaded += loader.rows
        stats.pages += loader.pages
        log.debug("loaded %d rows of %s", loader.rows, fetch.resource.qualified_name)


class _FetchRun:
    """One fetch in flight: workers send requests, pages are batched into DuckDB."""

    def __init__(
        self, fetch: Fetch, client: ApiClient, loader: TableLoader, requests: list[RequestSpec]
    ) -> None:
        self.fetch = fetch
        self.client = client
        self.loader = loader
        self.requests = requests
        self.batch: list[Page] = []
        self.batch_bytes = 0
        self.shape: str | None = None
        self.load_lock = asyncio.Lock()
        self.pending_loads: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(len(self.requests)):
            queue.put_nowait(index)
        workers = [
            asyncio.ensure_future(self._worker(queue))
            for _ in range(min(self.client.concurrency, len(self.requests)))
        ]
        try:
            await asyncio.gather(*workers)
            await self._flush()
            if self.pending_loads:
                await asyncio.gather(*self.pending_loads)
        except BaseException:
            for worker in workers:
                worker.cancel()
            for task in self.pending_loads:
                task.cancel()
            raise

    async def _worker(self, queue: asyncio.Queue[int]) -> None:
        page_param = self.fetch.method.pagination.page_param
        single = page_param is not None and self.fetch.binding(page_param) is not None
        context = self.fetch.resource.qualified_name
        while not queue.empty():
            index = queue.get_nowait()
            pages = iterate_pages(
                self.client,
                self.fetch.method,
                self.requests[index],
                request_index=index,
                row_limit=self.fetch.row_limit,
                single_page=single,
                context=context,
            )
            async for page in pages:
                await self._accept(page)

    async def _accept(self, page: Page) -> None:
        if self.shape is None:
            self.shape = _shape_of(page, self.fetch.method.records)
        self.batch.append(page)
        self.batch_bytes += len(page.body)
        if len(self.batch) >= BATCH_PAGES or self.batch_bytes >= BATCH_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch, self.batch_bytes = self.batch, [], 0
        shape = self.shape or "list"
        # Load in the background so fetching goes on while DuckDB parses; one load at a time.
        task = asyncio.ensure_future(self._load(batch, shape))
        self.pending_loads.add(task)
        task.add_done_callback(self.pending_loads.discard)
        if len(self.pending_loads) > 2:  # keep memory bounded when DuckDB falls behind
            await asyncio.gather(*list(self.pending_loads))

    async def _load(self, batch: list[Page], shape: str) -> None:
        async with self.load_lock:
            bindings = [self.requests[p.request_index].bindings for p in batch]
            await asyncio.to_thread(
                self.loader.load,
                [p.body for p in batch],
                [(p.request_index, p.page_index) for p in batch],
                bindings,
                shape,
            )


def _shape_of(page: Page, records: tuple[str, ...]) -> str | None:
    from sqlprovider.http.pagination import dig

    document = page.parsed()
    found = dig(document, records) if records else document
    if isinstance(found, list):
        return "list"
    if isinstance(found, dict):
        return "object"
    return None
