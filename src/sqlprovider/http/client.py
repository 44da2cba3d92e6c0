"""The HTTP client of one provider: concurrency bound, retries with backoff, rate limits.

httpx is used here (and in ``failures``, which words its errors) and nowhere else: a request
that succeeds comes back as a plain ``Reply``, one that fails as one of our errors.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from sqlprovider.errors import AuthError, DataError, RetriesExhaustedError
from sqlprovider.http import failures
from sqlprovider.http.auth import Credentials
from sqlprovider.http.failures import HOPELESS, NOT_SENT, UNKNOWN_OUTCOME
from sqlprovider.http.reply import Headers, Reply
from sqlprovider.http.request import RequestSpec
from sqlprovider.model import Provider, RateLimit, RetryPolicy

# NOT_SENT and UNKNOWN_OUTCOME are named here too: tests and callers read them from the client.
__all__ = ["IDEMPOTENT_VERBS", "NOT_SENT", "UNKNOWN_OUTCOME", "ApiClient"]

log = logging.getLogger("sqlprovider.http")

IDEMPOTENT_VERBS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


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
    ) -> Reply | None:
        """Send ``spec``, retrying idempotent requests; ``None`` for a status in ``accept``.

        Args:
            spec: the request.
            accept: error statuses that mean "no rows" (e.g. 404 on a get).
            context: what the request is for (``digitalocean.genai.indexing_jobs``), for errors.

        Returns:
            The answer, read whole; ``None`` for a status in ``accept``.

        Raises:
            AuthError, HTTPStatusError, RetriesExhaustedError, TransportError; DataError
            for a value HTTP cannot carry, or an answer that cannot be decoded.
        """
        retryable = spec.http_verb in IDEMPOTENT_VERBS or spec.idempotent
        for attempt in range(1, self.max_attempts + 1):
            await self._respect_rate_limit()
            response = await self._attempt(spec, context, retryable, attempt)
            if response is None:
                continue  # a network failure, already waited for: send again
            status = response.status_code
            if 300 <= status < 400 and status not in accept:
                raise failures.redirect_error(self.provider, spec, response, context, retryable)
            if status in accept:
                return None
            if status < 400:
                return _reply_of(response)
            await self._retry_or_raise(spec, response, context, retryable, attempt)
        raise RetriesExhaustedError(  # pragma: no cover - the loop always returns or raises
            f"{spec.url} failed", attempts=self.max_attempts, status_code=None, retry_after=None
        )

    async def _attempt(
        self, spec: RequestSpec, context: str, retryable: bool, attempt: int
    ) -> httpx.Response | None:
        """One exchange: the response, or ``None`` after a network failure worth another
        attempt (the backoff already waited)."""
        try:
            response = await self._send_once(spec, context, retryable)
        except httpx.TransportError as exc:
            # A request that never left can be tried again whatever its verb.
            again = retryable or failures.not_sent(exc)
            hopeless = isinstance(exc, HOPELESS) or failures.refused_nearby(exc, spec.url)
            if attempt < self.max_attempts and again and not hopeless:
                await self._backoff(attempt, None)
                return None
            raise failures.transport_error(
                self.provider, spec, exc, attempt, context, retryable
            ) from None
        except failures.library_errors() as exc:
            # The one boundary of httpx, h11 and aiohttp: nothing of theirs gets past.
            raise failures.library_error(self.provider, spec, exc, context, retryable) from None
        self._note_rate_limit(response)
        return response

    async def _retry_or_raise(
        self,
        spec: RequestSpec,
        response: httpx.Response,
        context: str,
        retryable: bool,
        attempt: int,
    ) -> None:
        """Wait before the next attempt at a refused request, or raise when there is none."""
        policy = self.provider.retry
        status = response.status_code
        if not (retryable and status in policy.statuses):
            raise failures.status_error(self.provider, spec, response, context, retryable)
        if attempt >= self.max_attempts:
            raise failures.retries_exhausted(
                self.provider, spec, response, context, attempt, _retry_after(response)
            )
        asked = _server_wait(response, policy)
        if asked is not None and asked > policy.max_delay:
            raise failures.wait_too_long(self.provider, spec, response, context, attempt, asked)
        wait = self._backoff_delay(attempt, response)
        log.debug("%s %s -> %d, retry %d in %.2fs", spec.http_verb, spec.url, status, attempt, wait)
        self.stats["retries"] += 1
        await self._pause(
            wait,
            f"{context or self.provider.name}: HTTP {status}, retry {attempt} of "
            f"{self.max_attempts - 1} in {{left}} s",
        )

    async def _send_once(self, spec: RequestSpec, context: str, retryable: bool) -> httpx.Response:
        request = self._build(spec, context)
        async with self._semaphore:
            started = time.perf_counter()
            # Streamed, so that the headers are at hand when the body cannot be decoded.
            response = await self._client.send(request, stream=True)
            try:
                await response.aread()
            except httpx.DecodingError:
                encoding = response.headers.get("content-encoding", "")
                raise failures.undecodable(
                    spec, context, retryable, encoding, response.status_code
                ) from None
            finally:
                await response.aclose()
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

    def _build(self, spec: RequestSpec, context: str) -> httpx.Request:
        """The request as httpx sends it; a value HTTP cannot carry is refused here, before
        anything is sent, naming it but never showing a credential."""
        auth = self.credentials.headers()
        for name, value in spec.headers:
            if not _header_safe(value):
                raise DataError(
                    f"{failures.head(spec, context)}: header {name} holds a control character or "
                    "non-ASCII text; header values must be ASCII text, check the value"
                )
        if not all(_header_safe(value) for value in auth.values()):
            names = " or ".join(self.provider.auth.env) or "the provider's credential"
            raise AuthError(
                f"{self.provider.name}: the credential ({names}) holds a line break, a "
                "control character or non-ASCII text, which an HTTP header cannot carry; "
                "set it again without them (a token is plain ASCII)"
            )
        kwargs: dict[str, Any] = {
            "params": list(spec.query) or None,
            "headers": {**dict(spec.headers), **auth},
        }
        if spec.has_body:
            kwargs["json"] = spec.json
        try:
            return self._client.build_request(spec.http_verb, spec.url, **kwargs)
        except (httpx.InvalidURL, ValueError) as exc:
            raise failures.unsendable(self.provider, spec, exc, context) from None

    async def _respect_rate_limit(self) -> None:
        wait = self._not_before - time.monotonic()
        if wait > 0:
            await self._pause(
                wait, f"{self.provider.name}: rate limit used up, waiting {{left}} s for it"
            )
        if self._pacer is not None:
            wait = self._pacer.reserve()
            if wait > 0:
                await self._pause(wait, f"{self.provider.name}: keeping to its rate limit")

    async def _pause(self, seconds: float, reason: str) -> None:
        """Wait ``seconds``; a wait of a second or more is told to ``on_wait`` as ``reason``,
        whose ``{left}`` counts the whole seconds left down, once a second."""
        notify = self._on_wait if seconds >= 1 else None
        if seconds >= 1:
            log.info("%s", _left(reason, math.ceil(seconds)))
        if notify is None:
            await self._sleep(seconds)
            return
        notify(_left(reason, math.ceil(seconds)))
        ticking = asyncio.ensure_future(_count_down(time.monotonic() + seconds, reason, notify))
        try:
            await self._sleep(seconds)
        finally:
            ticking.cancel()
            notify("")

    def _note_rate_limit(self, response: httpx.Response) -> None:
        """Hold further requests until the rate limit resets, when it is used up and resets
        soon; a reset further away than ``max_delay`` is left to the 429 that follows, which
        fails with the time to come back instead of sleeping unseen."""
        wait = _reset_wait(response, self.provider.retry)
        if wait is not None and 0 < wait <= self.provider.retry.max_delay:
            self._not_before = max(self._not_before, time.monotonic() + wait)

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
        await self._pause(wait, f"{self.provider.name}: network error, retry in {{left}} s")


def _left(reason: str, seconds: int) -> str:
    return reason.replace("{left}", str(seconds))  # not format(): names may hold braces


async def _count_down(deadline: float, reason: str, notify: Callable[[str], None]) -> None:
    """Tell ``notify`` the wait's line again each time the whole seconds left drop by one."""
    while True:
        left = deadline - time.monotonic()
        shown = math.ceil(left) - 1  # the next number of seconds to show
        if shown < 1:
            return
        await asyncio.sleep(left - shown)
        notify(_left(reason, shown))


def _reply_of(response: httpx.Response) -> Reply:
    """The answer as plain data, for callers that know nothing of httpx."""
    return Reply(
        status=response.status_code,
        headers=Headers(response.headers.multi_items()),
        content=response.content,
        url=str(response.url),
        next_link=response.links.get("next", {}).get("url"),
    )


def _header_safe(value: str) -> bool:
    """Whether HTTP clients send ``value`` as it is: printable ASCII, no control character."""
    return value.isascii() and value.isprintable()


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
