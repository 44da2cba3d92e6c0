"""The two hands of ``sqlprovider.store.printing`` agree byte for byte: what DuckDB's COPY
writes from the SQL ``text_sql``/``json_sql`` build equals what ``text``/``json_text`` make in
Python from the same rows fetched, for random values of every type the engine loads (and of
the other types a query makes: DECIMAL, INTERVAL, TIME, BLOB, UUID, MAP, nested lists and
structs). Each piece of DuckDB's writer the Python hand imitates (yyjson's numbers and
strings, re-written JSON columns, CSV quoting, repeated column names) is checked on its own
too, with DuckDB as the oracle.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from sqlprovider.store.printing import (
    csv_field,
    export_select,
    json_number,
    json_record,
    json_string,
    normalize_json,
    parse_type,
    text,
    unique_names,
)

UTC = dt.UTC
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def _copy(duck: duckdb.DuckDBPyConnection, sql: str, fmt: str, folder: Path) -> str:
    """What DuckDB's COPY writes for ``sql`` as csv (with a header) or jsonl."""
    target = folder / f"out.{fmt}"
    options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT json"
    duck.execute(f"COPY ({sql}) TO '{target}' ({options})")
    return target.read_bytes().decode()


# -- random values of every type ----------------------------------------------------------------


def _json_text(value: Any, spaced: bool) -> str:
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(value, ensure_ascii=not spaced, separators=separators)


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
_JSON = st.builds(_json_text, _JSON_VALUES, st.booleans())
_TZ = st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30), timezones=st.just(UTC))
_NAIVE = st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31))
_WORDS = st.text(max_size=8) | st.sampled_from(["", "NULL", "null", "a,b", 'say "hi"', "#", "\r\n"])

# (DuckDB type, values a parameter can carry into it)
COLUMNS: list[tuple[str, st.SearchStrategy[Any]]] = [
    ("VARCHAR", _WORDS),
    ("BIGINT", st.integers(-(2**63), 2**63 - 1)),
    ("UBIGINT", st.integers(0, 2**64 - 1)),
    ("HUGEINT", st.integers(-(2**127), 2**127 - 1)),
    ("DOUBLE", st.floats()),
    ("FLOAT", st.floats(width=32)),
    ("BOOLEAN", st.booleans()),
    ("TIMESTAMPTZ", _TZ),
    ("TIMESTAMP", _NAIVE),
    ("DATE", st.dates()),
    ("TIME", st.times()),
    ("JSON", _JSON),
    ("VARCHAR[]", st.lists(st.none() | _WORDS, max_size=3)),
    ("BIGINT[]", st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), max_size=3)),
    (
        'STRUCT(a VARCHAR, "b c" DOUBLE, t TIMESTAMPTZ, j JSON)',
        st.fixed_dictionaries(
            {
                "a": st.none() | _WORDS,
                "b c": st.none() | st.floats(),
                "t": st.none() | _TZ,
                "j": st.none() | _JSON,
            }
        ),
    ),
    ("DECIMAL(18,3)", st.decimals(-(10**14), 10**14, places=3)),
    ("DECIMAL(38,10)", st.decimals(-(10**27), 10**27, places=10)),
    ("INTERVAL", st.timedeltas(dt.timedelta(days=-(10**6)), dt.timedelta(days=10**6))),
    ("BLOB", st.binary(max_size=6)),
    ("UUID", st.uuids()),
    (
        "MAP(VARCHAR, DOUBLE)",
        st.dictionaries(st.text(max_size=3), st.none() | st.floats(), max_size=3).map(
            lambda d: {"key": list(d), "value": list(d.values())}
        ),
    ),
    ("DOUBLE[]", st.lists(st.none() | st.floats(), max_size=3)),
    ("TIMESTAMP[]", st.lists(st.none() | _NAIVE, max_size=3)),
]
NAMES = [f"c{i}" for i in range(len(COLUMNS))]
# Repeated names (alike but for case, too): the header and the JSON keys make them unique.
QUERY = 'SELECT *, "c0" AS "C0", "c1" AS "c0" FROM t'
ROWS = st.lists(st.tuples(*(st.none() | values for _, values in COLUMNS)), max_size=3)


