"""A small API on the emulator kit for what the fixture registry's ``lab`` providers describe
and the product emulators do not serve: every pagination StackQL declares (a token in the
query, the body or a header, Link headers, page numbers, OData next links), records under
each kind of objectKey, SCIM media types, nested and templated request bodies, server
variables in the path, and a route that says which credentials came.

Data is fixed: 25 widgets (ids 1..25), 23 people, 12 events.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sqlprovider.emulators.kit import EmulatorServer, json_response, with_recorder

PAGE = 10
SCIM = "application/scim+json"


def widget(n: int) -> dict[str, Any]:
    """Widget ``n``: an int64 id sent as text, a price, a flag, a time, a list, an object,
    and a shape that is one of two kinds (oneOf)."""
    shape: dict[str, Any] = {"radius": n} if n % 2 else {"side": n * 2}
    return {
        "id": str(1_000_000_000_000 + n),
        "name": f"widget-{n:02d}",
        "price": n * 1.5,
        "active": n % 3 != 0,
        "created": f"2025-05-{n:02d}T08:00:00Z",
        "tags": ["lab", f"t{n % 4}"],
        "meta": {"batch": n // 10},
        "shape": shape,
    }


WIDGETS = [widget(n) for n in range(1, 26)]
PEOPLE = [{"UserName": f"user{n}", "Age": 20 + n} for n in range(1, 24)]
EVENTS = [{"seq": n, "kind": "tick" if n % 2 else "tock"} for n in range(1, 13)]


def _page(items: list[Any], start: int) -> tuple[list[Any], int | None]:
    chunk = items[start : start + PAGE]
    following = start + PAGE
    return chunk, following if following < len(items) else None


async def list_widgets(request: Request) -> Response:
    """StackQL's default pagination: ``nextPageToken`` in the body, ``pageToken`` back."""
    start = int(request.query_params.get("pageToken") or 0)
    chunk, following = _page(WIDGETS, start)
    body: dict[str, Any] = {"widgets": chunk}
    if following is not None:
        body["nextPageToken"] = str(following)
    return json_response(body)


async def get_widget(request: Request) -> Response:
    found = [w for w in WIDGETS if w["id"] == request.path_params["id"]]
    return json_response(found[0]) if found else json_response({"error": "no such widget"}, 404)


async def create_widget(request: Request) -> Response:
    """Echoes what it was sent, so tests see the body (base fields included)."""
    body = json.loads(await request.body())
    return json_response({**body, "id": "1000000000099"}, 201)


async def search(request: Request) -> Response:
    """A read by POST, paged by a ``cursor`` body field and ``next_cursor``."""
    body = json.loads(await request.body() or b"{}")
    wanted = body.get("query", "")
    matches = [w for w in WIDGETS if wanted in w["name"]]
    chunk, following = _page(matches, int(body.get("cursor") or 0))
    return json_response({"results": chunk, "next_cursor": following})


async def feed(request: Request) -> Response:
    """A root list paged by headers: ``X-Cursor`` in, ``X-Next-Cursor`` out."""
    chunk, following = _page(WIDGETS, int(request.headers.get("x-cursor") or 0))
    headers = {"X-Next-Cursor": str(following)} if following is not None else {}
    return json_response(chunk, headers=headers)


async def events(request: Request) -> Response:
    """A root list paged by RFC 5988 Link headers."""
    start = int(request.query_params.get("start") or 0)
    chunk, following = _page(EVENTS, start)
    headers = {}
    if following is not None:
        headers["Link"] = f'<{request.url.path}?start={following}>; rel="next"'
    return json_response(chunk, headers=headers)


