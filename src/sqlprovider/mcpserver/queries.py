"""The tools that take SQL: ``validate_query`` (plans, sends nothing), ``run_select_query``
(reads) and ``run_mutation_query`` (writes, as the server's mode allows).
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.elicitation import (
    AcceptedElicitation,
    CancelledElicitation,
    DeclinedElicitation,
    ElicitationResult,
)
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Resolve
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from sqlprovider.errors import Error
from sqlprovider.mcpserver.answers import QueryRows, WriteRows, query_answer
from sqlprovider.mcpserver.app import Call, Refused, app_of
from sqlprovider.mcpserver.catalog import RowLimit
from sqlprovider.mcpserver.confirmation import Approval, Gate, ask_first
from sqlprovider.mcpserver.settings import Mode
from sqlprovider.mcpserver.statements import Kind, kind_of
from sqlprovider.plan import Plan

Sql = Annotated[
    str,
    Field(
        min_length=1,
        description=(
            "SQL in DuckDB's dialect; provider tables are named provider.service.resource "
            "(list_resources names them), their required params go in the WHERE"
        ),
    ),
]
READ_ONLY = (
    "not sent: this server is read-only (--mode read_only) and runs no writes; reads go to "
    "run_select_query. To allow writes, restart the server with --mode safe (each write "
    "asks the user first) or --mode full_access"
)
CANNOT_ASK = (
    "not sent: this server asks the user before every write (--mode safe), and this MCP "
    "client cannot ask (it does not support elicitation); use a client that does, or restart "
    "the server with --mode full_access if the assistant may write without asking"
)
DECLINED = "not sent: the user declined it; nothing was written"
CANCELLED = "not sent: the user dismissed the question; nothing was written"


class Planned(BaseModel):
    """One statement's plan."""

    statement: str = Field(description="the statement, as planned")
    kind: str = Field(description="read, write (to an API) or local change (DuckDB, files)")
    tool: str = Field(description="the tool that runs it")
    allowed: str = Field(description="what the server's mode does with it")
    plan: str = Field(description="what would happen: EXPLAIN's text")


class Validation(BaseModel):
    """Whether SQL parses and plans, and what it would do."""

    valid: bool = Field(description="true when every statement planned")
    statements: list[Planned] = Field(description="each statement's plan, when valid")
    error: str | None = Field(default=None, description="why not, when not valid")


async def validate_query(ctx: Context, sql: Sql) -> Annotated[CallToolResult, Validation]:
    """Parse and plan SQL without running it: whether it is valid, and for each statement
    what it would do (which API method, which params come from where, how many requests,
    what DuckDB runs) and which tool runs it. Sends no request. Use it to check a query,
    or to see what a write would touch, before running it."""
    app = app_of(ctx)
    call = Call("validate_query", statement=sql)

    async def work() -> tuple[str, dict[str, Any]]:
        try:
            plans = await app.blocking(app.session.plans, sql)
        except Error as exc:
            call.outcome, call.error = "invalid", str(exc)
            content = Validation(valid=False, statements=[], error=str(exc))
            return f"Not valid: {exc}", content.model_dump()
        planned = [_planned(app.settings.mode, plan) for plan in plans]
        content = Validation(valid=True, statements=planned)
        return _validation_text(planned), content.model_dump()

    return await app.answer(call, work)


async def run_select_query(
    ctx: Context, sql: Sql, row_limit: RowLimit = None
) -> Annotated[CallToolResult, QueryRows]:
    """Run one statement that only reads (SELECT, also joins across providers, SHOW,
    DESCRIBE, EXPLAIN) and return its rows. Conditions in WHERE are sent to the API where
    that never changes the answer; the rest DuckDB evaluates. Statements that change
    something go to run_mutation_query."""
    app = app_of(ctx)
    call = Call("run_select_query", statement=sql)

    async def work() -> tuple[str, dict[str, Any]]:
        plan = await app.plan_one(sql, call.tool)
        kind = kind_of(plan)
        if kind is not Kind.READ:
            raise Refused(
                f"not run: run_select_query only reads, and this statement is a {kind} "
                "(it changes something); send it with run_mutation_query"
            )
        call.result = result = await app.run(plan)
        return query_answer(result, app.row_limit(row_limit))

    return await app.answer(call, work)


