"""Generic pagination: every strategy a provider can declare, run against an ApiClient.

One small async generator per ``PaginationKind``, listed in ``STRATEGIES``; what they share
(sending a page, counting records under a row limit, naming the request in errors) lives
in ``PageRun``. Strategies that follow a pointer from page to page are ``Pointer`` values:
where the pointer is read, and where the next request carries it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from sqlprovider.errors import DataError, OperationalError
from sqlprovider.http.client import ApiClient
from sqlprovider.http.reply import Reply
from sqlprovider.http.request import RequestSpec
from sqlprovider.model import Method, Pagination, PaginationKind


@dataclass
class Page:
    """One response body of a fetch.

    Attributes:
        body: the raw JSON text.
        request_index: which request of the fetch it belongs to.
        page_index: its position among that request's pages (0-based).
        document: the parsed body, when pagination had to parse it.
    """

    body: bytes
    request_index: int
    page_index: int
    document: Any = None

    def parsed(self) -> Any:
        """The body as Python data (parsed once)."""
        if self.document is None:
            self.document = parse_json(self.body)
        return self.document


def parse_json(body: bytes) -> Any:
    """Parse a JSON body, or raise DataError that says so."""
    try:
        return json.loads(body)
    except ValueError as exc:
        raise DataError(f"the API sent a body that is not valid JSON ({exc})") from None


def dig(document: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in nested dicts, or None; ``*`` steps into every element of a
    list, and the lists found below it are joined into one."""
    value = document
    for index, key in enumerate(path):
        if key == "*":
            if not isinstance(value, list):
                return None
            found: list[Any] = []
            for item in value:
                below = dig(item, path[index + 1 :])
                if isinstance(below, list):
                    found.extend(below)
                elif below is not None:
                    found.append(below)
            return found
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def count_records(document: Any, records: tuple[str, ...]) -> int:
    """How many records a page holds."""
    found = dig(document, records) if records else document
    if isinstance(found, list):
        return len(found)
    if found is not None and not isinstance(found, dict):
        path = ".".join(records) or "the top level"
        raise DataError(
            f"the API's answer holds {type(found).__name__} {found!r:.60} at {path}, not "
            "records; the API's answers do not match the provider definition"
        )
    return 0 if found is None else 1


# A strategy yields the pages of one request; every PaginationKind has one (STRATEGIES).
Strategy = Callable[["PageRun"], AsyncGenerator[Page, None]]


async def iterate_pages(
    client: ApiClient,
    method: Method,
    spec: RequestSpec,
    *,
    request_index: int = 0,
    row_limit: int | None = None,
    single_page: bool = False,
    context: str = "",
) -> AsyncIterator[Page]:
    """Yield every page of ``spec``'s result, following the method's pagination.

    Args:
        row_limit: stop once this many records have arrived.
        single_page: the statement named a page; fetch just that one.
    """
    kind = PaginationKind.NONE if single_page else method.pagination.kind
    spec = sized_request(method, spec, row_limit)
    run = PageRun(client, method, spec, request_index, row_limit, context)
    # Closed here, not left to the garbage collector: requests in flight stop at once.
    async with contextlib.aclosing(STRATEGIES[kind](run)) as pages:
        async for page in pages:
            yield page


def sized_request(method: Method, spec: RequestSpec, row_limit: int | None = None) -> RequestSpec:
    """``spec`` with the page size set, as its first page is sent."""
    paging = method.pagination
    size = _page_size(paging.page_size, row_limit)
    if paging.size_param and size and not _has_query(spec, paging.size_param):
        spec = spec.with_query(**{paging.size_param: size})
    return spec


def page_request(method: Method, spec: RequestSpec, index: int) -> RequestSpec:
    """The request for the page ``index`` places after the first of a ``page_number`` list
    (``spec`` sized as ``sized_request`` makes it)."""
    paging = method.pagination
    assert paging.page_param is not None
    return spec.with_query(**{paging.page_param: paging.first_page + index})


