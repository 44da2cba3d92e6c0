"""The server's state, shared by every tool call: the session, the settings, the audit log
and the redaction; and the one place where a call's outcome becomes its answer.

Every tool runs its work through ``App.answer``: errors become one message for the model
(the engine's own, which names the fix; never a traceback), every answer loses its
credentials, and every call leaves one audit record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent

from sqlprovider.errors import Error, ProgrammingError, WriteFailedError
from sqlprovider.mcpserver.answers import query_answer
from sqlprovider.mcpserver.audit import AuditLog
from sqlprovider.mcpserver.redaction import Redactor
from sqlprovider.mcpserver.settings import MAX_ROW_LIMIT, ServerSettings
from sqlprovider.plan import Plan
from sqlprovider.result import Result
from sqlprovider.session import Session

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[], Awaitable[tuple[str, dict[str, Any] | None]]]
# Dry-run texts kept for the second round of a confirmation (see confirmation.py).
KEPT_QUESTIONS = 64


class Refused(Exception):
    """A call the mode or the user did not let through; nothing was sent.

    Args:
        message: what happened and what would let it through.
        outcome: the audit log's outcome (``refused``, ``declined``, ``cancelled``).
    """

    def __init__(self, message: str, outcome: str = "refused") -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass
class Call:
    """One tool call, as its audit record tells it."""

    tool: str
    statement: str | None = None
    arguments: dict[str, Any] | None = None
    started: float = field(default_factory=time.time)
    outcome: str = "interrupted"  # until the call ends one way or another
    confirmation: str | None = None
    dry_run_reads: int | None = None  # the reads the question's dry run listed
    result: Result | None = None
    error: str | None = None
    sent_nothing: bool = False  # refused before the statement ran

    def _requests(self, stats: dict[str, float] | None) -> int | None:
        """What the statement sent; None when it failed without saying."""
        if stats is not None:
            return int(stats.get("requests", 0))
        return 0 if self.sent_nothing else None

    def record(self, mode: str) -> dict[str, Any]:
        """The audit record (redacted by the log when written)."""
        stats = self.result.stats if self.result is not None else None
        cached = int(stats.get("cached_requests", 0)) if stats is not None else None
        return {
            "time": datetime.fromtimestamp(self.started, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "tool": self.tool,
            "mode": mode,
            "statement": self.statement,
            "arguments": self.arguments,
            "outcome": self.outcome,
            "confirmation": self.confirmation,
            "requests": self._requests(stats),
            "dry_run_reads": self.dry_run_reads,
            "cached_requests": cached,
            "cache_age": stats.get("cache_age") if stats is not None and cached else None,
            "rows": len(self.result.rows) if self.result is not None else None,
            "seconds": round(time.time() - self.started, 3),
            "error": self.error,
        }


def app_of(ctx: Context) -> App:
    """The server's state, which its lifespan hands to every request."""
    app = ctx.request_context.lifespan_context
    assert isinstance(app, App)
    return app


class App:
    """What every tool call shares.

    Args:
        session: the engine; its statements run one at a time, whichever client asks.
        settings: the server's settings.
        audit: where audit records go, or None for none.
        redactor: hides the session's credentials.
    """

    def __init__(
        self,
        session: Session,
        settings: ServerSettings,
        audit: AuditLog | None,
        redactor: Redactor,
    ) -> None:
        self.session = session
        self.settings = settings
        self.audit = audit
        self.redact = redactor
        # statement → the question the user was shown, and the reads its dry run listed
        self.questions: dict[str, tuple[str, int]] = {}

    async def blocking(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a worker thread of the session, between its statements."""
        return await self.session.run_async(self.session.call_async(function, *args))

    async def plan_one(self, sql: str, tool: str) -> Plan:
        """The plan of the one statement in ``sql`` (nothing is sent).

        Raises:
            ProgrammingError: ``sql`` holds no statement, or several.
        """
        plans = await self.blocking(self.session.plans, sql)
        if len(plans) != 1:
            raise ProgrammingError(
                f"{tool} takes one statement; this has {len(plans)}: send them one at a time"
                if plans
                else f"{tool} needs a statement; sql is empty"
            )
        return plans[0]

    async def run(self, plan: Plan) -> Result:
        """Run one plan (its requests are sent now)."""
        [result] = await self.blocking(self.session.run_plans, [plan])
        return result

    def keep_question(self, sql: str, text: str, reads: int) -> None:
        """Remember what the user was asked about ``sql``, for the second round."""
        self.questions.pop(sql, None)
        self.questions[sql] = (text, reads)
        while len(self.questions) > KEPT_QUESTIONS:
            self.questions.pop(next(iter(self.questions)))

    def row_limit(self, asked: int | None) -> int:
        """The rows to show: the call's ``row_limit``, else the server's."""
        return min(asked or self.settings.row_limit, MAX_ROW_LIMIT)

    async def answer(self, call: Call, work: Work) -> CallToolResult:
        """Run ``work`` (markdown text and structured content) and make the tool's result;
        an error is one message, with no structured content."""
        error = True
        try:
            text, content = await work()
            error = False
            if call.outcome == "interrupted":  # work may have named another (``invalid``)
                call.outcome = "ok"
        except Refused as exc:
            call.outcome, call.sent_nothing = exc.outcome, True
            text = call.error = str(exc)
            content = None
        except WriteFailedError as exc:
            call.outcome = "error"
            text = call.error = str(exc)
            content = None
            if isinstance(exc.result, Result):
                call.result = exc.result
                done, _ = query_answer(exc.result, self.row_limit(None))
                text += f"\n\nWhat each request did:\n\n{done}"
        except Error as exc:
            call.outcome = "error"
            text = call.error = str(exc)
            content = None
        except Exception as exc:  # a bug: say so in one line, keep the traceback here
            call.outcome = "error"
            text = call.error = (
                f"internal error: {type(exc).__name__}: {exc} (start the server with --debug "
                "for the traceback in its log)"
            )
            content = None
            if self.settings.debug:
                log.exception("%s failed", call.tool)
            else:
                log.error("%s failed: internal error (%s)", call.tool, type(exc).__name__)
        finally:
            if self.audit is not None:
                self.audit.write(call.record(self.settings.mode.value))
        return CallToolResult(
            content=[TextContent(type="text", text=self.redact(text))],
            structured_content=None if content is None else self.redact(content),
            is_error=error,
        )
