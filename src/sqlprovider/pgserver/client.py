"""One client connection: its own engine session (temp tables, settings, time zone), over
the server's shared HTTP clients, rate limiters and result cache.

Each statement goes to one of three places: the connection's settings (``SET``, ``SHOW``,
``BEGIN``...), the catalog (``pg_catalog``, ``information_schema``, ``version()``), or the
engine, after mapped table names are rewritten to three-part ones.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pg_mimic import BaseSession, PgError, ResultColumn, Statement, StaticStatement
from pg_mimic import messages as wire
from pg_mimic.middleware import MiddlewareContext, transaction_control
from sqlglot import exp

from sqlprovider.errors import Error
from sqlprovider.pgserver import pgtext, pgtypes, rewrite, settings, sqlstate
from sqlprovider.pgserver.statements import Outcome, RunStatement
from sqlprovider.session import Session
from sqlprovider.store.encoded import run_encoded

if TYPE_CHECKING:
    from sqlprovider.pgserver.server import Shared
    from sqlprovider.plan import Plan
    from sqlprovider.result import Result

log = logging.getLogger("sqlprovider.pgserver")

_WRITE_WORDS = ("insert", "update", "replace", "delete", "exec")
_EXPLAIN = re.compile(r"^\s*EXPLAIN(\s+ANALY[SZ]E)?\s+", re.IGNORECASE)


class ClientSession(BaseSession):
    """The server side of one client connection.

    Args:
        shared: what every connection of the server shares (options, catalog, names).
    """

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.engine = Session(shared.options, shares=shared.hub)
        self.settings = dict(settings.DEFAULTS)
        if shared.read_only:
            self.settings["default_transaction_read_only"] = "on"
            self.settings["transaction_read_only"] = "on"
        self.connection: Any = None
        self._catalog: Any = None

    async def init(self, connection: Any) -> None:
        """Called once the client is in: remember who it is."""
        self.connection = connection

    async def close(self) -> None:
        """The client left: close its engine session (never the shared clients)."""
        await asyncio.to_thread(self.engine.close)
        if self._catalog is not None:
            self._catalog.close()

    async def prepare(self, sql: str, param_oids: list[int | None]) -> Statement:
        """The statement ``sql`` is: settings, catalog or engine (nothing runs yet)."""
        if answered := await transaction_control(MiddlewareContext(self.connection, sql, [])):
            return answered
        setting = settings.classify(sql)
        if setting is not None:
            return self._setting(sql, setting)
        tree = rewrite.parse(sql)
        if tree is not None and rewrite.is_catalog_query(tree):
            text = rewrite.catalog_sql(tree, self._values())
            names = rewrite.output_names(tree)
            return RunStatement(
                sql, param_oids, lambda p, _: self._run_catalog(text, p, param_oids, names)
            )
        sql_for_engine = sql
        # DESCRIBE takes a table as it is written (no alias)
        describe = isinstance(tree, exp.Describe)
        if tree is not None and not describe and self.shared.names.rewrite(tree):
            sql_for_engine = tree.sql(dialect="duckdb")
        elif isinstance(tree, exp.Command | None) and (explained := _EXPLAIN.match(sql)):
            inner = rewrite.parse(sql[explained.end() :])  # EXPLAIN [ANALYZE] of mapped names
            if inner is not None and self.shared.names.rewrite(inner):
                sql_for_engine = explained.group(0) + inner.sql(dialect="duckdb")
        return RunStatement(
            sql, param_oids, lambda p, t: self._run_engine(sql_for_engine, p, param_oids, t)
        )

    # -- settings --------------------------------------------------------------------------

    def _setting(self, sql: str, statement: settings.SettingStatement) -> Statement:
        if statement.kind == "show":
            return self._show(statement.name)
        if statement.kind == "noop":
            return StaticStatement(statement.tag, None, [])
        name = statement.name
        value = statement.value if statement.kind == "set" else ""
        if name == "timezone":
            value = value or "UTC"
            self._set_time_zone(value)  # fails now if DuckDB does not know the zone

        def apply() -> None:
            if statement.kind == "reset" and name == "all":
                self.settings = dict(settings.DEFAULTS)
                return
            self.settings[name] = value or settings.DEFAULTS.get(name, "")
            if name in settings.REPORTED and self.connection is not None:
                display = settings.DISPLAY.get(name, name)
                self.connection.stream.write(
                    wire.make_parameter_status(display, self.settings[name])
                )

        return StaticStatement(statement.tag, None, [], apply)

    def _set_time_zone(self, zone: str) -> None:
        literal = exp.Literal.string(zone).sql(dialect="duckdb")
        try:
            self.engine.execute(f"SET TimeZone = {literal}")
        except Error:
            raise PgError("22023", f'invalid value for parameter "TimeZone": "{zone}"') from None

    def _show(self, name: str) -> Statement:
        if name == "all":
            rows = [(settings.DISPLAY.get(k, k), v, "") for k, v in sorted(self.settings.items())]
            columns = ["name", "setting", "description"]
            return StaticStatement("SHOW", [ResultColumn(c, pgtypes.TEXT) for c in columns], rows)
        value = self.settings.get(name)
        if value is None:
            raise PgError("42704", f'unrecognized configuration parameter "{name}"')
        column = ResultColumn(settings.DISPLAY.get(name, name), pgtypes.TEXT)
        return StaticStatement("SHOW", [column], [(value,)])

    def _values(self) -> dict[str, Any]:
        connection = self.connection
        return {
            "user": getattr(connection, "username", "") or "sqlprovider",
            "database": getattr(connection, "database", "") or "sqlprovider",
            "pid": getattr(connection, "pid", 0),
            "version": self.shared.version,
            "settings": self.settings,
        }

    # -- the catalog -----------------------------------------------------------------------

    async def _run_catalog(
        self,
        text: str,
        params: list[Any] | None,
        oids: Sequence[int | None],
        names: Sequence[str],
    ) -> Outcome:
        values = _parameters(params, oids, len(oids))
        if self._catalog is None:
            self._catalog = await asyncio.to_thread(self.shared.catalog.cursor)
        cursor = self._catalog

        def run() -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
            relation = cursor.execute(text, values) if values else cursor.execute(text)
            description = relation.description or []
            rows = relation.fetchall() if description else []
            return [d[0] for d in description], [str(d[1]) for d in description], rows

        try:
            columns, types, rows = await asyncio.to_thread(run)
        except Exception as exc:  # DuckDB's errors: translated here, once
            if type(exc).__name__ in ("BinderException", "CatalogException") and names:
                # A part of the catalog not modelled (a column or function of features
                # the server has none of): no rows, as Postgres would give for them.
                log.debug("catalog query answered empty: %s", str(exc).split("\n")[0])
                return Outcome([ResultColumn(n, pgtypes.TEXT) for n in names])
            raise _catalog_error(exc) from None
        return _outcome(columns, types, rows)

    # -- the engine ------------------------------------------------------------------------

    async def _run_engine(
        self, sql: str, params: list[Any] | None, oids: Sequence[int | None], text: bool
    ) -> Outcome:
        """Run ``sql`` in the engine; in ``text`` format only, DuckDB encodes the rows."""
        if params is None:
            return Outcome(None)  # described before Bind: the rows tell once it runs
        values = _parameters(params, oids, len(params))
        engine = self.engine
        try:
            if self.shared.read_only:
                plans = await engine.run_async(engine.call_async(engine.plans, sql, False, values))
                self._refuse_writes(plans)
            finish = None
            if text:  # DataRows built by DuckDB: no value becomes a Python object
                finish = functools.partial(run_encoded, engine.store, encode=pgtext.datarows_select)
            done = await engine.run_async(engine.execute_async(sql, values, finish=finish))
        except Error as exc:
            raise PgError(sqlstate.sqlstate(exc), str(exc)) from None
        except (PgError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug: the client gets no traceback, the log a line
            log.error(
                "internal error: %s: %s (--debug shows the traceback)", type(exc).__name__, exc
            )
            log.debug("the traceback", exc_info=True)
            raise PgError(sqlstate.INTERNAL, "internal error (the server log has it)") from None
        if not done:
            return Outcome(None)
        plan, result = done[-1]
        return _engine_outcome(plan, result)

    def _refuse_writes(self, plans: Sequence[Plan]) -> None:
        for plan in plans:
            if plan.mutation is not None:
                raise PgError(
                    sqlstate.READ_ONLY,
                    "this server is read-only (sqlprovider serve --read-only): "
                    f"{plan.statement.split()[0].upper() if plan.statement else 'the write'} "
                    "was refused and nothing was sent",
                )


def _parameters(params: list[Any] | None, oids: Sequence[int | None], count: int) -> list[Any]:
    if params is None:  # described before Bind: NULLs
        return [None] * count
    return [pgtypes.parameter(oids[i] if i < len(oids) else None, v) for i, v in enumerate(params)]


def _engine_outcome(plan: Plan, result: Result) -> Outcome:
    if plan.answer is None and not plan.returns_rows and plan.mutation is None:
        count = None
        if result.columns == ["Count"] and len(result.rows) == 1:
            count = int(result.rows[0][0])
        return Outcome(None, count=count)
    if result.encoded is not None:
        columns = [
            ResultColumn(n, pgtypes.oid_of(t))
            for n, t in zip(result.columns, result.types, strict=True)
        ]
        return Outcome(columns, encoded=result.encoded)
    return _outcome(result.columns, result.types, result.rows)


def _outcome(names: Sequence[str], types: Sequence[str], rows: list[tuple[Any, ...]]) -> Outcome:
    if not names:
        return Outcome(None)
    columns = [ResultColumn(n, pgtypes.oid_of(t)) for n, t in zip(names, types, strict=True)]
    converters = [pgtypes.converter(t) for t in types]
    if any(converters):
        rows = [
            tuple(v if f is None else f(v) for f, v in zip(converters, row, strict=True))
            for row in rows
        ]
    return Outcome(columns, rows)


def _catalog_error(exc: Exception) -> PgError:
    kind = type(exc).__name__
    code = {
        "ParserException": sqlstate.SYNTAX_ERROR,
        "CatalogException": sqlstate.UNDEFINED_TABLE,
        "BinderException": sqlstate.UNDEFINED_COLUMN,
        "ConversionException": "22P02",
    }.get(kind, sqlstate.INTERNAL)
    message = str(exc).split("\n")[0]
    log.debug("catalog query failed: %s", message)
    return PgError(code, f"catalog query failed: {message}")
