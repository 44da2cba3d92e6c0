"""The embedded API, shaped after PEP 249: ``connect()`` → Connection → Cursor."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlprovider.errors import InterfaceError
from sqlprovider.session import Session

if TYPE_CHECKING:
    import httpx

    from sqlprovider.result import Result

apilevel = "2.0"
threadsafety = 1
paramstyle = "qmark"


def connect(
    *,
    servers: Mapping[str, str] | None = None,
    auth: Mapping[str, Mapping[str, str]] | None = None,
    database: str = ":memory:",
    concurrency: int | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
    max_attempts: int | None = None,
    providers_path: list[str | Path] | None = None,
    wait_timeout: float | None = None,
    wait_interval: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> Connection:
    """Open a connection.

    Args:
        servers: provider → base URL (e.g. ``{"digitalocean": "http://127.0.0.1:8080"}``);
            otherwise ``SQLPROVIDER_<PROVIDER>_URL``, otherwise the provider's own server.
        auth: provider → ``{"token": "..."}``; otherwise the provider's env variables.
        database: a DuckDB file to keep local tables in, or ``:memory:``.
        concurrency: requests in flight per provider.
        transport: an httpx async transport (unit tests pass ``httpx.MockTransport``).
        timeout: seconds per HTTP request.
        max_attempts: tries per idempotent request before giving up (default: the
            provider's, else 5); 1 turns retries off.
        providers_path: extra directories of provider YAML, searched first.
        wait_timeout: seconds to wait for a job a write started (``wait=True`` or
            ``/*+ AWAIT */``); default: the provider's.
        wait_interval: seconds before the first poll; it doubles after each.
        progress: called with one-line status updates while waiting.
    """
    return Connection(
        Session(
            servers=servers,
            auth=auth,
            database=database,
            concurrency=concurrency,
            transport=transport,
            timeout=timeout,
            max_attempts=max_attempts,
            wait_timeout=wait_timeout,
            wait_interval=wait_interval,
            progress=progress,
            providers_path=providers_path,
        )
    )


class Connection:
    """A session with the providers and a DuckDB database."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def cursor(self) -> Cursor:
        """A new cursor."""
        return Cursor(self)

    def execute(self, sql: str, *, wait: bool = False) -> Cursor:
        """Run ``sql`` on a new cursor and return it (``wait``: see Cursor.execute)."""
        return self.cursor().execute(sql, wait=wait)

    def dry_run(self, sql: str) -> list[str]:
        """The plan and the HTTP requests each statement would send; nothing is sent."""
        lines = []
        for plan, requests in self.session.dry_run(sql):
            lines.append(plan.explain())
            lines.extend(requests)
        return lines

    def explain(self, sql: str) -> str:
        """The plan of every statement in ``sql``, as text; nothing is sent."""
        return "\n\n".join(plan.explain() for plan in self.session.plans(sql))

    def commit(self) -> None:
        """Nothing to commit: API calls take effect when they are made."""

    def close(self) -> None:
        """Close the connection and everything it holds."""
        self.session.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Cursor:
    """Runs statements and holds the last result."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._result: Result | None = None
        self._position = 0

    @property
    def description(self) -> list[tuple[str, str, None, None, None, None, None]] | None:
        """PEP 249 column descriptions (name, DuckDB type, five Nones)."""
        if self._result is None or not self._result.columns:
            return None
        return [
            (name, kind, None, None, None, None, None)
            for name, kind in zip(self._result.columns, self._result.types, strict=True)
        ]

    @property
    def rowcount(self) -> int:
        """Rows of the last result, or -1 before any."""
        return -1 if self._result is None else len(self._result.rows)

    @property
    def warnings(self) -> list[str]:
        """Warnings of the last statement."""
        return [] if self._result is None else list(self._result.warnings)

    @property
    def stats(self) -> dict[str, float]:
        """What the last statement cost (requests, pages, rows, seconds, ...)."""
        return {} if self._result is None else dict(self._result.stats)

    def execute(self, sql: str, *, wait: bool = False) -> Cursor:
        """Run every statement in ``sql``; the cursor holds the last one's rows.

        Args:
            sql: one or more statements.
            wait: wait for the jobs writes start to finish, as ``/*+ AWAIT */`` does, so
                RETURNING shows their final state.
        """
        results = self.connection.session.execute(sql, wait=wait)
        self._result = results[-1] if results else None
        self._position = 0
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None."""
        rows = self._rows()
        if self._position >= len(rows):
            return None
        self._position += 1
        return rows[self._position - 1]

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to ``size`` more rows."""
        rows = self._rows()
        count = self.arraysize if size is None else size
        chunk = rows[self._position : self._position + count]
        self._position += len(chunk)
        return chunk

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All remaining rows."""
        rows = self._rows()
        chunk = rows[self._position :]
        self._position = len(rows)
        return chunk

    def _rows(self) -> list[tuple[Any, ...]]:
        if self._result is None:
            raise InterfaceError("no statement has run on this cursor; call execute() first")
        return self._result.rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        """Forget the result."""
        self._result = None
