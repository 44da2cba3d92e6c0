"""Postgres text format, written by DuckDB: a whole DataRow message per row, built by one
vectorized query over the result's rows, so no value becomes a Python object.

``datarows_select`` turns a result (a view, its column names and DuckDB types) into a
select of one BLOB per row: ``D``, the message length, the column count, then each
field's length and text (or -1 for NULL). Each type's text is what Postgres sends for it:
integers and decimals as DuckDB casts them (the same digits), booleans ``t``/``f``,
timestamps, dates and times as DuckDB casts them (``2025-05-31 23:57:00.5+00``, in the
session's time zone, as Postgres writes them), doubles in Postgres' shortest round-trip
form (``1``, ``1e+15``, ``-0``, ``Infinity``, ``NaN``), one-dimensional lists of text,
integers and booleans as array literals with Postgres' quoting. A result with any other
type (real, interval, blob, structs, nested lists, ...) gets None: the server then sends
it through the Python encoders (``datarows``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlglot
from sqlglot import exp

_DIALECT = "duckdb"
_VALUE = "_v"  # the placeholder column of the templates below

_CAST = f"CAST({_VALUE} AS VARCHAR)"
_BOOL = f"CASE {_VALUE} WHEN TRUE THEN 't' WHEN FALSE THEN 'f' END"
# Postgres writes a double's shortest round-trip digits, in exponent form from 1e+15 on
# (DuckDB, like Python, from 1e+16), without DuckDB's trailing ".0", and keeps -0's sign.
_DIGITS = f"rtrim(replace(CAST(abs({_VALUE}) AS VARCHAR), '.', ''), '0')"
_DOUBLE = f"""CASE
    WHEN isnan({_VALUE}) THEN 'NaN'
    WHEN isinf({_VALUE}) THEN CASE WHEN {_VALUE} > 0 THEN 'Infinity' ELSE '-Infinity' END
    WHEN {_VALUE} = 0 THEN CASE WHEN signbit({_VALUE}) THEN '-0' ELSE '0' END
    WHEN abs({_VALUE}) >= 1e15 AND abs({_VALUE}) < 1e16 THEN
        CASE WHEN {_VALUE} < 0 THEN '-' ELSE '' END || left({_DIGITS}, 1)
        || CASE WHEN length({_DIGITS}) > 1 THEN '.' || substr({_DIGITS}, 2) ELSE '' END
        || 'e+15'
    ELSE regexp_replace(CAST({_VALUE} AS VARCHAR), '\\.0$', '')
END"""
# An array element is quoted when it is empty, NULL in any case, or holds a brace, a
# quote, a comma, a backslash or white space (Postgres' array_out).
_QUOTED = (
    "CASE WHEN x IS NULL THEN 'NULL' "
    "WHEN x = '' OR upper(x) = 'NULL' OR regexp_matches(x, '[{}\",\\\\ \\t\\n\\r\\v\\f]') "
    "THEN '\"' || replace(replace(x, '\\', '\\\\'), '\"', '\\\"') || '\"' ELSE x END"
)
_PLAIN = "CASE WHEN x IS NULL THEN 'NULL' ELSE CAST(x AS VARCHAR) END"
_BOOL_ELEMENT = "CASE x WHEN TRUE THEN 't' WHEN FALSE THEN 'f' ELSE 'NULL' END"


def _list(element: str) -> str:
    return f"'{{' || array_to_string(list_transform({_VALUE}, x -> {element}), ',') || '}}'"


_INTEGERS = ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"]
_INTEGERS += ["U" + name for name in _INTEGERS]
_TEXTS = ["VARCHAR", "UUID", "JSON"]
_TIMES = ["TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP", "DATE", "TIME"]
_SCALARS: dict[str, str] = {
    **dict.fromkeys(_TEXTS + _INTEGERS + _TIMES, _CAST),
    "BOOLEAN": _BOOL,
    "DOUBLE": _DOUBLE,
}
_ELEMENTS: dict[str, str] = {
    "VARCHAR": _list(_QUOTED),
    "UUID": _list(_PLAIN),  # never quoted: hex digits and hyphens
    **dict.fromkeys(_INTEGERS, _list(_PLAIN)),
    "BOOLEAN": _list(_BOOL_ELEMENT),
}
_DECIMAL = re.compile(r"^DECIMAL\(\d+,\s*\d+\)$")
_TEMPLATES: dict[str, exp.Expr] = {}


def text_template(duckdb_type: str) -> str | None:
    """DuckDB SQL that writes a value ``_v`` of ``duckdb_type`` as Postgres' text (NULL
    stays NULL), or None for a type written by the Python encoders."""
    name = duckdb_type.strip().upper()
    if name in _SCALARS:
        return _SCALARS[name]
    if _DECIMAL.match(name) or name.startswith("ENUM("):
        return _CAST
    if name.endswith("[]"):
        return _ELEMENTS.get(name[:-2])
    return None


def _text(duckdb_type: str, column: exp.Expr) -> exp.Expr | None:
    template = text_template(duckdb_type)
    if template is None:
        return None
    if template not in _TEMPLATES:
        _TEMPLATES[template] = sqlglot.parse_one(template, read=_DIALECT)

    def place(node: exp.Expr) -> exp.Expr:
        return column.copy() if isinstance(node, exp.Column) and node.name == _VALUE else node

    text: exp.Expr = _TEMPLATES[template].copy().transform(place)
    return text


def _call(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _int32(value: exp.Expr) -> exp.Expr:
    """``value`` as 4 bytes, big-endian (a length on the wire)."""
    return _call("unhex", _call("printf", exp.Literal.string("%08X"), value))


def _field(text: exp.Expr) -> exp.Expr:
    """A DataRow field: the text's length in bytes, then its UTF-8 bytes; NULL is -1."""
    data = _call("encode", text)
    length = _call("octet_length", data.copy())
    field: exp.Expr = exp.func(
        "coalesce",
        exp.DPipe(this=_int32(length), expression=data, safe=True),
        exp.cast(exp.Literal.string("\\xFF\\xFF\\xFF\\xFF"), "BLOB"),
    )
    return field


def datarows_select(
    view: exp.Table, columns: Sequence[str], types: Sequence[str]
) -> exp.Select | None:
    """A select of one BLOB per row of ``view``: that row's whole DataRow message in text
    format, in the view's order; None when a column's type has no DuckDB text here.

    Args:
        view: the result's rows.
        columns: the view's column names (unique).
        types: their DuckDB types.
    """
    texts = [_text(t, exp.column(c, quoted=True)) for c, t in zip(columns, types, strict=True)]
    if any(text is None for text in texts):
        return None
    body: exp.Expr = _call("unhex", exp.Literal.string(f"{len(columns):04X}"))
    for text in texts:
        assert text is not None
        body = exp.DPipe(this=body, expression=_field(text), safe=True)
    inner = exp.select(body.as_("body")).from_(view)
    message = exp.DPipe(
        this=exp.DPipe(
            this=exp.cast(exp.Literal.string("D"), "BLOB"),
            expression=_int32(
                exp.Add(
                    this=_call("octet_length", exp.column("body")), expression=exp.Literal.number(4)
                )
            ),
            safe=True,
        ),
        expression=exp.column("body"),
        safe=True,
    )
    return exp.select(message.as_("datarow")).from_(inner.subquery("rows"))
