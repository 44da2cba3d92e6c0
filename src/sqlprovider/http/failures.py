"""What a failed request means, in our errors: the one place httpx's, h11's and aiohttp's
failures, and the API's error answers, are turned into messages that name the fix.

The client decides whether to send again; this module only words what went wrong. Nothing
here sends, sleeps or retries.
"""

from __future__ import annotations

import functools
import ipaddress
import time
from errno import ECONNREFUSED
from typing import Any
from urllib.parse import urlsplit

import httpx

from sqlprovider.errors import (
    AuthError,
    DataError,
    HTTPStatusError,
    RetriesExhaustedError,
    TransportError,
)
from sqlprovider.http.request import RequestSpec
from sqlprovider.model import Provider

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


# -- answers the API refused ------------------------------------------------------------------


def status_error(
    provider: Provider,
    spec: RequestSpec,
    response: httpx.Response,
    context: str,
    retryable: bool = True,
) -> HTTPStatusError | AuthError:
    """An error status the client will not (or may no longer) retry."""
    message, code, request_id = error_fields(provider, response)
    status = response.status_code
    what = f"{context}: " if context else ""
    detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    suffix = f" (request id {request_id})" if request_id else ""
    if status in (401, 403):
        names = " or ".join(provider.auth.env) or "the provider's credential"
        fix = (
            f"check that {names} holds a valid token with access to this API"
            if status == 401
            else f"the token in {names} lacks permission for this call, or is not valid here"
        )
        return AuthError(f"{what}{spec.http_verb} {spec.url} was refused ({detail}){suffix}; {fix}")
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


def redirect_error(
    provider: Provider,
    spec: RequestSpec,
    response: httpx.Response,
    context: str,
    retryable: bool,
) -> HTTPStatusError:
    """A redirect is never followed: a write sent again elsewhere could act on another
    object, and a read belongs at the server the provider names."""
    status = response.status_code
    location = response.headers.get("location", "")[:MAX_URL_IN_MESSAGE]
    where = f" to {location}" if location else ""
    name = provider.name.upper()
    if retryable and spec.http_verb in ("GET", "HEAD"):
        fix = f"point the server URL (SQLPROVIDER_{name}_URL or --server) where it redirects"
    else:
        fix = (
            "a write is never sent again elsewhere, so it was not followed and may not "
            "have taken effect: check with a SELECT, and the server URL "
            f"(SQLPROVIDER_{name}_URL)"
        )
    return HTTPStatusError(
        f"{head(spec, context)} was answered with a redirect (HTTP {status}){where}; {fix}",
        status_code=status,
        url=spec.url,
    )


def retries_exhausted(
    provider: Provider,
    spec: RequestSpec,
    response: httpx.Response,
    context: str,
    attempt: int,
    retry_after: float | None,
) -> RetriesExhaustedError:
    """A retryable status that came back on the last attempt too."""
    return RetriesExhaustedError(
        f"{context or spec.url}: {spec.http_verb} {spec.url} still failed after "
        f"{attempt} attempts ({describe_status(provider, response)}); "
        "wait and run the statement again, or lower the concurrency",
        attempts=attempt,
        status_code=response.status_code,
        retry_after=retry_after,
    )


def wait_too_long(
    provider: Provider,
    spec: RequestSpec,
    response: httpx.Response,
    context: str,
    attempt: int,
    asked: float,
) -> RetriesExhaustedError:
    """The API asks for a longer wait than the client takes on its own."""
    until = time.strftime("%H:%M:%S UTC", time.gmtime(time.time() + asked))
    return RetriesExhaustedError(
        f"{context or spec.url}: {spec.http_verb} {spec.url} was refused "
        f"({describe_status(provider, response)}) and the API asks to wait "
        f"{_duration(asked)} (until {until}), longer than the "
        f"{provider.retry.max_delay:g} s sqlprovider waits on its own; "
        "run the statement again after that",
        attempts=attempt,
        status_code=response.status_code,
        retry_after=asked,
    )


def describe_status(provider: Provider, response: httpx.Response) -> str:
    """``HTTP 503 Service Unavailable: message, request id …`` for messages."""
    message, _, request_id = error_fields(provider, response)
    text = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    text = f"{text}: {message}" if message else text
    return f"{text}, request id {request_id}" if request_id else text


def error_fields(
    provider: Provider, response: httpx.Response
) -> tuple[str | None, str | None, str | None]:
    """The API's message, error code and request id, read in the provider's error shape."""
    try:
        body = response.json()
    except ValueError:
        snippet = response.text.strip()[:200]
        return (snippet or None), None, response.headers.get("x-request-id")
    shape = provider.errors

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


