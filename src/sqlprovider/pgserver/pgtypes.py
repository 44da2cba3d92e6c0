"""Postgres types for DuckDB's: the OID a client is told for each result column, the name
``format_type`` gives it, the values that need converting before they go on the wire, and
bound parameters turned back into Python values."""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

# Postgres type OIDs (pg_type.oid, stable across server versions).
BOOL, BYTEA, NAME, INT8, INT2, INT4, TEXT, OID = 16, 17, 19, 20, 21, 23, 25, 26
JSON, FLOAT4, FLOAT8, UNKNOWN = 114, 700, 701, 705
VARCHAR, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, INTERVAL = 1043, 1082, 1083, 1114, 1184, 1186
NUMERIC, UUID, JSONB = 1700, 2950, 3802

# oid -> (typname, format_type's name, array oid)
TYPES: dict[int, tuple[str, str, int]] = {
    BOOL: ("bool", "boolean", 1000),
    BYTEA: ("bytea", "bytea", 1001),
    NAME: ("name", "name", 1003),
    INT8: ("int8", "bigint", 1016),
    INT2: ("int2", "smallint", 1005),
    INT4: ("int4", "integer", 1007),
    TEXT: ("text", "text", 1009),
    OID: ("oid", "oid", 1028),
    JSON: ("json", "json", 199),
    FLOAT4: ("float4", "real", 1021),
    FLOAT8: ("float8", "double precision", 1022),
    VARCHAR: ("varchar", "character varying", 1015),
    DATE: ("date", "date", 1182),
    TIME: ("time", "time without time zone", 1183),
    TIMESTAMP: ("timestamp", "timestamp without time zone", 1115),
    TIMESTAMPTZ: ("timestamptz", "timestamp with time zone", 1185),
    INTERVAL: ("interval", "interval", 1187),
    NUMERIC: ("numeric", "numeric", 1231),
    UUID: ("uuid", "uuid", 2951),
    JSONB: ("jsonb", "jsonb", 3807),
}
ARRAYS: dict[int, int] = {array: element for element, (_, _, array) in TYPES.items()}

_SCALARS: dict[str, int] = {
    "BOOLEAN": BOOL,
    "TINYINT": INT2,
    "SMALLINT": INT2,
    "INTEGER": INT4,
    "BIGINT": INT8,
    "UTINYINT": INT2,
    "USMALLINT": INT4,
    "UINTEGER": INT8,
    "UBIGINT": NUMERIC,  # past int8's range
    "HUGEINT": NUMERIC,
    "UHUGEINT": NUMERIC,
    "VARINT": NUMERIC,
    "BIGNUM": NUMERIC,
    "FLOAT": FLOAT4,
    "DOUBLE": FLOAT8,
    "VARCHAR": TEXT,
    "BLOB": BYTEA,
    "DATE": DATE,
    "TIME": TIME,
    "TIMESTAMP": TIMESTAMP,
    "TIMESTAMP_S": TIMESTAMP,
    "TIMESTAMP_MS": TIMESTAMP,
    "TIMESTAMP_NS": TIMESTAMP,
    "TIMESTAMP WITH TIME ZONE": TIMESTAMPTZ,
    "TIMESTAMPTZ": TIMESTAMPTZ,
    "INTERVAL": INTERVAL,
    "UUID": UUID,
    "JSON": JSON,
}
_DECIMAL = re.compile(r"^DECIMAL\(\d+,\s*\d+\)$")


def oid_of(duckdb_type: str) -> int:
    """The Postgres type a column of ``duckdb_type`` is sent as.

    Lists of scalars are Postgres arrays (``VARCHAR[]`` → ``text[]``); structs, maps, unions
    and lists of them are ``json``, and anything unknown is ``text``.
    """
    name = duckdb_type.strip().upper()
    if name in _SCALARS:
        return _SCALARS[name]
    if _DECIMAL.match(name):
        return NUMERIC
    if name.endswith("[]"):
        element = oid_of(name[:-2])
        if element in TYPES and not name[:-2].endswith("]") and element not in (JSON, JSONB):
            return TYPES[element][2]
        return JSON
    if name.startswith(("STRUCT", "MAP", "UNION")):
        return JSON
    if name.startswith("ENUM"):
        return TEXT
    return TEXT


def type_name(oid: int) -> str:
    """What ``format_type`` says for ``oid`` (``bigint``, ``text[]``, ...)."""
    if oid in ARRAYS:
        return TYPES[ARRAYS[oid]][1] + "[]"
    return TYPES[oid][1] if oid in TYPES else "text"


def converter(duckdb_type: str) -> Callable[[Any], Any] | None:
    """A function that makes a value of ``duckdb_type`` what its Postgres type carries, or
    None where the value goes as it is (most types)."""
    oid = oid_of(duckdb_type)
    if oid == JSON and duckdb_type.strip().upper() != "JSON":
        return _as_json  # a struct, map or nested list: its JSON text
    return None


def _as_json(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


# -- parameters ------------------------------------------------------------------------


def parameter(oid: int | None, value: Any) -> Any:
    """A bound parameter as the Python value the engine binds (pg_mimic hands them over as
    text, and arrays as lists of text). Without a declared type a value stays text, as
    Postgres would leave it ``unknown`` until the statement says what it is."""
    if value is None:
        return None
    if isinstance(value, list):
        element = ARRAYS.get(oid or 0)
        return [parameter(element, item) for item in value]
    text = str(value)
    parse = _PARSERS.get(oid or 0)
    if parse is None:
        return text
    try:
        return parse(text)
    except ValueError:
        return text  # let the engine say what is wrong with it


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("t", "true", "1", "yes", "on", "y"):
        return True
    if lowered in ("f", "false", "0", "no", "off", "n"):
        return False
    raise ValueError(text)


def _float(text: str) -> float:
    return float({"Infinity": "inf", "-Infinity": "-inf", "NaN": "nan"}.get(text, text))


def _timestamp(text: str) -> datetime.datetime:
    cleaned = text.strip().replace(" ", "T", 1)
    if re.search(r"[+-]\d\d$", cleaned):  # Postgres writes +00 where Python wants +00:00
        cleaned += ":00"
    return datetime.datetime.fromisoformat(cleaned)


_PARSERS: dict[int, Callable[[str], Any]] = {
    BOOL: _bool,
    INT2: int,
    INT4: int,
    INT8: int,
    OID: int,
    FLOAT4: _float,
    FLOAT8: _float,
    NUMERIC: Decimal,
    DATE: datetime.date.fromisoformat,
    TIME: datetime.time.fromisoformat,
    TIMESTAMP: _timestamp,
    TIMESTAMPTZ: _timestamp,
    UUID: lambda text: str(uuid.UUID(text)),
}
