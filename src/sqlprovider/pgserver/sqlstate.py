"""SQLSTATE codes for sqlprovider's errors: the one place an engine error becomes a Postgres
error, so clients can tell a mistyped column (42703) from refused credentials (28000)."""

from __future__ import annotations

import re

from sqlprovider.authfile import AuthConfigError
from sqlprovider.errors import (
    AuthError,
    DataError,
    Error,
    HTTPStatusError,
    IntegrityError,
    InterfaceError,
    InternalError,
    MissingParamsError,
    NotSupportedError,
    OperationalError,
    ParseError,
    ProgrammingError,
    ProviderError,
    RetriesExhaustedError,
    TransportError,
    UnknownNameError,
    WriteFailedError,
)

SYNTAX_ERROR = "42601"
UNDEFINED_TABLE = "42P01"
UNDEFINED_COLUMN = "42703"
UNDEFINED_OBJECT = "42704"
UNDEFINED_FUNCTION = "42883"
UNDEFINED_PARAMETER = "42P02"
PROGRAMMING = "42000"
INVALID_AUTHORIZATION = "28000"
INSUFFICIENT_PRIVILEGE = "42501"
INVALID_PARAMETER_VALUE = "22023"
DATA_EXCEPTION = "22000"
FEATURE_NOT_SUPPORTED = "0A000"
INTEGRITY = "23000"
INTERNAL = "XX000"
CONFIG_FILE = "F0000"
SYSTEM_ERROR = "58000"
IO_ERROR = "58030"
TOO_MANY_REQUESTS = "53400"  # configuration_limit_exceeded: a rate limit
READ_ONLY = "25006"  # read_only_sql_transaction
OBJECT_STATE = "55000"

# DuckDB's own errors about a statement, by what they say (they come as ProgrammingError).
_DUCKDB = (
    (re.compile(r"Table with name \S+ does not exist|Table .* not found"), UNDEFINED_TABLE),
    (re.compile(r"Referenced column|[Cc]olumn .* not found|does not have a column"),
     UNDEFINED_COLUMN),
    (re.compile(r"Function with name \S+ does not exist|No function matches"),
     UNDEFINED_FUNCTION),
    (re.compile(r"Parser Error|syntax error"), SYNTAX_ERROR),
)  # fmt: skip

_UNKNOWN: dict[str, str] = {
    "table": UNDEFINED_TABLE,
    "resource": UNDEFINED_TABLE,
    "column": UNDEFINED_COLUMN,
    "function": UNDEFINED_FUNCTION,
}


def sqlstate(error: Error) -> str:
    """The SQLSTATE a client receives for ``error``."""
    if isinstance(error, OperationalError):
        return _operational(error)
    if isinstance(error, UnknownNameError):
        return _UNKNOWN.get(error.kind, UNDEFINED_OBJECT)
    if isinstance(error, MissingParamsError):
        return UNDEFINED_PARAMETER  # class 42: the statement does not give what the API needs
    if isinstance(error, ParseError):
        return SYNTAX_ERROR
    if isinstance(error, ProgrammingError):
        text = str(error)
        return next((code for pattern, code in _DUCKDB if pattern.search(text)), PROGRAMMING)
    if isinstance(error, AuthConfigError | ProviderError):
        return CONFIG_FILE
    if isinstance(error, DataError):
        return DATA_EXCEPTION
    if isinstance(error, NotSupportedError):
        return FEATURE_NOT_SUPPORTED
    if isinstance(error, IntegrityError):
        return INTEGRITY
    if isinstance(error, InterfaceError):
        return OBJECT_STATE
    if isinstance(error, InternalError):
        return INTERNAL
    return INTERNAL


def _operational(error: OperationalError) -> str:
    if isinstance(error, AuthError):
        return INVALID_AUTHORIZATION
    if isinstance(error, HTTPStatusError):
        return _status(error.status_code)
    if isinstance(error, RetriesExhaustedError):
        return TOO_MANY_REQUESTS if error.status_code == 429 else IO_ERROR
    if isinstance(error, TransportError):
        return IO_ERROR  # never class 08: clients read that as their own connection lost
    if isinstance(error, WriteFailedError):
        return SYSTEM_ERROR
    return SYSTEM_ERROR


def _status(status: int | None) -> str:
    if status == 401:
        return INVALID_AUTHORIZATION
    if status == 403:
        return INSUFFICIENT_PRIVILEGE
    if status == 404:
        return UNDEFINED_OBJECT
    if status == 429:
        return TOO_MANY_REQUESTS
    if status is not None and 400 <= status < 500:
        return INVALID_PARAMETER_VALUE
    return IO_ERROR