def _fix_for_status(status: int) -> str:
    if status == 404:
        return "; check the ids in WHERE and the server URL"
    if status == 400 or status == 422:
        return "; check the values the statement sends"
    if status >= 500:
        return "; the API failed, try again later"
    return ""


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# -- failures of the exchange itself ----------------------------------------------------------


def transport_error(
    provider: Provider,
    spec: RequestSpec,
    exc: httpx.TransportError,
    attempts: int,
    context: str,
    retryable: bool = True,
) -> TransportError:
    """A network failure, after the attempts the client made."""
    sent = not not_sent(exc)
    server = f"SQLPROVIDER_{provider.name.upper()}_URL or --server"
    cause, fix = "failed with a network error", "try again"
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) and not sent:
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
    if sent and not retryable:
        fix = "the outcome is unknown: " + UNKNOWN_OUTCOME
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return TransportError(f"{head(spec, context)} {cause}{tries}; {fix}")


def library_error(
    provider: Provider, spec: RequestSpec, exc: Exception, context: str, retryable: bool
) -> DataError | TransportError | HTTPStatusError | AuthError:
    """Ours for any other failure of httpx, h11 or aiohttp while sending."""
    if isinstance(exc, httpx.DecodingError):
        return undecodable(spec, context, retryable, "", None)
    if isinstance(exc, httpx.HTTPStatusError):
        return status_error(provider, spec, exc.response, context, retryable)
    if isinstance(exc, httpx.InvalidURL | ValueError):
        return unsendable(provider, spec, exc, context)
    if isinstance(exc, httpx.TooManyRedirects):
        cause = "was redirected too many times"
    elif isinstance(exc, httpx.StreamError):
        cause = "failed: the answer was closed or read up before it was read whole"
    elif isinstance(exc, httpx.CookieConflict):
        cause = "failed: the API set the same cookie twice"
    else:
        cause = _aiohttp_cause(exc) or "failed in the HTTP exchange"
    fix = "try again" if retryable else "the outcome is unknown: " + UNKNOWN_OUTCOME
    return TransportError(f"{head(spec, context)} {cause}; {fix}")


def unsendable(provider: Provider, spec: RequestSpec, exc: Exception, context: str) -> DataError:
    """A value the URL, a header or the JSON body cannot carry: nothing was sent."""
    where = head(spec, context)
    if isinstance(exc, httpx.InvalidURL) and "too long" in str(exc):
        texts = [(name, str(value)) for name, value in spec.bindings.items()]
        name, text = max(texts, key=lambda item: len(item[1]), default=("", ""))
        if len(text) > 1000:
            return DataError(
                f"{where}: the value of {name} is {len(text)} characters long, too long "
                "for a URL; check the value"
            )
        return DataError(
            f"{where}: the URL is {len(spec.full_url())} characters long, too long for a "
            "URL; check the values the statement sends"
        )
    if isinstance(exc, httpx.InvalidURL):
        server = f"SQLPROVIDER_{provider.name.upper()}_URL or --server"
        return DataError(f"{where}: the URL is not valid ({exc}); check the server URL ({server})")
    if isinstance(exc, UnicodeEncodeError):
        found = f"{exc.object[exc.start : exc.end]!r}"
        return DataError(
            f"{where}: a value holds {found}, which cannot be sent (not valid text, or not "
            "ASCII in a header); check the values the statement sends"
        )
    return DataError(
        f"{where}: a value cannot be sent (a control character or non-ASCII text in a "
        "header, NaN or infinity in the body); check the values the statement sends"
    )


def undecodable(
    spec: RequestSpec, context: str, retryable: bool, encoding: str, status: int | None
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
    return DataError(f"{head(spec, context)}: the answer could not be decoded ({claim}); {fix}")


@functools.cache
def library_errors() -> tuple[type[Exception], ...]:
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


def not_sent(exc: httpx.TransportError) -> bool:
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


def refused_nearby(exc: BaseException, url: str) -> bool:
    """Whether a server on this very machine refused the connection: nothing listens
    there, and trying again in a few seconds will not change that (a remote host's refusal
    may be a restart, and is retried)."""
    host = (urlsplit(url).hostname or "").lower()
    if host != "localhost" and not _loopback(host):
        return False
    seen: BaseException | None = exc
    while seen is not None:
        errno = getattr(seen, "errno", None)
        os_error = getattr(seen, "os_error", None)  # aiohttp's ClientConnectorError
        if errno == ECONNREFUSED or getattr(os_error, "errno", None) == ECONNREFUSED:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def head(spec: RequestSpec, context: str) -> str:
    """``context: VERB url`` for messages, the URL cut short (a value can make it huge)."""
    url = spec.url
    if len(url) > MAX_URL_IN_MESSAGE:
        url = url[:MAX_URL_IN_MESSAGE] + "..."
    return f"{context}: {spec.http_verb} {url}" if context else f"{spec.http_verb} {url}"


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
