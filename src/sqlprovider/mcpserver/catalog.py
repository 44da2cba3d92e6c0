"""The tools that tell an assistant what there is: ``server_info``, ``list_providers``,
``list_services``, ``list_resources``, ``list_methods`` and ``describe_resource``.

Each answers from the provider definitions with the statements a person would type
(``SHOW SERVICES IN p``, ``DESCRIBE EXTENDED p.s.r``); the names given are quoted as
identifiers, so they can only ever name something. None sends a request.
"""

from __future__ import annotations

from typing import Annotated, Any

import duckdb
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field
from sqlglot import exp

from sqlprovider import __version__
from sqlprovider.errors import UnknownNameError
from sqlprovider.mcpserver.answers import Rows, key_values, rows_answer
from sqlprovider.mcpserver.app import App, Call, app_of
from sqlprovider.mcpserver.settings import DEFAULT_ROW_LIMIT, MAX_ROW_LIMIT, Mode
from sqlprovider.providers.registry import suggest

Provider = Annotated[str, Field(min_length=1, description="a provider, as list_providers names it")]
Service = Annotated[
    str, Field(min_length=1, description="a service of the provider, as list_services names it")
]
Resource = Annotated[
    str,
    Field(min_length=1, description="a resource of the service, as list_resources names it"),
]
RowLimit = Annotated[
    int | None,
    Field(
        ge=1,
        le=MAX_ROW_LIMIT,
        description=(
            f"rows to show, at most {MAX_ROW_LIMIT} (default: the server's, {DEFAULT_ROW_LIMIT} "
            "unless it was started with --row-limit); the answer says how many there were"
        ),
    ),
]


class ServerInfo(BaseModel):
    """Who answers, and what it lets an assistant do."""

    name: str = Field(description="sqlprovider")
    version: str = Field(description="sqlprovider's version")
    transport: str = Field(description="stdio or http")
    mode: str = Field(description="read_only, safe (writes ask the user) or full_access")
    read_only: bool = Field(description="true when every write is refused")
    sql_dialect: str = Field(description="the SQL the tools take")
    sql_backend: str = Field(description="the engine that runs the SQL")
    providers: list[str] = Field(description="the providers whose tables can be queried")
    row_limit: int = Field(description="rows a tool shows when the call names no row_limit")
    max_row_limit: int = Field(description="the largest row_limit a call may ask for")
    cache_ttl: float = Field(description="seconds a read is answered again from the cache")


async def server_info(ctx: Context) -> Annotated[CallToolResult, ServerInfo]:
    """Who this server is and what it lets you do: version, transport, mode (read_only,
    safe: writes ask the user first, full_access), the SQL dialect, the providers, the row
    limit and the result cache's TTL. Call it once at the start."""
    app = app_of(ctx)

    async def work() -> tuple[str, dict[str, Any]]:
        settings = app.settings
        info = ServerInfo(
            name="sqlprovider",
            version=__version__,
            transport=settings.transport.value,
            mode=settings.mode.value,
            read_only=settings.mode is Mode.READ_ONLY,
            sql_dialect="DuckDB; provider tables are named provider.service.resource",
            sql_backend=f"DuckDB {duckdb.__version__}",
            providers=list(app.session.registry.names()),
            row_limit=settings.row_limit,
            max_row_limit=MAX_ROW_LIMIT,
            cache_ttl=app.session.cache_ttl,
        )
        content = info.model_dump()
        return key_values(content), content

    return await app.answer(Call("server_info"), work)


async def list_providers(
    ctx: Context, row_limit: RowLimit = None
) -> Annotated[CallToolResult, Rows]:
    """The providers (APIs) whose tables can be queried, with how many resources each has.
    The top of the hierarchy provider → service → resource; next, list_services."""
    return await _show(app_of(ctx), "list_providers", "SHOW PROVIDERS", {}, row_limit)


async def list_services(
    ctx: Context, provider: Provider, row_limit: RowLimit = None
) -> Annotated[CallToolResult, Rows]:
    """The services of a provider. Requires provider."""
    app = app_of(ctx)
    sql = f"SHOW SERVICES IN {_name(provider)}"
    return await _show(app, "list_services", sql, {"provider": provider}, row_limit)


async def list_resources(
    ctx: Context, provider: Provider, service: Service, row_limit: RowLimit = None
) -> Annotated[CallToolResult, Rows]:
    """The resources of a provider's service: each is a SQL table named
    provider.service.resource, with the SQL verbs it takes. Requires provider and service."""
    app = app_of(ctx)
    sql = f"SHOW RESOURCES IN {_name(provider, service)}"
    named = {"provider": provider, "service": service}
    return await _show(app, "list_resources", sql, named, row_limit)


async def list_methods(
    ctx: Context,
    provider: Provider,
    service: Service,
    resource: Resource,
    row_limit: RowLimit = None,
) -> Annotated[CallToolResult, Rows]:
    """The methods (HTTP operations) of a resource: the SQL verb each serves and the params
    it requires, which a query's WHERE must give (WHERE param = value). Call it before
    writing a query. Requires provider, service and resource."""
    app = app_of(ctx)
    sql = f"SHOW METHODS IN {_name(provider, service, resource)}"
    named = {"provider": provider, "service": service, "resource": resource}
    return await _show(app, "list_methods", sql, named, row_limit)


async def describe_resource(
    ctx: Context,
    provider: Provider,
    service: Service,
    resource: Resource,
    extended: Annotated[
        bool,
        Field(
            description=(
                "also say, for each column, which conditions on it are sent to the API "
                "(and how exactly) and which DuckDB evaluates alone"
            )
        ),
    ] = False,
    row_limit: RowLimit = None,
) -> Annotated[CallToolResult, Rows]:
    """The columns of a resource's table (its fields, and the params of its SELECT
    methods), with their DuckDB types. Requires provider, service and resource."""
    app = app_of(ctx)
    sql = f"DESCRIBE {'EXTENDED ' if extended else ''}{_name(provider, service, resource)}"
    named: dict[str, Any] = {"provider": provider, "service": service, "resource": resource}
    if extended:
        named["extended"] = True
    return await _show(app, "describe_resource", sql, named, row_limit)


async def _show(
    app: App, tool: str, sql: str, arguments: dict[str, Any], row_limit: int | None
) -> CallToolResult:
    call = Call(tool, statement=sql, arguments=arguments or None)

    async def work() -> tuple[str, dict[str, Any]]:
        if "provider" in arguments:
            _check_provider(app, arguments["provider"])
        plan = await app.plan_one(sql, tool)
        call.result = result = await app.run(plan)
        return rows_answer(result, app.row_limit(row_limit))

    return await app.answer(call, work)


def _check_provider(app: App, provider: str) -> None:
    """A provider that is not loaded is named before DuckDB is asked about it.

    Raises:
        UnknownNameError: with the nearest names.
    """
    registry = app.session.registry
    if not registry.has(provider):
        raise UnknownNameError(
            "provider",
            provider,
            suggest(provider, list(registry.names())),
            "list_providers names them",
        )


def _name(*parts: str) -> str:
    """A dotted name of quoted identifiers (a quote inside a name is doubled)."""
    return ".".join(exp.to_identifier(part, quoted=True).sql(dialect="duckdb") for part in parts)
