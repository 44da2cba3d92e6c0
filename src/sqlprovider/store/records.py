"""How API records become rows: the INSERT ... SELECT that loads a batch of pages.

DuckDB does the work: ``from_json`` parses each page with the columns' types and the SELECT
picks each column out of each record, so no record passes through Python. The statement is
built here with sqlglot from a TableSpec, once per table and records shape. Key names come
from API definitions and are untrusted: they reach the SQL only as quoted identifiers and
string literals, never pasted into text.

The SELECT has three nested levels, each named after what one of its rows is::

    _sp_pages    one row per page: its body (JSON text), its order key, the bound params
    _sp_parsed   one row per page: its records parsed (a list, or one record), top-level keys
    _sp_items    one row per record, with its index in the page

Every name the statement makes up starts with ``_sp_``, so no field or param of an API can
take its place.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from sqlprovider.model import COLUMN_TYPES, Column

DIALECT = "duckdb"
PAGE, ITEM = "_sp_page", "_sp_item"
ORDER_COLUMNS = (PAGE, ITEM)  # the API's order: page key, then index within the page

_PAGES, _PARSED, _ITEMS = "_sp_pages", "_sp_parsed", "_sp_items"
_BODY = "_sp_body"  # a page's JSON text
_RECORDS = "_sp_records"  # a page's records, parsed
_RECORD = "_sp_record"  # one record
_EACH_RECORD = "_sp_each_record"  # the lambda variable over the records of a ``*`` path


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
        dedupe: key columns: rows repeating a key are dropped.
        label: what messages call the table (``digitalocean.genai.indexing_jobs``).
    """

    name: str
    records: tuple[str, ...]
    record_columns: tuple[Column, ...]
    param_columns: tuple[Column, ...]
    bound_record_columns: tuple[Column, ...] = ()
    top_level: tuple[str, ...] = ()
    dedupe: tuple[str, ...] = ()
    label: str = ""

    def top_level_type(self, key: str) -> exp.DataType:
        """The DuckDB type of a top-level key's column."""
        if self.records == (key,):
            return _struct_type(_structure(self.record_columns))
        return exp.DataType.build("JSON", dialect=DIALECT)

    @property
    def carried(self) -> tuple[Column, ...]:
        """Columns whose values travel with each page (the request's bindings)."""
        return (*self.param_columns, *self.bound_record_columns)


def spec_fingerprint(spec: TableSpec) -> str:
    """Everything about ``spec`` that decides its rows, whatever the table's name: the
    result cache keys loaded rows by it (with the requests that fetched the pages)."""
    target = exp.to_table("_sp_fingerprint")
    unnamed = dataclasses.replace(spec, name="", label="")
    return "\n".join((repr(unnamed), *(insert_sql(unnamed, s, target) for s in ("list", "object"))))


def insert_sql(spec: TableSpec, shape: str, target: exp.Table) -> str:
    """The INSERT that loads a batch of pages into ``target``, the raw table of ``spec``.

    Its parameters are lists, one item per page: ``$1`` the bodies (JSON text), ``$2`` the
    order keys, then one list per carried column (the request's bound values, as text).
    It inserts the table's columns in ``Store.create``'s order: record columns, param
    columns, top-level keys, then the order columns.

    Args:
        spec: the table.
        shape: ``list`` if the records path holds a list, ``object`` if one record (a path
            with ``*`` steps always holds a list).
        target: the table to insert into.
    """
    if "*" in spec.records:
        shape = "list"
    items = _items_query(spec, shape, _parsed_query(spec, shape, _pages_query(spec)))
    select = exp.select(*_outputs(spec, shape)).from_(items)
    if shape != "list":  # a page without its record (a 404 body, null) adds no row
        select = select.where(_column(_RECORD, _ITEMS).is_(exp.null()).not_())
    matching = _matches_request(spec)
    if matching is not None:
        select = select.where(matching)
    names = [ident(c.name) for c in (*spec.record_columns, *spec.param_columns)]
    names.extend(ident(key) for key in spec.top_level)
    names.extend(ident(name) for name in ORDER_COLUMNS)
    insert = exp.Insert(this=exp.Schema(this=target, expressions=names), expression=select)
    return insert.sql(dialect=DIALECT)


def _pages_query(spec: TableSpec) -> exp.Subquery:
    """``_sp_pages``: the parameter lists unnested side by side, one row per page."""
    columns = [
        exp.Unnest(expressions=[exp.Placeholder(this="1")]).as_(_BODY),
        exp.Unnest(expressions=[exp.Placeholder(this="2")]).as_(PAGE),
    ]
    for number, column in enumerate(spec.carried, start=3):
        placeholder = exp.Placeholder(this=str(number))
        columns.append(exp.Unnest(expressions=[placeholder]).as_(ident(column.name)))
    return exp.select(*columns).subquery(_PAGES)


