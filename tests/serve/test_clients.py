"""Postgres clients against a running ``sqlprovider serve``: psql, psycopg (server-side
parameters, prepared statements), SQLAlchemy (its inspector too) and pandas. Answers are
compared with the embedded API's on the same emulator, and the catalog with the providers."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import psycopg
import pytest
import sqlalchemy as sa

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.model import param_columns
from sqlprovider.pgserver.catalog import provider_tables
from sqlprovider.pgserver.pgtypes import oid_of, type_name
from sqlprovider.providers import Registry
from tests.serve.conftest import Served, embedded

JOBS = "digitalocean.genai.indexing_jobs"
COLUMNS = "uuid, status, created_at, total_datasources, is_report_available, data_source_uuids"


def test_psql_lists_every_provider_table_as_schema_and_table(served: Served) -> None:
    done = served.psql(r"\dt")
    assert done.returncode == 0, done.stderr
    listed = {
        tuple(part.strip() for part in line.split("|")[:2])
        for line in done.stdout.splitlines()
        if line.count("|") == 3 and "Schema" not in line
    }
    expected = {(t.schema, t.name) for t in provider_tables(Registry())}
    assert listed == expected


def test_psql_lists_providers_as_schemas(served: Served) -> None:
    done = served.psql(r"\dn")
    schemas = {line.split("|")[0].strip() for line in done.stdout.splitlines() if "|" in line}
    assert set(Registry().names()) <= schemas and "public" in schemas


def test_psql_describes_a_table_with_postgres_types(served: Served) -> None:
    done = served.psql(r"\d digitalocean.genai_indexing_jobs")
    assert done.returncode == 0, done.stderr
    rows = {
        line.split("|")[0].strip(): line.split("|")[1].strip()
        for line in done.stdout.splitlines()
        if line.count("|") >= 4 and "Column" not in line
    }
    resource = Registry().resource("digitalocean", "genai", "indexing_jobs")
    every = [*resource.columns, *param_columns(resource)]
    assert rows == {c.name: type_name(oid_of(c.duckdb_type)) for c in every}
    assert rows["created_at"] == "timestamp with time zone" and rows["uuid"] == "text"


def test_psql_query_error_and_the_session_goes_on(served: Served, emulator: EmulatorServer) -> None:
    done = served.psql(
        f"SELECT count(*) AS n FROM {JOBS}",
        f"SELECT nope FROM {JOBS}",
        "SELECT count(*) AS n FROM digitalocean.genai_indexing_jobs",
    )
    assert "ERROR:  unknown column 'nope'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    counts = [line.strip() for line in done.stdout.splitlines() if line.strip().isdigit()]
    with embedded(emulator) as conn:
        expected = conn.execute(f"SELECT count(*) FROM {JOBS}").fetchone()
    assert expected is not None and counts == [str(expected[0])] * 2


def test_psycopg_rows_are_native_values_equal_to_the_embedded_api(
    served: Served, emulator: EmulatorServer
) -> None:
    sql = f"SELECT {COLUMNS}, data_source_jobs FROM {JOBS} WHERE status = %s ORDER BY uuid"
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        rows = conn.execute(sql, ["INDEX_JOB_STATUS_FAILED"]).fetchall()
    with embedded(emulator) as conn:
        expected = conn.execute(sql.replace("%s", "?"), ["INDEX_JOB_STATUS_FAILED"]).fetchall()
    assert rows and len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got[:6] == want[:6]
        assert isinstance(got[2], datetime.datetime) and got[2].tzinfo is not None
        assert isinstance(got[5], list) and isinstance(got[6], list | dict)


def test_psycopg_parameters_are_bound_by_the_server_and_prepared(served: Served) -> None:
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        one = conn.execute(
            "SELECT %s::BIGINT + 1 AS n, %s AS d, %s AS t, %s AS b, %s AS x",
            [41, datetime.date(2024, 1, 2), "it's", True, Decimal("1.50")],
        ).fetchone()
        assert one == (42, datetime.date(2024, 1, 2), "it's", True, Decimal("1.50"))
        sql = f"SELECT count(*) FROM {JOBS} WHERE status = %s"
        for _ in range(3):  # a named prepared statement, bound again each time
            counted = conn.execute(sql, ["INDEX_JOB_STATUS_FAILED"], prepare=True).fetchone()
        assert counted is not None and counted[0] > 0
        hostile = conn.execute("SELECT %s AS v", ["x' OR '1'='1"]).fetchone()
        assert hostile == ("x' OR '1'='1",)


def test_psycopg_three_part_and_mapped_names_give_the_same_rows(served: Served) -> None:
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        three = conn.execute(f"SELECT uuid FROM {JOBS} ORDER BY uuid LIMIT 20").fetchall()
        mapped = conn.execute(
            "SELECT digitalocean.genai_indexing_jobs.uuid FROM digitalocean.genai_indexing_jobs "
            "ORDER BY 1 LIMIT 20"
        ).fetchall()
    assert three == mapped and len(three) == 20


def test_each_connection_is_a_session_of_its_own(served: Served) -> None:
    with (
        psycopg.connect(served.dsn(), autocommit=True) as first,
        psycopg.connect(served.dsn(), autocommit=True) as second,
    ):
        first.execute("CREATE TEMP TABLE mine AS SELECT 1 AS a")
        first.execute("SET TimeZone = 'Asia/Tokyo'")
        assert first.execute("SELECT a FROM mine").fetchall() == [(1,)]
        with pytest.raises(psycopg.errors.UndefinedTable):
            second.execute("SELECT a FROM mine")
        assert first.execute("SHOW TimeZone").fetchone() == ("Asia/Tokyo",)
        assert second.execute("SHOW TimeZone").fetchone() == ("UTC",)
        offset = first.execute("SELECT now()").fetchone()
        assert offset is not None and offset[0].utcoffset() == datetime.timedelta(hours=9)


def test_sqlalchemy_inspector_sees_schemas_tables_and_columns(served: Served) -> None:
    registry = Registry()
    engine = sa.create_engine(served.url())
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        assert set(registry.names()) <= set(inspector.get_schema_names())
        for schema in registry.names():
            expected = {t.name for t in provider_tables(registry) if t.schema == schema}
            assert set(inspector.get_table_names(schema=schema)) == expected
        columns = inspector.get_columns("genai_knowledge_bases", schema="digitalocean")
        resource = registry.resource("digitalocean", "genai", "knowledge_bases")
        assert [c["name"] for c in columns] == [
            c.name for c in (*resource.columns, *param_columns(resource))
        ]
        assert inspector.has_table("genai_indexing_jobs", schema="digitalocean")
        assert not inspector.has_table("no_such_table", schema="digitalocean")
    engine.dispose()


def test_sqlalchemy_table_reflection_and_select(served: Served, emulator: EmulatorServer) -> None:
    engine = sa.create_engine(served.url())
    with engine.connect() as conn:
        bases = sa.Table(
            "genai_knowledge_bases", sa.MetaData(), schema="digitalocean", autoload_with=conn
        )
        rows = conn.execute(sa.select(bases.c.uuid, bases.c.name).order_by(bases.c.uuid)).all()
    engine.dispose()
    with embedded(emulator) as conn:
        expected = conn.execute(
            "SELECT uuid, name FROM digitalocean.genai.knowledge_bases ORDER BY uuid"
        ).fetchall()
    assert [tuple(r) for r in rows] == expected


def test_pandas_read_sql_equals_the_embedded_data_frame(
    served: Served, emulator: EmulatorServer
) -> None:
    sql = f"SELECT uuid, status, created_at, total_datasources FROM {JOBS} ORDER BY uuid"
    engine = sa.create_engine(served.url())
    with engine.connect() as conn:
        frame = pd.read_sql(sql, conn)
        whole = pd.read_sql_table("genai_knowledge_bases", conn, schema="digitalocean")
    engine.dispose()
    with embedded(emulator) as conn:
        expected = conn.execute(sql).df()
        bases = conn.execute("SELECT * FROM digitalocean.genai.knowledge_bases").df()
    assert list(frame.columns) == list(expected.columns)
    assert frame["uuid"].tolist() == expected["uuid"].tolist()
    assert frame["total_datasources"].tolist() == expected["total_datasources"].tolist()
    assert [t.isoformat() for t in frame["created_at"]] == [
        t.isoformat() for t in expected["created_at"]
    ]
    assert sorted(whole["uuid"]) == sorted(bases["uuid"])


def _sqlstate(served: Served, sql: str, params: Any = None) -> str | None:
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        try:
            conn.execute(sql, params)
        except psycopg.Error as exc:
            assert "Traceback" not in str(exc)
            after = conn.execute("SELECT 1").fetchone()  # the connection goes on
            assert after == (1,)
            return exc.sqlstate
    return None


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        (f"SELECT nope FROM {JOBS}", "42703"),
        ("SELECT * FROM digitalocean.genai.no_such_resource", "42P01"),
        ("SELECT * FROM digitalocean.genai.indexing_job_data_sources", "42P02"),
        (f"SELEC uuid FROM {JOBS}", "42601"),
    ],
)
def test_errors_are_postgres_errors_with_sqlstates(served: Served, sql: str, code: str) -> None:
    assert _sqlstate(served, sql) == code


def test_a_failed_transaction_needs_a_rollback_as_in_postgres(served: Served) -> None:
    with psycopg.connect(served.dsn()) as conn:  # not autocommit: psycopg sends BEGIN
        with pytest.raises(psycopg.errors.UndefinedColumn):
            conn.execute(f"SELECT nope FROM {JOBS}")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_psycopg_binary_results_equal_the_text_results(served: Served) -> None:
    """Text rows are built by DuckDB, binary ones by the Python encoders: the same values."""
    sql = f"SELECT {COLUMNS} FROM {JOBS} WHERE status = %s ORDER BY uuid"
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        text = conn.execute(sql, ["INDEX_JOB_STATUS_FAILED"]).fetchall()
        binary = conn.execute(sql, ["INDEX_JOB_STATUS_FAILED"], binary=True).fetchall()
        simple = conn.execute(sql.replace("%s", "'INDEX_JOB_STATUS_FAILED'")).fetchall()
    assert text and binary == text and simple == text


def test_timestamps_are_written_in_the_connection_time_zone(served: Served) -> None:
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        conn.execute("SET TimeZone = 'Asia/Kolkata'")
        cursor = conn.cursor()
        cursor.adapters.register_loader("timestamptz", psycopg.types.string.TextLoader)
        cursor.execute("SELECT TIMESTAMPTZ '2025-05-31 23:57:00.5+00' AS t, 1.0::DOUBLE AS d")
        assert cursor.fetchone() == ("2025-06-01 05:27:00.5+05:30", 1.0)