@SETTINGS
@given(rows=ROWS)
def test_duckdb_writes_what_python_writes_for_every_type(
    duck: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory, rows: list[Any]
) -> None:
    folder = tmp_path_factory.mktemp("copy")
    columns = ", ".join(f'"{n}" {t}' for n, (t, _) in zip(NAMES, COLUMNS, strict=True))
    duck.execute(f"CREATE OR REPLACE TABLE t ({columns})")
    for row in rows:
        duck.execute(f"INSERT INTO t VALUES ({', '.join('?' * len(row))})", list(row))
    relation = duck.sql(QUERY)
    kinds = [parse_type(str(t)) for t in relation.types]
    fetched = duck.execute(QUERY).fetchall()
    unique = unique_names(relation.columns)
    source: exp.Expr = exp.maybe_parse(QUERY, dialect="duckdb").subquery()
    for fmt in ("csv", "jsonl"):
        select = export_select(source.copy(), unique, kinds, fmt)
        written = _copy(duck, select.sql(dialect="duckdb"), fmt, folder)
        if fmt == "csv":
            lines = [",".join(csv_field(name) for name in unique)]
            lines.extend(
                ",".join(
                    csv_field(None if v is None else text(v, k))
                    for v, k in zip(row, kinds, strict=True)
                )
                for row in fetched
            )
        else:
            lines = [json_record(relation.columns, row, kinds) for row in fetched]
        assert written == "".join(line + "\n" for line in lines)


# -- each imitated piece of DuckDB's writer, on its own ------------------------------------------


@SETTINGS
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=40))
def test_numbers_are_written_as_yyjson_writes_them(
    duck: duckdb.DuckDBPyConnection, values: list[float]
) -> None:
    extremes = [1e20, 1e21, 1e-6, 1e-7, 0.1, -0.0, 5e-324, 1.7976931348623157e308, 2.0**53]
    values = values + extremes
    [(written,)] = duck.execute("SELECT to_json(?::DOUBLE[])::VARCHAR", [values]).fetchall()
    assert written == "[" + ",".join(json_number(v) for v in values) + "]"


@SETTINGS
@given(values=st.lists(st.text(), min_size=1, max_size=20))
def test_strings_are_escaped_as_yyjson_escapes_them(
    duck: duckdb.DuckDBPyConnection, values: list[str]
) -> None:
    values = [*values, "".join(map(chr, range(0x80))), "\u2028\u2029\ufeff/\\"]
    [(written,)] = duck.execute("SELECT to_json(?::VARCHAR[])::VARCHAR", [values]).fetchall()
    assert written == "[" + ",".join(json_string(v) for v in values) + "]"


_ODD_JSON = [
    "[1,]",
    '{"a":1,}',
    " [ NaN , -nan, Infinity, -inf, inf ] ",
    '{"a":1e2,"a":2,"b":12345678901234567890123,"c":-0,"d":1E400,"e":1e-400}',
    '{"g":-9223372036854775809,"h":18446744073709551615,"i":18446744073709551616,"j":0.1e1}',
    '"\\u00e9\\n\\/\\u001f"',
]


@SETTINGS
@given(documents=st.lists(_JSON, min_size=1, max_size=10))
def test_json_columns_are_written_again_as_duckdb_writes_them(
    duck: duckdb.DuckDBPyConnection, documents: list[str]
) -> None:
    documents = documents + _ODD_JSON
    written = duck.execute(
        "SELECT to_json(d::JSON)::VARCHAR FROM unnest(?::VARCHAR[]) AS t(d)", [documents]
    ).fetchall()
    assert [w for (w,) in written] == [normalize_json(d) for d in documents]