def _parsed_query(spec: TableSpec, shape: str, pages: exp.Subquery) -> exp.Subquery:
    """``_sp_parsed``: each page's records parsed, its carried values and top-level keys."""
    body = _column(_BODY, _PAGES)
    if "*" in spec.records:
        records = _nested_records(spec, body)
    else:
        records = exp.func("from_json", body, _type_literal(_record_type(spec, shape)))
        records = _path(records, spec.records)
    columns: list[exp.Expr] = [records.as_(_RECORDS), _column(PAGE, _PAGES)]
    columns.extend(_column(c.name, _PAGES) for c in spec.carried)
    for index, key in enumerate(spec.top_level):
        kept = exp.Anonymous(this="json_extract", expressions=[body.copy(), _json_path([key])])
        columns.append(kept.as_(_top_level_name(index)))
    return exp.select(*columns).from_(pages).subquery(_PARSED)


def _items_query(spec: TableSpec, shape: str, parsed: exp.Subquery) -> exp.Subquery:
    """``_sp_items``: one row per record, numbered within its page, with the page's values."""
    records = _column(_RECORDS, _PARSED)
    if shape == "list":
        count = exp.Anonymous(this="len", expressions=[records.copy()])
        numbered: list[exp.Expr] = [
            exp.Unnest(expressions=[records]).as_(_RECORD),
            exp.Unnest(expressions=[exp.Anonymous(this="range", expressions=[count])]).as_(ITEM),
        ]
    else:
        numbered = [records.as_(_RECORD), exp.Literal.number(0).as_(ITEM)]
    carried = [_column(PAGE, _PARSED), *(_column(c.name, _PARSED) for c in spec.carried)]
    carried.extend(_column(_top_level_name(i), _PARSED) for i in range(len(spec.top_level)))
    return exp.select(*numbered, *carried).from_(parsed).subquery(_ITEMS)


def _outputs(spec: TableSpec, shape: str) -> list[exp.Expr]:
    """The inserted values, one per column of the raw table, read from ``_sp_items``."""
    outputs = [_record_value(c, spec) for c in spec.record_columns]
    outputs.extend(exp.cast(_column(c.name, _ITEMS), c.duckdb_type) for c in spec.param_columns)
    for index, key in enumerate(spec.top_level):
        if spec.records == (key,) and shape != "list":  # the record itself, as a STRUCT
            outputs.append(_column(_RECORD, _ITEMS).as_(ident(key)))
        else:
            outputs.append(_column(_top_level_name(index), _ITEMS).as_(ident(key)))
    outputs.extend(_column(name, _ITEMS) for name in ORDER_COLUMNS)
    return outputs


def _record_type(spec: TableSpec, shape: str) -> Any:
    """The ``from_json`` structure of a page whose records path has no ``*`` step."""
    record_type: Any = _own_structure(spec)
    if shape == "list":
        record_type = [record_type]
    for key in reversed(spec.records):
        record_type = {key: record_type}
    return record_type


# -- records paths with * steps -----------------------------------------------------------


def _nested_records(spec: TableSpec, body: exp.Expr) -> exp.Expr:
    """The records of a page whose records path has ``*`` steps, as one list.

    ``data.*.tables`` reads every element of ``data`` and joins their ``tables`` lists
    (``flatten(list_transform(data, LAMBDA _sp_element0 : _sp_element0.tables))``).
    Columns whose path starts with ``^`` read a field of an enclosing element (one ``^``
    per ``*`` up); each record carries those values in fields of its own (``_sp_up_...``).
    """
    segments = list(spec.records)
    while segments and segments[-1] == "*":
        segments.pop()
    stars = segments.count("*")
    structure = _own_structure(spec)
    parsed = exp.func("from_json", body, _type_literal(_nested_type(spec, segments, structure)))
    return _each_element(parsed, segments, 0, spec.record_columns, stars)


def _nested_type(spec: TableSpec, segments: list[str], structure: Any) -> Any:
    """The ``from_json`` structure of a ``*`` path, built inside out; the element at each
    ``*`` also declares the fields its descendants' ``^`` columns read."""
    stars = segments.count("*")
    up_fields: dict[int, list[Column]] = {}
    for column in spec.record_columns:
        if _is_ancestor(column):
            up_fields.setdefault(stars - _levels_up(column), []).append(column)
    record_type: Any = [structure]
    star = stars
    for key in reversed(segments):
        if key != "*":
            record_type = {key: record_type}
            continue
        star -= 1
        element = dict(record_type) if isinstance(record_type, dict) else record_type
        for column in up_fields.get(star, []):
            node = element
            path = _ancestor_path(column)
            for step in path[:-1]:
                node = node.setdefault(step, {})
            node[path[-1]] = column.duckdb_type
        record_type = [element]
    return record_type


def _each_element(
    base: exp.Expr, rest: list[str], depth: int, columns: Sequence[Column], stars: int
) -> exp.Expr:
    """The records under ``base`` along ``rest``: each ``*`` maps a lambda over a list
    (its variable ``_sp_element<depth>`` is the element) and flattens what it returns."""
    head = rest.index("*") if "*" in rest else len(rest)
    value = _path(base, rest[:head])
    if head == len(rest):
        return _with_ancestors(value, columns, stars)
    element = exp.to_identifier(f"_sp_element{depth}")
    inner = _each_element(element.copy(), rest[head + 1 :], depth + 1, columns, stars)
    mapped = exp.Anonymous(
        this="list_transform",
        expressions=[value, exp.Lambda(this=inner, expressions=[element])],
    )
    return exp.func("flatten", mapped)


