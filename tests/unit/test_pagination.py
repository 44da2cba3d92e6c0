"""iterate_pages against a fake paginated API: a real ApiClient over httpx.MockTransport.

The fake API serves a list of N items in pages, in whichever style the method's
``Pagination`` declares; each test checks what came back and which requests were sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest

from sqlprovider.errors import DataError, Error, OperationalError
from sqlprovider.http import ApiClient, Credentials, Page, RequestSpec, Secret, iterate_pages
from sqlprovider.http.pagination import count_records, dig, parse_json
from sqlprovider.model import (
    AuthSpec,
    Method,
    Pagination,
    PaginationKind,
    Provider,
    Server,
    SqlVerb,
)

BASE = "http://api.test"
URL = BASE + "/items"
SIZE = 10
CONTEXT = "fake.shop.items"
PROVIDER = Provider(
    name="fake",
    server=Server(url=BASE),
    auth=AuthSpec(type="bearer", env=("FAKE_TOKEN",)),
    services={},
)
CREDENTIALS = Credentials("bearer", Secret("test-token"))

# One declaration per strategy the model supports; the key is also the fake API's style.
PAGINATIONS: dict[str, Pagination] = {
    "none": Pagination(),
    "next_url": Pagination(
        kind=PaginationKind.NEXT_URL,
        next_url_path=("links", "next"),
        size_param="per_page",
        page_size=SIZE,
    ),
    "page_number": Pagination(
        kind=PaginationKind.PAGE_NUMBER, page_param="page", size_param="per_page", page_size=SIZE
    ),
    "page_number_total": Pagination(
        kind=PaginationKind.PAGE_NUMBER,
        page_param="page",
        size_param="per_page",
        page_size=SIZE,
        total_pages_path=("meta", "pages"),
    ),
    "token": Pagination(
        kind=PaginationKind.TOKEN,
        token_path=("next_token",),
        token_param="cursor",
        size_param="per_page",
        page_size=SIZE,
    ),
    "token_header": Pagination(
        kind=PaginationKind.TOKEN,
        token_header="X-Next-Token",
        token_param="cursor",
        size_param="per_page",
        page_size=SIZE,
    ),
    "link_header": Pagination(
        kind=PaginationKind.LINK_HEADER, size_param="per_page", page_size=SIZE
    ),
    "offset": Pagination(
        kind=PaginationKind.OFFSET, offset_param="offset", size_param="limit", page_size=SIZE
    ),
}
STYLES = list(PAGINATIONS)
PAGED = [s for s in STYLES if s != "none"]
POINTER_STYLES = ["next_url", "token", "token_header", "link_header"]
SIZE_NAMES = {"offset": "limit"}
COUNTS = [0, 1, SIZE, SIZE + 1, 3 * SIZE + 5]


class FakeApi:
    """A list of ``n`` items served in pages of the given style.

    Args:
        stuck: pointer styles always point at the same next page (a broken server).
        relative: next_url links are relative (``/items?...``).
        first_page: the number of the first page, for page_number.
    """

    def __init__(
        self,
        n: int,
        style: str,
        *,
        stuck: bool = False,
        relative: bool = False,
        first_page: int = 1,
        link_base: str = BASE,
    ) -> None:
        self.link_base = link_base  # where absolute links point
        self.items = [f"item-{i:03d}" for i in range(n)]
        self.style = style
        self.stuck = stuck
        self.relative = relative
        self.first_page = first_page
        self.requests: list[httpx.Request] = []
        self.failures: dict[int, int] = {}  # request number (1-based) → error status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert len(self.requests) < 500, "endless pagination"  # fail rather than hang
        failure = self.failures.pop(len(self.requests), None)
        if failure is not None:
            return httpx.Response(failure, json={"message": "busy, try later"})
        query = request.url.params
        size = int(query.get(SIZE_NAMES.get(self.style, "per_page")) or len(self.items) or 1)
        start = self._start(query, size)
        body: dict[str, Any] = {"items": self.items[start : start + size]}
        headers: dict[str, str] = {}
        next_start = SIZE if self.stuck else start + size
        if self.stuck or next_start < len(self.items):
            self._point(body, headers, next_start, size)
        if self.style == "page_number_total":
            body["meta"] = {"pages": math.ceil(len(self.items) / size)}
        return httpx.Response(200, json=body, headers=headers)

    def _start(self, query: httpx.QueryParams, size: int) -> int:
        if self.style.startswith("page_number"):
            return (int(query["page"]) - self.first_page) * size
        if self.style == "offset":
            return int(query["offset"])
        if self.style.startswith("token"):
            return int(query.get("cursor", "c0")[1:])
        return int(query.get("start", "0"))

    def _point(self, body: dict[str, Any], headers: dict[str, str], start: int, size: int) -> None:
        link = f"/items?start={start}&per_page={size}"
        absolute = self.link_base + link
        if self.style == "next_url":
            body["links"] = {"next": link if self.relative else absolute}
        elif self.style == "link_header":
            headers["Link"] = f'<{absolute}>; rel="next", <{BASE}/items>; rel="first"'
        elif self.style == "token":
            body["next_token"] = f"c{start}"
        elif self.style == "token_header":
            headers["X-Next-Token"] = f"c{start}"

    def sent(self, name: str) -> list[str | None]:
        """The value of query param ``name`` in every request, in order."""
        return [r.url.params.get(name) for r in self.requests]


class FakeSleep:
    """Stands in for asyncio.sleep between retries; records the waits asked for."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_method(style: str, *, empty_on: tuple[int, ...] = (), **paging: Any) -> Method:
    return Method(
        name="list_items",
        sql_verb=SqlVerb.SELECT,
        http_verb="GET",
        path="/items",
        records=("items",),
        pagination=dataclasses.replace(PAGINATIONS[style], **paging),
        empty_on=empty_on,
    )


