"""Downloads from a provider registry: the one place httpx's failures during
``sqlprovider registry`` become messages that name the fix.

A download streams to a file, stops at a size limit, and checks that every byte the
server announced arrived; a connection closed half-way is an error, never a short file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from sqlprovider.errors import DataError, HTTPStatusError, TransportError
from sqlprovider.registry_client.index import REGISTRY_URL_ENV

# Under "sqlprovider.http": --trace shows every request, the registry's too.
log = logging.getLogger("sqlprovider.http.registry")

URL_FIX = f"check the address, or point --registry-url (or {REGISTRY_URL_ENV}) at a registry"


def shown(url: str) -> str:
    """``url`` fit for a message: no user name, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Transfer:
    """An HTTP client for one registry.

    Args:
        timeout: seconds to wait for a connection or for the next bytes of an answer.
        transport: the httpx transport (tests inject ``httpx.MockTransport``).
    """

    def __init__(self, timeout: float = 60.0, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=True,
            headers={"User-Agent": "sqlprovider"},
        )

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def __enter__(self) -> Transfer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def text(self, url: str, max_bytes: int, what: str) -> str:
        """The body of ``url`` as text (at most ``max_bytes``).

        Raises:
            TransportError, HTTPStatusError, DataError: see ``download``.
        """
        chunks: list[bytes] = []
        self._stream(url, max_bytes, what, chunks.append)
        return b"".join(chunks).decode("utf-8", "replace")

    def download(self, url: str, target: Path, max_bytes: int, what: str) -> int:
        """Write the body of ``url`` to ``target``; returns its size in bytes.

        Raises:
            TransportError: the registry cannot be reached or the download broke off.
            HTTPStatusError: the registry answered an error status.
            DataError: the body is larger than ``max_bytes`` or than announced.
        """
        with target.open("wb") as sink:

            def write(chunk: bytes) -> None:
                sink.write(chunk)
                sink.flush()  # what arrived is on disk: progress shows, nothing waits in memory

            return self._stream(url, max_bytes, what, write)

    def _stream(self, url: str, max_bytes: int, what: str, write: Callable[[bytes], object]) -> int:
        started = time.monotonic()
        received = 0
        try:
            with self._client.stream("GET", url) as response:
                status = response.status_code
                if status >= 400:
                    raise _status_error(url, response, what)
                announced = _announced(response)
                if announced is not None and announced > max_bytes:
                    raise _too_large(url, what, max_bytes, announced)
                for chunk in response.iter_bytes():  # as they arrive
                    received += len(chunk)
                    if received > max_bytes:
                        raise _too_large(url, what, max_bytes, None)
                    write(chunk)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _transport_error(url, what, exc, received) from None
        if announced is not None and received != announced:  # sent as is: bytes == body
            raise _broke_off(url, what, received, announced)
        log.debug(
            "GET %s -> %d (%d bytes, %.0f ms)",
            shown(url),
            status,
            received,
            (time.monotonic() - started) * 1000,
        )
        return received


def _announced(response: httpx.Response) -> int | None:
    """The body size the server announced, when the body is sent as is."""
    if response.headers.get("content-encoding", "identity") != "identity":
        return None
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _status_error(url: str, response: httpx.Response, what: str) -> HTTPStatusError:
    status = response.status_code
    if status == 404:
        fix = f"the registry has no such file; {URL_FIX} that serves dist/providers.yaml"
    elif status in (401, 403):
        fix = "the registry refused the download; check that the URL is a public registry"
    elif status == 429 or status >= 500:
        fix = "the registry is busy or failing; wait a moment and run the command again"
    else:
        fix = URL_FIX
    return HTTPStatusError(
        f"{what}: the registry answered HTTP {status} {response.reason_phrase} for GET "
        f"{shown(url)}; {fix}",
        status_code=status,
        url=shown(url),
    )


def _transport_error(
    url: str, what: str, exc: httpx.HTTPError | httpx.InvalidURL, received: int
) -> TransportError:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol):
        cause = "the connection was refused or the host is unknown"
        if isinstance(exc, httpx.ConnectTimeout):
            cause = "the connection timed out"
        elif isinstance(exc, httpx.UnsupportedProtocol):
            cause = "it is not an http or https URL"
        return TransportError(
            f"{what}: cannot reach the registry at {shown(url)} ({cause}); {URL_FIX}"
        )
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(
            f"{what}: the registry stopped sending {shown(url)} after {received} bytes "
            "(timed out); nothing was changed; run the command again"
        )
    if isinstance(exc, httpx.InvalidURL):
        return TransportError(f"{what}: {shown(url)} is not a usable URL; {URL_FIX}")
    return TransportError(
        f"{what}: the download of {shown(url)} broke off after {received} bytes (the "
        "connection closed mid-answer); nothing was changed; run the command again"
    )


def _broke_off(url: str, what: str, received: int, announced: int) -> TransportError:
    return TransportError(
        f"{what}: the download of {shown(url)} broke off after {received} of {announced} "
        "bytes; nothing was changed; run the command again"
    )


def _too_large(url: str, what: str, limit: int, announced: int | None) -> DataError:
    size = f"{announced} bytes" if announced is not None else "more"
    return DataError(
        f"{what}: {shown(url)} is {size}, past the limit of {limit} bytes; nothing was "
        "changed (check that the URL is a provider registry)"
    )
