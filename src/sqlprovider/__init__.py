"""sqlprovider: query and change REST APIs with SQL.

>>> import sqlprovider
>>> with sqlprovider.connect() as conn:
...     rows = conn.execute("SELECT ? * 2 AS answer", [21]).fetchall()
>>> rows
[(42,)]

The asyncio twin is ``sqlprovider.aio`` (imported on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlprovider.authfile import AuthConfigError
from sqlprovider.dbapi import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Connection,
    Cursor,
    Date,
    DateFromTicks,
    IntegrityError,
    InternalError,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
    apilevel,
    connect,
    paramstyle,
    threadsafety,
)
from sqlprovider.errors import (
    AuthError,
    DatabaseError,
    DataError,
    Error,
    HTTPStatusError,
    InterfaceError,
    MissingParamsError,
    NotSupportedError,
    OperationalError,
    ParseError,
    ProgrammingError,
    ProviderError,
    RetriesExhaustedError,
    TransportError,
    UnknownNameError,
    Warning,
    WriteFailedError,
)
from sqlprovider.options import ConnectOptions

if TYPE_CHECKING:
    from sqlprovider import aio

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "aio":  # asyncio is only imported by those who use it
        import importlib

        return importlib.import_module("sqlprovider.aio")
    raise AttributeError(f"module 'sqlprovider' has no attribute {name!r}")


__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "AuthConfigError",
    "AuthError",
    "Binary",
    "ConnectOptions",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "HTTPStatusError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "MissingParamsError",
    "NotSupportedError",
    "OperationalError",
    "ParseError",
    "ProgrammingError",
    "ProviderError",
    "RetriesExhaustedError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "TransportError",
    "UnknownNameError",
    "Warning",
    "WriteFailedError",
    "__version__",
    "aio",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
]
