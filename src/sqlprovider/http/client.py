"""The HTTP client of one provider: concurrency bound, retries with backoff, error mapping.

httpx is used here and only here; its exceptions are translated into ours at this boundary.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from sqlprovider.errors import (
    AuthError,
    DataError,
    HTTPStatusError,
    RetriesExhaustedError,
    TransportError,
)
from sqlprovider.http.auth import Credentials
from sqlprovider.http.request import RequestSpec
from sqlprovider.model import Provider, RateLimit, RetryPolicy

log = logging.getLogger("sqlprovider.http")

IDEMPOTENT_VERBS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Failures before the request left: no verb can have taken effect.
NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.LocalProtocolError,
    httpx.UnsupportedProtocol,
)
# Failures that sending again cannot mend: the same request is refused the same way.
HOPELESS = (httpx.LocalProtocolError, httpx.UnsupportedProtocol)
MAX_URL_IN_MESSAGE = 200
# What the other transport failures mean, in words; the first class that matches wins.
TRANSPORT_CAUSES: tuple[tuple[type[httpx.TransportError], str, str], ...] = (
    (
        httpx.LocalProtocolError,
        "could not be written as HTTP (a header or the URL holds a character HTTP does not allow)",
        "check the values the statement sends and the credential",
    ),
    (
        httpx.UnsupportedProtocol,
        "could not be sent: its URL is not an http or https URL",
        "check the server URL",
    ),
    (
        httpx.RemoteProtocolError,
        "got an answer that breaks the HTTP protocol, or the connection closed mid-answer",
        "try again",
    ),
    (
        httpx.ProxyError,
        "failed at the proxy",
        "check the proxy settings (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) and try again",
    ),
    (httpx.ReadError, "lost the connection while reading the answer", "try again"),
    (httpx.WriteError, "lost the connection while sending the request", "try again"),
    (httpx.CloseError, "failed while closing the connection", "try again"),
)
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
            AuthError, HTTPStatusError, RetriesExhaustedError, TransportError; DataError
            for a value HTTP cannot carry, or an answer that cannot be decoded.
        """
        policy = self.provider.retry
        retryable = spec.http_verb in IDEMPOTENT_VERBS or spec.idempotent
        attempts = self.max_attempts
        last_status: int | None = None
        last_wait: float | None = None
        for attempt in range(1, attempts + 1):
            await self._respect_rate_limit()
            try:
                response = await self._send_once(spec, context, retryable)
            except httpx.TransportError as exc:
                # A request that never left can be tried again whatever its verb.
                again = retryable or _not_sent(exc)
                if attempt < attempts and again and not isinstance(exc, HOPELESS):
                    await self._backoff(attempt, None)
                    continue
                raise self._transport_error(spec, exc, attempt, context, retryable) from None
            except _library_errors() as exc:
                # The one boundary of httpx, h11 and aiohttp: nothing of theirs gets past.
                raise self._library_error(spec, exc, context, retryable) from None
            self._note_rate_limit(response)
            status = response.status_code
            if 300 <= status < 400 and status not in accept:
                raise self._redirect_error(spec, response, context, retryable)
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
                raise self._undecodable(
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
                    f"{_head(spec, context)}: header {name} holds a control character or "
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
            raise self._unsendable(spec, exc, context) from None

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

    def _redirect_error(
        self, spec: RequestSpec, response: httpx.Response, context: str, retryable: bool
    ) -> HTTPStatusError:
        """A redirect is never followed: a write sent again elsewhere could act on another
        object, and a read belongs at the server the provider names."""
        status = response.status_code
        location = response.headers.get("location", "")[:MAX_URL_IN_MESSAGE]
        where = f" to {location}" if location else ""
        name = self.provider.name.upper()
        if retryable and spec.http_verb in ("GET", "HEAD"):
            fix = f"point the server URL (SQLPROVIDER_{name}_URL or --server) where it redirects"
        else:
            fix = (
                "a write is never sent again elsewhere, so it was not followed and may not "
                "have taken effect: check with a SELECT, and the server URL "
                f"(SQLPROVIDER_{name}_URL)"
            )
        return HTTPStatusError(
            f"{_head(spec, context)} was answered with a redirect (HTTP {status}){where}; {fix}",
            status_code=status,
            url=spec.url,
        )

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
        not_sent = _not_sent(exc)
        server = f"SQLPROVIDER_{self.provider.name.upper()}_URL or --server"
        cause, fix = "failed with a network error", "try again"
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) and not_sent:
            cause = "could not connect"
            fix = f"check the server URL ({server}) and that the API is reachable"
        elif isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            cause = f"lost the connection before the answer ({exc})"
        elif isinstance(exc, httpx.TimeoutException):
            cause = "timed out"
            fix = "the API is slow or unreachable; try again or raise the timeout"
        else:
            for kind, what, remedy in TRANSPORT_CAUSES:
                if isinstance(exc, kind):
                    cause, fix = what, remedy
                    break
        if isinstance(exc, httpx.UnsupportedProtocol):
            fix = f"check the server URL ({server})"
        if not not_sent and not retryable:
            fix = "the outcome is unknown: " + UNKNOWN_OUTCOME
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return TransportError(f"{_head(spec, context)} {cause}{tries}; {fix}")

    def _library_error(
        self, spec: RequestSpec, exc: Exception, context: str, retryable: bool
    ) -> DataError | TransportError | HTTPStatusError | AuthError:
        """Ours for any other failure of httpx, h11 or aiohttp while sending."""
        if isinstance(exc, httpx.DecodingError):
            return self._undecodable(spec, context, retryable, "", None)
        if isinstance(exc, httpx.HTTPStatusError):
            return self._status_error(spec, exc.response, context, retryable)
        if isinstance(exc, httpx.InvalidURL | ValueError):
            return self._unsendable(spec, exc, context)
        if isinstance(exc, httpx.TooManyRedirects):
            cause = "was redirected too many times"
        elif isinstance(exc, httpx.StreamError):
            cause = "failed: the answer was closed or read up before it was read whole"
        elif isinstance(exc, httpx.CookieConflict):
            cause = "failed: the API set the same cookie twice"
        else:
            cause = _aiohttp_cause(exc) or "failed in the HTTP exchange"
        fix = "try again" if retryable else "the outcome is unknown: " + UNKNOWN_OUTCOME
        return TransportError(f"{_head(spec, context)} {cause}; {fix}")

    def _unsendable(self, spec: RequestSpec, exc: Exception, context: str) -> DataError:
        """A value the URL, a header or the JSON body cannot carry: nothing was sent."""
        head = _head(spec, context)
        if isinstance(exc, httpx.InvalidURL) and "too long" in str(exc):
            texts = [(name, str(value)) for name, value in spec.bindings.items()]
            name, text = max(texts, key=lambda item: len(item[1]), default=("", ""))
            if len(text) > 1000:
                return DataError(
                    f"{head}: the value of {name} is {len(text)} characters long, too long "
                    "for a URL; check the value"
                )
            return DataError(
                f"{head}: the URL is {len(spec.full_url())} characters long, too long for a "
                "URL; check the values the statement sends"
            )
        if isinstance(exc, httpx.InvalidURL):
            server = f"SQLPROVIDER_{self.provider.name.upper()}_URL or --server"
            return DataError(
                f"{head}: the URL is not valid ({exc}); check the server URL ({server})"
            )
        if isinstance(exc, UnicodeEncodeError):
            found = f"{exc.object[exc.start : exc.end]!r}"
            return DataError(
                f"{head}: a value holds {found}, which cannot be sent (not valid text, or not "
                "ASCII in a header); check the values the statement sends"
            )
        return DataError(
            f"{head}: a value cannot be sent (a control character or non-ASCII text in a "
            "header, NaN or infinity in the body); check the values the statement sends"
        )

    def _undecodable(
        self,
        spec: RequestSpec,
        context: str,
        retryable: bool,
        encoding: str,
        status: int | None,
    ) -> DataError:
        """The API's answer arrived but its content encoding does not hold."""
        claim = (
            f"it says it is {encoding}-compressed but is not"
            if encoding
            else "its content encoding is broken"
        )
        fix = "the API or a proxy sent a broken response, try again"
        if not retryable:
            answered = f" (HTTP {status})" if status is not None else ""
            fix = f"the API answered{answered}, so the outcome is unknown: " + UNKNOWN_OUTCOME
        return DataError(
            f"{_head(spec, context)}: the answer could not be decoded ({claim}); {fix}"
        )


