"""What the tools answer: a markdown text for the model and structured content for
programs (the pydantic models below are the tools' published output schemas).

Rows are cut at the call's ``row_limit``; the answer then says how many there were and how
to see more. Values in the structured rows are those of ``sqlprovider exec -o json``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from sqlprovider.mcpserver.settings import MAX_ROW_LIMIT
from sqlprovider.output import render
from sqlprovider.result import Result


class Rows(BaseModel):
    """Rows about providers, services, resources, methods or columns."""

    columns: list[str] = Field(description="column names, in order")
    rows: list[dict[str, Any]] = Field(description="the rows shown, as column → value")
    row_count: int = Field(description="rows in the whole answer")
    truncated: bool = Field(description="true when only the first row_limit rows are shown")
    note: str | None = Field(default=None, description="how to see the rest, when truncated")


class QueryRows(Rows):
    """The rows a statement returned, and what it cost."""

    types: list[str] = Field(description="the DuckDB type of each column")
    warnings: list[str] = Field(description="what the engine warns about (a page limit, ...)")
    requests: int = Field(description="HTTP requests sent to the APIs (pages and retries too)")
    cached_requests: int = Field(description="requests answered from the result cache instead")
    cache_age: float | None = Field(
        default=None, description="seconds: the oldest answer the result cache gave"
    )


class WriteRows(QueryRows):
    """What a write sent, and who agreed to it."""

    confirmation: str = Field(
        description="'accepted' when the user said yes, 'not needed' in full_access mode"
    )


def rows_answer(result: Result, row_limit: int) -> tuple[str, dict[str, Any]]:
    """A table result as markdown and as ``Rows`` content."""
    shown = Result(columns=result.columns, types=result.types, rows=result.rows[:row_limit])
    total = len(result.rows)
    truncated = total > row_limit
    note = _note(row_limit, total) if truncated else None
    text = render(shown, "markdown").rstrip("\n") if result.columns else ""
    if result.columns and not result.rows:
        text += "\n\n(no rows)"
    if note:
        text += f"\n\n{note}"
    content = {
        "columns": list(result.columns),
        "rows": json.loads(render(shown, "json")) if shown.rows else [],
        "row_count": total,
        "truncated": truncated,
        "note": note,
    }
    return text.strip() or "(no rows)", content


def query_answer(result: Result, row_limit: int) -> tuple[str, dict[str, Any]]:
    """A statement's result as markdown and as ``QueryRows`` content: the rows, then what
    the engine warned about and where the answers came from."""
    text, content = rows_answer(result, row_limit)
    stats = result.stats
    cached = int(stats.get("cached_requests", 0))
    content.update(
        types=list(result.types),
        warnings=list(result.warnings),
        requests=int(stats.get("requests", 0)),
        cached_requests=cached,
        cache_age=float(stats["cache_age"]) if cached and "cache_age" in stats else None,
    )
    lines = [f"warning: {w}" for w in result.warnings]
    if cached:
        age = content["cache_age"]
        lines.append(
            f"{cached} of the API answers came from the result cache"
            + (f" ({age:g} s old)" if age is not None else "")
        )
    if lines:
        text += "\n\n" + "\n".join(lines)
    return text, content


def _note(row_limit: int, total: int) -> str:
    more = (
        f"ask again with a larger row_limit (at most {MAX_ROW_LIMIT:,}), or narrow"
        if row_limit < MAX_ROW_LIMIT
        else "narrow"
    )
    return (
        f"Showing the first {row_limit:,} of {total:,} rows (row_limit {row_limit:,}): "
        f"{more} the query with WHERE, LIMIT or fewer columns."
    )


def key_values(values: dict[str, Any]) -> str:
    """A record as a two-column markdown table."""
    lines = ["| key | value |", "| --- | --- |"]
    for key, value in values.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        escaped = shown.replace("|", "\\|")
        lines.append(f"| {key} | {escaped} |")
    return "\n".join(lines)
