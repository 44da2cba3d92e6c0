"""The session's DuckDB: typed tables loaded in bulk from API pages, and the final query.

DuckDB is used here and only here; its exceptions are translated into ours at this boundary.
Pages are loaded by DuckDB's own JSON reader (``from_json`` with the columns' types), many
pages per INSERT, so no row ever passes through Python as an object; that INSERT is built
in ``store.records``. Every statement the store makes up is built with sqlglot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import duckdb
from sqlglot import exp

from sqlprovider.errors import (
    DatabaseError,
    DataError,
    IntegrityError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)
from sqlprovider.plan import LOADED_CATALOG, Evaluated, loaded_table
from sqlprovider.result import Result
from sqlprovider.store import printing
from sqlprovider.store.records import (
    ORDER_COLUMNS,
    TableSpec,
    ident,
    insert_sql,
    spec_fingerprint,
)

__all__ = [
    "LOADED_CATALOG",
    "Evaluated",
    "LocalTable",
    "Store",
    "TableLoader",
    "TableSpec",
    "duckdb_version",
    "loaded_table",
    "spec_fingerprint",
    "translate_error",
]

DIALECT = "duckdb"
# The name a query's rows go by while DuckDB copies them to a file (a view of this
# connection only, in its temp catalog).
_EXPORTED = "_sp_export_rows"
_EXPORT_OPTIONS: dict[str, dict[str, exp.Expr]] = {
    "csv": {"FORMAT": exp.var("csv"), "HEADER": exp.true()},
    "json": {"FORMAT": exp.var("json"), "ARRAY": exp.true()},
    "jsonl": {"FORMAT": exp.var("json")},
}


# The user's own tables and views, with their columns (the loaded catalog is left out below).
_LOCAL_TABLES = """
SELECT database_name, schema_name, table_name, 'table', sql FROM duckdb_tables() WHERE NOT internal
UNION ALL
SELECT database_name, schema_name, view_name, 'view', sql FROM duckdb_views() WHERE NOT internal
"""
_LOCAL_COLUMNS = """
SELECT database_name, schema_name, table_name, column_name, data_type
FROM duckdb_columns() WHERE NOT internal ORDER BY column_index
"""


@dataclass(frozen=True)
class LocalTable:
    """A table or view made in the session's DuckDB (``CREATE TABLE t ...``).

    Attributes:
        name: as a statement names it: ``t``, ``schema.t`` or ``database.schema.t``.
        kind: ``table`` or ``view``.
        columns: ``(name, DuckDB type)`` of each column, in order.
        sql: the statement that makes it, as DuckDB keeps it.
    """

    name: str
    kind: str
    columns: tuple[tuple[str, str], ...]
    sql: str


class Store:
    """One DuckDB connection per session (in memory unless a path is given)."""

    def __init__(self, database: str = ":memory:") -> None:
        try:
            self.connection = duckdb.connect(database)
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot open the database {database!r}: {exc}") from None
        self.connection.execute("SET TimeZone = 'UTC'")
        # Loaded resources live in a private in-memory catalog: never in the user's file,
        # and visible to every cursor (temporary tables are not).
        attach = exp.Attach(this=exp.alias_(exp.Literal.string(":memory:"), ident(LOADED_CATALOG)))
        self.connection.execute(attach.sql(dialect=DIALECT))
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def run_internal(self, sql: str) -> list[tuple[Any, ...]]:
        """Run SQL the engine made (tables, views, catalog lookups); a DuckDB failure is
        translated like any other."""
        try:
            return self.connection.execute(sql).fetchall()
        except duckdb.Error as exc:
            raise translate_error(exc, {}) from None

    def catalogs(self) -> list[str]:
        """The attached databases, which three-part names may refer to."""
        return [r[0] for r in self.run_internal("SELECT database_name FROM duckdb_databases()")]

    def local_tables(self) -> list[LocalTable]:
        """The tables and views made in this DuckDB (not the provider tables it loaded),
        sorted by name."""
        with self._lock:
            [(database,)] = self.run_internal("SELECT current_database()")
            tables = self.run_internal(_LOCAL_TABLES)
            columns: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
            for db, schema, table, column, kind in self.run_internal(_LOCAL_COLUMNS):
                columns.setdefault((db, schema, table), []).append((column, kind))
        found = []
        for db, schema, table, kind, sql in tables:
            if db == LOADED_CATALOG:
                continue
            if db in (database, "temp") and schema == "main":
                name = table
            elif db == database:
                name = f"{schema}.{table}"
            else:
                name = f"{db}.{schema}.{table}"
            found.append(LocalTable(name, kind, tuple(columns.get((db, schema, table), [])), sql))
        return sorted(found, key=lambda t: t.name)

    def create(self, spec: TableSpec) -> TableLoader:
        """Create the raw table for ``spec`` and return a loader for its pages."""
        columns = [
            exp.ColumnDef(
                this=ident(c.name), kind=exp.DataType.build(c.duckdb_type, dialect=DIALECT)
            )
            for c in (*spec.record_columns, *spec.param_columns)
        ]
        columns.extend(
            exp.ColumnDef(this=ident(k), kind=spec.top_level_type(k)) for k in spec.top_level
        )
        columns.extend(
            exp.ColumnDef(this=ident(n), kind=exp.DataType.build("BIGINT")) for n in ORDER_COLUMNS
        )
        create = exp.Create(
            this=exp.Schema(this=loaded_table(_raw(spec.name)), expressions=columns),
            kind="TABLE",
            replace=True,
        )
        with self._lock:
            self.run_internal(create.sql(dialect=DIALECT))
        return TableLoader(self, spec)

    def run(self, sql: str, names: Mapping[str, str] | None = None) -> Result:
        """Run the final query; ``names`` maps loaded tables back to resource names in errors."""
        with self._lock:
            try:
                cursor = self.connection.execute(sql)
                description = cursor.description or []
                rows = cursor.fetchall() if description else []
            except duckdb.Error as exc:
                raise translate_error(exc, names or {}) from None
        return Result(
            columns=[d[0] for d in description],
            types=[str(d[1]) for d in description],
            rows=[tuple(r) for r in rows],
        )

    def export(
        self, sql: str, names: Mapping[str, str] | None = None, *, fmt: str, stream: BinaryIO
    ) -> Result:
        """Have DuckDB write a query's rows to ``stream`` as ``csv``, ``json`` or ``jsonl``.

        Much faster than converting rows to Python objects first. Every value is written
        as ``sqlprovider.output`` prints it (the rules of ``store.printing``): timestamps
        as ISO 8601 (``2024-01-01T00:00:00Z``), NULL as an empty csv field and ``''`` as
        ``""``, lists and JSON columns as JSON; an empty json result is ``[]``.
        """
        options = [
            exp.CopyParameter(this=exp.var(name), expression=value)
            for name, value in _EXPORT_OPTIONS[fmt].items()
        ]
        with self._lock, tempfile.TemporaryDirectory(prefix="sqlprovider-") as folder:
            target = os.path.join(folder, f"result.{fmt}")
            try:
                # The query is handed to DuckDB as a relation, never pasted into the COPY
                relation = self.connection.sql(sql)
                columns, types = list(relation.columns), [str(t) for t in relation.types]
                self.connection.register(_EXPORTED, relation)
                try:
                    # the view's names: DuckDB has made repeated ones unique (a, a_1)
                    shown = self.connection.table(_EXPORTED).columns
                    kinds = [printing.parse_type(t) for t in types]
                    rows = printing.export_select(exp.to_table(_EXPORTED), shown, kinds, fmt)
                    copy = exp.Copy(
                        this=rows.subquery(),
                        kind=False,
                        files=[exp.Literal.string(target)],
                        params=options,
                    )
                    counted = self.connection.execute(copy.sql(dialect=DIALECT)).fetchone()
                finally:
                    self.connection.unregister(_EXPORTED)
            except duckdb.Error as exc:
                raise translate_error(exc, names or {}) from None
            exported = int(counted[0]) if counted else 0
            if fmt == "json" and exported == 0:
                stream.write(b"[]\n")  # DuckDB writes an empty array over three lines
            else:
                with open(target, "rb") as written:
                    shutil.copyfileobj(written, stream)
        return Result(columns=columns, types=types, rows=[], exported_rows=exported)

    def query_rows(self, sql: str, names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """A query's rows as column → value dicts (the values a write sends)."""
        with self._lock:
            try:
                cursor = self.connection.execute(sql)
                columns = [d[0] for d in cursor.description or []]
                rows = cursor.fetchall()
            except duckdb.Error as exc:
                raise translate_error(exc, names or {}) from None
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def values(self, sql: str, names: Mapping[str, str] | None = None) -> list[Any]:
        """The first column of a query's rows (the values a dependent fetch binds)."""
        with self._lock:
            try:
                rows = self.connection.execute(sql).fetchall()
            except duckdb.Error as exc:
                raise translate_error(exc, names or {}) from None
        return [r[0] for r in rows]

    def evaluate(self, items: Sequence[tuple[exp.Expression, str]]) -> list[Evaluated | None]:
        """Each constant as DuckDB compares it with a column of the given type, in this
        session (its time zone included); None for a constant DuckDB cannot evaluate (the
        final query reports the problem where it is written).

        Args:
            items: (column-free expression, DuckDB type of the column it is compared with).
        """
        if not items:
            return []
        with self._lock:
            try:
                return self._evaluate(items)
            except duckdb.Error:
                pass  # one item is at fault: evaluate them one by one
            found: list[Evaluated | None] = []
            for item in items:
                try:
                    found.extend(self._evaluate([item]))
                except duckdb.Error:
                    found.append(None)
            return found

    def _evaluate(self, items: Sequence[tuple[exp.Expression, str]]) -> list[Evaluated | None]:
        outputs: list[exp.Expr] = []
        for expression, kind in items:
            cast = exp.TryCast(this=expression.copy(), to=exp.DataType.build(kind, dialect=DIALECT))
            outputs.extend(
                (
                    cast,
                    exp.func("typeof", expression.copy()),
                    exp.Is(this=expression.copy(), expression=exp.null()),
                    exp.EQ(this=cast.copy(), expression=expression.copy()),
                    expression.copy(),
                )
            )
        row = self.connection.execute(exp.select(*outputs).sql(dialect=DIALECT)).fetchone()
        assert row is not None
        return [
            Evaluated(
                value=row[i],
                kind=str(row[i + 1]),
                is_null=bool(row[i + 2]),
                exact=row[i + 3] is True,
                raw=row[i + 4],
            )
            for i in range(0, len(outputs), 5)
        ]

    def drop(self, names: Iterable[str]) -> None:
        """Drop the views and raw tables of loaded resources."""
        with self._lock:
            for name in names:
                for kind, table in (("VIEW", name), ("TABLE", _raw(name))):
                    drop = exp.Drop(tables=[loaded_table(table)], kind=kind, exists=True)
                    self.run_internal(drop.sql(dialect=DIALECT))


