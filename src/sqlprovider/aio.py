"""The asyncio twin of the DB-API: ``await conn.execute(sql, params)``.

::

    import sqlprovider.aio

    async with sqlprovider.aio.connect() as conn:
        cur = await conn.execute("SELECT uuid FROM digitalocean.genai.indexing_jobs")
        rows = cur.fetchall()          # rows are in memory: fetching never waits

The same engine as ``sqlprovider.connect()``: each statement runs on the session's own
event loop thread (requests) and worker threads (planning, DuckDB), so the caller's loop
is never blocked. Cancelling the awaiting task (``task.cancel()``, ``asyncio.timeout``)
cancels the statement's requests in flight and returns once they have stopped. Statements
of one connection run one at a time; open more connections to run statements in parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import Any

from sqlprovider.dbapi import (
    ConnectionBase,
    NotSupportedError,
    Parameters,
    ResultCursor,
    Row,
    apilevel,
    given_parameters,
    paramstyle,
    threadsafety,
)
from sqlprovider.options import ConnectOptions
from sqlprovider.session import Session

__all__ = ["AsyncConnection", "AsyncCursor", "apilevel", "connect", "paramstyle", "threadsafety"]


def connect(options: ConnectOptions | None = None, /, **settings: Any) -> AsyncConnection:
    """Open an async connection; the options are those of ``sqlprovider.connect()`` (a
    ``ConnectOptions``, and its fields by name).

    Opening does no I/O, so this is a plain function: ``conn = sqlprovider.aio.connect()`` or
    ``async with sqlprovider.aio.connect() as conn:``.
    """
    return AsyncConnection(Session(ConnectOptions.of(options, **settings)))


class AsyncConnection(ConnectionBase):
    """A session used from asyncio. The PEP 249 exceptions are attributes too."""

    kind = "sqlprovider.aio.AsyncConnection"

    def cursor(self) -> AsyncCursor:
        """A new cursor."""
        self.session._check_open()
        return AsyncCursor(self)

    async def execute(
        self, sql: str, parameters: Parameters | None = None, *, wait: bool = False
    ) -> AsyncCursor:
        """Run ``sql`` on a new cursor and return it (see ``AsyncCursor.execute``)."""
        return await self.cursor().execute(sql, parameters, wait=wait)

    async def executemany(
        self, sql: str, seq_of_parameters: Iterable[Parameters], *, wait: bool = False
    ) -> AsyncCursor:
        """Run ``sql`` once per parameter set on a new cursor."""
        return await self.cursor().executemany(sql, seq_of_parameters, wait=wait)

    async def explain(self, sql: str, parameters: Parameters | None = None) -> str:
        """The plan of every statement in ``sql``, as text; nothing is sent."""
        session = self.session
        given = given_parameters(parameters)
        plans = await session.run_async(session.call_async(session.plans, sql, False, given))
        return "\n\n".join(plan.explain() for plan in plans)

    async def dry_run(self, sql: str, parameters: Parameters | None = None) -> list[str]:
        """The plan and the HTTP requests each statement would send; nothing is sent."""
        session = self.session
        given = given_parameters(parameters)
        planned = await session.run_async(session.call_async(session.dry_run, sql, False, given))
        lines = []
        for plan, requests in planned:
            lines.append(plan.explain())
            lines.extend(requests)
        return lines

    async def commit(self) -> None:
        """Nothing to commit: API calls take effect when they are sent."""
        self.session._check_open()

    async def rollback(self) -> None:
        """Always raises NotSupportedError: API calls cannot be undone."""
        raise NotSupportedError(
            "rollback() is not supported: API calls take effect when they are sent and "
            "cannot be undone (to undo a write, send the opposite one)"
        )

    async def close(self) -> None:
        """Close the connection: HTTP clients, the event loop thread and DuckDB."""
        await asyncio.to_thread(self.session.close)

    async def __aenter__(self) -> AsyncConnection:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class AsyncCursor(ResultCursor):
    """Runs statements with ``await``; fetching is plain (the rows are in memory)."""

    def __init__(self, connection: AsyncConnection) -> None:
        super().__init__()
        self.connection = connection

    async def execute(
        self, sql: str, parameters: Parameters | None = None, *, wait: bool = False
    ) -> AsyncCursor:
        """Run every statement in ``sql`` (parameters as in ``Cursor.execute``); the cursor
        holds the last one's rows. Cancelling the awaiting task cancels the requests."""
        self._check_usable()
        session = self.connection.session
        given = given_parameters(parameters)
        outcomes = await session.run_async(session.execute_async(sql, given, wait))
        self._hold(outcomes)
        return self

    async def executemany(
        self, sql: str, seq_of_parameters: Iterable[Parameters], *, wait: bool = False
    ) -> AsyncCursor:
        """Run ``sql`` once per parameter set (see ``Cursor.executemany``)."""
        self._check_usable()
        session = self.connection.session
        sets = list(seq_of_parameters)
        runs = await session.run_async(session.execute_many_async(sql, sets, wait))
        self._hold_many(runs)
        return self

    def __aiter__(self) -> AsyncIterator[Row]:
        return self._rows_async()

    async def _rows_async(self) -> AsyncIterator[Row]:
        while (row := self.fetchone()) is not None:
            yield row

    async def __aenter__(self) -> AsyncCursor:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