@functools.cache
def _library_errors() -> tuple[type[Exception], ...]:
    """What sending can raise besides ``httpx.TransportError``: the rest of httpx's family,
    and the ``ValueError`` (``UnicodeEncodeError`` among them) that httpx, h11 or aiohttp
    raise for text they cannot put on the wire. Evaluated only when a request fails, so
    aiohttp is imported only then."""
    errors: tuple[type[Exception], ...] = (
        httpx.HTTPError,
        httpx.InvalidURL,
        httpx.CookieConflict,
        httpx.StreamError,
        ValueError,
    )
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - installed with httpx_aiohttp
        return errors
    return (*errors, aiohttp.ClientError)


def _aiohttp_cause(exc: Exception) -> str | None:
    """What an aiohttp error that httpx_aiohttp let through means (a malformed answer is
    one: aiohttp reports it as a response error, which httpx_aiohttp does not map)."""
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - installed with httpx_aiohttp
        return None
    if isinstance(exc, aiohttp.ClientResponseError):
        return (
            "got an answer that breaks the HTTP protocol (the API or a proxy in between is broken)"
        )
    if isinstance(exc, aiohttp.ClientConnectionError):
        return "lost the connection"
    return None


def _head(spec: RequestSpec, context: str) -> str:
    """``context: VERB url`` for messages, the URL cut short (a value can make it huge)."""
    url = spec.url
    if len(url) > MAX_URL_IN_MESSAGE:
        url = url[:MAX_URL_IN_MESSAGE] + "..."
    return f"{context}: {spec.http_verb} {url}" if context else f"{spec.http_verb} {url}"


def _header_safe(value: str) -> bool:
    """Whether HTTP clients send ``value`` as it is: printable ASCII, no control character."""
    return value.isascii() and value.isprintable()


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
