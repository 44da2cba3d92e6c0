"""Asking the user before a write (``--mode safe``), through MCP elicitation.

``ask_first`` is a resolver of the MCP SDK: it runs before ``run_mutation_query``'s body and
returns either a question (``Elicit``), which the SDK puts to the client the way the
connection's protocol version wants (a request to the client up to 2025-11-25; an
``input_required`` answer and a second round from 2026-07-28 on), or a ``Gate`` saying why
nothing was asked. The question shows the statement and the dry run: every write request it
would send, credentials as ``***``. Listing them reads the objects a write selects, as the
shell's question does; no write is sent before the user accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit
from mcp_types.version import is_version_at_least
from pydantic import BaseModel

from sqlprovider.errors import Error
from sqlprovider.mcpserver.app import App, app_of
from sqlprovider.mcpserver.settings import Mode
from sqlprovider.mcpserver.statements import Kind, kind_of
from sqlprovider.plan import Plan

# From this protocol version on, a question goes back as an input_required answer.
INPUT_REQUIRED_VERSION = "2026-07-28"
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SHOWN_REQUESTS = 20  # the rest are counted


class Approval(BaseModel):
    """Nothing to fill in: accept to send it, decline to send nothing."""


@dataclass(frozen=True)
class Gate:
    """Why no question was asked.

    Attributes:
        reason: ``not needed`` (the mode does not ask, or the body refuses the statement
            anyway) or ``unavailable`` (the client cannot be asked).
        error: the dry run failed with this; nothing was written.
    """

    reason: str
    error: Error | None = None


async def ask_first(sql: str, ctx: Context) -> Elicit[Approval] | Gate:
    """The question to put to the user before ``sql`` runs, or why there is none."""
    app = app_of(ctx)
    if app.settings.mode is not Mode.SAFE:
        return Gate("not needed")
    try:
        plan = await app.plan_one(sql, "run_mutation_query")
    except Error:
        return Gate("not needed")  # the body plans it again and reports the error
    if kind_of(plan) is Kind.READ:
        return Gate("not needed")  # the body sends it to run_select_query
    if not can_ask(ctx):
        return Gate("unavailable")
    # The second round of an input_required exchange shows the same text again, so the
    # client's answer is taken for the question it answers (and nothing is read twice).
    kept = app.questions.get(sql) if ctx.input_responses is not None else None
    if kept is None:
        try:
            text, reads = await question(app, plan)
        except Error as exc:
            return Gate("not needed", error=exc)
        kept = (app.redact(text), reads)
        app.keep_question(sql, *kept)
    return Elicit(kept[0], Approval)


def can_ask(ctx: Context) -> bool:
    """Whether this client can put a form question to its user now."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    # A bare ``elicitation: {}`` (before modes existed) means forms; URL-only does not.
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return False
    version = ctx.protocol_version
    if version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION):
        return True
    return bool(ctx.session.can_send_request)


async def question(app: App, plan: Plan) -> tuple[str, int]:
    """The statement and the write requests it would send (its dry run), and how many
    reads listing them took."""
    head = (
        "An assistant asks to run this statement on your APIs "
        f"(sqlprovider mcp, --mode {app.settings.mode.value}):\n\n{plan.statement.strip()}\n\n"
    )
    if plan.mutation is None:
        return head + (
            "DuckDB runs it on this machine (it changes local tables, settings or files); "
            "no request is sent to an API. Accept to run it; decline and nothing runs."
        ), 0
    lines = await app.blocking(app.session.describe, plan)
    writes = [r for r in lines if r.split(" ", 1)[0] in WRITE_VERBS or r.startswith("(no ")]
    # A write that selects by reading has read its objects: those are the other lines.
    reads = sum(1 for r in lines if r.split(" ", 1)[0] not in WRITE_VERBS and r[:1] != "(")
    count = sum(1 for r in writes if not r.startswith("(no "))
    shown = "\n".join(writes[:SHOWN_REQUESTS])
    if len(writes) > SHOWN_REQUESTS:
        shown += f"\n... and {len(writes) - SHOWN_REQUESTS} more requests"
    sends = f"It would send {count} request{'s' if count != 1 else ''}:"
    return f"{head}{sends}\n\n{shown}\n\nAccept to send; decline and nothing is sent.", reads
