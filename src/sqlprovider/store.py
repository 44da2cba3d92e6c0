"""The session's DuckDB: typed tables loaded in bulk from API pages, and the final query.

DuckDB is used here and only here; its exceptions are translated into ours at this boundary.
Pages are loaded by DuckDB's own JSON reader (``from_json`` with the columns' types), many
pages per INSERT, so no row ever passes through Python as an object.
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
import sqlglot
from sqlglot import exp

from sqlprovider.errors import DatabaseError, DataError, ProgrammingError
from sqlprovider.model import COLUMN_TYPES, Column
from sqlprovider.result import Result

DIALECT = "duckdb"
_ORDER_COLUMNS = ("_sp_page", "_sp_item")
LOADED_CATALOG = "_sp"


@dataclass(frozen=True)
class TableSpec:
    """What a loaded table holds.

    Attributes:
        name: the table name (a view of that name orders the rows; see ``finish``).
        records: keys from the page body to the record(s).
        record_columns: columns read from each record.
        param_columns: columns filled from the request's bound params.
        bound_record_columns: record columns that are also params: when a record lacks
            the field, the request's bound value fills it.
        top_level: keys of the response body to keep as columns of their own (for
            RETURNING): the key holding the record becomes a STRUCT of the record columns
            (so ``job.uuid`` works), any other key a JSON value.
    """

    name: str
    records: tuple[str, ...]
    record_columns: tuple[Column, ...]
    param_columns: tuple[Column, ...]
    bound_record_columns: tuple[Column, ...] = ()
    top_level: tuple[str, ...] = ()
    dedupe: tuple[str, ...] = ()  # key columns: rows repeating a key are dropped

    def top_level_type(self, key: str) -> str:
        """The DuckDB type of a top-level key's column."""
        if self.records == (key,):
            return _struct_type(_structure(self.record_columns))
        return "JSON"

    @property
    def carried(self) -> tuple[Column, ...]:
        """Columns whose values travel with each page (the request's bindings)."""
        return (*self.param_columns, *self.bound_record_columns)


