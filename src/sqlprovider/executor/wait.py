"""Wait for an asynchronous job: poll the method its provider names until it is done."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlprovider.errors import DataError, OperationalError
from sqlprovider.http import ApiClient, build_request
from sqlprovider.http.pagination import dig
from sqlprovider.model import Method, Resource


@dataclass(frozen=True)
class WaitOptions:
    """Overrides of a provider's wait settings, and where progress goes.

    Attributes:
        timeout: seconds before giving up (default: the method's).
        interval: seconds before the first poll (default: the method's).
        progress: called with a one-line status while waiting (a terminal shows it), and
            with an empty string when waiting ends.
    """

    timeout: float | None = None
    interval: float | None = None
    progress: Callable[[str], None] | None = None


@dataclass
class Finished:
    """A job that finished: the last body polled, its record and whether it failed."""

    body: bytes
    record: Any
    failed: bool
    state: str


async def wait_for(
    client: ApiClient,
    base_url: str,
    resource: Resource,
    method: Method,
    record: Any,
    options: WaitOptions,
    defaults: dict[str, Any] | None = None,
) -> Finished:
    """Poll until the job ``record`` describes is done; its final state. ``defaults`` are
    the poll's params the session's environment gives.

    Raises:
        OperationalError: when the timeout passes first (naming the job and its state).
    """
    spec = method.wait
    assert spec is not None
    poll = next(m for m in resource.methods if m.name == spec.method)
    values = dict(defaults or {})
    for name, path in spec.params:
        value = dig(record, path)
        if value is None:
            raise DataError(
                f"cannot wait for the job: the response of {method.name} has no {'.'.join(path)}"
            )
        values[name] = value
    label = ", ".join(f"{k} {v}" for k, v in values.items())
    request = build_request(poll, base_url, values)
    timeout = options.timeout if options.timeout is not None else spec.timeout
    delay = options.interval if options.interval is not None else spec.interval
    ceiling = max(delay, spec.max_interval if options.interval is None else delay * 8)
    started = time.monotonic()
    try:
        while True:
            reply = await client.send(request, context=resource.qualified_name)
            assert reply is not None
            body = reply.content
            try:
                document = json.loads(body)
            except ValueError:
                raise DataError(f"{poll.name} answered with a body that is not JSON") from None
            current = dig(document, poll.records) if poll.records else document
            state = str(dig(current, spec.done.field))
            if spec.done.holds(current):
                failed = spec.failed is not None and spec.failed.holds(current)
                return Finished(body, current, failed, state)
            elapsed = time.monotonic() - started
            if options.progress is not None:
                options.progress(
                    f"waiting for {resource.qualified_name} {label}: {state} ({elapsed:.0f} s)"
                )
            if elapsed >= timeout:
                where = " AND ".join(f"{k} = '{v}'" for k, v in values.items())
                raise OperationalError(
                    f"gave up waiting after {timeout:g} s for {resource.qualified_name} {label}, "
                    f"which is still {state}; it keeps running: check it later with "
                    f"SELECT * FROM {resource.qualified_name} WHERE {where}"
                )
            await asyncio.sleep(min(delay, max(timeout - elapsed, 0.0)))
            delay = min(delay * 2, ceiling)
    finally:
        if options.progress is not None:
            options.progress("")  # the status line is cleared once waiting ends
