"""What goes over the wire: the ASGI types the middleware is written against, and JSON
bytes made as fast as the machine allows."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

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