class TableLoader:
    """Loads pages into one table, many pages per INSERT, on its own cursor.

    ``load`` may run in a worker thread (DuckDB releases the GIL while it parses), so the
    event loop keeps fetching while earlier pages are parsed.
    """

    def __init__(self, store: Store, spec: TableSpec) -> None:
        self.store = store
        self.spec = spec
        self.rows = 0
        self.pages = 0
        self.in_order = True
        self._last_key = (-1, -1)
        self._insert_sql: dict[str, str] = {}

    def load(
        self,
        bodies: Sequence[bytes | str],
        keys: Sequence[tuple[int, int]],
        params: Sequence[Mapping[str, Any]],
        shape: str,
    ) -> int:
        """Insert the records of ``bodies``; returns how many rows were added.

        Args:
            bodies: page bodies (JSON text).
            keys: (request index, page index) of each page, to keep the API's order.
            params: the bound param values of the request each page answers.
            shape: ``list`` if the records path holds a list, ``object`` if one record.
        """
        if not bodies:
            return 0
        for key in keys:
            if key < self._last_key:
                self.in_order = False
            self._last_key = max(self._last_key, key)
        sql = self._insert_sql.get(shape)
        if sql is None:  # built once per table and shape: loading is the hot path
            sql = insert_sql(self.spec, shape, loaded_table(_raw(self.spec.name)))
            self._insert_sql[shape] = sql
        texts = [b.decode("utf-8", "replace") if isinstance(b, bytes) else b for b in bodies]
        order = [k[0] * 1_000_000 + k[1] for k in keys]
        args: list[Any] = [texts, order]
        for column in self.spec.carried:
            args.append([_param_text(p.get(column.name)) for p in params])
        cursor = self.store.connection.cursor()
        try:
            counted = cursor.execute(sql, args).fetchone()
        except duckdb.Error as exc:
            # DuckDB's message quotes the generated INSERT after "LINE"; people need the cause.
            cause = str(exc).split("\n\nLINE")[0].strip()
            cause = cause.replace(self.spec.name, self.spec.label or "the table")
            raise DataError(
                f"could not load the API's response into {self.spec.label or 'a table'}: {cause}"
            ) from None
        finally:
            cursor.close()
        added = int(counted[0]) if counted else 0
        self.rows += added
        self.pages += len(bodies)
        return added

    def snapshot(self) -> bytes | None:
        """The loaded rows as Parquet (DuckDB's own writer), in the API's order, for the
        result cache; None when no temporary file can be written (the cache goes without)."""
        raw = loaded_table(_raw(self.spec.name))
        rows = exp.select(exp.Star()).from_(raw).order_by(*(exp.column(n) for n in ORDER_COLUMNS))
        try:
            with tempfile.TemporaryDirectory(prefix="sqlprovider-") as folder:
                target = os.path.join(folder, "rows.parquet")
                copy = exp.Copy(
                    this=rows.subquery(),
                    kind=False,
                    files=[exp.Literal.string(target)],
                    params=[
                        exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var("parquet"))
                    ],
                )
                self._run_own(copy.sql(dialect=DIALECT))
                with open(target, "rb") as written:
                    return written.read()
        except (OSError, DatabaseError):
            return None

    def restore(self, data: bytes, pages: int, rows: int) -> bool:
        """Load rows a ``snapshot`` kept (``pages`` and ``rows``: what loading them first
        counted) instead of pages; False if they cannot be read (nothing is loaded then)."""
        raw = loaded_table(_raw(self.spec.name))
        try:
            with tempfile.TemporaryDirectory(prefix="sqlprovider-") as folder:
                source = os.path.join(folder, "rows.parquet")
                with open(source, "wb") as out:
                    out.write(data)
                kept = exp.select(exp.Star()).from_(
                    exp.func("read_parquet", exp.Literal.string(source))
                )
                self._run_own(exp.Insert(this=raw, expression=kept).sql(dialect=DIALECT))
        except (OSError, DatabaseError):
            return False
        self.rows, self.pages = rows, pages
        self.in_order, self._last_key = True, (-1, -1)  # the snapshot is in the API's order
        return True

    def _run_own(self, sql: str) -> None:
        """Run ``sql`` on a cursor of its own (as ``load``: the store's lock is not held)."""
        cursor = self.store.connection.cursor()
        try:
            cursor.execute(sql)
        except duckdb.Error as exc:
            raise translate_error(exc, {}) from None
        finally:
            cursor.close()

    def finish(self, empty: bool = False) -> None:
        """Create the view the query reads: the raw rows, in the API's order; ``empty`` for
        a fetch that failed, whose rows (even those still being loaded) must not count."""
        raw = loaded_table(_raw(self.spec.name))
        order = [exp.column(n) for n in ORDER_COLUMNS]
        select = exp.select(exp.Star(except_=[exp.column(n) for n in ORDER_COLUMNS])).from_(raw)
        if empty:
            select = select.where(exp.false())
            self.rows = 0
        if self.spec.dedupe:
            first = exp.Window(
                this=exp.RowNumber(),
                partition_by=[exp.column(k, quoted=True) for k in self.spec.dedupe],
                order=exp.Order(expressions=[exp.Ordered(this=c.copy()) for c in order]),
            )
            select = select.qualify(exp.EQ(this=first, expression=exp.Literal.number(1)))
        if not self.in_order or self.spec.dedupe:
            select = select.order_by(*order)
        view = exp.Create(
            this=loaded_table(self.spec.name), kind="VIEW", expression=select, replace=True
        )
        with self.store._lock:
            self.store.run_internal(view.sql(dialect=DIALECT))


