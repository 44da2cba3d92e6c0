"""Rows on the wire, fast: DataRow messages built a batch at a time with one text encoder per
column, chosen once from its type.

pg_mimic encodes each value by looking at its Python type, and writes each row on its own;
for 100,000 rows that was 4 s, more than fetching them. ``Connection`` is pg_mimic's, with
the two methods that send rows (a simple query's, an Execute's) sending them through
``encode_rows``; binary formats, which clients ask for only for some columns, still go
through pg_mimic's encoder. Most text rows never come here: DuckDB builds them
(``pgtext``); these encoders write the same text (Postgres' own, where pg_mimic's differs:
doubles, fractional seconds) for the rows it leaves to Python.
"""

from __future__ import annotations

import datetime
import math
import re
import struct
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from pg_mimic import PgError
from pg_mimic import messages as wire
from pg_mimic.connection import Connection as PgConnection
from pg_mimic.connection import PortalEntry, command_tag
from pg_mimic.errors import FEATURE_NOT_SUPPORTED, IN_FAILED_SQL_TRANSACTION
from pg_mimic.middleware import is_transaction_end
from pg_mimic.results import encode_row, format_code_for
from pg_mimic.types import encode_value

from sqlprovider.pgserver import pgtypes
from sqlprovider.pgserver.statements import Encoded, RunStatement

Encoder = Callable[[Any], bytes]
_LENGTH = struct.Struct("!i")
_HEADER = struct.Struct("!cih")
_NULL = _LENGTH.pack(-1)
_BATCH = 2000  # rows per write: fewer, larger writes to the socket
_SPECIAL = re.compile(r'[{}"\\ \t\n\r\v\f]')  # what Postgres quotes in an element
_NEEDS_QUOTES = re.compile(r'[{}",\\ \t\n\r\v\f]')


def _text(value: Any) -> bytes:
    return (value if isinstance(value, str) else str(value)).encode()


def _integer(value: Any) -> bytes:
    return b"%d" % value


def _float(value: Any) -> bytes:
    """Postgres' float8out: the shortest round-trip digits (as repr's), in exponent form
    below 1e-4 and from 1e+15 on (repr: 1e+16), no trailing ".0", and -0 keeps its sign."""
    if not math.isfinite(value):
        return b"NaN" if math.isnan(value) else (b"Infinity" if value > 0 else b"-Infinity")
    if value == 0:
        return b"-0" if math.copysign(1.0, value) < 0 else b"0"
    text = repr(float(value))
    if "e" in text:
        return text.encode()
    text = text.removesuffix(".0")
    if abs(value) >= 1e15:  # 16 digits before the point: Postgres writes d.ddde+15
        digits = text.lstrip("-").replace(".", "").rstrip("0")
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = ("-" if value < 0 else "") + mantissa + "e+15"
    return text.encode()


def _numeric(value: Any) -> bytes:
    if isinstance(value, Decimal):
        return format(value, "f").encode()
    return str(value).encode()


def _bool(value: Any) -> bytes:
    return b"t" if value else b"f"


def _timestamptz(value: Any) -> bytes:
    return _offset_text(_fraction(value, value.isoformat(" "))).encode()


def _fraction(value: Any, text: str) -> str:
    """Postgres writes fractional seconds without trailing zeros (.5, not .500000)."""
    if not getattr(value, "microsecond", 0):
        return text
    whole, _, rest = text.partition(".")
    return whole + "." + rest[:6].rstrip("0") + rest[6:]


def _offset_text(text: str) -> str:
    if text.endswith(":00") and text[-6] in "+-":  # Postgres writes +09, not +09:00
        return text[:-3]
    return text


def _isoformat(value: Any) -> bytes:
    if isinstance(value, datetime.datetime):
        return _fraction(value, value.isoformat(" ")).encode()
    text: str = value.isoformat()
    return text.encode()


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    text = value if isinstance(value, str) else str(value)
    if text == "" or text.upper() == "NULL" or _NEEDS_QUOTES.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _array(element: Encoder) -> Encoder:
    def encode(value: Any) -> bytes:
        if not isinstance(value, list):
            return _text(value)
        if element is _text and all(type(v) is str for v in value):
            joined = ",".join(value)
            plain = joined.count(",") == len(value) - 1 and not _SPECIAL.search(joined)
            if plain and "" not in value and not any(v.upper() == "NULL" for v in value):
                return ("{" + joined + "}").encode()  # nothing to quote: the common case
        if element in (_integer, _float, _numeric, _bool):
            items = ["NULL" if v is None else element(v).decode() for v in value]
        elif any(isinstance(v, list) for v in value):  # nested: pg_mimic's rectangular rules
            nested: str = encode_value(pgtypes.TEXT, value)
            return nested.encode()
        else:
            items = [_element(v) for v in value]
        return ("{" + ",".join(items) + "}").encode()

    return encode


_SCALARS: dict[int, Encoder] = {
    pgtypes.TEXT: _text,
    pgtypes.VARCHAR: _text,
    pgtypes.NAME: _text,
    pgtypes.JSON: _text,
    pgtypes.INT2: _integer,
    pgtypes.INT4: _integer,
    pgtypes.INT8: _integer,
    pgtypes.OID: _integer,
    pgtypes.FLOAT4: _float,
    pgtypes.FLOAT8: _float,
    pgtypes.NUMERIC: _numeric,
    pgtypes.BOOL: _bool,
    pgtypes.TIMESTAMPTZ: _timestamptz,
    pgtypes.TIMESTAMP: _isoformat,
    pgtypes.DATE: _isoformat,
    pgtypes.UUID: _text,
}


