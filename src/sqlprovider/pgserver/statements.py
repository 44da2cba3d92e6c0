"""Prepared statements and portals over a function that runs a statement (the engine, the
catalog), in the shape pg_mimic's protocol layer drives them.

A Postgres client describes a statement's columns before it reads the rows, and may
describe it before binding its parameters. Here the first describe after a Bind runs the
bound statement (a client that binds a statement always executes it next), and a describe
before any Bind runs it once with every parameter NULL where that sends nothing it should
not (catalog queries), else answers without columns.

A portal bound for text results only (every simple query, most extended ones) runs with
``text`` true: the engine may then hand its rows over already encoded as DataRow messages
by DuckDB (``Outcome.encoded``), which only text format can use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pg_mimic import Portal, ResultColumn, Statement


@dataclass
class Outcome:
    """What running a statement gave.

    Attributes:
        columns: the columns, or None for a statement without rows (DDL, SET, ...).
        rows: the rows.
        count: the row count its command tag carries (rows changed, for local DML).
        encoded: the rows as whole DataRow messages in text format, instead of ``rows``.
    """

    columns: list[ResultColumn] | None
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    count: int | None = None
    encoded: list[bytes] | None = None


class Encoded(list[bytes]):
    """Rows a portal gives as DataRow messages, ready to send (text format)."""


Runner = Callable[[list[Any] | None, bool], Awaitable[Outcome]]


class RunStatement(Statement):
    """A statement run by ``runner``: called with the bound parameters, or with None for a
    describe before any Bind (the runner decides what it can say then), and whether every
    result column goes in text format.

    Args:
        sql: the statement as the client wrote it (its first word names the command tag).
        param_oids: the parameter types the client declared (None where it declared none).
        runner: runs the statement.
    """

    def __init__(self, sql: str, param_oids: list[int | None], runner: Runner) -> None:
        self.sql = sql
        self.param_oids = param_oids
        self._runner = runner
        self._pending: RunPortal | None = None
        self._described: Outcome | None = None  # run by a describe before any Bind

    async def describe(self) -> list[ResultColumn] | None:
        """The columns of the bound portal (running it), else of an unbound run."""
        if self._pending is not None:
            return (await self._pending.outcome()).columns
        if self._described is None:
            # the result formats are not known before Bind: rows any format can use
            self._described = await self._runner([] if not self.param_oids else None, False)
        return self._described.columns

    def bind(self, params: list[Any], formats: list[int] | None = None) -> Portal:
        """A portal for ``params`` whose results go in ``formats`` (none: all text); a run
        the describe made with no parameters is its result."""
        portal = RunPortal(self._runner, params, not any(formats or []))
        if self._described is not None and not params and not self.param_oids:
            portal.done = self._described
        self._described = None
        self._pending = portal
        return portal


class RunPortal(Portal):
    """A bound statement: it runs on its first describe or execute, once."""

    def __init__(self, runner: Runner, params: list[Any], text: bool = True) -> None:
        self._runner = runner
        self._params = params
        self._text = text
        self.done: Outcome | None = None
        self._position = 0

    async def outcome(self) -> Outcome:
        """The statement's outcome, running it the first time."""
        if self.done is None:
            self.done = await self._runner(self._params, self._text)
        return self.done

    async def execute(self, max_rows: int) -> tuple[list[Any], bool]:
        """Up to ``max_rows`` more rows (0: all) and whether some remain: tuples, or
        ``Encoded`` DataRows."""
        outcome = await self.outcome()
        if outcome.columns is None:
            # No rows go out; as many placeholders as the tag should count.
            first, self._position = self._position == 0, 1
            return ([()] * (outcome.count or 0) if first else []), False
        rows: list[Any] = outcome.rows if outcome.encoded is None else outcome.encoded
        end = len(rows) if max_rows <= 0 else min(len(rows), self._position + max_rows)
        chunk = rows[self._position : end]
        self._position = end
        return (chunk if outcome.encoded is None else Encoded(chunk)), end < len(rows)