def _with_ancestors(records: exp.Expr, columns: Sequence[Column], stars: int) -> exp.Expr:
    """``records`` with each record given the fields its ``^`` columns read from the
    enclosing elements (``struct_insert(record, _sp_up_job_id := _sp_element0.id)``)."""
    fields: list[exp.Expr] = []
    for column in columns:
        if _is_ancestor(column):
            element = exp.to_identifier(f"_sp_element{stars - _levels_up(column)}")
            value = _path(element, _ancestor_path(column))
            fields.append(exp.PropertyEQ(this=ident(_ancestor_field(column)), expression=value))
    if not fields:
        return records
    record = exp.to_identifier(_EACH_RECORD)
    with_fields = exp.Anonymous(this="struct_insert", expressions=[record.copy(), *fields])
    lambda_ = exp.Lambda(this=with_fields, expressions=[record])
    return exp.Anonymous(this="list_transform", expressions=[records, lambda_])


def _is_ancestor(column: Column) -> bool:
    return column.path[0].startswith("^")


def _levels_up(column: Column) -> int:
    """How many ``*`` steps up a ``^`` column reads (one per ``^``)."""
    return len(column.path[0]) - len(column.path[0].lstrip("^"))


def _ancestor_path(column: Column) -> tuple[str, ...]:
    """A ``^`` column's path within the enclosing element."""
    return (column.path[0].lstrip("^"), *column.path[1:])


def _ancestor_field(column: Column) -> str:
    return f"_sp_up_{column.name}"


# -- columns ------------------------------------------------------------------------------


def _own_structure(spec: TableSpec) -> Any:
    """The ``from_json`` structure of one record: its own fields (``^`` columns are read
    from enclosing elements), or ``JSON`` when no column is read (``count(*)``): each record
    is kept whole just to be counted."""
    return _structure([c for c in spec.record_columns if not _is_ancestor(c)]) or "JSON"


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


def _struct_type(structure: Mapping[str, Any]) -> exp.DataType:
    """A ``from_json`` structure as a DuckDB STRUCT type."""
    fields = [
        exp.ColumnDef(
            this=ident(key),
            kind=_struct_type(kind)
            if isinstance(kind, dict)
            else exp.DataType.build(kind, dialect=DIALECT),
        )
        for key, kind in structure.items()
    ]
    return exp.DataType(this=exp.DataType.Type.STRUCT, expressions=fields, nested=True)


def _record_value(column: Column, spec: TableSpec) -> exp.Expr:
    """A column's output: the record's value, or the request's bound value where the record
    lacks the field (an id only the URL carries)."""
    value = _field_value(column, spec)
    if column in spec.bound_record_columns:
        value = exp.func("coalesce", value, _bound_value(column))
    return value.as_(ident(column.name))


def _field_value(column: Column, spec: TableSpec) -> exp.Expr:
    """The value of a column's field in the record ``_sp_items._sp_record``."""
    record = _column(_RECORD, _ITEMS)
    if _is_ancestor(column):
        return _path(record, [_ancestor_field(column)])
    for root in (c.path for c in spec.record_columns if COLUMN_TYPES[c.type] == "JSON"):
        if column.path[: len(root)] == root and column.path != root:
            rest = _json_path(column.path[len(root) :])
            extracted = exp.Anonymous(
                this="json_extract_string", expressions=[_path(record, root), rest]
            )
            return exp.cast(extracted, column.duckdb_type)
    return _path(record, column.path)


def _bound_value(column: Column) -> exp.Expr:
    return exp.cast(_column(column.name, _ITEMS), column.duckdb_type)


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


# -- small builders -----------------------------------------------------------------------


def ident(name: str) -> exp.Identifier:
    """A quoted identifier: any name, whatever its characters, stays one name."""
    return exp.to_identifier(name, quoted=True)


def _column(name: str, table: str) -> exp.Column:
    return exp.column(ident(name), ident(table))


def _path(base: exp.Expr, keys: Sequence[str]) -> exp.Expr:
    """``base."k1"."k2"...``: struct fields by quoted name."""
    for key in keys:
        base = exp.Dot(this=base, expression=ident(key))
    return base


def _top_level_name(index: int) -> str:
    return f"_sp_top_{index}"


def _type_literal(structure: Any) -> exp.Literal:
    """A ``from_json`` structure as the JSON string literal DuckDB reads it from."""
    return exp.Literal.string(json.dumps(structure))


def _json_path(keys: Sequence[str]) -> exp.Literal:
    """``$."k1"."k2"`` as a string literal. DuckDB's JSON path reads ``\\"`` and ``\\\\``
    inside a quoted key and every other character as it is (``\\u`` escapes not at all)."""
    quoted = ('"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in keys)
    return exp.Literal.string("$." + ".".join(quoted))