async def pages(request: Request) -> Response:
    """Page numbers that say how many there are (Cloudflare's result_info)."""
    number = int(request.query_params.get("page") or 1)
    total = -(-len(WIDGETS) // PAGE)
    chunk = WIDGETS[(number - 1) * PAGE : number * PAGE]
    info = {"page": number, "total_pages": total}
    return json_response({"result": chunk, "result_info": info})


async def people(request: Request) -> Response:
    """OData: ``value`` and ``@odata.nextLink``."""
    start = int(request.query_params.get("$skiptoken") or 0)
    top = int(request.query_params.get("$top") or PAGE)
    chunk = PEOPLE[start : start + top]
    body: dict[str, Any] = {"value": chunk}
    if start + top < len(PEOPLE):
        body["@odata.nextLink"] = f"{request.url.path}?$skiptoken={start + top}&$top={top}"
    return json_response(body)


async def graph(request: Request) -> Response:
    """GraphQL-style connection: records under ``data.users.edges[*].node``."""
    edges = [{"cursor": p["UserName"], "node": p} for p in PEOPLE[:5]]
    return json_response({"data": {"users": {"edges": edges, "pageInfo": {"hasNext": False}}}})


async def scim_users(request: Request) -> Response:
    """SCIM answers application/scim+json, and only to those who accept it."""
    if SCIM not in request.headers.get("accept", ""):
        return json_response({"detail": "accept application/scim+json"}, 406)
    resources = [{"userName": p["UserName"], "active": True} for p in PEOPLE[:3]]
    body = json.dumps({"totalResults": 3, "Resources": resources}).encode()
    return Response(body, media_type=SCIM)


async def scim_create(request: Request) -> Response:
    if request.headers.get("content-type", "").split(";")[0] != SCIM:
        return json_response({"detail": "send application/scim+json"}, 415)
    body = json.loads(await request.body())
    return Response(json.dumps({**body, "id": "u-1"}).encode(), status_code=201, media_type=SCIM)


async def gadgets(request: Request) -> Response:
    """Echoes the body (nested fields, templates)."""
    return json_response({"received": json.loads(await request.body() or b"null")})


async def regional(request: Request) -> Response:
    """Things of a region, under whichever base path the server variable chose."""
    base, region = request.path_params["base"], request.path_params["region"]
    what = request.path_params["what"]
    items = [{"region": region, "base": base, "what": what, "n": n} for n in (1, 2)]
    return json_response({"items": items})


async def report(request: Request) -> Response:
    return Response("<report><row>1</row></report>", media_type="application/xml")


def whoami(accepted: dict[str, dict[str, str]]) -> Callable[[Request], Any]:
    """Which of the accepted credential sets came (401 when none did)."""

    async def handle(request: Request) -> Response:
        for name, headers in accepted.items():
            if all(request.headers.get(k) == v for k, v in headers.items()):
                return json_response({"scheme": name})
        return json_response({"detail": "who are you?"}, 401)

    return handle


def create_app(accepted: dict[str, dict[str, str]] | None = None) -> Starlette:
    """The lab API; ``accepted``: scheme name → the headers that identify it on /whoami."""
    routes = [
        Route("/v1/widgets", list_widgets, methods=["GET"]),
        Route("/v1/widgets", create_widget, methods=["POST"]),
        Route("/v1/widgets/{id}", get_widget, methods=["GET"]),
        Route("/v1/search", search, methods=["POST"]),
        Route("/v1/feed", feed, methods=["GET"]),
        Route("/v1/events", events, methods=["GET"]),
        Route("/v1/pages", pages, methods=["GET"]),
        Route("/v1/people", people, methods=["GET"]),
        Route("/v1/graph", graph, methods=["GET"]),
        Route("/scim/v2/Users", scim_users, methods=["GET"]),
        Route("/scim/v2/Users", scim_create, methods=["POST"]),
        Route("/v1/gadgets", gadgets, methods=["POST"]),
        Route("/v1/gadgets/reset", gadgets, methods=["POST"]),
        Route("/{base}/regions/{region}/{what}", regional, methods=["GET"]),
        Route("/v1/report", report, methods=["GET"]),
        Route("/v1/whoami", whoami(accepted or {}), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    return with_recorder(app, lambda status, message: {"detail": message})


def start(accepted: dict[str, dict[str, str]] | None = None) -> EmulatorServer:
    """The lab API on a free loopback port."""
    return EmulatorServer(create_app(accepted), name="lab").start()