async def run_mutation_query(
    ctx: Context,
    sql: Sql,
    approval: Annotated[ElicitationResult[Approval], Resolve(ask_first)],
    row_limit: RowLimit = None,
) -> Annotated[CallToolResult, WriteRows]:
    """Run one statement that changes something: INSERT, UPDATE, REPLACE, DELETE or EXEC on
    provider tables (one API request per row; real side effects), or a DuckDB statement
    that changes local tables or files. Returns one row per request sent (or the RETURNING
    rows). What happens depends on the server's mode (server_info says it): read_only
    refuses; safe shows the user every request it would send and sends them only if the
    user accepts; full_access sends them. validate_query shows the plan first."""
    app = app_of(ctx)
    call = Call("run_mutation_query", statement=sql)

    async def work() -> tuple[str, dict[str, Any]]:
        mode = app.settings.mode
        if mode is Mode.READ_ONLY:
            raise Refused(READ_ONLY)
        plan = await app.plan_one(sql, call.tool)
        if kind_of(plan) is Kind.READ:
            raise Refused(
                "not run: this statement only reads; run it with run_select_query",
            )
        if mode is Mode.SAFE and _was_asked(approval):
            asked = app.questions.get(sql)
            call.dry_run_reads = asked[1] if asked is not None else None
        call.confirmation = "not needed" if mode is Mode.FULL_ACCESS else _approved(approval, call)
        call.result = result = await app.run(plan)
        text, content = query_answer(result, app.row_limit(row_limit))
        content["confirmation"] = call.confirmation
        said = "accepted by the user" if call.confirmation == "accepted" else "not asked"
        return f"{text}\n\nconfirmation: {said} (--mode {mode.value})", content

    return await app.answer(call, work)


def _approved(approval: ElicitationResult[Approval], call: Call) -> str:
    """``accepted``, when the user said yes to this very statement.

    Raises:
        Refused: the user said no, or could not be asked (``call.confirmation`` says which).
        Error: the dry run shown in the question failed.
    """
    if isinstance(approval, DeclinedElicitation):
        call.confirmation = "declined"
        raise Refused(DECLINED, "declined")
    if isinstance(approval, CancelledElicitation):
        call.confirmation = "cancelled"
        raise Refused(CANCELLED, "cancelled")
    assert isinstance(approval, AcceptedElicitation)
    data = approval.data
    if isinstance(data, Approval):
        return "accepted"
    call.confirmation = "not asked"
    if isinstance(data, Gate) and data.error is not None:
        raise data.error
    if isinstance(data, Gate) and data.reason == "unavailable":
        call.confirmation = "unavailable"
        raise Refused(CANNOT_ASK, "refused")
    raise Refused("not sent: the user could not be asked about this statement; send it again")


def _was_asked(approval: ElicitationResult[Approval]) -> bool:
    if isinstance(approval, AcceptedElicitation):
        return isinstance(approval.data, Approval)
    return True  # declined or cancelled: a question was put


def _planned(mode: Mode, plan: Plan) -> Planned:
    kind = kind_of(plan)
    if kind is Kind.READ:
        tool, allowed = "run_select_query", "runs"
    elif mode is Mode.READ_ONLY:
        tool, allowed = "run_mutation_query", "refused: the server is read-only"
    elif mode is Mode.SAFE:
        tool, allowed = "run_mutation_query", "runs once the user accepts it"
    else:
        tool, allowed = "run_mutation_query", "runs (full_access: the user is not asked)"
    explained = (
        "answered from the provider definitions; no request"
        if plan.answer is not None
        else plan.explain()
    )
    return Planned(
        statement=plan.statement, kind=kind.value, tool=tool, allowed=allowed, plan=explained
    )


def _validation_text(planned: list[Planned]) -> str:
    count = len(planned)
    parts = [f"Valid: {count} statement{'s' if count != 1 else ''} planned; nothing was sent."]
    for number, item in enumerate(planned, 1):
        parts.append(f"{number}. {item.kind}: {item.tool} {item.allowed}\n\n```\n{item.plan}\n```")
    return "\n\n".join(parts)