@SETTINGS
@given(values=st.lists(st.none() | _WORDS | st.text(), min_size=1, max_size=8))
def test_csv_fields_are_quoted_as_duckdb_quotes_them(
    duck: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory, values: list[Any]
) -> None:
    sql = "SELECT unnest(?::VARCHAR[]) AS v"
    target = tmp_path_factory.mktemp("csv") / "out.csv"
    duck.execute(f"COPY ({sql}) TO '{target}' (FORMAT csv, HEADER false)", [values])
    assert target.read_bytes().decode() == "".join(csv_field(v) + "\n" for v in values)


@SETTINGS
@given(names=st.lists(st.sampled_from(["a", "A", "a_1", "a_2", "A_1", "b", "a_1_1"]), max_size=7))
def test_repeated_names_are_renamed_as_copy_renames_them(
    duck: duckdb.DuckDBPyConnection, tmp_path: Path, names: list[str]
) -> None:
    names = ["x", *names]
    sql = "SELECT " + ", ".join(f'{i} AS "{name}"' for i, name in enumerate(names))
    header = _copy(duck, sql, "csv", tmp_path).splitlines()[0]
    assert header.split(",") == unique_names(names)


def test_intervals_with_months_print_alike(duck: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """Python sees a month as 30 days; the SQL hand counts it so too."""
    sql = (
        "SELECT * FROM (VALUES (INTERVAL '1 month -2 days 3 hours -5 microseconds'), "
        "(INTERVAL '-1 year'), (INTERVAL '1 day'), (INTERVAL '-5 seconds'), "
        "(INTERVAL '0 seconds'), (INTERVAL '25 hours 0.5 seconds')) AS t(i)"
    )
    kind = parse_type("INTERVAL")
    select = export_select(exp.maybe_parse(sql, dialect="duckdb").subquery(), ["i"], [kind], "csv")
    written = _copy(duck, select.sql(dialect="duckdb"), "csv", tmp_path).splitlines()[1:]
    fetched = [text(v, kind) for (v,) in duck.execute(sql).fetchall()]
    assert written == fetched
    assert fetched[:4] == [
        "28 days 02:59:59.999995",
        "-360 days 00:00:00",
        "1 day 00:00:00",
        "-00:00:05",
    ]


@pytest.mark.parametrize(
    ("spelled", "category", "inside"),
    [
        ("VARCHAR", "string", []),
        ("TIMESTAMP WITH TIME ZONE", "timestamptz", []),
        ("DECIMAL(18,3)", "decimal", []),
        ("ENUM('a', 'b,c')", "string", []),
        ("INTEGER[3]", "list", ["INTEGER"]),
        ("VARCHAR[][]", "list", ["VARCHAR[]"]),
        (
            'STRUCT("a b" INTEGER, "q""x" TIMESTAMP WITH TIME ZONE[])',
            "struct",
            ["INTEGER", "TIMESTAMP WITH TIME ZONE[]"],
        ),
        ("MAP(VARCHAR, STRUCT(x DOUBLE))", "map", ["VARCHAR", "STRUCT(x DOUBLE)"]),
        ("UNION(k INTEGER)", "other", ["INTEGER"]),
        ("TIME WITH TIME ZONE", "other", []),
    ],
)
def test_types_are_read_as_duckdb_spells_them(
    duck: duckdb.DuckDBPyConnection, spelled: str, category: str, inside: list[str]
) -> None:
    as_duckdb = str(duck.sql(f"SELECT NULL::{spelled} AS x").types[0])
    kind = parse_type(as_duckdb)
    assert (kind.spelled, kind.category) == (as_duckdb, category)
    assert [field.spelled for _, field in kind.fields] == inside
    struct = parse_type('STRUCT("a b" INTEGER, "q""x" TIMESTAMP WITH TIME ZONE[])')
    assert [name for name, _ in struct.fields] == ["a b", 'q"x']
