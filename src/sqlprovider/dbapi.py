"""The embedded API, after PEP 249 (DB-API 2.0): ``connect()`` → Connection → Cursor.

Parameters are bound, never pasted into SQL: ``?`` (``paramstyle = "qmark"``) takes a
sequence, ``:name`` a mapping. Each placeholder of the parsed statement becomes a literal
made from the Python value, so ``x' OR '1'='1`` is one string whatever it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlprovider.dbtypes import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    DBAPITypeObject,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)
from sqlprovider.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from sqlprovider.frames import arrow_table, available, optional
from sqlprovider.options import ConnectOptions
from sqlprovider.session import Session

if TYPE_CHECKING:
    from sqlprovider.plan import Plan
    from sqlprovider.result import Result

apilevel = "2.0"
threadsafety = 2  # threads may share connections (their statements take turns), not cursors
paramstyle = "qmark"  # and named: ``:name`` with a mapping

Parameters = Sequence[Any] | Mapping[str, Any]
Row = tuple[Any, ...]


def connect(options: ConnectOptions | None = None, /, **settings: Any) -> Connection:
    """Open a connection.

    Args:
        options: a ``ConnectOptions`` (the same value the CLI and servers are opened with).
        settings: its fields by name, set over ``options``: ``servers``, ``auth``,
            ``auth_file``, ``database``, ``concurrency``, ``transport``, ``timeout``,
            ``max_attempts``, ``verify_tls``, ``allow_partial``, ``providers_path``,
            ``wait_timeout``, ``wait_interval``, ``progress`` (see ``ConnectOptions``).

    Raises:
        InterfaceError: a setting that is no option.
        AuthConfigError: (an InterfaceError) the auth file or ``auth`` is malformed.
    """
    return Connection(Session(ConnectOptions.of(options, **settings)))


class ConnectionBase:
    """What the sync and async connections share: the session, the PEP 249 exceptions as
    attributes (``conn.ProgrammingError``, so code handling several connections' errors
    needs no import), ``closed`` and ``duckdb``."""

    Warning = Warning
    Error = Error
    InterfaceError = InterfaceError
    DatabaseError = DatabaseError
    DataError = DataError
    OperationalError = OperationalError
    IntegrityError = IntegrityError
    InternalError = InternalError
    ProgrammingError = ProgrammingError
    NotSupportedError = NotSupportedError

    kind = "sqlprovider.Connection"  # for the repr

    def __init__(self, session: Session) -> None:
        self.session = session

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<{self.kind} database={self.session.database!r} {state}>"

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self.session.closed

    @property
    def duckdb(self) -> Any:
        """The session's DuckDB connection (``duckdb.DuckDBPyConnection``), to keep working
        on your tables with DuckDB's own API. Loaded API rows live in the ``_sp`` catalog
        only while a statement runs; keep them with ``CREATE TABLE t AS SELECT ... FROM
        provider.service.resource``."""
        return self.session.duckdb


class Connection(ConnectionBase):
    """A session with the providers and a DuckDB database."""

    def cursor(self) -> Cursor:
        """A new cursor."""
        self.session._check_open()
        return Cursor(self)

    def execute(
        self, sql: str, parameters: Parameters | None = None, *, wait: bool = False
    ) -> Cursor:
        """Run ``sql`` on a new cursor and return it (see ``Cursor.execute``)."""
        return self.cursor().execute(sql, parameters, wait=wait)

    def executemany(
        self, sql: str, seq_of_parameters: Iterable[Parameters], *, wait: bool = False
    ) -> Cursor:
        """Run ``sql`` once per parameter set on a new cursor (see ``Cursor.executemany``)."""
        return self.cursor().executemany(sql, seq_of_parameters, wait=wait)

    def dry_run(self, sql: str, parameters: Parameters | None = None) -> list[str]:
        """The plan and the HTTP requests each statement would send; nothing is sent.
        Credentials show as ``***``."""
        lines = []
        for plan, requests in self.session.dry_run(sql, parameters=given_parameters(parameters)):
            lines.append(plan.explain())
            lines.extend(requests)
        return lines

    def explain(self, sql: str, parameters: Parameters | None = None) -> str:
        """The plan of every statement in ``sql``, as text; nothing is sent."""
        plans = self.session.plans(sql, parameters=given_parameters(parameters))
        return "\n\n".join(plan.explain() for plan in plans)

    def commit(self) -> None:
        """Nothing to commit: API calls take effect when they are sent, and DuckDB
        statements are committed as they run (autocommit)."""
        self.session._check_open()

    def rollback(self) -> None:
        """Always raises NotSupportedError: API calls cannot be undone."""
        raise NotSupportedError(
            "rollback() is not supported: API calls take effect when they are sent and "
            "cannot be undone (to undo a write, send the opposite one)"
        )

    def close(self) -> None:
        """Close the connection and everything it holds (calling it again does nothing)."""
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


def given_parameters(parameters: Parameters | None) -> Parameters:
    """What a DB-API call binds: no parameters means an empty sequence, so placeholders
    without values are an error rather than SQL sent as written."""
    return () if parameters is None else parameters


# -- results -------------------------------------------------------------------------------


class ResultCursor:
    """What a cursor holds after a statement ran: rows, their description and counts.

    Shared by ``Cursor`` and ``sqlprovider.aio.AsyncCursor``. Rows are in memory once a
    statement has run, so fetching never waits.
    """

    arraysize = 1
    lastrowid: None = None  # APIs have no row ids

    def __init__(self) -> None:
        self._result: Result | None = None
        self._rowcount = -1
        self._position = 0
        self._closed = False

    def _hold(self, outcomes: Sequence[tuple[Plan, Result]]) -> None:
        """Keep what one execute() gave: the last statement's rows and its rowcount."""
        self._position = 0
        if not outcomes:
            self._result, self._rowcount = None, -1
            return
        plan, result = outcomes[-1]
        self._result, self._rowcount = result, _rowcount(plan, result)

    def _hold_many(self, runs: Sequence[Sequence[tuple[Plan, Result]]]) -> None:
        """Keep what executemany() gave: the rows of every run when they have the same
        columns (else the last run's), and the total rowcount."""
        from sqlprovider.result import Result

        lasts = [run[-1] for run in runs if run]
        self._position = 0
        if not lasts:  # no parameter sets: nothing ran
            self._result, self._rowcount = None, 0 if not runs else -1
            return
        counts = [_rowcount(plan, result) for plan, result in lasts]
        self._rowcount = -1 if any(c < 0 for c in counts) else sum(counts)
        first = lasts[0][1]
        same = all(r.columns == first.columns and r.types == first.types for _, r in lasts)
        if not same:
            self._result = lasts[-1][1]
            return
        self._result = Result(
            columns=list(first.columns),
            types=list(first.types),
            rows=[row for _, r in lasts for row in r.rows],
            warnings=list(dict.fromkeys(w for _, r in lasts for w in r.warnings)),
            stats=_summed([r.stats for _, r in lasts]),
        )

    @property
    def description(self) -> list[tuple[str, str, None, None, None, None, None]] | None:
        """PEP 249 column descriptions: ``(name, type_code, None, None, None, None, None)``
        with the DuckDB type name as type code (``"VARCHAR"``, ``"BIGINT"``, ``"TIMESTAMP
        WITH TIME ZONE"``, ...; compare with ``STRING``, ``NUMBER``, ``DATETIME``). None
        before a statement, and for statements that give no columns."""
        if self._result is None or not self._result.columns:
            return None
        return [
            (name, kind, None, None, None, None, None)
            for name, kind in zip(self._result.columns, self._result.types, strict=True)
        ]

    @property
    def rowcount(self) -> int:
        """Rows the last statement returned (a query, SHOW, a write's outcome or RETURNING
        rows) or changed (INSERT/UPDATE/DELETE/CREATE TABLE AS on DuckDB tables); after
        executemany, the total over all runs. -1 before any statement and when unknown
        (DDL)."""
        return self._rowcount

    @property
    def rownumber(self) -> int | None:
        """The index of the next row fetchone() returns (PEP 249 extension)."""
        return None if self._result is None else self._position

    @property
    def warnings(self) -> list[str]:
        """Warnings of the last statement (e.g. that only one page was fetched)."""
        return [] if self._result is None else list(self._result.warnings)

    @property
    def stats(self) -> dict[str, float]:
        """What the last statement cost (requests, pages, rows, seconds, ...)."""
        return {} if self._result is None else dict(self._result.stats)

    def fetchone(self) -> Row | None:
        """The next row, or None."""
        rows = self._rows()
        if self._position >= len(rows):
            return None
        self._position += 1
        return rows[self._position - 1]

    def fetchmany(self, size: int | None = None) -> list[Row]:
        """Up to ``size`` (default ``arraysize``) more rows."""
        rows = self._rows()
        count = self.arraysize if size is None else size
        chunk = rows[self._position : self._position + count]
        self._position += len(chunk)
        return chunk

    def fetchall(self) -> list[Row]:
        """All remaining rows."""
        rows = self._rows()
        chunk = rows[self._position :]
        self._position = len(rows)
        return chunk

    def setinputsizes(self, sizes: Any) -> None:
        """PEP 249; does nothing."""

    def setoutputsize(self, size: Any, column: int | None = None) -> None:
        """PEP 249; does nothing."""

    def _rows(self) -> list[Row]:
        if self._closed:
            raise InterfaceError("the cursor is closed")
        if self._result is None:
            raise InterfaceError("no statement has run on this cursor; call execute() first")
        return self._result.rows

    def __iter__(self) -> Iterator[Row]:
        return self

    def __next__(self) -> Row:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    # -- data frames (pip install 'sqlprovider[frames]') ----------------------------------

    def arrow(self) -> Any:
        """The remaining rows as a ``pyarrow.Table``, typed from the DuckDB column types.
        Like DuckDB's ``arrow()``, it consumes them."""
        pa = optional("pyarrow", "arrow")
        return arrow_table(pa, self._columns(), self._types(), self.fetchall())

    def df(self) -> Any:
        """The remaining rows as a ``pandas.DataFrame`` (consumes them)."""
        pd = optional("pandas", "df")
        if available("pyarrow"):
            return self.arrow().to_pandas()
        return pd.DataFrame.from_records(self.fetchall(), columns=self._columns())

    fetchdf = df  # DuckDB's other name

    def pl(self) -> Any:
        """The remaining rows as a ``polars.DataFrame`` (consumes them)."""
        polars = optional("polars", "pl")
        if available("pyarrow"):
            return polars.from_arrow(self.arrow())
        return polars.DataFrame(self.fetchall(), schema=self._columns(), orient="row")

    def _columns(self) -> list[str]:
        self._rows()
        assert self._result is not None
        return list(self._result.columns)

    def _types(self) -> list[str]:
        assert self._result is not None
        return list(self._result.types)

    def close(self) -> None:
        """Forget the result; the cursor cannot be used afterwards."""
        self._result = None
        self._closed = True

    def _check_usable(self) -> None:
        if self._closed:
            raise InterfaceError("the cursor is closed; get a new one with connection.cursor()")


