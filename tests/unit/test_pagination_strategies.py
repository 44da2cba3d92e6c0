"""Each pagination strategy as a case table: the pages an API answers in, the requests out.

A case names the answer to every request the strategy may send (by path and query) and
what must follow: the requests sent, in order, and the pages yielded, or the error raised.
Requests go through a real ApiClient over ``httpx.MockTransport``; a request no answer was
written for fails the test. Adding a case is adding a row.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sqlprovider.errors import Error
from sqlprovider.http import ApiClient, Credentials, RequestSpec, Secret, iterate_pages, pagination
from sqlprovider.http.pagination import STRATEGIES
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
ELSEWHERE = "http://elsewhere.test:9000"
CONTEXT = "fake.shop.items"
PROVIDER = Provider(
    name="fake",
    server=Server(url=BASE),
    auth=AuthSpec(type="bearer", env=("FAKE_TOKEN",)),
    services={},
)


@dataclass(frozen=True)
class Answer:
    """What the API answers one request: a JSON body, headers, a status."""

    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


def page(*items: str, headers: dict[str, str] | None = None, **fields: Any) -> Answer:
    """A page holding ``items`` (under ``items``) and any other top-level ``fields``."""
    return Answer({"items": list(items), **fields}, headers or {})


def status(code: int) -> Answer:
    return Answer({"message": f"answered {code}"}, status=code)


@dataclass(frozen=True)
class Case:
    """One run of a strategy.

    Attributes:
        answers: path and query of a request (host left out when it is BASE) → its answer.
        sent: the requests that must be sent, in order (in any order when ``at_once``).
        pages: the items of each page yielded, in page order.
        error: a regex the message of the raised error must match (then ``pages`` are the
            pages yielded before it).
        paging: fields of the method's Pagination besides ``kind``.
        query: the query the first request carries (as the planner would bind it).
        row_limit, single_page, empty_on: passed on as the executor passes them.
        at_once: the pages are fetched concurrently, so their order is not the API's.
    """

    id: str
    answers: dict[str, Answer]
    sent: list[str]
    pages: list[list[str]]
    error: str | None = None
    paging: dict[str, Any] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()
    row_limit: int | None = None
    single_page: bool = False
    empty_on: tuple[int, ...] = ()
    at_once: bool = False


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    pages: list[tuple[int, list[str]]] = field(default_factory=list)
    error: Error | None = None


def run_case(kind: PaginationKind, case: Case) -> Outcome:
    """Run ``case`` through iterate_pages and record the requests and the pages."""
    outcome = Outcome()

    def handler(request: httpx.Request) -> httpx.Response:
        key = str(request.url).removeprefix(BASE)
        outcome.sent.append(key)
        assert len(outcome.sent) < 100, "endless pagination"
        if key not in case.answers:
            raise AssertionError(f"no answer written for {key}; sent {outcome.sent}")
        answer = case.answers[key]
        return httpx.Response(answer.status, json=answer.body, headers=answer.headers)

    async def no_sleep(seconds: float) -> None:
        raise AssertionError(f"unexpected wait of {seconds} s")

    method = Method(
        name="list_items",
        sql_verb=SqlVerb.SELECT,
        http_verb="GET",
        path="/items",
        records=("items",),
        pagination=Pagination(kind=kind, **case.paging),
        empty_on=case.empty_on,
    )

    async def main() -> None:
        client = ApiClient(
            PROVIDER,
            Credentials("bearer", Secret("test-token")),
            transport=httpx.MockTransport(handler),
            sleep=no_sleep,
        )
        spec = RequestSpec("GET", BASE + "/items", query=case.query)
        try:
            async for got in iterate_pages(
                client,
                method,
                spec,
                row_limit=case.row_limit,
                single_page=case.single_page,
                context=CONTEXT,
            ):
                outcome.pages.append((got.page_index, got.parsed()["items"]))
        except Error as exc:
            outcome.error = exc
        finally:
            await client.aclose()

    asyncio.run(main())
    return outcome


def check(kind: PaginationKind, case: Case) -> None:
    outcome = run_case(kind, case)
    if case.error is None:
        assert outcome.error is None, outcome.error
    else:
        assert outcome.error is not None, "no error raised"
        assert re.search(case.error, str(outcome.error)), str(outcome.error)
    pages = sorted(outcome.pages) if case.at_once else outcome.pages
    assert [index for index, _ in pages] == list(range(len(pages))), "page indexes"
    assert [items for _, items in pages] == case.pages
    sent = sorted(outcome.sent) if case.at_once else outcome.sent
    assert sent == (sorted(case.sent) if case.at_once else case.sent)


def cases(*table: Case) -> pytest.MarkDecorator:
    """Parametrize a test over ``table``, each case named by its id."""
    return pytest.mark.parametrize("case", table, ids=[c.id for c in table])


# -- none -----------------------------------------------------------------------------------

NONE = [
    Case(
        "one request, as it is",
        answers={"/items": page("a", "b")},
        sent=["/items"],
        pages=[["a", "b"]],
    ),
    Case(
        "the query the statement binds is sent",
        answers={"/items?status=done": page("a")},
        sent=["/items?status=done"],
        pages=[["a"]],
        query=(("status", "done"),),
    ),
    Case(
        "a status the method accepts means no pages",
        answers={"/items": status(404)},
        sent=["/items"],
        pages=[],
        empty_on=(404,),
    ),
    Case(
        "any other error status is an error",
        answers={"/items": status(404)},
        sent=["/items"],
        pages=[],
        error=r"^fake\.shop\.items: GET http://api\.test/items failed \(HTTP 404",
    ),
]


@cases(*NONE)
def test_none(case: Case) -> None:
    check(PaginationKind.NONE, case)


# -- page_number ----------------------------------------------------------------------------

PAGE_NUMBER = {"page_param": "page", "size_param": "per_page", "page_size": 2}
WITH_TOTAL = {**PAGE_NUMBER, "total_pages_path": ("meta", "pages")}

PAGE_NUMBERS = [
    Case(
        "pages until a short one",
        answers={
            "/items?per_page=2&page=1": page("a", "b"),
            "/items?per_page=2&page=2": page("c", "d"),
            "/items?per_page=2&page=3": page("e"),
        },
        sent=["/items?per_page=2&page=1", "/items?per_page=2&page=2", "/items?per_page=2&page=3"],
        pages=[["a", "b"], ["c", "d"], ["e"]],
        paging=PAGE_NUMBER,
    ),
    Case(
        "an empty page ends the pages and is not yielded",
        answers={
            "/items?per_page=2&page=1": page("a", "b"),
            "/items?per_page=2&page=2": page(),
        },
        sent=["/items?per_page=2&page=1", "/items?per_page=2&page=2"],
        pages=[["a", "b"]],
        paging=PAGE_NUMBER,
    ),
    Case(
        "numbering starts at first_page",
        answers={"/items?per_page=2&page=0": page("a", "b"), "/items?per_page=2&page=1": page()},
        sent=["/items?per_page=2&page=0", "/items?per_page=2&page=1"],
        pages=[["a", "b"]],
        paging={**PAGE_NUMBER, "first_page": 0},
    ),
    Case(
        "a page size the statement binds is kept",
        answers={
            "/items?per_page=3&page=1": page("a", "b", "c"),
            "/items?per_page=3&page=2": page("d"),
        },
        sent=["/items?per_page=3&page=1", "/items?per_page=3&page=2"],
        pages=[["a", "b", "c"], ["d"]],
        paging=PAGE_NUMBER,
        query=(("per_page", "3"),),
    ),
    Case(
        "a statement that names its page gets that page alone",
        answers={"/items?page=4&per_page=2": page("g", "h")},
        sent=["/items?page=4&per_page=2"],
        pages=[["g", "h"]],
        paging=PAGE_NUMBER,
        query=(("page", "4"),),
        single_page=True,
    ),
    Case(
        "a row limit asks for smaller pages and stops once reached",
        answers={"/items?per_page=1&page=1": page("a")},
        sent=["/items?per_page=1&page=1"],
        pages=[["a"]],
        paging=PAGE_NUMBER,
        row_limit=1,
    ),
    Case(
        "a row limit beyond the page size stops at the page that reaches it",
        answers={
            "/items?per_page=2&page=1": page("a", "b"),
            "/items?per_page=2&page=2": page("c", "d"),
        },
        sent=["/items?per_page=2&page=1", "/items?per_page=2&page=2"],
        pages=[["a", "b"], ["c", "d"]],
        paging=PAGE_NUMBER,
        row_limit=3,
    ),
    Case(
        "an error status on a later page stops the pages with it",
        answers={
            "/items?per_page=2&page=1": page("a", "b"),
            "/items?per_page=2&page=2": status(400),
        },
        sent=["/items?per_page=2&page=1", "/items?per_page=2&page=2"],
        pages=[["a", "b"]],
        paging=PAGE_NUMBER,
        error=r"GET http://api\.test/items failed \(HTTP 400: answered 400\); check the values",
    ),
    Case(
        "the same page again means the param is ignored",
        answers={
            "/items?per_page=2&page=1": page("a", "b"),
            "/items?per_page=2&page=2": page("a", "b"),
        },
        sent=["/items?per_page=2&page=1", "/items?per_page=2&page=2"],
        pages=[["a", "b"]],
        paging=PAGE_NUMBER,
        error=r"^fake\.shop\.items: the API answered page=2 with the same page as before, so "
        r"it seems to ignore page; stopped",
    ),
    Case(
        "a known total: the other pages are fetched at once",
        answers={
            "/items?per_page=2&page=1": page("a", "b", meta={"pages": 3}),
            "/items?per_page=2&page=2": page("c", "d", meta={"pages": 3}),
            "/items?per_page=2&page=3": page("e", meta={"pages": 3}),
        },
        sent=["/items?per_page=2&page=1", "/items?per_page=2&page=2", "/items?per_page=2&page=3"],
        pages=[["a", "b"], ["c", "d"], ["e"]],
        paging=WITH_TOTAL,
        at_once=True,
    ),
    Case(
        "a known total of one page sends nothing more",
        answers={"/items?per_page=2&page=1": page("a", "b", meta={"pages": 1})},
        sent=["/items?per_page=2&page=1"],
        pages=[["a", "b"]],
        paging=WITH_TOTAL,
    ),
    Case(
        "an empty page inside a known total is an error",
        answers={
            "/items?per_page=2&page=1": page("a", "b", meta={"pages": 3}),
            "/items?per_page=2&page=2": page(meta={"pages": 3}),
            # No rows on page 3 either: whichever of the two arrives first, only page 1 is
            # yielded before the error.
            "/items?per_page=2&page=3": status(404),
        },
        sent=["/items?per_page=2&page=1", "/items?per_page=2&page=2", "/items?per_page=2&page=3"],
        pages=[["a", "b"]],
        paging=WITH_TOTAL,
        empty_on=(404,),
        at_once=True,
        error=r"^fake\.shop\.items: page 2 of 3 has an empty list at 'items'",
    ),
    Case(
        "a known total under a row limit: one by one, never past the total",
        answers={
            "/items?per_page=2&page=1": page("a", "b", meta={"pages": 2}),
            "/items?per_page=2&page=2": page("c", "d", meta={"pages": 2}),
        },
        sent=["/items?per_page=2&page=1", "/items?per_page=2&page=2"],
        pages=[["a", "b"], ["c", "d"]],
        paging=WITH_TOTAL,
        row_limit=100,
    ),
]


@cases(*PAGE_NUMBERS)
def test_page_number(case: Case) -> None:
    check(PaginationKind.PAGE_NUMBER, case)


# -- offset ---------------------------------------------------------------------------------

OFFSET = {"offset_param": "offset", "size_param": "limit", "page_size": 2}

OFFSETS = [
    Case(
        "offsets advance by the records received, until a short page",
        answers={
            "/items?limit=2&offset=0": page("a", "b"),
            "/items?limit=2&offset=2": page("c", "d"),
            "/items?limit=2&offset=4": page("e"),
        },
        sent=["/items?limit=2&offset=0", "/items?limit=2&offset=2", "/items?limit=2&offset=4"],
        pages=[["a", "b"], ["c", "d"], ["e"]],
        paging=OFFSET,
    ),
    Case(
        "an empty page ends the pages and is not yielded",
        answers={"/items?limit=2&offset=0": page("a", "b"), "/items?limit=2&offset=2": page()},
        sent=["/items?limit=2&offset=0", "/items?limit=2&offset=2"],
        pages=[["a", "b"]],
        paging=OFFSET,
    ),
    Case(
        "no records at all yields no page",
        answers={"/items?limit=2&offset=0": page()},
        sent=["/items?limit=2&offset=0"],
        pages=[],
        paging=OFFSET,
    ),
    Case(
        "a limit the statement binds is the page size",
        answers={
            "/items?limit=3&offset=0": page("a", "b", "c"),
            "/items?limit=3&offset=3": page("d", "e"),
        },
        sent=["/items?limit=3&offset=0", "/items?limit=3&offset=3"],
        pages=[["a", "b", "c"], ["d", "e"]],
        paging=OFFSET,
        query=(("limit", "3"),),
    ),
    Case(
        "a row limit stops once reached",
        answers={"/items?limit=2&offset=0": page("a", "b"), "/items?limit=2&offset=2": page("c")},
        sent=["/items?limit=2&offset=0"],
        pages=[["a", "b"]],
        paging=OFFSET,
        row_limit=2,
    ),
    Case(
        "the same page again means the param is ignored",
        answers={
            "/items?limit=2&offset=0": page("a", "b"),
            "/items?limit=2&offset=2": page("a", "b"),
        },
        sent=["/items?limit=2&offset=0", "/items?limit=2&offset=2"],
        pages=[["a", "b"]],
        paging=OFFSET,
        error=r"answered offset=2 with the same page as before, so it seems to ignore offset",
    ),
    Case(
        "a status the method accepts on a later page ends the pages",
        answers={"/items?limit=2&offset=0": page("a", "b"), "/items?limit=2&offset=2": status(404)},
        sent=["/items?limit=2&offset=0", "/items?limit=2&offset=2"],
        pages=[["a", "b"]],
        paging=OFFSET,
        empty_on=(404,),
    ),
]


@cases(*OFFSETS)
def test_offset(case: Case) -> None:
    check(PaginationKind.OFFSET, case)


# -- next_url -------------------------------------------------------------------------------

NEXT_URL = {"next_url_path": ("links", "next"), "size_param": "per_page", "page_size": 2}

NEXT_URLS = [
    Case(
        "the link is followed as given, until there is none",
        answers={
            "/items?per_page=2": page("a", "b", links={"next": BASE + "/items?start=2"}),
            "/items?start=2": page("c", "d", links={"next": BASE + "/items?start=4"}),
            "/items?start=4": page("e", links={}),
        },
        sent=["/items?per_page=2", "/items?start=2", "/items?start=4"],
        pages=[["a", "b"], ["c", "d"], ["e"]],
        paging=NEXT_URL,
    ),
    Case(
        "a relative link is resolved against the current page",
        answers={
            "/items?per_page=2": page("a", "b", links={"next": "/v2/items?after=b"}),
            "/v2/items?after=b": page("c", links={"next": "more?after=c"}),
            "/v2/more?after=c": page("d"),
        },
        sent=["/items?per_page=2", "/v2/items?after=b", "/v2/more?after=c"],
        pages=[["a", "b"], ["c"], ["d"]],
        paging=NEXT_URL,
    ),
    Case(
        "a link to another host is fetched from the first page's server",
        answers={
            "/items?per_page=2": page("a", "b", links={"next": ELSEWHERE + "/items?start=2"}),
            "/items?start=2": page("c"),
        },
        sent=["/items?per_page=2", "/items?start=2"],
        pages=[["a", "b"], ["c"]],
        paging=NEXT_URL,
    ),
    Case(
        "an empty or null link ends the pages",
        answers={
            "/items?per_page=2": page("a", links={"next": ""}),
        },
        sent=["/items?per_page=2"],
        pages=[["a"]],
        paging=NEXT_URL,
    ),
    Case(
        "a row limit stops before the next link",
        answers={"/items?per_page=2": page("a", "b", links={"next": BASE + "/items?start=2"})},
        sent=["/items?per_page=2"],
        pages=[["a", "b"]],
        paging=NEXT_URL,
        row_limit=2,
    ),
    Case(
        "a link seen before is an error, not a loop",
        answers={
            "/items?per_page=2": page("a", "b", links={"next": BASE + "/items?start=2"}),
            "/items?start=2": page("c", "d", links={"next": BASE + "/items?start=2"}),
        },
        sent=["/items?per_page=2", "/items?start=2"],
        pages=[["a", "b"], ["c", "d"]],
        paging=NEXT_URL,
        error=r"^fake\.shop\.items: the API sent the same next-page pointer twice "
        r"\(http://api\.test/items\?start=2\); stopped to avoid an endless loop",
    ),
]


@cases(*NEXT_URLS)
def test_next_url(case: Case) -> None:
    check(PaginationKind.NEXT_URL, case)


# -- link_header ----------------------------------------------------------------------------

LINK = {"size_param": "per_page", "page_size": 2}


def linked(*items: str, **rels: str) -> Answer:
    """A page whose Link header names ``rels`` (rel → URL)."""
    links = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in rels.items())
    return page(*items, headers={"Link": links} if links else {})


LINK_HEADERS = [
    Case(
        "the rel=next link is followed, until there is none",
        answers={
            "/items?per_page=2": linked("a", "b", next=BASE + "/items?page=2", last="/x"),
            "/items?page=2": linked("c", "d", prev="/items", next=BASE + "/items?page=3"),
            "/items?page=3": linked("e", prev=BASE + "/items?page=2"),
        },
        sent=["/items?per_page=2", "/items?page=2", "/items?page=3"],
        pages=[["a", "b"], ["c", "d"], ["e"]],
        paging=LINK,
    ),
    Case(
        "no Link header at all is the last page",
        answers={"/items?per_page=2": linked("a")},
        sent=["/items?per_page=2"],
        pages=[["a"]],
        paging=LINK,
    ),
    Case(
        "a link to another host is fetched from the first page's server",
        answers={
            "/items?per_page=2": linked("a", "b", next=ELSEWHERE + "/items?page=2"),
            "/items?page=2": linked("c"),
        },
        sent=["/items?per_page=2", "/items?page=2"],
        pages=[["a", "b"], ["c"]],
        paging=LINK,
    ),
    Case(
        "a row limit stops before the next link",
        answers={"/items?per_page=1": linked("a", next=BASE + "/items?page=2")},
        sent=["/items?per_page=1"],
        pages=[["a"]],
        paging=LINK,
        row_limit=1,
    ),
    Case(
        "a link seen before is an error, not a loop",
        answers={
            "/items?per_page=2": linked("a", "b", next=BASE + "/items?page=2"),
            "/items?page=2": linked("c", "d", next=BASE + "/items?page=2"),
        },
        sent=["/items?per_page=2", "/items?page=2"],
        pages=[["a", "b"], ["c", "d"]],
        paging=LINK,
        error=r"same next-page pointer twice \(http://api\.test/items\?page=2\)",
    ),
]


@cases(*LINK_HEADERS)
def test_link_header(case: Case) -> None:
    check(PaginationKind.LINK_HEADER, case)


# -- token ----------------------------------------------------------------------------------

TOKEN = {"token_path": ("next",), "token_param": "cursor", "size_param": "per_page", "page_size": 2}
TOKEN_HEADER = {**TOKEN, "token_path": (), "token_header": "X-Next-Token"}

TOKENS = [
    Case(
        "the token from the body is sent back, until there is none",
        answers={
            "/items?per_page=2": page("a", "b", next="t2"),
            "/items?per_page=2&cursor=t2": page("c", "d", next="t3"),
            "/items?per_page=2&cursor=t3": page("e", next=None),
        },
        sent=["/items?per_page=2", "/items?per_page=2&cursor=t2", "/items?per_page=2&cursor=t3"],
        pages=[["a", "b"], ["c", "d"], ["e"]],
        paging=TOKEN,
    ),
    Case(
        "the token from a header, named in any case",
        answers={
            "/items?per_page=2": page("a", "b", headers={"x-next-token": "t2"}),
            "/items?per_page=2&cursor=t2": page("c"),
        },
        sent=["/items?per_page=2", "/items?per_page=2&cursor=t2"],
        pages=[["a", "b"], ["c"]],
        paging=TOKEN_HEADER,
    ),
    Case(
        "an empty token ends the pages",
        answers={"/items?per_page=2": page("a", "b", next="")},
        sent=["/items?per_page=2"],
        pages=[["a", "b"]],
        paging=TOKEN,
    ),
    Case(
        "a token that is a number is sent as text",
        answers={
            "/items?per_page=2": page("a", "b", next=0),
            "/items?per_page=2&cursor=0": page("c"),
        },
        sent=["/items?per_page=2", "/items?per_page=2&cursor=0"],
        pages=[["a", "b"], ["c"]],
        paging=TOKEN,
    ),
    Case(
        "the statement's other params go with every page",
        answers={
            "/items?status=done&per_page=2": page("a", "b", next="t2"),
            "/items?status=done&per_page=2&cursor=t2": page("c"),
        },
        sent=["/items?status=done&per_page=2", "/items?status=done&per_page=2&cursor=t2"],
        pages=[["a", "b"], ["c"]],
        paging=TOKEN,
        query=(("status", "done"),),
    ),
    Case(
        "a row limit stops before the next token",
        answers={"/items?per_page=2": page("a", "b", next="t2")},
        sent=["/items?per_page=2"],
        pages=[["a", "b"]],
        paging=TOKEN,
        row_limit=2,
    ),
    Case(
        "a token seen before is an error, not a loop",
        answers={
            "/items?per_page=2": page("a", "b", next="t2"),
            "/items?per_page=2&cursor=t2": page("c", "d", next="t2"),
        },
        sent=["/items?per_page=2", "/items?per_page=2&cursor=t2"],
        pages=[["a", "b"], ["c", "d"]],
        paging=TOKEN,
        error=r"^fake\.shop\.items: the API sent the same next-page pointer twice \(t2\)",
    ),
]


@cases(*TOKENS)
def test_token(case: Case) -> None:
    check(PaginationKind.TOKEN, case)


# -- the table itself -----------------------------------------------------------------------


def test_every_kind_has_a_strategy_and_a_case_table() -> None:
    tables = {
        PaginationKind.NONE: NONE,
        PaginationKind.PAGE_NUMBER: PAGE_NUMBERS,
        PaginationKind.OFFSET: OFFSETS,
        PaginationKind.NEXT_URL: NEXT_URLS,
        PaginationKind.LINK_HEADER: LINK_HEADERS,
        PaginationKind.TOKEN: TOKENS,
    }
    assert set(STRATEGIES) == set(PaginationKind) == set(tables)
    assert all(callable(strategy) for strategy in STRATEGIES.values())


def test_pagination_does_not_import_httpx() -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(pagination))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert imported and not any(name.split(".")[0] == "httpx" for name in imported)
