"""The MCP server: the tools, their annotations for the server's mode, and the transports.

The tools are named as StackQL's MCP server names them, so prompts written for one carry
over: ``server_info``, ``list_providers``, ``list_services``, ``list_resources``,
``list_methods``, ``describe_resource``, ``validate_query``, ``run_select_query`` and
``run_mutation_query``.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

from sqlprovider import __version__
from sqlprovider.errors import InterfaceError
from sqlprovider.mcpserver import catalog, queries
from sqlprovider.mcpserver.app import App
from sqlprovider.mcpserver.arguments import plain_argument_errors
from sqlprovider.mcpserver.audit import AuditLog
from sqlprovider.mcpserver.redaction import Redactor
from sqlprovider.mcpserver.settings import Mode, ServerSettings, Transport
from sqlprovider.options import ConnectOptions
from sqlprovider.session import Session

INSTRUCTIONS = """\
sqlprovider answers SQL over REST APIs: each API resource is a table named
provider.service.resource, queried with DuckDB's SQL (joins across providers work).
Find tables with list_providers, list_services and list_resources; list_methods shows the
params a resource's methods require (give them in WHERE: WHERE uuid = '...'), and
describe_resource its columns. validate_query plans SQL without sending anything.
run_select_query runs reads; run_mutation_query runs writes, as the server's mode allows
(server_info says which: read_only refuses writes, safe asks the user first).
"""

# Tools that read the provider definitions only: nothing leaves the machine.
CATALOG = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def build_server(app: App) -> MCPServer[App]:
    """The MCP server of ``app``, with every tool registered for its mode."""

    @asynccontextmanager
    async def lifespan(_: MCPServer[App]) -> AsyncIterator[App]:
        yield app  # made (and closed) by serve(), so start-up errors are reported plainly

    server: MCPServer[App] = MCPServer(
        "sqlprovider",
        title="sqlprovider",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="DEBUG" if app.settings.debug else "WARNING",
        middleware=[plain_argument_errors],
    )
    for tool in (
        catalog.server_info,
        catalog.list_providers,
        catalog.list_services,
        catalog.list_resources,
        catalog.list_methods,
        catalog.describe_resource,
    ):
        server.add_tool(tool, annotations=_annotated(CATALOG, tool))
    server.add_tool(queries.validate_query, annotations=_annotated(CATALOG, queries.validate_query))
    reads = ToolAnnotations(
        title="Run a read",
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=True,
        open_world_hint=True,
    )
    server.add_tool(queries.run_select_query, annotations=reads)
    mode = app.settings.mode
    server.add_tool(
        queries.run_mutation_query,
        description=f"{_doc(queries.run_mutation_query)}\n\n{MODE_NOTES[mode]}",
        annotations=write_annotations(mode),
    )
    return server


MODE_NOTES = {
    Mode.READ_ONLY: "This server is read-only: every call is refused, and nothing is sent.",
    Mode.SAFE: "This server asks the user before every write, showing what it would send.",
    Mode.FULL_ACCESS: "This server sends writes without asking the user.",
}


def write_annotations(mode: Mode) -> ToolAnnotations:
    """``run_mutation_query``'s hints: read-only when the mode refuses every write, else
    destructive (a write can delete or overwrite)."""
    if mode is Mode.READ_ONLY:
        return ToolAnnotations(
            title="Run a write (refused: read-only server)",
            read_only_hint=True,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        )
    title = "Run a write (asks the user first)" if mode is Mode.SAFE else "Run a write"
    return ToolAnnotations(
        title=title,
        read_only_hint=False,
        destructive_hint=True,
        idempotent_hint=False,
        open_world_hint=True,
    )


def _annotated(hints: ToolAnnotations, tool: Callable[..., Any]) -> ToolAnnotations:
    title = tool.__name__.replace("_", " ").capitalize()
    return hints.model_copy(update={"title": title})


def _doc(tool: Callable[..., Any]) -> str:
    return " ".join((tool.__doc__ or "").split())


def open_app(settings: ServerSettings, options: ConnectOptions) -> App:
    """The session, redaction and audit log of a server (no I/O but the audit file).

    Raises:
        AuthConfigError: a malformed auth file.
        InterfaceError: the audit log cannot be written.
    """
    session = Session(options)
    try:
        redactor = Redactor(session)
        audit = AuditLog(settings.audit_log, redactor) if settings.audit_log else None
    except BaseException:
        session.close()
        raise
    return App(session, settings, audit, redactor)


def serve(settings: ServerSettings, options: ConnectOptions) -> None:
    """Serve MCP until the client goes away (stdio) or Ctrl-C (HTTP).

    Raises:
        AuthConfigError: a malformed auth file.
        InterfaceError: the audit log cannot be written, or the HTTP port is taken.
    """
    if settings.transport is Transport.HTTP:
        _check_port(settings)
    app = open_app(settings, options)
    try:
        server = build_server(app)
        # The SDK gives the root logger a handler; --debug and --trace gave ours one already.
        ours = logging.getLogger("sqlprovider")
        if ours.handlers:
            ours.propagate = False
        _announce(app)
        if settings.transport is Transport.STDIO:
            anyio.run(server.run_stdio_async)
        else:
            anyio.run(_serve_http, server, settings)
    finally:
        if app.audit is not None:
            app.audit.close()
        app.session.close()


async def _serve_http(server: MCPServer[App], settings: ServerSettings) -> None:
    import uvicorn

    config = uvicorn.Config(
        server.streamable_http_app(host=settings.host),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
    )
    await uvicorn.Server(config).serve()


def _check_port(settings: ServerSettings) -> None:
    """Say in one line that the port is taken, before anything starts."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            raise InterfaceError(
                f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}; "
                "choose another port with --port N"
            ) from None


def _announce(app: App) -> None:
    """One line on standard error: where the server is, its mode, its audit log."""
    settings = app.settings
    where = "standard input and output" if settings.transport is Transport.STDIO else settings.url
    audit = app.audit.where if app.audit is not None else "off"
    if audit == "-":
        audit = "standard error"
    print(
        f"sqlprovider mcp: serving MCP on {where} (mode {settings.mode.value}, audit log {audit})",
        file=sys.stderr,
        flush=True,
    )
    if settings.transport is Transport.HTTP and settings.host not in (
        "127.0.0.1",
        "localhost",
        "::1",
    ):
        print(
            f"sqlprovider mcp: warning: anyone who reaches {settings.host}:{settings.port} can "
            "use this server, and the credentials it holds; the server has no login",
            file=sys.stderr,
            flush=True,
        )