@dataclass(frozen=True)
class Evaluated:
    """A constant as DuckDB sees it when it is compared with a column of a given type.

    Attributes:
        value: the constant cast to the column's type (None when it is NULL or cannot be).
        kind: the constant's own DuckDB type (``typeof``).
        is_null: the constant is NULL.
        exact: the cast value equals the constant, by DuckDB's own comparison.
        raw: the constant's own value.
    """

    value: Any
    kind: str
    is_null: bool
    exact: bool
    raw: Any


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
        self.connection.execute(f"ATTACH ':memory:' AS {LOADED_CATALOG}")
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def catalogs(self) -> list[str]:
        """The attached databases, which three-part names may refer to."""
        rows = self.connection.execute("SELECT database_name FROM duckdb_databases()").fetchall()
        return [r[0] for r in rows]

    def create(self, spec: TableSpec) -> TableLoader:
        """Create the raw table for ``spec`` and return a loader for its pages."""
        columns = [
            exp.ColumnDef(
                this=_ident(c.name), kind=exp.DataType.build(c.duckdb_type, dialect=DIALECT)
            )
            for c in (*spec.record_columns, *spec.param_columns)
        ]
        columns.extend(
            exp.ColumnDef(
                this=_ident(k), kind=exp.DataType.build(spec.top_level_type(k), dialect=DIALECT)
            )
            for k in spec.top_level
        )
        columns.extend(
            exp.ColumnDef(this=_ident(n), kind=exp.DataType.build("BIGINT")) for n in _ORDER_COLUMNS
        )
        create = exp.Create(
            this=exp.Schema(this=loaded_table(_raw(spec.name)), expressions=columns),
            kind="TABLE",
            replace=True,
        )
        with self._lock:
            self.connection.execute(create.sql(dialect=DIALECT))
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

        Much faster than converting rows to Python objects first. Timestamps are written
        as ISO 8601 (``2024-01-01T00:00:00Z``); JSON columns and lists stay structured.
        """
        options = {
            "csv": "FORMAT csv, HEADER true",
            "json": "FORMAT json, ARRAY true",
            "jsonl": "FORMAT json",
        }[fmt]
        with self._lock, tempfile.TemporaryDirectory(prefix="sqlprovider-") as folder:
            target = os.path.join(folder, f"result.{fmt}")
            try:
                relation = self.connection.sql(sql)
                columns, types = list(relation.columns), [str(t) for t in relation.types]
                select = _iso_timestamps(sql, columns, types)
                path = exp.Literal.string(target).sql(dialect=DIALECT)
                counted = self.connection.execute(
                    f"COPY ({select}) TO {path} ({options})"
                ).fetchone()
            except duckdb.Error as exc:
                raise translate_error(exc, names or {}) from None
            with open(target, "rb") as written:
                shutil.copyfileobj(written, stream)
        return Result(
            columns=columns, types=types, rows=[], exported_rows=int(counted[0]) if counted else 0
        )

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
                view = loaded_table(name).sql(dialect=DIALECT)
                raw = loaded_table(_raw(name)).sql(dialect=DIALECT)
                self.connection.execute(f"DROP VIEW IF EXISTS {view}")
                self.connection.execute(f"DROP TABLE IF EXISTS {raw}")


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
        sql = self._insert_sql.get(shape) or self._build_insert(shape)
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
            raise DataError(
                f"could not load the API's response into {self.spec.name}: {exc}"
            ) from None
        finally:
            cursor.close()
        added = int(counted[0]) if counted else 0
        self.rows += added
        self.pages += len(bodies)
        return added

    def finish(self, empty: bool = False) -> None:
        """Create the view the query reads: the raw rows, in the API's order; ``empty`` for
        a fetch that failed, whose rows (even those still being loaded) must not count."""
        raw = loaded_table(_raw(self.spec.name))
        order = [exp.column(n) for n in _ORDER_COLUMNS]
        select = exp.select(exp.Star(except_=[exp.column(n) for n in _ORDER_COLUMNS])).from_(raw)
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
            self.store.connection.execute(view.sql(dialect=DIALECT))

    def _build_insert(self, shape: str) -> str:
        spec = self.spec
        own = [c for c in spec.record_columns if not _is_ancestor(c)]
        # With no column to read (count(*)), each record is kept as JSON just to be counted.
        structure: Any = _structure(own) or "JSON"
        if "*" in spec.records:
            shape = "list"
            record_type, holder = _nested_records(spec, structure)
        else:
            record_type = [structure] if shape == "list" else structure
            for key in reversed(spec.records):
                record_type = {key: record_type}
            holder = exp.func(
                "from_json", exp.column("body", "b"), exp.Literal.string(json.dumps(record_type))
            )
            for key in spec.records:
                holder = exp.Dot(this=holder, expression=_ident(key))
        params = [exp.column(c.name, "b", quoted=True) for c in spec.carried]
        passed: list[exp.Expr] = [exp.column("_sp_page", "b"), *params]
        carried = [
            exp.column("_sp_page", "h"),
            *(exp.column(c.name, "h", quoted=True) for c in spec.carried),
        ]
        tops = [f"_sp_top_{i}" for i in range(len(spec.top_level))]
        for name, key in zip(tops, spec.top_level, strict=True):
            path = exp.Literal.string("$." + json.dumps(key))
            passed.append(exp.func("json_extract", exp.column("body", "b"), path).as_(name))
            carried.append(exp.column(name, "h"))
        holder_alias = exp.column("l", "h")
        if shape == "list":
            inner_cols: list[exp.Expr] = [
                exp.Unnest(expressions=[holder_alias]).as_("r"),
                exp.Unnest(
                    expressions=[
                        exp.Anonymous(
                            this="range",
                            expressions=[
                                exp.Anonymous(this="len", expressions=[holder_alias.copy()])
                            ],
                        )
                    ]
                ).as_("_sp_item"),
                *carried,
            ]
        else:
            inner_cols = [holder_alias.as_("r"), exp.Literal.number(0).as_("_sp_item"), *carried]
        batch_cols = [
            exp.Unnest(expressions=[exp.Placeholder(this="1")]).as_("body"),
            exp.Unnest(expressions=[exp.Placeholder(this="2")]).as_("_sp_page"),
        ]
        for index, column in enumerate(spec.carried, start=3):
            batch_cols.append(
                exp.Unnest(expressions=[exp.Placeholder(this=str(index))]).as_(_ident(column.name))
            )
        batch = exp.select(*batch_cols).subquery("b")
        holders = exp.select(holder.as_("l"), *passed).from_(batch).subquery("h")
        inner = exp.select(*inner_cols).from_(holders).subquery("x")
        outputs = [_record_value(c, spec) for c in spec.record_columns]
        outputs.extend(
            exp.cast(exp.column(c.name, "x", quoted=True), c.duckdb_type)
            for c in spec.param_columns
        )
        for index, key in enumerate(spec.top_level):
            if spec.records == (key,) and shape != "list":
                outputs.append(exp.column("r", "x").as_(_ident(key)))
            else:
                outputs.append(exp.column(f"_sp_top_{index}", "x").as_(_ident(key)))
        outputs.extend(exp.column(n, "x") for n in _ORDER_COLUMNS)
        select = exp.select(*outputs).from_(inner)
        if shape != "list":
            select = select.where(exp.column("r", "x").is_(exp.null()).not_())
        matching = _matches_request(spec)
        if matching is not None:
            select = select.where(matching)
        names = [_ident(c.name) for c in (*spec.record_columns, *spec.param_columns)]
        names.extend(_ident(k) for k in spec.top_level)
        names.extend(_ident(n) for n in _ORDER_COLUMNS)
        target = exp.Schema(this=loaded_table(_raw(spec.name)), expressions=names)
        return exp.Insert(this=target, expression=select).sql(dialect=DIALECT)


def _is_ancestor(column: Column) -> bool:
    return column.path[0].startswith("^")


def _ancestor_field(column: Column) -> str:
    return f"_sp_up_{column.name}"


def _nested_records(spec: TableSpec, structure: Any) -> tuple[Any, exp.Expr]:
    """The ``from_json`` type and the list of records for a records path with ``*`` steps.

    ``data.*.tables`` reads every element of ``data`` and joins their ``tables`` lists.
    Columns whose path starts with ``^`` read a field of an enclosing element (one ``^``
    per ``*`` up); each record carries those values in fields of its own.
    """
    segments = list(spec.records)
    while segments and segments[-1] == "*":
        segments.pop()
    stars = [i for i, key in enumerate(segments) if key == "*"]
    up_fields: dict[int, list[Column]] = {}
    for column in spec.record_columns:
        if _is_ancestor(column):
            up = len(column.path[0]) - len(column.path[0].lstrip("^"))
            up_fields.setdefault(len(stars) - up, []).append(column)

    def element_type(star: int, inner: Any) -> Any:
        node = dict(inner) if isinstance(inner, dict) else inner
        for column in up_fields.get(star, []):
            path = (column.path[0].lstrip("^"), *column.path[1:])
            target = node
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = column.duckdb_type
        return node

    # The type, built inside out.
    record_type: Any = [structure]
    star = len(stars)
    for index in range(len(segments) - 1, -1, -1):
        key = segments[index]
        if key == "*":
            star -= 1
            record_type = [element_type(star, record_type)]
        else:
            record_type = {key: record_type}
    parsed = f"from_json(b.body, {_sql_string(json.dumps(record_type))})"

    def walk(base: str, rest: list[str], star: int) -> str:
        head = rest.index("*") if "*" in rest else len(rest)
        value = base + "".join(f".{_ident(k).sql(dialect=DIALECT)}" for k in rest[:head])
        if head == len(rest):
            return _with_ancestors(value, spec.record_columns, len(stars))
        var = f"_sp_e{star}"
        inner = walk(var, rest[head + 1 :], star + 1)
        return f"flatten(list_transform({value}, LAMBDA {var} : {inner}))"

    holder = sqlglot.parse_one(walk(f"({parsed})", segments, 0), read=DIALECT)
    return record_type, holder


def _with_ancestors(records: str, columns: Sequence[Column], stars: int) -> str:
    fields = []
    for column in columns:
        if not _is_ancestor(column):
            continue
        up = len(column.path[0]) - len(column.path[0].lstrip("^"))
        path = (column.path[0].lstrip("^"), *column.path[1:])
        source = f"_sp_e{stars - up}" + "".join(f".{_ident(k).sql(dialect=DIALECT)}" for k in path)
        fields.append(f"{_ident(_ancestor_field(column)).sql(dialect=DIALECT)} := {source}")
    if not fields:
        return records
    return f"list_transform({records}, LAMBDA _sp_r : struct_insert(_sp_r, {', '.join(fields)}))"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _structure(columns: Sequence[Column]) -> dict[str, Any]:
    """The ``from_json`` structure for the columns: nested objects follow the column paths.

    A path below a column read whole as JSON (``last_indexing_job`` and
    ``last_indexing_job.phase``) is read from that JSON instead, so both can coexist.
    """
    tree: dict[str, Any] = {}
    json_roots = {c.path for c in columns if COLUMN_TYPES[c.type] == "JSON"}
    for column in columns:
        if any(column.path[: len(root)] == root and column.path != root for root in json_roots):
            continue
        node = tree
        for key in column.path[:-1]:
            node = node.setdefault(key, {})
        node[column.path[-1]] = COLUMN_TYPES[column.type]
    return tree


def _struct_type(structure: Mapping[str, Any]) -> str:
    """A ``from_json`` structure as a DuckDB STRUCT type."""
    fields = []
    for key, kind in structure.items():
        inner = _struct_type(kind) if isinstance(kind, dict) else str(kind)
        fields.append(f"{_ident(key).sql(dialect=DIALECT)} {inner}")
    return f"STRUCT({', '.join(fields)})"


def _record_value(column: Column, spec: TableSpec) -> exp.Expr:
    """A column's output: the record's value, or the request's bound value where the record
    lacks the field (an id only the URL carries)."""
    value = _field_value(column, spec)
    if column in spec.bound_record_columns:
        value = exp.func("coalesce", value, _bound_value(column))
    return value.as_(_ident(column.name))


def _field_value(column: Column, spec: TableSpec) -> exp.Expr:
    """The value of a column's field in the record ``x.r``."""
    if _is_ancestor(column):
        return exp.Dot(this=exp.column("r", "x"), expression=_ident(_ancestor_field(column)))
    for root in (c.path for c in spec.record_columns if COLUMN_TYPES[c.type] == "JSON"):
        if column.path[: len(root)] == root and column.path != root:
            base: exp.Expr = exp.column("r", "x")
            for key in root:
                base = exp.Dot(this=base, expression=_ident(key))
            rest = "$." + ".".join(json.dumps(k) for k in column.path[len(root) :])
            extracted = exp.func("json_extract_string", base, exp.Literal.string(rest))
            return exp.cast(extracted, column.duckdb_type)
    value: exp.Expr = exp.column("r", "x")
    for key in column.path:
        value = exp.Dot(this=value, expression=_ident(key))
    return value


