"""PEP 249 type objects and constructors: ``cursor.description`` type codes compare equal
to them (``STRING == "VARCHAR"``), and the constructors build parameter values."""

from __future__ import annotations

import datetime
import time


class DBAPITypeObject:
    """Compares equal to every DuckDB type name of one kind (``STRING == "VARCHAR"``), so
    ``cursor.description[i][1]`` can be tested against ``STRING``, ``NUMBER``, ..."""

    def __init__(self, name: str, *prefixes: str) -> None:
        self.name = name
        self.prefixes = prefixes

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return other is self
        if not isinstance(other, str):
            return NotImplemented
        kind = other.upper()
        return any(kind == p or kind.startswith(p + "(") for p in self.prefixes)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<DBAPITypeObject {self.name}>"


STRING = DBAPITypeObject("STRING", "VARCHAR", "JSON", "UUID", "ENUM")
BINARY = DBAPITypeObject("BINARY", "BLOB", "BIT")
NUMBER = DBAPITypeObject(
    "NUMBER",
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "BOOLEAN",
)
DATETIME = DBAPITypeObject(
    "DATETIME",
    "DATE",
    "TIME",
    "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP_S",
    "TIMESTAMP_MS",
    "TIMESTAMP_NS",
    "TIME WITH TIME ZONE",
    "INTERVAL",
)
ROWID = DBAPITypeObject("ROWID")

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime


def DateFromTicks(ticks: float) -> datetime.date:
    """The date of a Unix time (local time, as PEP 249's reference does)."""
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:
    """The time of day of a Unix time (local time)."""
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:
    """The date and time of a Unix time (local time)."""
    return Timestamp(*time.localtime(ticks)[:6])


def Binary(value: bytes | bytearray | memoryview) -> bytes:
    """A value for a BLOB parameter."""
    return bytes(value)


# -- connecting ------------------------------------------------------------------------------
