"""sqlprovider: query and change REST APIs with SQL.

>>> import sqlprovider
>>> with sqlprovider.connect() as conn:
...     rows = conn.execute("SELECT 42 AS answer").fetchall()
>>> rows
[(42,)]
"""

from __future__ import annotations

from sqlprovider.dbapi import Connection, Cursor, apilevel, connect, paramstyle, threadsafety
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

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Error",
    "HTTPStatusError",
    "InterfaceError",
    "MissingParamsError",
    "NotSupportedError",
    "OperationalError",
    "ParseError",
    "ProgrammingError",
    "ProviderError",
    "RetriesExhaustedError",
    "TransportError",
    "UnknownNameError",
    "Warning",
    "WriteFailedError",
    "__version__",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
]
