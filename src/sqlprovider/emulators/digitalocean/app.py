"""The DigitalOcean GenAI routes, over the state in ``state.py``.

Every route is in ``ROUTES``; the handlers find the account in ``request.app.state.do``. The
rate limits and bearer auth run before any route, in ``RateLimits.gate``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sqlprovider.emulators.digitalocean.state import (
    ERRORS,
    MAX_PER_PAGE,
    DigitalOceanConfig,
    DigitalOceanState,
)
from sqlprovider.emulators.kit import Gate, SlidingWindow, dumps, json_response, with_recorder

JOBS = "/v2/gen-ai/indexing_jobs"
KBS = "/v2/gen-ai/knowledge_bases"
KB_JOBS_CAP = 15  # the real API lists a knowledge base's latest 15 jobs, no more


def _error(status: int, request_id: str, message: str | None = None) -> dict[str, Any]:
    code, default = ERRORS.get(status, ("error", "Unexpected error"))
    return {"id": code, "message": message or default, "request_id": request_id}


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _state(request: Request) -> DigitalOceanState:
    state: DigitalOceanState = request.app.state.do
    return state


def error(request: Request, status: int, message: str | None = None) -> Response:
    """The API's error answer (``{id, message, request_id}``; a 429 asks to retry later)."""
    retry_after = _state(request).config.retry_after
    headers = {"retry-after": f"{retry_after:g}"} if status == 429 else None
    return json_response(
        _error(status, request.scope["state"]["request_id"], message), status, headers
    )


# -- pages -----------------------------------------------------------------------------------


