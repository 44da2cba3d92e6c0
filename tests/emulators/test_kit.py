"""The emulator kit: its rate limiters, on a clock the tests move by hand, and its fault
layer, on a small app served on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sqlprovider.emulators.kit import (
    EmulatorServer,
    SlidingWindow,
    TokenBucket,
    json_response,
    with_recorder,
)
from tests.conftest import Clock


def test_sliding_window_frees_each_request_a_window_after_it() -> None:
    clock = Clock()
    window = SlidingWindow(limit=2, window=60, clock=clock)
    window.count()
    clock.now += 10
    window.count()
    assert not window.has_room() and window.remaining() == 0
    assert window.seconds_until_room() == pytest.approx(50)
    assert window.reset_epoch() == pytest.approx(clock.now + 50)
    clock.now += 50
    assert window.has_room() and window.remaining() == 1
    clock.now += 10
    assert window.remaining() == 2 and window.reset_epoch() == clock.now


def test_token_bucket_allows_bursts_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.seconds_until_token() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.take() and not bucket.take()
    clock.now += 5  # refills, but never past the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


# The fault layer, on a tiny app served for real on loopback.


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    """An app with a JSON list and a counter of POSTs that reached it."""
    posts: list[Any] = []

    async def items(request: Request) -> Response:
        page = int(request.query_params.get("page", "1"))
        return json_response({"items": [{"id": page, "n": 1}], "meta": {"page": page}})

    async def create(request: Request) -> Response:
        posts.append(await request.json())
        return json_response({"created": len(posts)})

    app = Starlette(
        routes=[Route("/items", items, methods=["GET"]), Route("/items", create, methods=["POST"])]
    )
    app.state.posts = posts
    with EmulatorServer(
        with_recorder(app, lambda status, rid: {"error": status, "id": rid})
    ) as running:
        yield running


def get(server: EmulatorServer, query: str = "", timeout: float = 5.0) -> httpx.Response:
    return httpx.get(f"{server.url}/items{query}", timeout=timeout)


def test_fail_answers_the_error_body_with_and_without_retry_after(server: EmulatorServer) -> None:
    server.faults.fail("GET", "/items", status=429, times=1, retry_after=0.1)
    server.faults.fail("GET", "/items", status=503, times=1)
    first, second, third = get(server), get(server), get(server)
    assert (first.status_code, first.headers["retry-after"]) == (429, "0.1")
    assert first.json() == {"error": 429, "id": first.headers["x-request-id"]}
    assert second.status_code == 503 and "retry-after" not in second.headers
    assert third.status_code == 200
    assert [e.fault for e in server.log.entries()] == ["status", "status", None]


def test_query_matches_parameters_not_substrings(server: EmulatorServer) -> None:
    fault = server.faults.fail("GET", "/items", status=500, times=None, query="page=3")
    assert get(server, "?per_page=3").status_code == 200  # no page=3 parameter
    assert get(server, "?page=30").status_code == 200
    assert get(server, "?per_page=9&page=3").status_code == 500
    assert get(server, "?page=3").status_code == 500  # times=None: every match
    assert fault.hits == 2 and fault.due
    server.faults.clear()
    assert get(server, "?page=3").status_code == 200 and server.faults.pending() == []


def test_first_fault_added_wins_and_each_is_used_up(server: EmulatorServer) -> None:
    a = server.faults.fail("*", "*", status=502, times=1)
    b = server.faults.fail("GET", "/items", status=504, times=1)
    assert [get(server).status_code for _ in range(3)] == [502, 504, 200]
    assert (a.hits, b.hits, a.times, b.times) == (1, 1, 0, 0)
    with pytest.raises(ValueError, match="times"):
        server.faults.reset("GET", "/items", times=-1)


def test_reset_drops_the_connection_without_an_answer(server: EmulatorServer) -> None:
    server.faults.reset("GET", "/items")
    with pytest.raises(httpx.TransportError):
        get(server)
    assert get(server).status_code == 200  # the server is fine afterwards
    first, second = server.log.entries()
    assert (first.fault, first.status) == ("reset", None)
    assert second.status == 200


def test_reset_after_app_applies_the_write_and_loses_the_answer(server: EmulatorServer) -> None:
    server.faults.reset("POST", "/items", after_app=True)
    server.faults.reset("POST", "/items")
    for _ in range(2):
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{server.url}/items", json={"a": 1})
    assert server.app.state.posts == [{"a": 1}]  # the first reached the app, the second not


def test_delay_holds_the_answer_and_the_server_stays_responsive(server: EmulatorServer) -> None:
    server.faults.delay("GET", "/items", seconds=0.5, query={"page": 2})
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        get(server, "?page=2", timeout=0.1)
    assert get(server, "?page=1").status_code == 200  # not blocked by the held request
    assert time.monotonic() - started < 0.4
    server.faults.delay("GET", "/items", seconds=0.2)
    started = time.monotonic()
    assert get(server).json()["items"] == [{"id": 1, "n": 1}]
    assert time.monotonic() - started >= 0.2


def test_truncate_and_garble_answer_200_with_a_body_that_is_not_json(
    server: EmulatorServer,
) -> None:
    whole = get(server).content
    server.faults.truncate("GET", "/items", keep=10)
    server.faults.truncate("GET", "/items", keep=0.5)
    server.faults.garble("GET", "/items")
    cut, half, garbled = get(server), get(server), get(server)
    assert (cut.status_code, cut.content) == (200, whole[:10])
    assert int(cut.headers["content-length"]) == 10
    assert half.content == whole[: len(whole) // 2]
    assert garbled.status_code == 200 and garbled.content.startswith(b"<html>")
    assert garbled.headers["content-type"] == "application/json"
    for response in (cut, half, garbled):
        with pytest.raises(ValueError):
            response.json()


def test_transform_rewrites_the_json_in_place_or_by_return(server: EmulatorServer) -> None:
    def drop_n(doc: Any) -> None:
        del doc["items"][0]["n"]

    server.faults.transform("GET", "/items", drop_n)
    server.faults.transform("GET", "/items", lambda doc: {**doc, "items": []}, query="page=2")
    assert get(server).json()["items"] == [{"id": 1}]
    assert get(server, "?page=2").json() == {"items": [], "meta": {"page": 2}}
    assert get(server, "?page=2").json()["items"] == [{"id": 2, "n": 1}]  # used up