def total_pages(method: Method, page: Page) -> int | None:
    """How many pages a ``page_number`` list has, when its first page names the total."""
    paging = method.pagination
    if paging.kind is not PaginationKind.PAGE_NUMBER or not paging.total_pages_path:
        return None
    total = dig(page.parsed(), paging.total_pages_path)
    return total if isinstance(total, int) and not isinstance(total, bool) else None


@dataclass
class PageRun:
    """What every strategy shares while it pages through one request's result.

    Attributes:
        spec: the first request, the page size already set.
        rows: records seen so far (counted only under a ``row_limit``).
    """

    client: ApiClient
    method: Method
    spec: RequestSpec
    request_index: int = 0
    row_limit: int | None = None
    context: str = ""
    rows: int = 0

    @property
    def paging(self) -> Pagination:
        """The method's pagination settings."""
        return self.method.pagination

    @property
    def where(self) -> str:
        """What to name in errors: the context, else the URL."""
        return self.context or self.spec.url

    async def send(self, request: RequestSpec, page_index: int) -> tuple[Page, Reply] | None:
        """One page and the reply it came in (retried by the client); ``None`` when the
        API answered with a status the method accepts as "no rows"."""
        reply = await self.client.send(request, accept=self.method.empty_on, context=self.context)
        if reply is None:
            return None
        return Page(reply.content, self.request_index, page_index), reply

    async def fetch(self, request: RequestSpec, page_index: int) -> Page | None:
        """One page, or ``None`` as in :meth:`send`."""
        sent = await self.send(request, page_index)
        return None if sent is None else sent[0]

    def count(self, page: Page) -> int:
        """How many records ``page`` holds."""
        return count_records(page.parsed(), self.method.records)

    def enough(self, page: Page) -> bool:
        """Count ``page``'s records; whether the row limit is now reached."""
        if self.row_limit is None:
            return False
        self.rows += self.count(page)
        return self.rows >= self.row_limit


# -- one strategy per kind ------------------------------------------------------------------


async def _one_page(run: PageRun) -> AsyncGenerator[Page, None]:
    """``none`` (and a statement that named its page): the request as it is."""
    page = await run.fetch(run.spec, 0)
    if page is not None:
        yield page


async def _page_numbers(run: PageRun) -> AsyncGenerator[Page, None]:
    """``page_number``: page=first, first+1, ...; the rest at once when page 1 names the
    total, else one by one until a short page."""
    paging = run.paging
    first = await run.fetch(_numbered(run, 0), 0)
    if first is None:
        return
    yield first
    if run.enough(first):
        return
    total = dig(first.parsed(), paging.total_pages_path) if paging.total_pages_path else None
    if isinstance(total, int) and run.row_limit is None:
        rest = _numbered_at_once(run, total)
    else:
        rest = _numbered_in_turn(run, first, total)
    async with contextlib.aclosing(rest) as pages:
        async for page in pages:
            yield page


async def _numbered_at_once(run: PageRun, total: int) -> AsyncGenerator[Page, None]:
    """Pages 2..total fetched concurrently, yielded as they arrive. A window of tasks (not
    all at once) keeps memory bounded when the consumer is slower."""
    waiting = collections.deque(range(1, total))
    running: set[asyncio.Task[Page | None]] = set()
    window = 2 * run.client.concurrency

    def top_up() -> None:
        while waiting and len(running) < window:
            index = waiting.popleft()
            running.add(asyncio.ensure_future(run.fetch(_numbered(run, index), index)))

    try:
        top_up()
        while running:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                page = task.result()
                if page is not None:
                    _check_records(page, run.method, total, run.where)
                    yield page
            top_up()
    finally:
        for task in running:
            task.cancel()


