"""The Amperity ingest jobs routes, over the state in ``state.py``.

Served both at the root and under ``/api``: the real base URL is ``https://app.amperity.com/api``
(or ``https://{tenant-id}.amperity.com/api``), so a provider may keep ``/api`` in its server URL
or in its paths, and either way the emulator's root URL stands in for the host. Every route is
in ``ROUTES``; the handlers find the tenant in ``request.app.state.amperity``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sqlprovider.emulators.amperity.state import (
    MAX_WINDOW,
    MESSAGES,
    AmperityConfig,
    AmperityState,
)
from sqlprovider.emulators.kit import Gate, TokenBucket, json_response, with_recorder

PREFIXES = ("", "/api")


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """The API's error body: ``{"status": ..., "message": ...}`` (the spec allows no more)."""
    return {"status": status, "message": message or MESSAGES.get(status, MESSAGES[500])}


def error(status: int, message: str | None = None) -> Response:
    """An error response with the API's body."""
    return json_response(error_body(status, message), status)


class _BadRequest(Exception):
    """A parameter is missing or invalid: answered 400 with its message."""


def parse_time(name: str, raw: str | None) -> datetime:
    """An ISO-8601 timestamp or partial one (``2024-10-01``); without an offset it is UTC."""
    if not raw:
        raise _BadRequest(f"Missing required query parameter: {name}")
    try:
        moment = datetime.fromisoformat(raw)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _BadRequest(
            f"Invalid value for {name}: {raw!r} is not an ISO-8601 timestamp "
            "(for example 2024-10-01 or 2024-10-01T00:00:00Z)"
        ) from None


def parse_bool(name: str, raw: str | None) -> bool:
    """``true`` or ``false`` (absent: false)."""
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    raise _BadRequest(f"Invalid value for {name}: {raw!r} is not a boolean (true or false)")


def _state(request: Request) -> AmperityState:
    state: AmperityState = request.app.state.amperity
    return state


async def list_jobs(request: Request) -> Response:
    """Every job that started in ``[created_from, created_to)``, in one response: the
    endpoint has no cursor, callers page by moving the window (at most 7 days)."""
    state = _state(request)
    params = request.query_params
    created_from = parse_time("created_from", params.get("created_from"))
    created_to = parse_time("created_to", params.get("created_to"))
    with_total = parse_bool("with_total", params.get("with_total"))
    if created_to < created_from:
        raise _BadRequest("created_to must not be earlier than created_from")
    if created_to - created_from > MAX_WINDOW:
        raise _BadRequest("The time window from created_from to created_to must not exceed 7 days")
    now = state.now()
    jobs = state.window(created_from, created_to)
    body = b'{"data":[' + b",".join(state.render(job, now) for job in jobs) + b"]"
    if with_total:
        body += b',"total":' + str(len(jobs)).encode()
    return json_response(body + b"}")


async def get_job(request: Request) -> Response:
    """One job, as a bare object."""
    state = _state(request)
    job_id = request.path_params["job_id"]
    job = state.by_id.get(job_id)
    if job is None:
        return error(404, f"Ingest job not found: {job_id}")
    return json_response(state.render(job))


ROUTES = [
    route
    for prefix in PREFIXES
    for route in (
        Route(f"{prefix}/ingest/jobs", list_jobs, methods=["GET"]),
        Route(f"{prefix}/ingest/jobs/{{job_id}}", get_job, methods=["GET"]),
    )
]


async def _not_found(request: Request, exc: Exception) -> Response:
    return error(404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return error(405)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return error(400, str(exc))


class Checks:
    """What the API checks before any route, in its order: the rate limit, the tenant and
    version headers, then the bearer token."""

    def __init__(self, config: AmperityConfig) -> None:
        self.config = config
        self.bucket = TokenBucket(config.rate, config.burst, clock=config.clock)
        self.bucket_lock = threading.Lock()

    def gate(self, scope: Any) -> Response | None:
        """The refusal of a request that fails a check; None lets it through."""
        if self.config.rate_limited:
            with self.bucket_lock:
                allowed = self.bucket.take()
            if not allowed:
                return error(429)  # no Retry-After or rate-limit headers: none are documented
        headers = Headers(scope=scope)
        refusal = self._headers(scope, headers)
        return refusal if refusal is not None else self._auth(headers)

    def _headers(self, scope: Any, headers: Headers) -> Response | None:
        config = self.config
        tenant = headers.get("amperity-tenant")
        if not tenant:
            return error(400, "Missing required header: amperity-tenant")
        if tenant != config.tenant:
            return error(400, f"Unknown tenant: {tenant}")
        version = headers.get("api-version")
        if not version:  # the version may come as a query parameter instead
            version = QueryParams(scope.get("query_string", b"")).get("api_version")
        if not version:
            return error(400, "Missing required header: api-version")
        if version not in config.api_versions:
            supported = ", ".join(config.api_versions)
            return error(400, f"Unsupported API version: {version}. Supported: {supported}")
        return None

    def _auth(self, headers: Headers) -> Response | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return error(401, "Authentication Required: no Bearer token was provided")
        if self.config.forbidden_token is not None and token == self.config.forbidden_token:
            return error(403, "Not Authorized: the API key may not read ingest jobs")
        if token != self.config.token:
            return error(401, "Authentication Required: the access token is invalid or expired")
        return None


def create_app(config: AmperityConfig | None = None) -> Starlette:
    """The emulator as an ASGI app; ``app.state.amperity`` is its state."""
    config = config or AmperityConfig()
    app = Starlette(
        routes=ROUTES,
        exception_handlers={404: _not_found, 405: _not_allowed, _BadRequest: _bad_request},
    )
    app.router.redirect_slashes = False  # a trailing slash is an unknown path, not a redirect
    app.state.amperity = AmperityState(config)
    app.add_middleware(Gate, gate=Checks(config).gate)
    return with_recorder(app, lambda status, request_id: error_body(status))
