"""A small kit for API emulators: a real uvicorn server on loopback in a background thread,
a request log tests can read, and fault injection shared by every emulator: error statuses
(with or without Retry-After), connection resets, slow answers, truncated, cut-off or
non-JSON bodies and a hook that rewrites the JSON of an answer (schema drift, empty or looping
pages), each for requests matching a method, a path and optionally query parameters.

The emulators stand in for real APIs; this package imports nothing else of sqlprovider.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response

from sqlprovider.emulators.faults import (
    GARBLED,
    Cut,
    Fault,
    Faults,
    Rewrite,
    Transform,
    drop_connection,
    hold,
)
from sqlprovider.emulators.limits import SlidingWindow, TokenBucket
from sqlprovider.emulators.wire import ASGIApp, Message, Receive, Scope, Send, dumps

__all__ = [
    "GARBLED",
    "ASGIApp",
    "EmulatorServer",
    "Fault",
    "Faults",
    "Gate",
    "LoggedRequest",
    "Recorder",
    "RequestLog",
    "SlidingWindow",
    "TokenBucket",
    "Transform",
    "dumps",
    "free_port",
    "json_response",
    "with_recorder",
]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response from data, or from bytes already rendered."""
    content = body if isinstance(body, bytes) else dumps(body)
    return Response(content, status_code=status, headers=headers, media_type="application/json")


@dataclass
class LoggedRequest:
    """One request an emulator received, with credentials redacted."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    json: Any
    status: int | None = None
    time: float = field(default_factory=time.time)
    fault: str | None = None  # the kind of the fault injected into it, if any


class RequestLog:
    """Every request an emulator received, for tests (thread-safe)."""

    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def add(self, entry: LoggedRequest) -> None:
        """Record a request."""
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        """A copy of the entries so far."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


ErrorBody = Callable[[int, str], Any]
ExtraHeaders = Callable[[Scope], dict[str, str]]


def _no_headers(scope: Scope) -> dict[str, str]:
    return {}


class Gate:
    """ASGI middleware that may answer a request before the app sees it (auth, limits)."""

    def __init__(self, app: ASGIApp, gate: Callable[[Scope], Response | None]) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = self.gate(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_secret_header(name: str) -> bool:
    """Headers that carry credentials (``Authorization``, ``X-Onyx-Authorization``,
    ``X-Api-Key``, cookies): the request log keeps only their scheme."""
    return name.endswith("authorization") or name in ("x-api-key", "cookie", "api-key")


class Recorder:
    """ASGI middleware: records requests, injects faults, adds headers to every response."""

    def __init__(
        self,
        app: ASGIApp,
        log: RequestLog,
        faults: Faults,
        error_body: ErrorBody,
        extra_headers: ExtraHeaders = _no_headers,
    ) -> None:
        self.app = app
        self.log = log
        self.faults = faults
        self.error_body = error_body
        self.extra_headers = extra_headers
        self._counter = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self._lock:
            self._counter += 1
            request_id = f"req-{self._counter:08d}"
        body = await _read_body(receive)
        entry = _logged(scope, body)
        self.log.add(entry)
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [(b"x-request-id", request_id.encode())]
        extra.extend((k.encode(), v.encode()) for k, v in self.extra_headers(scope).items())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        fault = self.faults.take(scope["method"], scope["path"], entry.query)
        if fault is None:
            await self.app(scope, _replay(body), send_with_headers)
            return
        entry.fault = fault.kind
        if fault.kind == "reset":  # no answer at all: not even the headers above
            await self._reset(fault, scope, receive, send, body)
        elif fault.kind == "cut":  # the answer begins, then the connection drops
            await self.app(scope, _replay(body), Cut(fault, send_with_headers, receive).send)
        else:
            await self._inject(fault, scope, receive, send_with_headers, body, request_id)

    async def _inject(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, body: bytes, rid: str
    ) -> None:
        """Answer the request as ``fault`` says (``send`` adds the usual headers)."""
        if fault.kind == "status":
            error = self.error_body(fault.status, rid)
            await json_response(error, fault.status, fault.headers)(scope, receive, send)
        elif fault.kind == "garble":
            await json_response(fault.body)(scope, receive, send)
        elif fault.kind in ("truncate", "transform"):
            await self.app(scope, _replay(body), Rewrite(fault, send).send)
        elif fault.kind == "delay" and not await hold(fault.seconds, receive):
            return  # the client gave up waiting: nobody to answer
        else:
            await self.app(scope, _replay(body), send)

    async def _reset(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, body: bytes
    ) -> None:
        """Drop the connection; with ``after_app`` the app acts first, its answer is lost."""
        if fault.after_app:

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, _replay(body), discard)
        await drop_connection(receive, send)


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (the app gets it again through ``_replay``)."""
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _logged(scope: Scope, body: bytes) -> LoggedRequest:
    """The log entry of a request, its credentials reduced to their scheme."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    for name in [n for n in headers if _is_secret_header(n)]:
        value = headers[name]
        scheme = value.split(" ", 1)[0] if " " in value else ""
        headers[name] = f"{scheme} ***".strip()
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = body.decode("utf-8", "replace")
    query = scope.get("query_string", b"").decode()
    return LoggedRequest(scope["method"], scope["path"], query, headers, parsed)


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the app the body read already."""

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def with_recorder(
    app: Starlette, error_body: ErrorBody, extra_headers: ExtraHeaders = _no_headers
) -> Starlette:
    """Wrap ``app`` in a Recorder; its log and faults are ``app.state.log``/``.faults``.

    ``extra_headers(scope)`` runs as each request arrives, before faults and the app; the
    headers it returns go on the response (rate-limit counters, for example)."""
    app.state.log = RequestLog()
    app.state.faults = Faults()
    app.add_middleware(
        Recorder,
        log=app.state.log,
        faults=app.state.faults,
        error_body=error_body,
        extra_headers=extra_headers,
    )
    return app


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmulatorServer:
    """Serves an emulator app with uvicorn on loopback, in a background thread.

    Args:
        app: the emulator (built with ``with_recorder``).
        host: the address to listen on.
        port: the port; 0 picks a free one.
        name: the provider it stands in for.
        token: the credential it accepts, if any.
    """

    def __init__(
        self,
        app: Starlette,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "",
        token: str | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        self.name = name
        self.token = token
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    @property
    def log(self) -> RequestLog:
        """Every request received."""
        log: RequestLog = self.app.state.log
        return log

    @property
    def faults(self) -> Faults:
        """Failures to inject."""
        faults: Faults = self.app.state.faults
        return faults

    def start(self) -> EmulatorServer:
        """Start serving; returns once the server accepts connections."""
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name=f"emulator-{self.name}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the {self.name or 'emulator'} server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
