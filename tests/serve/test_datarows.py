"""The fast DataRow encoder gives the bytes pg_mimic's own encoder gives (the oracle), for
any rows of the types it has fast paths for; and the text psycopg reads back is the value.

The DataRows DuckDB builds (``pgtext``) give the text Postgres sends: checked against
Postgres' output rules for any values, and against texts a PostgreSQL 15 server sent."""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import duckdb
import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st
from pg_mimic import ResultColumn
from pg_mimic import messages as wire
from pg_mimic.results import encode_row
from pg_mimic.types import encode_value
from sqlglot import exp

from sqlprovider.pgserver import pgtypes
from sqlprovider.pgserver.datarows import encode_rows, text_encoder
from sqlprovider.pgserver.pgtext import datarows_select, text_template

TEXT_ARRAY = pgtypes.TYPES[pgtypes.TEXT][2]
OIDS = [pgtypes.TEXT, pgtypes.INT8, pgtypes.BOOL, pgtypes.FLOAT8, TEXT_ARRAY, pgtypes.NUMERIC]
texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
rows = st.lists(
    st.tuples(
        st.none() | texts,
        st.none() | st.integers(-(2**63), 2**63 - 1),
        st.none() | st.booleans(),
        st.none() | st.floats(),
        st.none() | st.lists(st.none() | texts, max_size=4),
        st.none() | st.integers(0, 2**64),
    ),
    max_size=30,
)


@given(rows)
def test_the_bytes_are_pg_mimics(values: list[tuple[Any, ...]]) -> None:
    """pg_mimic's bytes, but for doubles, written as Postgres writes them (pg_mimic: repr)."""
    columns = [ResultColumn(str(i), oid) for i, oid in enumerate(OIDS)]
    float_at = OIDS.index(pgtypes.FLOAT8)
    expected = []
    for row in values:
        fields = encode_row(row, columns)
        value = row[float_at]
        fields[float_at] = None if value is None else postgres_float(value).encode()
        expected.append(wire.make_data_row(fields))
    assert b"".join(encode_rows(values, OIDS)) == b"".join(expected)


def test_timestamps_are_written_as_postgres_writes_them() -> None:
    encode = text_encoder(pgtypes.TIMESTAMPTZ)
    utc = datetime.datetime(2025, 5, 31, 23, 57, tzinfo=datetime.UTC)
    india = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=5.5)))
    assert encode(utc) == b"2025-05-31 23:57:00+00"
    assert encode(india) == b"2025-01-01 00:00:00+05:30"
    assert text_encoder(pgtypes.DATE)(datetime.date(2025, 1, 2)) == b"2025-01-02"
    fraction = datetime.datetime(2025, 5, 31, 23, 57, 0, 123000, datetime.UTC)
    assert encode(fraction) == b"2025-05-31 23:57:00.123+00"
    assert text_encoder(pgtypes.TIMESTAMP)(fraction.replace(tzinfo=None, microsecond=1)) == (
        b"2025-05-31 23:57:00.000001"
    )


@given(st.floats())
def test_doubles_are_written_as_postgres_writes_them(value: float) -> None:
    assert text_encoder(pgtypes.FLOAT8)(value) == postgres_float(value).encode()


def test_psycopg_reads_back_what_was_encoded() -> None:
    loaders = psycopg.adapt.AdaptersMap(psycopg.adapters)
    cases: list[tuple[int, Any]] = [
        (TEXT_ARRAY, ["a", "b c", "", "NULL", None, 'q"\\']),
        (pgtypes.TIMESTAMPTZ, datetime.datetime(2025, 5, 31, 23, 57, tzinfo=datetime.UTC)),
        (pgtypes.BOOL, False),
        (pgtypes.FLOAT8, 0.1),
    ]
    for oid, value in cases:
        loader = loaders.get_loader(oid, psycopg.pq.Format.TEXT)
        assert loader is not None
        assert loader(oid).load(text_encoder(oid)(value)) == value


# -- DataRows DuckDB builds (pgtext) ------------------------------------------------------