def _page_args(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        per_page = int(request.query_params.get("per_page", "20"))
    except ValueError:
        raise _BadRequest("page and per_page must be integers") from None
    if page < 1 or per_page < 1:
        raise _BadRequest("page and per_page must be positive")
    return page, min(per_page, MAX_PER_PAGE)


def _envelope(
    request: Request,
    key: str,
    items: Callable[[int, int], list[bytes]],
    total: int,
    page: int,
    per_page: int,
) -> bytes:
    """One page of ``items`` under ``key``, with ``links.pages`` (absolute URLs) and
    ``meta``; the items are JSON already, so a page is a join."""
    pages = max(1, -(-total // per_page))
    chunk = items((page - 1) * per_page, page * per_page)
    base = f"{request.base_url}".rstrip("/") + request.url.path
    links: dict[str, str] = {}

    def link(number: int) -> str:
        return f"{base}?{urlencode({'page': number, 'per_page': per_page})}"

    if page > 1:
        links["first"] = link(1)
        links["previous"] = link(min(page - 1, pages))
    if page < pages:
        links["next"] = link(page + 1)
        links["last"] = link(pages)
    head = b'{"' + key.encode() + b'":[' + b",".join(chunk) + b"],"
    tail = dumps(
        {
            "links": {"pages": links} if links else {},
            "meta": {"page": page, "pages": pages, "total": total},
        }
    )
    return head + tail[1:]


def _listed(request: Request, key: str, items: list[bytes], page: tuple[int, int]) -> Response:
    body = _envelope(request, key, lambda a, b: items[a:b], len(items), *page)
    return json_response(body)


# -- request bodies --------------------------------------------------------------------------


async def _json_body(request: Request, optional: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if optional:
            return {}
        raise _BadRequest("the request body must be a JSON object")
    try:
        body = json.loads(raw)
    except ValueError:
        raise _BadRequest("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _BadRequest("the request body must be a JSON object")
    return body


def _strings(body: dict[str, Any], name: str) -> list[str]:
    """A list of strings in the body (absent or null: empty)."""
    values = body.get(name)
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _BadRequest(f"{name} must be a list of strings")
    return values


def _kb_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The knowledge base fields an update sends (the others stay as they are)."""
    fields: dict[str, Any] = {}
    for name in ("name", "project_id", "database_id"):
        if name in body:
            if not isinstance(body[name], str):
                raise _BadRequest(f"{name} must be a string")
            fields[name] = body[name]
    if "tags" in body:
        tags = body["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise _BadRequest("tags must be a list of strings")
        fields["tags"] = tags
    return fields


def _kb_view(state: DigitalOceanState, kb: dict[str, Any]) -> dict[str, Any]:
    view = dict(kb)
    latest = state.latest_job(kb["uuid"])
    if latest is not None:
        view["last_indexing_job"] = {
            k: latest[k] for k in ("uuid", "phase", "status", "created_at") if k in latest
        }
    return view


# -- indexing jobs ---------------------------------------------------------------------------


async def list_jobs(request: Request) -> Response:
    """Every job, newest first, a page at a time."""
    state = _state(request)
    page, per_page = _page_args(request)
    with state.lock:
        body = _envelope(request, "jobs", state.rendered_jobs, state.job_count(), page, per_page)
    return json_response(body)


async def get_job(request: Request) -> Response:
    """One job."""
    job = _state(request).job(request.path_params["uuid"])
    if job is None:
        return error(request, 404)
    return json_response({"job": job})


async def create_job(request: Request) -> Response:
    """Start a job over some (by default all) of a knowledge base's data sources."""
    state = _state(request)
    body = await _json_body(request)
    kb_uuid = body.get("knowledge_base_uuid")
    if not isinstance(kb_uuid, str):
        raise _BadRequest("knowledge_base_uuid must be a string")
    sources = _strings(body, "data_source_uuids")
    kb = state.kb_by_uuid.get(kb_uuid)
    if kb is None:
        return error(request, 404, f"knowledge base {kb_uuid} not found")
    known = [s["uuid"] for s in state.data_sources[kb_uuid]]
    unknown = [s for s in sources if s not in known]
    if unknown:
        raise _BadRequest(f"data source {unknown[0]} is not part of knowledge base {kb_uuid}")
    return json_response({"job": state.create_job(kb, sources or known)})


async def cancel_job(request: Request) -> Response:
    """Cancel a job that has not finished."""
    body = await _json_body(request, optional=True)
    if "uuid" in body and not isinstance(body["uuid"], str):
        raise _BadRequest("uuid must be a string")
    job = _state(request).cancel_job(request.path_params["uuid"])
    if job is None:
        return error(request, 404)
    return json_response({"job": job})


async def job_data_sources(request: Request) -> Response:
    """A job's indexed data sources."""
    job = _state(request).job(request.path_params["uuid"])
    if job is None:
        return error(request, 404)
    return json_response({"indexed_data_sources": job["data_source_jobs"]})


# -- knowledge bases -------------------------------------------------------------------------


async def list_kbs(request: Request) -> Response:
    """Every knowledge base, a page at a time, each with its latest job."""
    state = _state(request)
    page = _page_args(request)
    with state.lock:
        kbs = list(state.knowledge_bases)
    return _listed(request, "knowledge_bases", [dumps(_kb_view(state, kb)) for kb in kbs], page)


async def get_kb(request: Request) -> Response:
    """One knowledge base."""
    state = _state(request)
    kb = state.kb_by_uuid.get(request.path_params["uuid"])
    if kb is None:
        return error(request, 404)
    return json_response({"knowledge_base": _kb_view(state, kb), "database_status": "ONLINE"})


async def update_kb(request: Request) -> Response:
    """Change the fields sent; the others stay."""
    state = _state(request)
    fields = _kb_fields(await _json_body(request, optional=True))
    kb = state.update_knowledge_base(request.path_params["uuid"], fields)
    if kb is None:
        return error(request, 404)
    return json_response({"knowledge_base": _kb_view(state, kb)})


async def delete_kb(request: Request) -> Response:
    """Delete a knowledge base and its data sources (its jobs stay listed)."""
    kb_uuid = request.path_params["uuid"]
    if not _state(request).delete_knowledge_base(kb_uuid):
        return error(request, 404)
    return json_response({"uuid": kb_uuid})


async def delete_kb_data_source(request: Request) -> Response:
    """Remove a data source from a knowledge base."""
    kb_uuid = request.path_params["uuid"]
    source_uuid = request.path_params["source"]
    if not _state(request).delete_data_source(kb_uuid, source_uuid):
        return error(request, 404)
    return json_response({"knowledge_base_uuid": kb_uuid, "data_source_uuid": source_uuid})


async def kb_jobs(request: Request) -> Response:
    """A knowledge base's latest jobs, newest first, in one page."""
    state = _state(request)
    kb_uuid = request.path_params["uuid"]
    if kb_uuid not in state.kb_by_uuid:
        return error(request, 404)
    with state.lock:
        jobs = [state.job(u) for u in state.job_order()]
    latest = [j for j in jobs if j is not None and j["knowledge_base_uuid"] == kb_uuid]
    latest = latest[:KB_JOBS_CAP]
    meta = {"page": 1, "pages": 1, "total": len(latest)}
    return json_response({"jobs": latest, "links": {}, "meta": meta})


async def kb_data_sources(request: Request) -> Response:
    """A knowledge base's data sources, a page at a time."""
    sources = _state(request).data_sources.get(request.path_params["uuid"])
    if sources is None:
        return error(request, 404)
    page = _page_args(request)
    return _listed(request, "knowledge_base_data_sources", [dumps(s) for s in sources], page)


ROUTES = [
    Route(JOBS, list_jobs, methods=["GET"]),
    Route(JOBS, create_job, methods=["POST"]),
    Route(JOBS + "/{uuid}", get_job, methods=["GET"]),
    Route(JOBS + "/{uuid}/cancel", cancel_job, methods=["PUT"]),
    Route(JOBS + "/{uuid}/data_sources", job_data_sources, methods=["GET"]),
    Route(KBS, list_kbs, methods=["GET"]),
    Route(KBS + "/{uuid}", get_kb, methods=["GET"]),
    Route(KBS + "/{uuid}", update_kb, methods=["PUT"]),
    Route(KBS + "/{uuid}", delete_kb, methods=["DELETE"]),
    Route(KBS + "/{uuid}/data_sources/{source}", delete_kb_data_source, methods=["DELETE"]),
    Route(KBS + "/{uuid}/indexing_jobs", kb_jobs, methods=["GET"]),
    Route(KBS + "/{uuid}/data_sources", kb_data_sources, methods=["GET"]),
]


async def _not_found(request: Request, exc: Exception) -> Response:
    return error(request, 404)  # unknown paths and methods alike


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _BadRequest)
    return error(request, exc.status, str(exc))


class RateLimits:
    """The API's limits: ``hourly_limit`` requests in any hour, ``minute_limit`` in any
    minute, and the first ``burst_429`` requests refused, checked with auth before any
    route runs."""

    def __init__(self, config: DigitalOceanConfig, state: DigitalOceanState) -> None:
        self.config = config
        self.state = state
        self.burst_left = config.burst_429
        self.hourly = SlidingWindow(config.hourly_limit, 3600)
        self.per_minute = SlidingWindow(config.minute_limit, 60)

    def count(self, scope: Any) -> dict[str, str]:
        """Counts the request against both windows (the gate refuses it if over); the
        ``ratelimit-*`` headers every response carries."""
        refusal: float | None = None  # seconds for retry-after; -1: hourly, no retry-after
        if self.config.rate_limited:
            with self.state.lock:
                if not self.hourly.has_room():
                    refusal = -1
                elif not self.per_minute.has_room():
                    refusal = self.per_minute.seconds_until_room()
                else:
                    self.hourly.count()
                    self.per_minute.count()
        scope.setdefault("state", {})["rate_limit_refusal"] = refusal
        return {
            "ratelimit-limit": str(self.config.hourly_limit),
            "ratelimit-remaining": str(self.hourly.remaining()),
            "ratelimit-reset": str(int(self.hourly.reset_epoch())),
        }

    def gate(self, scope: Any) -> Response | None:
        """Rate limits and bearer auth, before any route runs."""
        request = Request(scope)
        if self.burst_left > 0:
            self.burst_left -= 1
            return error(request, 429)
        refusal = scope["state"].get("rate_limit_refusal")
        if refusal is not None:
            headers = {"retry-after": str(max(1, round(refusal)))} if refusal >= 0 else None
            return json_response(_error(429, scope["state"]["request_id"]), 429, headers)
        if request.headers.get("authorization") != f"Bearer {self.config.token}":
            return error(request, 401)
        return None


def create_app(config: DigitalOceanConfig | None = None) -> Starlette:
    """The emulator as an ASGI app; ``app.state.do`` is its state."""
    config = config or DigitalOceanConfig()
    state = DigitalOceanState(config)
    app = Starlette(
        routes=ROUTES,
        exception_handlers={404: _not_found, 405: _not_found, _BadRequest: _bad_request},
    )
    app.state.do = state
    limits = RateLimits(config, state)
    app.add_middleware(Gate, gate=limits.gate)
    return with_recorder(app, lambda status, rid: _error(status, rid), limits.count)
