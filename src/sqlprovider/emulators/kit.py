"""A small kit for API emulators: a real uvicorn server on loopback in a background thread,
a request log tests can read, and fault injection (error bursts, failing chosen requests).

The emulators stand in for real APIs; this package imports nothing else of sqlprovider.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

try:  # the fastest encoder available: emulators must not be what a benchmark measures
    import orjson

    def dumps(value: Any) -> bytes:
        """JSON bytes."""
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - orjson is optional

    def dumps(value: Any) -> bytes:
        """JSON bytes."""
        return json.dumps(value, separators=(",", ":")).encode()


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


@dataclass
class _Fault:
    method: str
    path: str
    status: int
    times: int
    headers: dict[str, str]


class Faults:
    """Failures to inject, consumed as matching requests arrive."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``times`` requests ``method path`` with ``status``.

        ``path`` ``*`` matches every path.
        """
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        with self._lock:
            self._faults.append(_Fault(method.upper(), path, status, times, headers))

    def take(self, method: str, path: str) -> _Fault | None:
        """The fault for this request, if one is due (it is used up by one)."""
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method in (method, "*") and fault.path in (path, "*"):
                    fault.times -= 1
                    return fault
        return None


ErrorBody = Callable[[int, str], Any]
ExtraHeaders = Callable[[Scope], dict[str, str]]


def _no_headers(scope: Scope) -> dict[str, str]:
    return {}


class SlidingWindow:
    """A rate limit where each request counts for ``window`` seconds after it was made.

    Not thread-safe: callers hold their own lock. ``clock`` is epoch seconds.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._times: deque[float] = deque()

    def _expire(self) -> float:
        now = self.clock()
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        return now

    def has_room(self) -> bool:
        """Whether one more request fits now."""
        self._expire()
        return len(self._times) < self.limit

    def count(self) -> None:
        """Count a request made now."""
        self._times.append(self._expire())

    def remaining(self) -> int:
        """Requests that still fit now."""
        self._expire()
        return max(self.limit - len(self._times), 0)

    def reset_epoch(self) -> float:
        """When the oldest counted request stops counting (now, if none counts)."""
        now = self._expire()
        return self._times[0] + self.window if self._times else now

    def seconds_until_room(self) -> float:
        """How long until one more request fits."""
        now = self._expire()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[len(self._times) - self.limit] + self.window - now


class TokenBucket:
    """A rate limit of ``rate`` requests a second with bursts up to ``burst``.

    Not thread-safe: callers hold their own lock. ``clock`` is monotonic seconds.
    """

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else rate
        self.clock = clock
        self._tokens = self.burst
        self._at = clock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def take(self) -> bool:
        """Spend a token if one is there; whether the request may go on."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def seconds_until_token(self) -> float:
        """How long until a token is there."""
        self._refill()
        return max(0.0, (1 - self._tokens) / self.rate)


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
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        for name in [n for n in headers if _is_secret_header(n)]:
            value = headers[name]
            scheme = value.split(" ", 1)[0] if " " in value else ""
            headers[name] = f"{scheme} ***".strip()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        entry = LoggedRequest(
            scope["method"], scope["path"], scope.get("query_string", b"").decode(), headers, parsed
        )
        self.log.add(entry)
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [(b"x-request-id", request_id.encode())]
        extra.extend((k.encode(), v.encode()) for k, v in self.extra_headers(scope).items())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        fault = self.faults.take(scope["method"], scope["path"])
        if fault is not None:
            response = json_response(
                self.error_body(fault.status, request_id), fault.status, fault.headers
            )
            await response(scope, receive, send_with_headers)
            return

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send_with_headers)


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