async def _numbered_in_turn(run: PageRun, page: Page, total: Any) -> AsyncGenerator[Page, None]:
    """Pages after ``page`` one by one, while each is full (and within ``total``, if the
    API named one); a page that repeats the one before means the param is ignored."""
    paging = run.paging
    page_size = _int_query(run.spec, paging.size_param) if paging.size_param else None
    index = 1
    while run.count(page) >= (page_size or 1):
        if isinstance(total, int) and index >= total:
            return
        next_page = await run.fetch(_numbered(run, index), index)
        if next_page is None or run.count(next_page) == 0:
            return
        if next_page.body == page.body:
            raise _repeated_page(run.where, paging.page_param, paging.first_page + index)
        page = next_page
        yield page
        if run.enough(page):
            return
        index += 1


def _numbered(run: PageRun, index: int) -> RequestSpec:
    """The request for the page ``index`` places after the first."""
    return page_request(run.method, run.spec, index)


async def _offsets(run: PageRun) -> AsyncGenerator[Page, None]:
    """``offset``: offset=0, then past the records so far, until a short page."""
    paging = run.paging
    assert paging.offset_param and paging.page_size
    size = _int_query(run.spec, paging.size_param) or paging.page_size
    offset, index = 0, 0
    previous: bytes | None = None
    while True:
        page = await run.fetch(run.spec.with_query(**{paging.offset_param: offset}), index)
        if page is None:
            return
        if page.body == previous:
            raise _repeated_page(run.where, paging.offset_param, offset)
        previous = page.body
        count = run.count(page)
        if count:
            yield page
        if count < size or run.enough(page):
            return
        offset += count
        index += 1


@dataclass(frozen=True)
class Pointer:
    """A strategy that follows a pointer from each page to the next: where the pointer is
    read in a reply, and how the next request carries it.

    Attributes:
        read: the pointer in a page and its reply (``None`` or ``""`` on the last page).
        carry: the request that follows ``request``, carrying the pointer.
    """

    read: Callable[[PageRun, Page, Reply], Any]
    carry: Callable[[PageRun, RequestSpec, str], RequestSpec]

    def __call__(self, run: PageRun) -> AsyncGenerator[Page, None]:
        return _follow(run, self)


async def _follow(run: PageRun, pointer: Pointer) -> AsyncGenerator[Page, None]:
    """Pages until one has no pointer; a pointer seen before would loop, so it is an error."""
    seen: set[str] = set()
    request, index = run.spec, 0
    while (sent := await run.send(request, index)) is not None:
        page, reply = sent
        yield page
        if run.enough(page):
            return
        value = pointer.read(run, page, reply)
        text = None if value in (None, "") else str(value)
        if not text:
            return
        if text in seen:
            raise OperationalError(
                f"{run.where}: the API sent the same next-page pointer twice "
                f"({text}); stopped to avoid an endless loop. Report this to the API's owner."
            )
        seen.add(text)
        request, index = pointer.carry(run, request, text), index + 1


def _link_in_body(run: PageRun, page: Page, reply: Reply) -> Any:
    if run.paging.token_header:  # a next-page URL sent in a header of its own
        return reply.headers.get(run.paging.token_header)
    return dig(page.parsed(), run.paging.next_url_path)


def _link_in_header(run: PageRun, page: Page, reply: Reply) -> Any:
    return reply.next_link


def _token_in_reply(run: PageRun, page: Page, reply: Reply) -> Any:
    if run.paging.token_header:
        return reply.headers.get(run.paging.token_header)
    return dig(page.parsed(), run.paging.token_path)


def _to_link(run: PageRun, request: RequestSpec, link: str) -> RequestSpec:
    """The link, resolved against the current page, on the first page's server."""
    return run.spec.with_url(same_origin(request.url, urljoin(request.url, link)))


def _token_in_query(run: PageRun, request: RequestSpec, token: str) -> RequestSpec:
    """The first request again, carrying the token where the API reads it: a query param
    (default), a body field or a header."""
    name = run.paging.token_param
    assert name is not None
    if run.paging.token_location == "body":
        body = dict(run.spec.json) if isinstance(run.spec.json, dict) else {}
        body[name] = token
        return dataclasses.replace(run.spec, json=body, has_body=True)
    if run.paging.token_location == "header":
        kept = [(k, v) for k, v in run.spec.headers if k.lower() != name.lower()]
        return dataclasses.replace(run.spec, headers=(*kept, (name, token)))
    return run.spec.with_query(**{name: token})