def text_encoder(oid: int) -> Encoder:
    """How a value of a column of type ``oid`` is written in text format."""
    if oid in _SCALARS:
        return _SCALARS[oid]
    if oid in pgtypes.ARRAYS:
        return _array(_SCALARS.get(pgtypes.ARRAYS[oid], _text))
    return lambda value: encode_value(oid, value).encode()


def encode_rows(rows: Sequence[tuple[Any, ...]], oids: Sequence[int]) -> list[bytes]:
    """DataRow messages for ``rows`` in text format, joined in batches.

    Column by column, then row by row, so that most of the loops run in C (``zip``,
    ``b"".join``, ``map``): a value costs about its own encoding and one length prefix.
    """
    width = len(oids)
    header = _HEADER.pack
    batches: list[bytes] = []
    for start in range(0, len(rows), _BATCH):
        chunk = rows[start : start + _BATCH]
        columns = [
            _column(oid, values) for oid, values in zip(oids, zip(*chunk, strict=True), strict=True)
        ]
        payloads = map(b"".join, zip(*columns, strict=True)) if columns else (b"" for _ in chunk)
        batches.append(b"".join([header(b"D", len(p) + 6, width) + p for p in payloads]))
    return batches


def _column(oid: int, values: Sequence[Any]) -> list[bytes]:
    """Each value of one column as a DataRow field: its length, then its text."""
    pack, null = _LENGTH.pack, _NULL
    encode = text_encoder(oid)
    if encode is _text:
        texts = [None if v is None else (v if type(v) is str else str(v)).encode() for v in values]
    else:
        texts = [None if v is None else encode(v) for v in values]
    return [null if t is None else pack(len(t)) + t for t in texts]


class Connection(PgConnection):
    """pg_mimic's connection, sending rows with ``encode_rows``."""

    def _send_rows(self, rows: Sequence[tuple[Any, ...]], columns: Any, formats: Any) -> None:
        if isinstance(rows, Encoded):  # DataRows DuckDB built (text format)
            for start in range(0, len(rows), _BATCH):
                self.stream.write(b"".join(rows[start : start + _BATCH]))
            return
        if formats and any(formats):  # binary for some columns: pg_mimic's encoder
            for row in rows:
                try:
                    values = encode_row(row, columns, formats)
                except ValueError as exc:
                    raise PgError(FEATURE_NOT_SUPPORTED, str(exc)) from None
                self.stream.write(wire.make_data_row(values))
            return
        for batch in encode_rows(rows, [c.oid for c in columns]):
            self.stream.write(batch)

    async def _execute_one_simple_statement(self, sql: str) -> None:
        if self.tx_status == b"E" and not is_transaction_end(sql):
            raise PgError(
                IN_FAILED_SQL_TRANSACTION, "current transaction is aborted, commands ignored"
            )
        if not sql.strip():
            self.stream.write(wire.make_empty_query_response())
            return
        statement = await self.session.prepare(sql, [])
        portal = statement.bind([])  # bound first: it runs for text format (see statements)
        columns = await statement.describe()
        rows, _ = await portal.execute(0)
        if columns is not None:
            self.stream.write(wire.make_row_description(_fields(columns)))
            self._send_rows(rows, columns, [])
        self.stream.write(wire.make_command_complete(command_tag(sql, len(rows))))

    async def _handle_bind(self, parsed: Any) -> None:
        """pg_mimic's, telling our statements the result formats before they run."""
        statement = self._get_statement(parsed.statement_name)
        param_oids = getattr(statement, "param_oids", [])
        params = [
            self._decode_param(value, format_code_for(parsed.param_format_codes, i), param_oids, i)
            for i, value in enumerate(parsed.params)
        ]
        formats = parsed.result_format_codes
        if isinstance(statement, RunStatement):
            portal = statement.bind(params, formats)
        else:
            portal = statement.bind(params)
        columns = await statement.describe()
        self.portals[parsed.portal_name] = PortalEntry(portal, columns, statement.sql, formats)
        self.stream.write(wire.make_bind_complete())

    async def _handle_execute(self, parsed: Any) -> None:
        entry = self._get_portal(parsed.portal_name)
        if self.tx_status == b"E" and not is_transaction_end(entry.sql):
            raise PgError(
                IN_FAILED_SQL_TRANSACTION, "current transaction is aborted, commands ignored"
            )
        rows, suspended = await entry.portal.execute(parsed.max_rows)
        entry.rows_returned += len(rows)
        if entry.columns is not None:
            self._send_rows(rows, entry.columns, entry.result_format_codes)
        if suspended:
            self.stream.write(wire.make_portal_suspended())
        else:
            self.stream.write(
                wire.make_command_complete(command_tag(entry.sql, entry.rows_returned))
            )


def _fields(columns: Any) -> list[Any]:
    return [wire.FieldSpec(name=c.name, oid=c.oid, format_code=0) for c in columns]
