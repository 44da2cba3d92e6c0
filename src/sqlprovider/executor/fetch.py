"""One fetch in flight: requests sent by workers, pages batched into DuckDB."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlprovider.cache import CacheUse
from sqlprovider.http import ApiClient, Page, RequestSpec, iterate_pages
from sqlprovider.plan import Fetch
from sqlprovider.store import TableLoader

# Pages are handed to DuckDB in batches: large enough that one INSERT parses many pages,
# small enough that little is held in memory while DuckDB works.
BATCH_PAGES = 16
BATCH_BYTES = 8 * 1024 * 1024


class FetchRun:
    """One fetch in flight: workers send requests, pages are batched into DuckDB."""

    def __init__(
        self,
        fetch: Fetch,
        client: ApiClient,
        loader: TableLoader,
        requests: list[RequestSpec],
        progress: Callable[[str], None] | None = None,
        first_report: float = 1.0,
        report_every: float = 0.5,
        cache: CacheUse | None = None,
        single_pages: frozenset[int] = frozenset(),
        known_pages: Mapping[int, bytes] | None = None,
    ) -> None:
        self.fetch = fetch
        # Requests that ask for one page only (a page of a list whose total is known, sent
        # by itself), and the bodies of those already fetched (page 1, read for the total).
        self.single_pages = single_pages
        self.known_pages = known_pages or {}
        self.client = client
        self.loader = loader
        self.requests = requests
        self.progress = progress
        self.first_report = first_report  # seconds before a fetch is worth a status line
        self.report_every = report_every
        self.pages_seen = 0
        self.requests_done = 0
        self._shown_at = time.monotonic()
        # The status line counts requests as .timing does: the client's count of requests
        # sent (retries and pages included), from the start of this fetch.
        self._sent_before = client.stats["requests"]
        self._shown = False
        self.batch: list[Page] = []
        self.batch_bytes = 0
        self.shape: str | None = None
        self.load_lock = asyncio.Lock()
        self.pending_loads: set[asyncio.Task[None]] = set()
        self.cache = cache
        self.identity = cache.cache.identity(client.credentials.headers()) if cache else ""
        self.from_cache = 0  # requests answered by the cache
        self.cache_age = 0.0  # seconds: the oldest answer the cache gave
        self.asked_at = time.time()  # when the oldest answer loaded was asked of the API

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
        finally:
            if self._shown and self.progress is not None:
                self.progress("")  # the status line is cleared once the fetch ends

    async def _worker(self, queue: asyncio.Queue[int]) -> None:
        single = asks_one_page(self.fetch)
        while not queue.empty():
            index = queue.get_nowait()
            alone = single or index in self.single_pages
            if index in self.known_pages:
                await self._accept(Page(self.known_pages[index], index, 0))
                self.requests_done += 1
                continue
            key = self._cache_key(index, alone)
            if key is None or not await self._replay(key, index):
                await self._ask(index, alone, key)
            self.requests_done += 1

    async def _ask(self, index: int, single: bool, key: tuple[str, str] | None) -> None:
        """Send request ``index`` and take its pages; keep them in the cache if it is on."""
        asked_at = time.time()
        kept: list[Page] = []
        pages = iterate_pages(
            self.client,
            self.fetch.method,
            self.requests[index],
            request_index=index,
            row_limit=self.fetch.row_limit,
            single_page=single,
            context=self.fetch.resource.qualified_name,
        )
        async for page in pages:
            if key is not None:
                kept.append(page)
            await self._accept(page)
        self.asked_at = min(self.asked_at, asked_at)
        if key is not None and self.cache is not None:  # only a whole answer is kept
            kept.sort(key=lambda p: p.page_index)
            self.cache.cache.put(key, [p.body for p in kept], asked_at)

    async def _replay(self, key: tuple[str, str], index: int) -> bool:
        """Take request ``index``'s pages from the cache; False if it has none young enough."""
        assert self.cache is not None
        answer = self.cache.cache.get(key, self.cache.ttl)
        if answer is None:
            return False
        self.from_cache += 1
        self.cache_age = max(self.cache_age, answer.age)
        self.asked_at = min(self.asked_at, answer.asked_at)
        for number, body in enumerate(answer.pages):
            await self._accept(Page(body, index, number))
        return True

    def _cache_key(self, index: int, single: bool) -> tuple[str, str] | None:
        if self.cache is None:
            return None
        request = request_key(self.fetch, self.requests[index], single)
        return self.cache.cache.key(self.fetch.resource.provider, self.identity, request)

    async def _accept(self, page: Page) -> None:
        self.pages_seen += 1
        self._report()
        if self.shape is None:
            self.shape = _shape_of(page, self.fetch.method.records)
        self.batch.append(page)
        self.batch_bytes += len(page.body)
        if len(self.batch) >= BATCH_PAGES or self.batch_bytes >= BATCH_BYTES:
            await self._flush()

    def _report(self) -> None:
        """A status line for fetches that take a while (after ``first_report`` seconds, then
        every ``report_every``)."""
        if self.progress is None:
            return
        now = time.monotonic()
        if now - self._shown_at < (self.report_every if self._shown else self.first_report):
            return
        self._shown_at, self._shown = now, True
        total = len(self.requests)
        sent = self.client.stats["requests"] - self._sent_before
        line = (
            f"{self.fetch.resource.qualified_name}: {sent} request{'s' if sent != 1 else ''}, "
            f"{self.pages_seen} page{'s' if self.pages_seen != 1 else ''}, "
            f"{self.loader.rows:,} rows loaded"
        )
        if total > 1:  # a fan-out: how far through its lookups it is
            line += f" ({self.requests_done} of {total} lookups done)"
        self.progress(line)

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


def asks_one_page(fetch: Fetch) -> bool:
    """Whether each request of ``fetch`` asks for one page only (the page is bound)."""
    page_param = fetch.method.page_number_param
    return page_param is not None and fetch.binding(page_param) is not None


def fetch_key(
    fetch: Fetch, requests: list[RequestSpec], single_pages: frozenset[int]
) -> list[dict[str, Any]]:
    """What decides the rows of a whole fetch's requests: each request as ``request_key``
    has it, in order (the order of rows follows it), with the values its rows carry."""
    single = asks_one_page(fetch)
    return [
        {
            **request_key(fetch, spec, single or index in single_pages),
            "bindings": sorted(spec.bindings.items()),
        }
        for index, spec in enumerate(requests)
    ]


def request_key(fetch: Fetch, spec: RequestSpec, single: bool) -> dict[str, Any]:
    """What decides the answer of one request of ``fetch``, as plain data for a cache key."""
    return {
        "verb": spec.http_verb,
        "url": spec.url,
        "query": list(spec.query),
        "headers": list(spec.headers),
        "body": spec.json if spec.has_body else None,
        "row_limit": fetch.row_limit,
        "single_page": single,
        "records": list(fetch.method.records),
    }


def _shape_of(page: Page, records: tuple[str, ...]) -> str | None:
    from sqlprovider.http.pagination import dig

    document = page.parsed()
    found = dig(document, records) if records else document
    if isinstance(found, list):
        return "list"
    if isinstance(found, dict):
        return "object"
    return None