STRATEGIES: Mapping[PaginationKind, Strategy] = MappingProxyType(
    {
        PaginationKind.NONE: _one_page,
        PaginationKind.PAGE_NUMBER: _page_numbers,
        PaginationKind.OFFSET: _offsets,
        PaginationKind.NEXT_URL: Pointer(read=_link_in_body, carry=_to_link),
        PaginationKind.LINK_HEADER: Pointer(read=_link_in_header, carry=_to_link),
        PaginationKind.TOKEN: Pointer(read=_token_in_reply, carry=_token_in_query),
    }
)


def same_origin(current: str, link: str) -> str:
    """``link`` moved onto the scheme, host and port of ``current``.

    Credentials go only where the statement sends them: a next-page link naming another
    host (an API behind a proxy or an emulator still names its public address) keeps its
    path and query but is requested from the server the first page came from."""
    here, there = urlsplit(current), urlsplit(link)
    if (here.scheme, here.netloc) == (there.scheme, there.netloc):
        return link
    return urlunsplit((here.scheme, here.netloc, there.path, there.query, ""))


def _check_records(page: Page, method: Method, total: int, where: str) -> None:
    """A page inside a known total must hold records: one that lacks them (no list, an
    empty list, a body that is not JSON) would be rows silently missing."""
    if not method.records or page.page_index >= total - 1:
        return
    keys = [k for k in method.records if k != "*"]
    present = keys and all(f'"{key}"'.encode() in page.body for key in keys)
    if present and not _starts_empty_list(page.body, keys[-1]):
        return  # the records are there: DuckDB reads them (parsing here would double the work)
    try:
        document = page.parsed()
    except DataError as exc:
        raise DataError(
            f"{where}: page {page.page_index + 1} of {total}: {exc}; run the statement again"
        ) from None
    found = dig(document, method.records)
    if isinstance(found, list) and found:
        return
    path = ".".join(method.records)
    held = "an empty list" if isinstance(found, list) else "no list"
    snippet = page.body[:200].decode("utf-8", "replace")
    raise DataError(
        f"{where}: page {page.page_index + 1} of {total} has {held} at {path!r} "
        f"(the API answered {snippet}), so rows would be missing; run the statement again, "
        "and if it persists the API's answers do not match the provider definition"
    )


def _starts_empty_list(body: bytes, key: str) -> bool:
    """Whether the first ``"key"`` of ``body`` holds an empty list (``"key": []``): a find
    and a few bytes, where a pattern search over the whole page would cost far more."""
    at = body.find(f'"{key}"'.encode())
    if at < 0:
        return False
    rest = body[at + len(key) + 2 : at + len(key) + 66].lstrip()
    if not rest.startswith(b":"):
        return False
    rest = rest[1:].lstrip()
    return rest.startswith(b"[") and rest[1:].lstrip().startswith(b"]")


def _repeated_page(where: str, param: str | None, value: int) -> OperationalError:
    return OperationalError(
        f"{where}: the API answered {param}={value} with the same page as before, so it "
        f"seems to ignore {param}; stopped to avoid an endless loop. Check the provider's "
        "pagination settings, or report this to the API's owner."
    )


def _has_query(spec: RequestSpec, name: str) -> bool:
    return any(k == name for k, _ in spec.query)


def _int_query(spec: RequestSpec, name: str | None) -> int | None:
    for key, value in spec.query:
        if key == name:
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _page_size(page_size: int | None, row_limit: int | None) -> int | None:
    """What the size param carries: the page size, or the row limit when that is smaller
    (or when no page size is declared)."""
    if row_limit is not None and row_limit > 0:
        return min(page_size, row_limit) if page_size else row_limit
    return page_size
