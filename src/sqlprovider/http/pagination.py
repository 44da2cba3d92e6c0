"""Generic pagination: every strategy a provider can declare, run against an ApiClient."""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from sqlprovider.errors import DataError, OperationalError
from sqlprovider.http.client import ApiClient
from sqlprovider.http.reply import Reply
from sqlprovider.http.request import RequestSpec
from sqlprovider.model import Method, PaginationKind


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
    paging = method.pagination
    accept = method.empty_on
    kind = PaginationKind.NONE if single_page else paging.kind
    if paging.size_param and paging.page_size and not _has_query(spec, paging.size_param):
        spec = spec.with_query(**{paging.size_param: _page_size(paging.page_size, row_limit)})
    seen_rows = 0

    async def fetch(request: RequestSpec, page_index: int) -> Page | None:
        reply = await client.send(request, accept=accept, context=context)
        if reply is None:
            return None
        return Page(reply.content, request_index, page_index)

    def enough(page: Page) -> bool:
        nonlocal seen_rows
        if row_limit is None:
            return False
        seen_rows += count_records(page.parsed(), method.records)
        return seen_rows >= row_limit

    if kind is PaginationKind.NONE:
        page = await fetch(spec, 0)
        if page is not None:
            yield page
        return

    if kind is PaginationKind.PAGE_NUMBER:
        assert paging.page_param is not None
        page_size = _int_query(spec, paging.size_param) if paging.size_param else None
        first = paging.first_page
        page = await fetch(spec.with_query(**{paging.page_param: first}), 0)
        if page is None:
            return
        yield page
        if enough(page):
            return
        total = dig(page.parsed(), paging.total_pages_path) if paging.total_pages_path else None
        if isinstance(total, int) and row_limit is None:
            # The total is known: fetch the other pages concurrently. A window of tasks
            # (not all at once) keeps memory bounded when the consumer is slower.
            waiting = collections.deque(range(1, total))
            running: set[asyncio.Task[Page | None]] = set()
            window = 2 * client.concurrency
            try:
                while waiting or running:
                    while waiting and len(running) < window:
                        i = waiting.popleft()
                        numbered = spec.with_query(**{paging.page_param: first + i})
                        running.add(asyncio.ensure_future(fetch(numbered, i)))
                    done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        result = task.result()
                        if result is not None:
                            _check_records(result, method, total, context or spec.url)
                            yield result
            finally:
                for task in running:
                    task.cancel()
            return
        index = 1
        while count_records(page.parsed(), method.records) >= (page_size or 1):
            if isinstance(total, int) and index >= total:
                return
            next_page = await fetch(spec.with_query(**{paging.page_param: first + index}), index)
            if next_page is None or count_records(next_page.parsed(), method.records) == 0:
                return
            if next_page.body == page.body:
                raise _repeated_page(context or spec.url, paging.page_param, first + index)
            page = next_page
            yield page
            if enough(page):
                return
            index += 1
        return

    if kind is PaginationKind.OFFSET:
        assert paging.offset_param and paging.page_size
        size = _int_query(spec, paging.size_param) or paging.page_size
        offset, index = 0, 0
        previous: bytes | None = None
        while True:
            page = await fetch(spec.with_query(**{paging.offset_param: offset}), index)
            if page is None:
                return
            if page.body == previous:
                raise _repeated_page(context or spec.url, paging.offset_param, offset)
            previous = page.body
            count = count_records(page.parsed(), method.records)
            if count:
                yield page
            if count < size or enough(page):
                return
            offset += count
            index += 1

    # Strategies that follow a pointer from each page to the next.
    seen_pointers: set[str] = set()
    request: RequestSpec | None = spec
    index = 0
    while request is not None:
        reply = await client.send(request, accept=accept, context=context)
        if reply is None:
            return
        page = Page(reply.content, request_index, index)
        yield page
        if enough(page):
            return
        pointer = _next_pointer(kind, method, page, reply)
        if not pointer:
            return
        if pointer in seen_pointers:
            raise OperationalError(
                f"{context or spec.url}: the API sent the same next-page pointer twice "
                f"({pointer}); stopped to avoid an endless loop. Report this to the API's owner."
            )
        seen_pointers.add(pointer)
        if kind in (PaginationKind.NEXT_URL, PaginationKind.LINK_HEADER):
            request = spec.with_url(same_origin(request.url, urljoin(request.url, pointer)))
        else:
            assert paging.token_param is not None
            request = spec.with_query(**{paging.token_param: pointer})
        index += 1


def _next_pointer(kind: PaginationKind, method: Method, page: Page, reply: Reply) -> str | None:
    paging = method.pagination
    if kind is PaginationKind.NEXT_URL:
        value = dig(page.parsed(), paging.next_url_path)
    elif kind is PaginationKind.LINK_HEADER:
        value = reply.next_link
    elif paging.token_header:
        value = reply.headers.get(paging.token_header)
    else:
        value = dig(page.parsed(), paging.token_path)
    return None if value in (None, "") else str(value)


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


def _page_size(page_size: int, row_limit: int | None) -> int:
    if row_limit is not None and row_limit > 0:
        return min(page_size, row_limit)
    return page_size