def _bound_value(column: Column) -> exp.Expr:
    return exp.cast(exp.column(column.name, "x", quoted=True), column.duckdb_type)


def _matches_request(spec: TableSpec) -> exp.Expr | None:
    """Rows a request returns although they do not have the value it asked for (an API
    whose filter is a superset, or that adds rows of its own) are kept only by the request
    that asks for their value: fanning out ``IN`` never counts a row twice, and a row
    summarised under another filter never stands in for the real one."""
    tests: list[exp.Expr] = []
    for column in spec.bound_record_columns:
        value, bound = _field_value(column, spec), _bound_value(column)
        tests.append(
            exp.or_(
                value.is_(exp.null()), bound.is_(exp.null()), exp.EQ(this=value, expression=bound)
            )
        )
    return exp.and_(*tests) if tests else None


def _iso_timestamps(sql: str, columns: list[str], types: list[str]) -> str:
    """``sql`` wrapped so timestamp columns read as ISO 8601 text (DuckDB prints a space)."""
    if not any(t.startswith("TIMESTAMP") for t in types):
        return sql
    outputs = []
    for name, kind in zip(columns, types, strict=True):
        column = exp.column(name, "q", quoted=True)
        if kind == "TIMESTAMP WITH TIME ZONE":
            text = exp.func("strftime", column, exp.Literal.string("%Y-%m-%dT%H:%M:%S.%fZ"))
            outputs.append(_trim_micros(text).as_(_ident(name)))
        elif kind.startswith("TIMESTAMP"):
            text = exp.func("strftime", column, exp.Literal.string("%Y-%m-%dT%H:%M:%S.%f"))
            outputs.append(_trim_micros(text).as_(_ident(name)))
        else:
            outputs.append(column.as_(_ident(name)))
    inner = f"({sql}) AS q"
    return exp.select(*outputs).from_(inner).sql(dialect=DIALECT)


