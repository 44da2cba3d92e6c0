"""Fault injection shared by every emulator: error statuses (with or without Retry-After),
connection resets, slow answers, truncated or non-JSON bodies, and a hook that rewrites
the JSON of an answer (schema drift, empty or looping pages), each for requests matching a
method, a path and optionally query parameters; and answers cut off mid-body (the
announced Content-Length never arrives: a download that breaks off half-way)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from sqlprovider.emulators.wire import Message, Receive, Send, dumps

FaultKind = Literal["status", "reset", "delay", "truncate", "cut", "garble", "transform"]
Transform = Callable[[Any], Any]
GARBLED = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass
class Fault:
    """One injected failure: what it matches, what it does, how often.

    Attributes:
        method: the HTTP method it matches (``*``: any).
        path: the path it matches (``*``: any).
        kind: ``status`` (an error answer), ``reset`` (the connection closed without an
            answer), ``delay`` (the answer held back ``seconds``), ``truncate`` (a 200 whose
            body is cut to ``keep`` bytes), ``cut`` (the app's answer announced whole, the
            connection closed after ``keep`` bytes and ``seconds`` of silence), ``garble``
            (a 200 whose body is ``body``, not JSON) or ``transform`` (a 200 whose JSON went
            through ``transform``).
        times: matching requests it still affects; ``None``: every one.
        query: query parameters the request must carry (others may be there too).
        after_app: for ``reset``: the app handles the request before the connection drops.
        hits: matching requests it affected so far.
    """

    method: str
    path: str
    status: int
    times: int | None
    headers: dict[str, str]
    kind: FaultKind = "status"
    query: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    keep: int | float = 0.5
    body: bytes = GARBLED
    transform: Transform | None = None
    after_app: bool = False
    hits: int = 0

    def matches(self, method: str, path: str, query: str) -> bool:
        """Whether a request ``method path?query`` is one this fault is for."""
        if self.method not in (method, "*") or self.path not in (path, "*"):
            return False
        if not self.query:
            return True
        present = set(parse_qsl(query, keep_blank_values=True))
        return all(pair in present for pair in self.query)

    @property
    def due(self) -> bool:
        """Whether it still affects requests."""
        return self.times is None or self.times > 0


def _query_pairs(query: str | Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    if query is None:
        return ()
    if isinstance(query, str):
        return tuple(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    return tuple((str(k), str(v)) for k, v in query.items())


class Faults:
    """Failures to inject, consumed as matching requests arrive (thread-safe).

    Every kind takes ``method`` and ``path`` (``*`` matches any), ``times`` (how many
    matching requests it affects; ``None``: all of them, until ``clear``) and ``query``
    (``"page=3"`` or ``{"page": 3}``: only requests whose query string carries those
    parameters with those values). Each returns its ``Fault``, whose ``hits`` counts the
    requests it affected. When several faults match a request, the one added first wins;
    a request matches at most one fault.
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def _add(
        self,
        method: str,
        path: str,
        times: int | None,
        query: str | Mapping[str, Any] | None,
        **fields: Any,
    ) -> Fault:
        if times is not None and times < 0:
            raise ValueError("times must be None or at least 0")
        fields.setdefault("status", 200)
        fields.setdefault("headers", {})
        fault = Fault(method.upper(), path, times=times, query=_query_pairs(query), **fields)
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int,
        times: int | None = 1,
        retry_after: float | None = None,
        query: str | Mapping[str, Any] | None = None,
    ) -> Fault:
        """Answer the next ``times`` matching requests with ``status`` and the API's error
        body (``Retry-After: retry_after`` when given)."""
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        return self._add(method, path, times, query, status=status, headers=headers)

    def reset(
        self,
        method: str,
        path: str,
        *,
        times: int | None = 1,
        query: str | Mapping[str, Any] | None = None,
        after_app: bool = False,
    ) -> Fault:
        """Close the connection of the next ``times`` matching requests without an answer.

        The app never sees the request, unless ``after_app``: then it acts on it (a write
        takes effect) and only its answer is lost, as when a network fails mid-answer."""
        return self._add(method, path, times, query, kind="reset", after_app=after_app)

    def delay(
        self,
        method: str,
        path: str,
        *,
        seconds: float,
        times: int | None = 1,
        query: str | Mapping[str, Any] | None = None,
    ) -> Fault:
        """Hold the next ``times`` matching requests ``seconds`` before the app answers them
        (the server stays responsive; a client that gives up ends the wait)."""
        return self._add(method, path, times, query, kind="delay", seconds=seconds)

    def truncate(
        self,
        method: str,
        path: str,
        *,
        keep: int | float = 0.5,
        times: int | None = 1,
        query: str | Mapping[str, Any] | None = None,
    ) -> Fault:
        """Answer the next ``times`` matching requests 200 with the app's body cut: ``keep``
        bytes (an int) or that share of it (a float); Content-Length matches the cut body."""
        return self._add(method, path, times, query, kind="truncate", keep=keep)

    def cut(
        self,
        method: str,
        path: str,
        *,
        keep: int | float = 0.5,
        stall: float = 0.0,
        times: int | None = 1,
        query: str | Mapping[str, Any] | None = None,
    ) -> Fault:
        """Answer the next ``times`` matching requests with the app's status and headers
        (its whole Content-Length announced) but only ``keep`` bytes (an int) or that share
        (a float) of its body; then, after ``stall`` seconds (or as soon as the client hangs
        up), close the connection: a download that breaks off half-way."""
        return self._add(method, path, times, query, kind="cut", keep=keep, seconds=stall)

    def garble(
        self,
        method: str,
        path: str,
        *,
        body: bytes = GARBLED,
        times: int | None = 1,
        query: str | Mapping[str, Any] | None = None,
    ) -> Fault:
        """Answer the next ``times`` matching requests 200, ``application/json``, with
        ``body`` (by default an HTML error page: not JSON)."""
        return self._add(method, path, times, query, kind="garble", body=body)

    def transform(
        self,
        method: str,
        path: str,
        transform: Transform,
        *,
        times: int | None = 1,
        query: str | Mapping[str, Any] | None = None,
    ) -> Fault:
        """Pass the app's JSON answer to the next ``times`` matching requests through
        ``transform(document)``; it returns the new document, or ``None`` after changing
        the document in place. Status and other headers are kept."""
        return self._add(method, path, times, query, kind="transform", transform=transform)

    def take(self, method: str, path: str, query: str = "") -> Fault | None:
        """The fault for this request, if one is due (it is used up by one)."""
        with self._lock:
            for fault in self._faults:
                if fault.due and fault.matches(method, path, query):
                    if fault.times is not None:
                        fault.times -= 1
                    fault.hits += 1
                    return fault
        return None

    def pending(self) -> list[Fault]:
        """The faults that still affect requests."""
        with self._lock:
            return [f for f in self._faults if f.due]

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()