def make_client(
    handler: Any, *, concurrency: int | None = None, sleep: FakeSleep | None = None
) -> ApiClient:
    return ApiClient(
        PROVIDER,
        CREDENTIALS,
        transport=httpx.MockTransport(handler),
        concurrency=concurrency,
        sleep=sleep or FakeSleep(),
    )


async def fetch_pages(
    handler: Any,
    method: Method,
    *,
    spec: RequestSpec | None = None,
    row_limit: int | None = None,
    single_page: bool = False,
    concurrency: int | None = None,
    sleep: FakeSleep | None = None,
    out: list[Page] | None = None,
) -> list[Page]:
    """Every page iterate_pages yields, in yield order (also appended to ``out``)."""
    pages = [] if out is None else out
    client = make_client(handler, concurrency=concurrency, sleep=sleep)
    try:
        async for page in iterate_pages(
            client,
            method,
            spec or RequestSpec("GET", URL),
            row_limit=row_limit,
            single_page=single_page,
            context=CONTEXT,
        ):
            pages.append(page)
    finally:
        await client.aclose()
    return pages


def run(api: FakeApi, method: Method | None = None, **options: Any) -> list[Page]:
    return asyncio.run(fetch_pages(api, method or make_method(api.style), **options))


def items_of(pages: list[Page]) -> list[str]:
    """The records of the pages in page order; each page index must come once."""
    indexes = [p.page_index for p in pages]
    assert len(indexes) == len(set(indexes)), f"a page came twice: {indexes}"
    ordered = sorted(pages, key=lambda p: p.page_index)
    return [item for page in ordered for item in page.parsed()["items"]]


def expected_requests(style: str, n: int) -> int:
    if style == "none":
        return 1
    if style in ("page_number", "offset"):  # until a short (possibly empty) page
        return n // SIZE + 1
    return max(1, math.ceil(n / SIZE))


# -- every strategy returns every item once, in order ---------------------------------------


@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("style", STYLES)
def test_every_item_once_and_in_order(style: str, n: int) -> None:
    api = FakeApi(n, style)
    sleep = FakeSleep()
    pages = run(api, sleep=sleep)
    assert items_of(pages) == api.items
    assert len(api.requests) == expected_requests(style, n)
    assert all(p.request_index == 0 for p in pages)
    assert sleep.waits == []  # nothing failed, so nothing waited


@pytest.mark.parametrize("style", [s for s in PAGED if s != "page_number_total"])
def test_sequential_strategies_yield_pages_in_api_order(style: str) -> None:
    pages = run(FakeApi(3 * SIZE + 5, style))
    assert [p.page_index for p in pages] == list(range(len(pages)))


def test_request_index_is_passed_through() -> None:
    api = FakeApi(SIZE + 1, "page_number")

    async def go() -> list[Page]:
        client = make_client(api)
        try:
            spec = RequestSpec("GET", URL)
            return [
                p
                async for p in iterate_pages(
                    client, make_method("page_number"), spec, request_index=7
                )
            ]
        finally:
            await client.aclose()

    assert [(p.request_index, p.page_index) for p in asyncio.run(go())] == [(7, 0), (7, 1)]