def duckdb_version() -> str:
    """The DuckDB that loads rows (kept rows are read back only by the same one)."""
    return str(duckdb.__version__)


def _param_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _raw(name: str) -> str:
    return f"{name}__raw"


def translate_error(exc: Exception, names: Mapping[str, str]) -> DatabaseError:
    """A DuckDB error as ours (DuckDB's is the one boundary for them): the branch follows
    DuckDB's own PEP 249 class, and the message names resources, never loaded tables or the
    generated SQL."""
    message = _readable(str(exc), names)
    for kind, ours, prefix in _TRANSLATIONS:
        if isinstance(exc, kind):
            return ours(prefix + message)
    return DatabaseError(message)


# DuckDB exception → ours, most specific first; the prefix says what kind of failure it is.
_TRANSLATIONS: tuple[tuple[type[Exception], type[DatabaseError], str], ...] = (
    (duckdb.ParserException, ProgrammingError, "syntax error: "),
    (duckdb.SyntaxException, ProgrammingError, "syntax error: "),
    (duckdb.InvalidInputException, DataError, ""),
    (duckdb.IOException, OperationalError, "could not read or write a file: "),
    (duckdb.InterruptException, OperationalError, "interrupted: "),
    (duckdb.OutOfMemoryException, OperationalError, "out of memory (try a file --database): "),
    (duckdb.ProgrammingError, ProgrammingError, ""),
    (duckdb.DataError, DataError, ""),
    (duckdb.IntegrityError, IntegrityError, ""),
    (duckdb.NotSupportedError, NotSupportedError, ""),
    (duckdb.InternalError, InternalError, "DuckDB failed inside (please report it): "),
    (duckdb.OperationalError, OperationalError, ""),
    (duckdb.DependencyException, ProgrammingError, ""),
    (duckdb.SequenceException, DataError, ""),
    (duckdb.PermissionException, OperationalError, "not permitted: "),
)


def _readable(text: str, names: Mapping[str, str]) -> str:
    """DuckDB's message without its SQL excerpt or class name, with loaded tables named
    after their resources."""
    message = text.split("\n\nLINE")[0].strip()
    message = re.sub(r"^[A-Za-z ]+Error: ", "", message)
    for loaded, resource in sorted(names.items(), key=lambda item: -len(item[0])):
        for written in (f'"{LOADED_CATALOG}"."main"."{loaded}"', f"{LOADED_CATALOG}.main.{loaded}"):
            message = message.replace(written, resource)
        message = message.replace(loaded, resource)
    # Anything of the private catalog left (a raw table, another statement's): unnamed.
    message = re.sub(r'"?_sp"?\."?main"?\."?_sp_\w+"?|"?\b_sp_\d+_\w+"?', "a loaded table", message)
    return message