def _trim_micros(text: exp.Expr) -> exp.Expr:
    """``…:05.000000Z`` → ``…:05Z``: whole seconds print without a fraction."""
    return exp.func("replace", text, exp.Literal.string(".000000"), exp.Literal.string(""))


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


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def loaded_table(name: str) -> exp.Table:
    """The table node for a loaded resource's table or view in the private catalog."""
    return exp.Table(this=_ident(name), db=_ident("main"), catalog=_ident(LOADED_CATALOG))


def translate_error(exc: Exception, names: Mapping[str, str]) -> DatabaseError:
    """A DuckDB error as ours, with loaded table names replaced by the resources' names."""
    message = str(exc).split("\n\nLINE")[0].strip()
    for loaded, resource in names.items():
        message = message.replace(loaded, resource)
    message = re.sub(r"^[A-Za-z ]+Error: ", "", message)
    if isinstance(exc, duckdb.ParserException):
        return ProgrammingError(f"syntax error: {message}")
    if isinstance(exc, duckdb.BinderException | duckdb.CatalogException):
        return ProgrammingError(message)
    if isinstance(exc, duckdb.ConversionException | duckdb.InvalidInputException):
        return DataError(message)
    if isinstance(exc, duckdb.NotImplementedException):
        from sqlprovider.errors import NotSupportedError

        return NotSupportedError(message)
    return DatabaseError(message)
