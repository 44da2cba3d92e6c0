"""The HTTP client of one provider: concurrency bound, retries with backoff, error mapping.

httpx is used here and only here; its exceptions are translated into ours at this boundary.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from sqlprovider.errors import (
    AuthError,
    HTTPStatusError,
    RetriesExhaustedError,
    TransportError,
)
from sqlprovider.http.auth import Credentials
from sqlprovider.http.request import RequestSpec
from sqlprovider.model import Provider, RateLimit, RetryPolicy

log = logging.getLogger("sqlprovider.http")

IDEMPOTENT_VERBS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
UNKNOWN_OUTCOME = (
    "the request was not retried because sending it again could apply it twice (e.g. start "
    "a second job); check with a SELECT whether it took effect before running it again"
)


class ApiClient:
    """Sends one provider's requests.

    Args:
        provider: whose requests these are (retry policy, error body shape, concurrency).
        credentials: put on every request; never logged.
        transport: an httpx async transport, e.g. ``httpx.MockTransport`` in unit tests.
        concurrency: requests in flight at once (default: the provider's, else 8).
        timeout: seconds per request.
        max_attempts: overrides the provider's retry policy's attempts.
        sleep: how to wait between retries (tests pass a fake).
        verify_tls: check TLS certificates (only a trusted test server warrants False).
        on_wait: told, in one line, about every wait of a second or more (rate limits,
            backoff), so a long pause never looks like a hang; an empty line when it ends.
    """

    def __init__(
        self,
        provider: Provider,
        credentials: Credentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int | None = None,
        timeout: float = 30.0,
        max_attempts: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_wait: Callable[[str], None] | None = None,
        verify_tls: bool = True,
    ) -> None:
        self.provider = provider
        self.credentials = credentials
        self.max_attempts = max_attempts or provider.retry.max_attempts
        self.concurrency = concurrency or provider.concurrency
        self._semaphore = asyncio.Semaphore(self.concurrency)
        self._sleep = sleep
        self._on_wait = on_wait
        self._not_before = 0.0  # monotonic time before which no request starts (rate limit)
        self._pacer = _Pacer(provider.rate_limit) if provider.rate_limit else None
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        self._client = httpx.AsyncClient(
            transport=transport or _default_transport(limits, verify_tls),
            timeout=timeout,
            limits=limits,
            headers={"User-Agent": "sqlprovider", "Accept": "application/json"},
            follow_redirects=False,
        )
        self.stats = {"requests": 0, "retries": 0, "bytes": 0}

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def send(
        self, spec: RequestSpec, *, accept: tuple[int, ...] = (), context: str = ""
    ) -> httpx.Response | None:
        """Send ``spec``, retrying idempotent requests; ``None`` for a status in ``accept``.

        Args:
            spec: the request.
            accept: error statuses that mean "no rows" (e.g. 404 on a get).
            context: what the request is for (``digitalocean.genai.indexing_jobs``), for errors.

        Raises:
            AuthError, HTTPStatusError, RetriesExhaustedError, TransportError.
        """
        policy = self.provider.retry
        retryable = spec.http_verb in IDEMPOTENT_VERBS or spec.idempotent
        attempts = self.max_attempts
        last_status: int | None = None
        last_wait: float | None = None
        for attempt in range(1, attempts + 1):
            await self._respect_rate_limit()
            try:
                response = await self._send_once(spec)
            except httpx.TransportError as exc:
                # A request that never left can be tried again whatever its verb.
                if attempt < attempts and (retryable or _not_sent(exc)):
                    await self._backoff(attempt, None)
                    continue
                raise self._transport_error(spec, exc, attempt, context, retryable) from None
            self._note_rate_limit(response)
            status = response.status_code
            if status < 400 or status in accept:
                return None if status in accept else response
            last_status = status
            if retryable and status in policy.statuses and attempt < attempts:
                asked = _server_wait(response, policy)
                if asked is not None and asked > policy.max_delay:
                    raise self._wait_too_long(spec, response, context, attempt, asked)
                last_wait = self._backoff_delay(attempt, response)
                log.debug(
                    "%s %s -> %d, retry %d in %.2fs",
                    spec.http_verb,
                    spec.url,
                    status,
                    attempt,
                    last_wait,
                )
                self.stats["retries"] += 1
                await self._pause(
                    last_wait,
                    f"{context or self.provider.name}: HTTP {status}, retry {attempt} of "
                    f"{attempts - 1} in {last_wait:.0f} s",
                )
                continue
            if retryable and status in policy.statuses:
                raise RetriesExhaustedError(
                    f"{context or spec.url}: {spec.http_verb} {spec.url} still failed after "
                    f"{attempt} attempts ({self._describe_status(response)}); "
                    "wait and run the statement again, or lower the concurrency",
                    attempts=attempt,
                    status_code=status,
                    retry_after=_retry_after(response),
                )
            raise self._status_error(spec, response, context, retryable)
        raise RetriesExhaustedError(  # pragma: no cover - the loop always returns or raises
            f"{spec.url} failed", attempts=attempts, status_code=last_status, retry_after=last_wait
        )

    async def _send_once(self, spec: RequestSpec) -> httpx.Response:
        headers = dict(spec.headers)
        headers.update(self.credentials.headers())
        kwargs: dict[str, Any] = {"params": list(spec.query) or None, "headers": headers}
        if spec.has_body:
            kwargs["json"] = spec.json
        async with self._semaphore:
            started = time.perf_counter()
            response = await self._client.request(spec.http_verb, spec.url, **kwargs)
            await response.aread()
        self.stats["requests"] += 1
        self.stats["bytes"] += len(response.content)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d (%d bytes, %.0f ms)",
                spec.http_verb,
                spec.full_url(),
                response.status_code,
                len(response.content),
                (time.perf_counter() - started) * 1000,
            )
        return response

    async def _respect_rate_limit(self) -> None:
        wait = self._not_before - time.monotonic()
        if wait > 0:
            await self._pause(
                wait, f"{self.provider.name}: rate limit used up, waiting {wait:.0f} s for it"
            )
        if self._pacer is not None:
            wait = self._pacer.reserve()
            if wait > 0:
                await self._pause(wait, f"{self.provider.name}: keeping to its rate limit")

    async def _pause(self, seconds: float, reason: str) -> None:
        notify = self._on_wait if seconds >= 1 else None
        if seconds >= 1:
            log.info("%s", reason)
        if notify is not None:
            notify(reason)
        try:
            await self._sleep(seconds)
        finally:
            if notify is not None:
                notify("")

    def _note_rate_limit(self, response: httpx.Response) -> None:
        """Hold further requests until the rate limit resets, when it is used up and resets
        soon; a reset further away than ``max_delay`` is left to the 429 that follows, which
        fails with the time to come back instead of sleeping unseen."""
        wait = _reset_wait(response, self.provider.retry)
        if wait is not None and 0 < wait <= self.provider.retry.max_delay:
            self._not_before = max(self._not_before, time.monotonic() + wait)

    def _wait_too_long(
        self,
        spec: RequestSpec,
        response: httpx.Response,
        context: str,
        attempt: int,
        asked: float,
    ) -> RetriesExhaustedError:
        until = time.strftime("%H:%M:%S UTC", time.gmtime(time.time() + asked))
        return RetriesExhaustedError(
            f"{context or spec.url}: {spec.http_verb} {spec.url} was refused "
            f"({self._describe_status(response)}) and the API asks to wait "
            f"{_duration(asked)} (until {until}), longer than the "
            f"{self.provider.retry.max_delay:g} s sqlprovider waits on its own; "
            "run the statement again after that",
            attempts=attempt,
            status_code=response.status_code,
            retry_after=asked,
        )

    def _backoff_delay(self, attempt: int, response: httpx.Response | None) -> float:
        policy = self.provider.retry
        if response is not None:
            asked = _server_wait(response, policy)
            if asked is not None:
                return min(asked, policy.max_delay)
        ceiling = min(policy.max_delay, policy.base_delay * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)  # jitter keeps clients from marching

    async def _backoff(self, attempt: int, response: httpx.Response | None) -> None:
        self.stats["retries"] += 1
        wait = self._backoff_delay(attempt, response)
        await self._pause(wait, f"{self.provider.name}: network error, retry in {wait:.0f} s")

    def _describe_status(self, response: httpx.Response) -> str:
        message, _, request_id = self._error_fields(response)
        text = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        text = f"{text}: {message}" if message else text
        return f"{text}, request id {request_id}" if request_id else text

    def _error_fields(self, response: httpx.Response) -> tuple[str | None, str | None, str | None]:
        try:
            body = response.json()
        except ValueError:
            snippet = response.text.strip()[:200]
            return (snippet or None), None, response.headers.get("x-request-id")
        shape = self.provider.errors

        def pick(path: tuple[str, ...]) -> str | None:
            value: Any = body
            for key in path:
                if not isinstance(value, dict) or key not in value:
                    return None
                value = value[key]
            return None if value is None else str(value)

        request_id = pick(shape.request_id) or response.headers.get("x-request-id")
        message = pick(shape.message)
        for other in shape.other_messages:
            message = message or pick(other)
        return message, pick(shape.code), request_id

    def _status_error(
        self, spec: RequestSpec, response: httpx.Response, context: str, retryable: bool = True
    ) -> HTTPStatusError | AuthError:
        message, code, request_id = self._error_fields(response)
        status = response.status_code
        what = f"{context}: " if context else ""
        detail = (
            f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
        )
        suffix = f" (request id {request_id})" if request_id else ""
        if status in (401, 403):
            names = " or ".join(self.provider.auth.env) or "the provider's credential"
            fix = (
                f"check that {names} holds a valid token with access to this API"
                if status == 401
                else f"the token in {names} lacks permission for this call, or is not valid here"
            )
            return AuthError(
                f"{what}{spec.http_verb} {spec.url} was refused ({detail}){suffix}; {fix}"
            )
        fix = _fix_for_status(status)
        if status >= 500 and not retryable:
            fix = "; " + UNKNOWN_OUTCOME
        return HTTPStatusError(
            f"{what}{spec.http_verb} {spec.url} failed ({detail}){suffix}{fix}",
            status_code=status,
            url=spec.url,
            api_message=message,
            request_id=request_id,
        )

    def _transport_error(
        self,
        spec: RequestSpec,
        exc: httpx.TransportError,
        attempts: int,
        context: str,
        retryable: bool = True,
    ) -> TransportError:
        kind = type(exc).__name__
        what = f"{context}: " if context else ""
        not_sent = _not_sent(exc)
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) and not_sent:
            cause = "could not connect"
            fix = (
                f"check the server URL (SQLPROVIDER_{self.provider.name.upper()}_URL or "
                "--server) and that the API is reachable"
            )
        elif isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            cause = f"lost the connection before the answer ({exc})"
            fix = "try again"
        else:
            cause = f"network error ({kind})"
            fix = "try again"
        if isinstance(exc, httpx.TimeoutException) and cause == f"network error ({kind})":
            cause = "timed out"
            fix = "the API is slow or unreachable; try again or raise the timeout"
        if not not_sent and not retryable:
            fix = "the outcome is unknown: " + UNKNOWN_OUTCOME
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return TransportError(f"{what}{spec.http_verb} {spec.url} {cause}{tries}; {fix}")


def _not_sent(exc: httpx.TransportError) -> bool:
    """Whether the request surely never reached the server (so any verb may be resent).

    httpx_aiohttp maps every aiohttp ``ClientConnectionError`` to ``ConnectTimeout``,
    including a server that dropped the connection after the request went out; for those,
    only a failure to connect (``ClientConnectorError``, a connect timeout) means not sent.
    """
    if not isinstance(exc, NOT_SENT):
        return False
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - installed with httpx_aiohttp
        return True
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientConnectionError):
        return isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    return True


class _Pacer:
    """A token bucket on the client's side: requests start at the provider's declared rate,
    bursts up to ``burst``. Each caller reserves its slot before waiting, so concurrent
    senders queue in order without a lock (the event loop runs one at a time)."""

    def __init__(self, limit: RateLimit) -> None:
        self.rate = limit.per_second
        self.burst = float(limit.burst)
        self.tokens = self.burst
        self.at = time.monotonic()

    def reserve(self) -> float:
        """Take a slot; the seconds to wait before using it."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


def _default_transport(limits: httpx.Limits, verify: bool = True) -> httpx.AsyncBaseTransport:
    """aiohttp under httpx's API: about 4× faster than httpx's own transport on large pages
    (measured in docs/performance.md); httpx's stays the fallback."""
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:  # pragma: no cover - a declared dependency; kept for vendored installs
        return httpx.AsyncHTTPTransport(limits=limits, verify=verify)
    return AiohttpTransport(limits=limits, verify=verify)


def _fix_for_status(status: int) -> str:
    if status == 404:
        return "; check the ids in WHERE and the server URL"
    if status == 400 or status == 422:
        return "; check the values the statement sends"
    if status >= 500:
        return "; the API failed, try again later"
    return ""


def _server_wait(response: httpx.Response, policy: RetryPolicy) -> float | None:
    """Seconds the API asks for: ``Retry-After``, else the reset of a used-up rate limit."""
    asked = _retry_after(response)
    return asked if asked is not None else _reset_wait(response, policy)


def _reset_wait(response: httpx.Response, policy: RetryPolicy) -> float | None:
    """Seconds until the rate limit resets, when the response says none remain."""
    if not policy.remaining_header or not policy.reset_header:
        return None
    remaining = response.headers.get(policy.remaining_header)
    reset = response.headers.get(policy.reset_header)
    if remaining is None or reset is None:
        return None
    try:
        if int(remaining) > 0:
            return None
        return max(float(reset) - time.time(), 0.0)
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
