"""The fast DataRow encoder gives the bytes pg_mimic's own encoder gives (the oracle), for
any rows of the types it has fast paths for; and the text psycopg reads back is the value."""

from __future__ import annotations

import datetime
from typing import Any

import psycopg
from hypothesis import given
from hypothesis import strategies as st
from pg_mimic import ResultColumn
from pg_mimic import messages as wire
from pg_mimic.results import encode_row

from sqlprovider.pgserver import pgtypes
from sqlprovider.pgserver.datarows import encode_rows, text_encoder

TEXT_ARRAY = pgtypes.TYPES[pgtypes.TEXT][2]
OIDS = [pgtypes.TEXT, pgtypes.INT8, pgtypes.BOOL, pgtypes.FLOAT8, TEXT_ARRAY, pgtypes.NUMERIC]
texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
rows = st.lists(
    st.tuples(
        st.none() | texts,
        st.none() | st.integers(-(2**63), 2**63 - 1),
        st.none() | st.booleans(),
        st.none() | st.floats(allow_nan=False),
        st.none() | st.lists(st.none() | texts, max_size=4),
        st.none() | st.integers(0, 2**64),
    ),
    max_size=30,
)


@given(rows)
def test_the_bytes_are_pg_mimics(values: list[tuple[Any, ...]]) -> None:
    columns = [ResultColumn(str(i), oid) for i, oid in enumerate(OIDS)]
    expected = b"".join(wire.make_data_row(encode_row(row, columns)) for row in values)
    assert b"".join(encode_rows(values, OIDS)) == expected


def test_timestamps_are_written_as_postgres_writes_them() -> None:
    encode = text_encoder(pgtypes.TIMESTAMPTZ)
    utc = datetime.datetime(2025, 5, 31, 23, 57, tzinfo=datetime.UTC)
    india = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=5.5)))
    assert encode(utc) == b"2025-05-31 23:57:00+00"
    assert encode(india) == b"2025-01-01 00:00:00+05:30"
    assert text_encoder(pgtypes.DATE)(datetime.date(2025, 1, 2)) == b"2025-01-02"


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
