"""Wrong tool arguments, said in one line.

The SDK checks a call's arguments against the tool's input schema before the tool runs,
and reports a miss in pydantic's words (``1 validation error for run_select_queryArguments
... For further information visit https://errors.pydantic.dev/...``). This middleware turns
that into one sentence naming each argument and what is wrong with it; the values given
are not repeated.
"""

from __future__ import annotations

import re
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult, TextContent

_VALIDATION = re.compile(r"Error executing tool (\w+): \d+ validation errors? for \w+\n(.*)", re.S)


async def plain_argument_errors(
    ctx: ServerRequestContext[Any, Any], call_next: CallNext
) -> HandlerResult:
    """Rewrite a tool call's argument errors; pass everything else through unchanged."""
    result = await call_next(ctx)
    if ctx.method != "tools/call":
        return result
    wire = result  # the handler's model, or its wire form
    if isinstance(wire, CallToolResult):
        wire = wire.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not isinstance(wire, dict) or wire.get("isError") is not True:
        return result
    said = "".join(str(c.get("text", "")) for c in wire.get("content") or ())
    found = _VALIDATION.match(said)
    problems = _problems(found.group(2)) if found is not None else []
    if found is None or not problems:
        return result
    message = (
        f"wrong arguments for {found.group(1)}: {'; '.join(problems)} "
        "(the tool's input schema lists its arguments)"
    )
    return {**wire, "content": [TextContent(type="text", text=message).model_dump()]}


def _problems(details: str) -> list[str]:
    """``sql is required``, ``row_limit: input should be ...`` from pydantic's lines: an
    argument's name unindented, what is wrong with it on the next line."""
    problems: list[str] = []
    name = ""
    for line in details.splitlines():
        if line and not line[0].isspace():
            name = line.strip()
        elif name and line.startswith("  ") and not line.startswith("    "):
            what = line.strip().split(" [type=", 1)[0]
            if what == "Field required":
                problems.append(f"{name} is required")
            else:
                problems.append(f"{name}: {what[:1].lower()}{what[1:]}")
            name = ""
    return problems