class Cursor(ResultCursor):
    """Runs statements and holds the last result."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection

    def execute(
        self, sql: str, parameters: Parameters | None = None, *, wait: bool = False
    ) -> Cursor:
        """Run every statement in ``sql``; the cursor holds the last one's rows.

        Args:
            sql: one or more statements.
            parameters: values for the placeholders: a sequence for ``?`` (in the order
                written, across all statements), a mapping for ``:name``. Values are bound
                as literals into the parsed statement, never pasted into the text.
            wait: wait for the jobs writes start to finish, as ``/*+ AWAIT */`` does, so
                RETURNING shows their final state.

        Raises:
            ProgrammingError: placeholders and parameters do not match (it names which
                are missing or extra), or a value's type cannot be bound.
        """
        self._check_usable()
        session = self.connection.session
        plans = session.plans(sql, wait=wait, parameters=given_parameters(parameters))
        results = session.run_plans(plans)
        self._hold(list(zip(plans, results, strict=True)))
        return self

    def executemany(
        self, sql: str, seq_of_parameters: Iterable[Parameters], *, wait: bool = False
    ) -> Cursor:
        """Run ``sql`` once per parameter set: every set is bound and planned first (a bad
        set sends nothing), then the runs go in order; a write sends one request per set.

        The cursor then holds the rows of every run when they have the same columns (a
        write's outcome rows, RETURNING rows), else the last run's; ``rowcount`` is the
        total. A failing run stops the others (those before it took effect).
        """
        self._check_usable()
        session = self.connection.session
        every = [session.plans(sql, wait=wait, parameters=p) for p in seq_of_parameters]
        runs = []
        for plans in every:
            results = session.run_plans(plans)
            runs.append(list(zip(plans, results, strict=True)))
        self._hold_many(runs)
        return self

    def __enter__(self) -> Cursor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _rowcount(plan: Plan, result: Result) -> int:
    """PEP 249 rowcount of one statement."""
    if plan.answer is not None or plan.returns_rows or plan.mutation is not None:
        return result.row_count
    # A DuckDB statement that is not a query: DuckDB answers DML with its count.
    if result.columns == ["Count"] and len(result.rows) == 1:
        count = result.rows[0][0]
        return int(count) if isinstance(count, int) else -1
    return -1


def _summed(stats: Sequence[Mapping[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for one in stats:
        for key, value in one.items():
            total[key] = total.get(key, 0) + value
    return total


__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DBAPITypeObject",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "ResultCursor",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
]
