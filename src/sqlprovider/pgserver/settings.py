"""A connection's settings: ``SET``, ``RESET``, ``SHOW`` and transaction statements, as a
Postgres server answers them. ``SET TimeZone`` also sets the time zone of the connection's
engine session, which reads times in it."""

from __future__ import annotations

import re
from dataclasses import dataclass

SERVER_VERSION = "16.0"

DEFAULTS: dict[str, str] = {
    "server_version": SERVER_VERSION,
    "server_version_num": "160000",
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "datestyle": "ISO, MDY",
    "intervalstyle": "postgres",
    "timezone": "UTC",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "application_name": "",
    "search_path": '"$user", public',
    "transaction_isolation": "read committed",
    "default_transaction_isolation": "read committed",
    "transaction_read_only": "off",
    "default_transaction_read_only": "off",
    "max_identifier_length": "63",
    "is_superuser": "off",
    "extra_float_digits": "1",
    "statement_timeout": "0",
    "lock_timeout": "0",
    "client_min_messages": "notice",
    "bytea_output": "hex",
    "lc_collate": "C",
    "lc_ctype": "C",
    "lc_messages": "C",
    "max_connections": "100",
    "jit": "off",
}
# What Postgres calls them in ParameterStatus messages and SHOW's column.
DISPLAY = {"datestyle": "DateStyle", "intervalstyle": "IntervalStyle", "timezone": "TimeZone"}
# Reported to the client when they change (psycopg reads TimeZone to place timestamps).
REPORTED = frozenset({"timezone", "datestyle", "intervalstyle", "application_name",
                      "client_encoding", "standard_conforming_strings", "integer_datetimes",
                      "server_encoding", "server_version", "is_superuser"})  # fmt: skip

_SET = re.compile(
    r"^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(?:(TIME\s+ZONE)\s+(.+?)|([\w.]+)\s*(?:TO|=)\s*(.+?))"
    r"\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_RESET = re.compile(r"^\s*RESET\s+([\w.]+)\s*;?\s*$", re.IGNORECASE)
_SHOW = re.compile(r"^\s*SHOW\s+([\w.]+|TIME\s+ZONE|TRANSACTION\s+ISOLATION\s+LEVEL)\s*;?\s*$",
                   re.IGNORECASE)  # fmt: skip
# SHOW statements the engine answers (providers, services, ...) or DuckDB does.
_ENGINE_SHOW = frozenset({"providers", "services", "resources", "methods", "tables", "databases"})
_ALIASES = {"time zone": "timezone", "transaction isolation level": "transaction_isolation"}
_NO_OPS = re.compile(
    r"^\s*(SET\s+(SESSION\s+CHARACTERISTICS|TRANSACTION)\b|DISCARD\b|DEALLOCATE\b|LISTEN\b|"
    r"UNLISTEN\b|NOTIFY\b|CLOSE\b|CHECKPOINT\b|SAVEPOINT\b|RELEASE\b|ROLLBACK\s+TO\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SettingStatement:
    """A statement about settings: ``kind`` is set, reset, show or noop."""

    kind: str
    name: str = ""
    value: str = ""
    tag: str = ""


def classify(sql: str) -> SettingStatement | None:
    """The settings statement ``sql`` is, or None when it is something else."""
    if _NO_OPS.match(sql):
        word = sql.split()[0].upper()
        return SettingStatement("noop", tag="SET" if word == "SET" else word)
    if match := _SET.match(sql):
        if match.group(1):
            return SettingStatement("set", "timezone", _value(match.group(2)), "SET")
        return SettingStatement("set", match.group(3).lower(), _value(match.group(4)), "SET")
    if match := _RESET.match(sql):
        return SettingStatement("reset", match.group(1).lower(), tag="RESET")
    if match := _SHOW.match(sql):
        name = " ".join(match.group(1).lower().split())
        if name in _ENGINE_SHOW or "." in name:  # a table: DuckDB's SHOW describes it
            return None
        return SettingStatement("show", _ALIASES.get(name, name), tag="SHOW")
    return None


def _value(text: str) -> str:
    """A SET value as a string: quotes removed, a list kept as written (``a, b``)."""
    text = text.strip()
    if text.upper() in ("DEFAULT", "LOCAL"):
        return ""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace(text[0] * 2, text[0])
    return text