async def hold(seconds: float, receive: Receive) -> bool:
    """Wait ``seconds`` without blocking the server; False if the client hung up first.

    The request body was read already, so ``receive`` only returns on a disconnect."""
    disconnect = asyncio.ensure_future(receive())
    try:
        done, _ = await asyncio.wait({disconnect}, timeout=seconds)
    finally:
        disconnect.cancel()
    return not done


async def drop_connection(receive: Receive, send: Send) -> None:
    """Close the client's connection without an answer.

    Under uvicorn ``receive`` is a method of the request cycle, which holds the socket's
    transport: it is aborted with ``SO_LINGER`` 0, so the client sees a reset (or the
    server disconnecting) before any byte of a response. Any other server gets a response
    start followed by an error, which servers answer by closing the connection."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.Transport):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        with contextlib.suppress(TimeoutError):  # returns once the server saw it gone
            await asyncio.wait_for(receive(), 5)
        return
    await send(  # pragma: no cover - only under servers other than uvicorn
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]}
    )
    raise ConnectionResetError("fault: connection reset")  # pragma: no cover


class _WholeAnswer:
    """Collects the app's answer (its start and every body chunk) and hands it whole to
    ``answer``, with the start's Content-Length set to the collected body's length."""

    def __init__(self, send: Send) -> None:
        self.forward = send
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.forward(message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        await self.answer(b"".join(self.chunks))

    def started(self, length: int) -> Message:
        """The app's response start with a Content-Length of ``length``."""
        assert self.start is not None
        headers = [
            (k, v) for k, v in self.start.get("headers", []) if k.lower() != b"content-length"
        ]
        headers.append((b"content-length", str(length).encode()))
        return {**self.start, "headers": headers}

    async def answer(self, content: bytes) -> None:
        raise NotImplementedError


class Rewrite(_WholeAnswer):
    """Sends the app's answer changed by a ``truncate`` or ``transform`` fault, with a
    Content-Length that matches the new body."""

    def __init__(self, fault: Fault, send: Send) -> None:
        super().__init__(send)
        self.fault = fault

    async def answer(self, content: bytes) -> None:
        changed = self._change(content)
        await self.forward(self.started(len(changed)))
        await self.forward({"type": "http.response.body", "body": changed, "more_body": False})

    def _change(self, content: bytes) -> bytes:
        fault = self.fault
        if fault.kind == "truncate":
            return content[: kept(fault, content)]
        assert fault.transform is not None
        document = json.loads(content)
        changed = fault.transform(document)
        return dumps(document if changed is None else changed)


def kept(fault: Fault, content: bytes) -> int:
    """How many bytes of ``content`` a ``truncate`` or ``cut`` fault lets through (never all)."""
    keep = fault.keep if isinstance(fault.keep, int) else int(len(content) * fault.keep)
    return max(0, min(keep, len(content) - 1))


class Cut(_WholeAnswer):
    """Sends the app's answer's start (Content-Length of the whole body) and the first bytes
    of its body; then waits ``fault.seconds`` and drops the connection."""

    def __init__(self, fault: Fault, send: Send, receive: Receive) -> None:
        super().__init__(send)
        self.fault = fault
        self.receive = receive

    async def answer(self, content: bytes) -> None:
        await self.forward(self.started(len(content)))
        part = content[: kept(self.fault, content)]
        await self.forward({"type": "http.response.body", "body": part, "more_body": True})
        if self.fault.seconds > 0:
            await hold(self.fault.seconds, self.receive)
        await close_connection(self.receive, self.forward)


async def close_connection(receive: Receive, send: Send) -> None:
    """Close the client's connection in the middle of an answer: the bytes sent so far
    arrive, then the end of the stream (FIN, not a reset). Any server other than uvicorn
    gets an error, which servers answer by closing the connection."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.Transport):
        transport.close()
        with contextlib.suppress(TimeoutError):  # returns once the server saw it gone
            await asyncio.wait_for(receive(), 5)
        return
    raise ConnectionAbortedError("fault: connection closed mid-answer")  # pragma: no cover