def postgres_float(value: float) -> str:
    """float8out: the shortest round-trip digits (Python's repr has the same), in exponent
    form below 1e-4 and from 1e+15 on, no trailing ".0"; -0 keeps its sign."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    power = len(text) - 1 + int(exponent)  # the decimal exponent of the first digit
    minus = "-" if sign else ""
    if -4 <= power < 15:
        plain = format(Decimal(repr(abs(value))), "f")
        return minus + (plain[:-2] if plain.endswith(".0") else plain)
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{minus}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"


def postgres_timestamptz(value: datetime.datetime) -> str:
    """timestamptz_out in UTC: fractional seconds without trailing zeros, offset +00."""
    text = value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "+00"


def postgres_list(values: list[Any]) -> str:
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


DUCKDB_COLUMNS: list[tuple[str, Callable[[Any], str]]] = [  # type, Postgres text (oracle)
    ("VARCHAR", lambda v: encode_value(pgtypes.TEXT, v)),
    ("BIGINT", str),
    ("BOOLEAN", lambda v: "t" if v else "f"),
    ("DOUBLE", postgres_float),
    ("VARCHAR[]", lambda v: encode_value(TEXT_ARRAY, v)),  # pg_mimic's array_out rules
    ("DECIMAL(18,4)", lambda v: format(v.quantize(Decimal("0.0001")), "f")),
    ("TIMESTAMPTZ", postgres_timestamptz),
    ("DATE", lambda v: v.isoformat()),
    ("INTEGER[]", postgres_list),
    ("UUID", str),
]
moments = st.datetimes(
    datetime.datetime(1000, 1, 1), datetime.datetime(9999, 1, 1), timezones=st.just(datetime.UTC)
)
duckdb_rows = st.lists(
    st.tuples(
        st.none() | texts,
        st.none() | st.integers(-(2**63), 2**63 - 1),
        st.none() | st.booleans(),
        st.none() | st.floats(),
        st.none() | st.lists(st.none() | texts, max_size=4),
        st.none() | st.decimals(-(10**12), 10**12, places=4),
        st.none() | moments,
        st.none() | st.dates(datetime.date(1000, 1, 1)),
        st.none() | st.lists(st.none() | st.integers(-(2**31), 2**31 - 1), max_size=4),
        st.none() | st.uuids(),
    ),
    max_size=20,
)


def duckdb_datarows(rows: list[tuple[Any, ...]], types: list[str]) -> list[bytes]:
    """The DataRows ``datarows_select`` has DuckDB build for ``rows`` of ``types``."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    columns = [f"c{i}" for i in range(len(types))]
    definition = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    connection.execute(f"CREATE TABLE t ({definition})")
    if rows:
        marks = ", ".join("?" for _ in types)
        connection.executemany(f"INSERT INTO t VALUES ({marks})", [list(r) for r in rows])
    select = datarows_select(exp.to_table("t"), columns, types)
    assert select is not None
    return [blob for (blob,) in connection.execute(select.sql(dialect="duckdb")).fetchall()]


@settings(deadline=None, max_examples=60)  # a DuckDB database per example
@given(duckdb_rows)
def test_duckdb_datarows_are_postgres_text(values: list[tuple[Any, ...]]) -> None:
    types = [t for t, _ in DUCKDB_COLUMNS]
    expected = [
        wire.make_data_row([
            None if v is None else oracle(v).encode()
            for v, (_, oracle) in zip(row, DUCKDB_COLUMNS, strict=True)
        ])
        for row in values
    ]  # fmt: skip
    assert duckdb_datarows(values, types) == expected


def test_duckdb_datarows_match_what_postgres_15_sent() -> None:
    """Texts a PostgreSQL 15.18 server sent for these values (TimeZone UTC)."""
    cases: list[tuple[str, Any, str]] = [
        ("DOUBLE", 1.0, "1"),
        ("DOUBLE", 1e15, "1e+15"),
        ("DOUBLE", 123456789012345.6, "123456789012345.6"),
        ("DOUBLE", 1234567890123456.7, "1.2345678901234568e+15"),
        ("DOUBLE", 1e16, "1e+16"),
        ("DOUBLE", 1e-5, "1e-05"),
        ("DOUBLE", 0.0001, "0.0001"),
        ("DOUBLE", -0.0, "-0"),
        ("DOUBLE", math.inf, "Infinity"),
        ("DOUBLE", math.nan, "NaN"),
        ("DOUBLE", 5e-324, "5e-324"),
        ("TIMESTAMPTZ", datetime.datetime(2025, 5, 31, 23, 57, 0, 123000, datetime.UTC),
         "2025-05-31 23:57:00.123+00"),
        ("TIMESTAMP", datetime.datetime(2025, 1, 2, 3, 4, 5, 1), "2025-01-02 03:04:05.000001"),
        ("DATE", datetime.date(99, 1, 2), "0099-01-02"),
        ("TIME", datetime.time(12, 34, 56, 500000), "12:34:56.5"),
        ("DECIMAL(10,3)", Decimal("1.5"), "1.500"),
        ("HUGEINT", 12345678901234567890, "12345678901234567890"),
        ("VARCHAR[]", ["a", "b c", "", None, "NULL", "null", 'q"\\', "x,y", "{", "é"],
         '{a,"b c","",NULL,"NULL","null","q\\"\\\\","x,y","{",é}'),
        ("VARCHAR[]", [], "{}"),
        ("BIGINT[]", [1, None, 3], "{1,NULL,3}"),
        ("BOOLEAN[]", [True, False], "{t,f}"),
    ]  # fmt: skip
    for duckdb_type, value, text in cases:
        got = duckdb_datarows([(value,)], [duckdb_type])
        assert got == [wire.make_data_row([text.encode()])], (duckdb_type, value)


def test_types_without_duckdb_text_go_through_the_python_encoders() -> None:
    for duckdb_type in ("INTERVAL", "BLOB", "FLOAT", "STRUCT(a INTEGER)", "VARCHAR[][]"):
        assert text_template(duckdb_type) is None
        assert datarows_select(exp.to_table("t"), ["a"], [duckdb_type]) is None