# -- the params each strategy sends ----------------------------------------------------------


@pytest.mark.parametrize(
    "style", ["page_number", "page_number_total", "offset", "token", "token_header"]
)
def test_page_size_param_is_sent_on_every_request(style: str) -> None:
    api = FakeApi(3 * SIZE + 5, style)
    run(api)
    assert api.sent(SIZE_NAMES.get(style, "per_page")) == [str(SIZE)] * 4


@pytest.mark.parametrize("style", ["next_url", "link_header"])
def test_link_strategies_send_page_size_first_then_follow_the_link_as_given(style: str) -> None:
    api = FakeApi(2 * SIZE + 1, style)
    run(api)
    assert [str(r.url) for r in api.requests] == [
        f"{URL}?per_page={SIZE}",
        f"{URL}?start={SIZE}&per_page={SIZE}",
        f"{URL}?start={2 * SIZE}&per_page={SIZE}",
    ]


def test_no_size_param_when_the_method_declares_none() -> None:
    api = FakeApi(5, "none")
    run(api)
    assert [dict(r.url.params) for r in api.requests] == [{}]


@pytest.mark.parametrize(
    ("style", "name", "values"),
    [
        ("page_number", "page", ["1", "2", "3", "4"]),
        ("offset", "offset", ["0", "10", "20", "30"]),
        ("token", "cursor", [None, "c10", "c20", "c30"]),
        ("token_header", "cursor", [None, "c10", "c20", "c30"]),
    ],
)
def test_page_pointer_params(style: str, name: str, values: list[str | None]) -> None:
    api = FakeApi(3 * SIZE + 5, style)
    run(api)
    assert api.sent(name) == values


