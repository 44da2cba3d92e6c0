"""The server: pg_mimic's protocol layer (startup, authentication, simple and extended
queries, cancel requests) with a ``ClientSession`` per connection, TLS, and the rule that
a server reachable from other machines has a password."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pg_mimic import (
    IdentityProvider,
    PgServer,
    ScramSha256AuthPlugin,
    TrustAuthPlugin,
)
from pg_mimic import messages as wire
from pg_mimic.stream import ConnectionClosed, PgStream

from sqlprovider import __version__
from sqlprovider.errors import InterfaceError
from sqlprovider.options import ConnectOptions
from sqlprovider.pgserver.catalog import Catalog
from sqlprovider.pgserver.client import ClientSession
from sqlprovider.pgserver.datarows import Connection
from sqlprovider.pgserver.names import Names
from sqlprovider.pgserver.settings import SERVER_VERSION
from sqlprovider.secret import Secret
from sqlprovider.session import Session

log = logging.getLogger("sqlprovider.pgserver")
DEFAULT_PORT = 5466


@dataclass(frozen=True)
class ServeOptions:
    """How ``sqlprovider serve`` listens.

    Attributes:
        host: the address to listen on.
        port: the port (0: any free one).
        read_only: refuse statements that write to an API, before anything is sent.
        password: the password clients give (SCRAM-SHA-256); None: none is asked.
        user: the only user name accepted with the password (None: any).
        tls_cert / tls_key: PEM files; when given, clients must use TLS.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    read_only: bool = False
    password: Secret | None = None
    user: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None


@dataclass
class Shared:
    """What every connection of one server shares: the options, the catalog, the names, and
    ``hub``, the session whose event loop and HTTP clients (connection pools, concurrency
    and rate limits) every connection's session uses."""

    options: ConnectOptions
    hub: Session
    catalog: Catalog
    names: Names
    read_only: bool
    version: str


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Password(IdentityProvider):
    def __init__(self, password: Secret, user: str | None) -> None:
        self._password = password
        self._user = user

    async def get_password(self, username: str) -> str | None:
        if self._user is not None and username != self._user:
            return None  # SCRAM then fails closed
        return self._password.reveal()


class Server(PgServer):
    """pg_mimic's server with TLS, and a password when one is configured."""

    def __init__(self, shared: Shared, serve: ServeOptions) -> None:
        plugin: Callable[[str], Any] = lambda user: TrustAuthPlugin()  # noqa: E731
        identity = None
        if serve.password is not None:
            plugin = lambda user: ScramSha256AuthPlugin()  # noqa: E731
            identity = _Password(serve.password, serve.user)
        self.shared = shared
        super().__init__(
            session_factory=lambda: ClientSession(shared),
            auth_plugin_factory=plugin,
            identity_provider=identity,
            server_version=f"{SERVER_VERSION} (sqlprovider {__version__})",
        )
        self.tls = _tls_context(serve) if serve.tls_cert else None

    async def _handle_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """pg_mimic's, with the connection that sends rows in batches (``datarows``)."""
        stream = PgStream(reader, writer)
        try:
            startup = await self._negotiate_startup(stream)
        except ConnectionClosed:
            return
        if startup is None:
            return  # a cancel request, or a client turned away
        pid = self._allocate_pid()
        secret = struct.unpack("!i", os.urandom(4))[0]
        connection = Connection(stream, self.session_factory(), self, pid, secret, startup)
        self._connections[pid] = connection
        try:
            await connection.run()
        finally:
            self._connections.pop(pid, None)

    async def _negotiate_startup(self, stream: PgStream) -> dict[str, str] | None:
        """Startup, with TLS: an SSLRequest is answered ``S`` and the stream upgraded; a
        client that does not ask for TLS on a TLS server is turned away."""
        code, payload = await stream.read_startup_packet()
        encrypted = False
        if code in (wire.SSL_REQUEST_CODE, wire.GSSENC_REQUEST_CODE):
            if self.tls is not None and code == wire.SSL_REQUEST_CODE:
                stream.write(b"S")
                await stream.drain()
                await stream.writer.start_tls(self.tls)
                encrypted = True
            else:
                stream.write(b"N")
                await stream.drain()
            code, payload = await stream.read_startup_packet()
        if code == wire.CANCEL_REQUEST_CODE:
            pid, secret = wire.parse_cancel_request(payload)
            self.cancel(pid, secret)
            await stream.close()
            return None
        if self.tls is not None and not encrypted:
            stream.write(wire.make_error_response({
                "S": "FATAL", "V": "FATAL", "C": "28000",
                "M": "this server requires TLS: connect with sslmode=require",
            }))  # fmt: skip
            await stream.drain()
            await stream.close()
            return None
        startup: dict[str, str] = wire.parse_startup_message(payload)
        return startup


def _tls_context(serve: ServeOptions) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(serve.tls_cert or "", serve.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise InterfaceError(
            f"cannot use the TLS certificate {serve.tls_cert} and key {serve.tls_key}: "
            f"{exc.strerror or exc}"
        ) from None
    return context


def shared_state(options: ConnectOptions, read_only: bool) -> Shared:
    """What the connections of a server share, for ``options``."""
    hub = Session(options)
    registry = hub.registry
    return Shared(
        options=options,
        hub=hub,
        catalog=Catalog(registry),
        names=Names(registry),
        read_only=read_only,
        version=f"PostgreSQL {SERVER_VERSION} (sqlprovider {__version__}) on a REST API",
    )


async def start(options: ConnectOptions, serve: ServeOptions) -> tuple[Server, tuple[str, int]]:
    """Start listening; the server and the address it listens on.

    Raises:
        InterfaceError: a non-loopback address without a password, or unusable TLS files.
    """
    if not is_loopback(serve.host) and serve.password is None:
        raise InterfaceError(
            f"refusing to listen on {serve.host} without a password: anyone who can reach it "
            "could use your API credentials. Set one with --password-env VAR (or a 'serve' "
            "entry in the auth file), or listen on 127.0.0.1"
        )
    shared = shared_state(options, serve.read_only)
    server = Server(shared, serve)
    listening = await server.start_server(host=serve.host, port=serve.port)
    host, port = listening.sockets[0].getsockname()[:2]
    return server, (host, port)


def run(options: ConnectOptions, serve: ServeOptions, announce: Callable[[str], None]) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""

    async def main() -> None:
        server, (host, port) = await start(options, serve)
        mode = " read-only" if serve.read_only else ""
        announce(
            f"sqlprovider serve: listening{mode} on {host}:{port} "
            f'(psql "host={host} port={port} dbname=sqlprovider")'
        )
        try:
            await server.serve_forever()
        finally:
            server.close()
            await asyncio.to_thread(server.shared.hub.close)

    asyncio.run(main())