@pytest.mark.parametrize("n", [0, 1, SIZE, 3 * SIZE + 5])
def test_page_numbers_start_at_first_page(n: int) -> None:
    api = FakeApi(n, "page_number", first_page=0)
    pages = run(api, make_method("page_number", first_page=0))
    assert items_of(pages) == api.items
    assert api.sent("page") == [str(i) for i in range(n // SIZE + 1)]


@pytest.mark.parametrize("style", ["page_number", "offset"])
def test_a_page_size_the_statement_binds_is_kept(style: str) -> None:
    name = SIZE_NAMES.get(style, "per_page")
    api = FakeApi(10, style)
    pages = run(api, spec=RequestSpec("GET", URL, query=((name, "4"),)))
    assert items_of(pages) == api.items
    assert api.sent(name) == ["4", "4", "4"]  # 4 + 4 + a short page of 2


def test_single_page_fetches_only_the_bound_page() -> None:
    api = FakeApi(3 * SIZE + 5, "page_number")
    spec = RequestSpec("GET", URL, query=(("page", "2"),))
    pages = run(api, spec=spec, single_page=True)
    assert items_of(pages) == api.items[SIZE : 2 * SIZE]
    assert len(api.requests) == 1


# -- row_limit stops fetching early ----------------------------------------------------------


@pytest.mark.parametrize(
    ("row_limit", "size_sent", "requests"), [(3, 3, 1), (SIZE, SIZE, 1), (15, SIZE, 2)]
)
@pytest.mark.parametrize("style", PAGED)
def test_row_limit_stops_fetching_early(
    style: str, row_limit: int, size_sent: int, requests: int
) -> None:
    api = FakeApi(10 * SIZE, style)
    items = items_of(run(api, row_limit=row_limit))
    assert len(api.requests) == requests
    assert api.requests[0].url.params[SIZE_NAMES.get(style, "per_page")] == str(size_sent)
    assert len(items) >= row_limit
    assert items == api.items[: len(items)]


def test_row_limit_larger_than_the_data_fetches_everything_once() -> None:
    api = FakeApi(SIZE + 1, "page_number_total")
    pages = run(api, row_limit=1000)
    assert items_of(pages) == api.items
    assert api.sent("page") == ["1", "2"]


# -- page_number with total_pages: the concurrent windowed fetch -----------------------------


class SlowApi(FakeApi):
    """A page_number_total API whose early pages answer last; counts requests in flight."""

    def __init__(self, n: int) -> None:
        super().__init__(n, "page_number_total")
        self.arrived = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.release = asyncio.Event()
        self.hold_after = 10**9  # requests beyond this many wait for ``release``
        self.served: list[str] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.arrived += 1
        try:
            if self.arrived > self.hold_after:
                await self.release.wait()
            page = int(request.url.params["page"])
            for _ in range(max(0, 40 - 2 * page)):  # earlier pages answer later
                await asyncio.sleep(0)
            response = self(request)
            self.served.append(request.url.params["page"])
            return response
        finally:
            self.in_flight -= 1


def test_total_pages_fetches_the_rest_concurrently_within_the_bound() -> None:
    async def go() -> tuple[SlowApi, list[Page]]:
        api = SlowApi(20 * SIZE)
        pages = await fetch_pages(api.handle, make_method("page_number_total"), concurrency=3)
        return api, pages

    api, pages = asyncio.run(go())
    assert items_of(pages) == api.items
    assert sorted(int(page or 0) for page in api.sent("page")) == list(range(1, 21))
    assert 1 < api.most_in_flight <= 3


def test_total_pages_fetch_looks_ahead_at_most_one_window() -> None:
    concurrency = 2

    async def go() -> tuple[int, list[Page]]:
        api = SlowApi(50 * SIZE)
        client = make_client(api.handle, concurrency=concurrency)
        try:
            pages = iterate_pages(client, make_method("page_number_total"), RequestSpec("GET", URL))
            first = [await anext(pages), await anext(pages)]
            for _ in range(200):  # the consumer dawdles; requests must not run ahead
                await asyncio.sleep(0)
            sent_while_waiting = len(api.requests)
            rest = [p async for p in pages]
        finally:
            await client.aclose()
        assert items_of(first + rest) == api.items
        return sent_while_waiting, first + rest

    sent_while_waiting, pages = asyncio.run(go())
    assert sent_while_waiting <= 1 + 2 * concurrency  # page 1, then one window of tasks
    assert len(pages) == 50


def test_closing_the_iterator_cancels_pages_still_in_flight() -> None:
    async def go() -> SlowApi:
        api = SlowApi(20 * SIZE)
        api.hold_after = 2  # page 1 and one more answer; the rest hang until released
        client = make_client(api.handle, concurrency=4)
        try:
            pages = iterate_pages(client, make_method("page_number_total"), RequestSpec("GET", URL))
            assert isinstance(pages, AsyncGenerator)
            await anext(pages)
            await anext(pages)
            await pages.aclose()
            api.release.set()
            for _ in range(200):
                await asyncio.sleep(0)
        finally:
            await client.aclose()
        return api

    api = asyncio.run(go())
    assert len(api.served) == 2


# -- retries, empty answers and bad bodies ---------------------------------------------------


@pytest.mark.parametrize("style", PAGED)
def test_a_retried_page_is_returned_once(style: str) -> None:
    api = FakeApi(3 * SIZE + 5, style)
    api.failures = {2: 503}
    sleep = FakeSleep()
    pages = run(api, sleep=sleep)
    assert items_of(pages) == api.items
    assert len(sleep.waits) == 1
    urls = [str(r.url) for r in api.requests]
    assert urls.count(urls[1]) == 2  # the refused page was asked for again, once
    assert len(urls) == expected_requests(style, 3 * SIZE + 5) + 1


@pytest.mark.parametrize("style", STYLES)
def test_an_accepted_error_status_means_no_pages(style: str) -> None:
    api = FakeApi(5, style)
    api.failures = {1: 404}
    assert run(api, make_method(style, empty_on=(404,))) == []
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    "style", ["page_number", "page_number_total", "offset", "next_url", "token"]
)
def test_a_body_that_is_not_json_is_a_data_error(style: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>maintenance</html>")

    with pytest.raises(DataError, match="the API sent a body that is not valid JSON"):
        asyncio.run(fetch_pages(handler, make_method(style)))


# -- a pointer that repeats is an error, not an endless loop ---------------------------------


@pytest.mark.parametrize("style", POINTER_STYLES)
def test_a_repeated_next_pointer_is_reported_not_followed(style: str) -> None:
    api = FakeApi(10 * SIZE, style, stuck=True)
    pages: list[Page] = []
    with pytest.raises(OperationalError) as raised:
        asyncio.run(fetch_pages(api, make_method(style), out=pages))
    assert type(raised.value) is OperationalError
    assert isinstance(raised.value, Error)
    assert len(api.requests) == 2  # the pointer came back once more, then it stopped
    assert items_of(pages) == api.items[: 2 * SIZE]
    message = str(raised.value)
    assert message.startswith(f"{CONTEXT}: the API sent the same next-page pointer twice")
    assert "endless loop" in message
    assert "Report this to the API's owner" in message
    assert "Traceback" not in message and "<" not in message


def test_a_repeated_pointer_names_the_url_without_a_context() -> None:
    api = FakeApi(10 * SIZE, "token", stuck=True)

    async def go() -> None:
        client = make_client(api)
        try:
            async for _ in iterate_pages(client, make_method("token"), RequestSpec("GET", URL)):
                pass
        finally:
            await client.aclose()

    pattern = rf"^{re.escape(URL)}: .*same next-page pointer twice \(c10\)"
    with pytest.raises(OperationalError, match=pattern):
        asyncio.run(go())


# -- where a next_url leads ------------------------------------------------------------------


@pytest.mark.parametrize("n", COUNTS)
def test_a_relative_next_url_is_resolved_against_the_current_page(n: int) -> None:
    api = FakeApi(n, "next_url", relative=True)
    assert items_of(run(api)) == api.items
    assert {r.url.host for r in api.requests} == {"api.test"}
    if n > SIZE:
        assert str(api.requests[1].url) == f"{URL}?start={SIZE}&per_page={SIZE}"


def test_an_empty_next_url_ends_the_pages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": ["a"], "links": {"next": ""}})

    pages = asyncio.run(fetch_pages(handler, make_method("next_url")))
    assert items_of(pages) == ["a"]


@pytest.mark.parametrize("style", ["next_url", "link_header"])
def test_a_link_to_another_host_is_fetched_from_the_first_pages_server(style: str) -> None:
    # Links naming another server: a proxy's public name, or a hostile answer.
    api = FakeApi(3 * SIZE, style, link_base="http://elsewhere.test:9000")
    assert items_of(run(api)) == api.items
    assert {(r.url.host, r.url.port) for r in api.requests} == {("api.test", None)}
    assert all(r.headers["Authorization"] == "Bearer test-token" for r in api.requests)


@pytest.mark.parametrize("style", ["page_number", "offset"])
def test_a_server_ignoring_the_page_param_is_stopped(style: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [f"i{n}" for n in range(SIZE)]})

    with pytest.raises(OperationalError, match=r"seems to ignore (page|offset)"):
        asyncio.run(fetch_pages(handler, make_method(style)))


def test_a_page_inside_a_known_total_without_records_is_an_error() -> None:
    api = FakeApi(5 * SIZE, "page_number_total")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "3":
            return httpx.Response(200, json={"error": "oops", "meta": {"pages": 5}})
        return api(request)

    with pytest.raises(DataError, match=r"page 3 of 5 has no list at 'items'.*oops"):
        asyncio.run(fetch_pages(handler, make_method("page_number_total")))


def test_records_that_are_not_records_are_an_error() -> None:
    with pytest.raises(DataError, match="holds str 'oops' at items, not records"):
        count_records({"items": "oops"}, ("items",))


# -- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "records", "count"),
    [
        ({"items": [1, 2, 3]}, ("items",), 3),
        ({"items": []}, ("items",), 0),
        ({"other": [1]}, ("items",), 0),  # records path missing
        ({"items": None}, ("items",), 0),
        ({"item": {"id": 1}}, ("item",), 1),  # one record, not a list
        ({"a": {"b": [1, 2]}}, ("a", "b"), 2),
        ({"a": [1, 2]}, ("a", "b"), 0),  # a list where a mapping was expected
        ([1, 2], (), 2),  # the body itself is the list
    ],
)
def test_count_records(document: Any, records: tuple[str, ...], count: int) -> None:
    assert count_records(document, records) == count


def test_dig_returns_none_for_any_missing_step() -> None:
    document = {"meta": {"pages": 4}, "list": [1]}
    assert dig(document, ("meta", "pages")) == 4
    assert dig(document, ("meta", "total")) is None
    assert dig(document, ("list", "x")) is None
    assert dig("text", ("meta",)) is None
    assert dig(document, ()) is document


def test_parse_json_and_page_parsed_once() -> None:
    with pytest.raises(DataError, match="not valid JSON"):
        parse_json(b"{")
    page = Page(b'{"items": [1]}', 0, 0)
    assert page.parsed() == {"items": [1]}
    assert page.parsed() is page.parsed()
