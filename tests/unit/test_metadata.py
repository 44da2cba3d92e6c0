"""SHOW, DESCRIBE and EXPLAIN: ordinary result sets made from the definitions and plans, with
no request sent."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

import sqlprovider
from sqlprovider.cli.main import main

SENT: list[httpx.Request] = []


def _refuse(request: httpx.Request) -> httpx.Response:
    SENT.append(request)
    return httpx.Response(500)


@pytest.fixture
def conn() -> Iterator[sqlprovider.Connection]:
    SENT.clear()
    with sqlprovider.connect(
        transport=httpx.MockTransport(_refuse), auth={"digitalocean": {"token": "t0k3n-x"}}
    ) as connection:
        yield connection
    assert SENT == []  # metadata never reaches an API


def rows(conn: sqlprovider.Connection, sql: str) -> list[tuple[object, ...]]:
    return conn.execute(sql).fetchall()


def test_show_providers_and_like(conn: sqlprovider.Connection) -> None:
    names = [r[0] for r in rows(conn, "SHOW PROVIDERS")]
    assert names == ["amperity", "digitalocean", "onyx", "openverse"]
    assert [r[0] for r in rows(conn, "SHOW PROVIDERS LIKE 'o%'")] == ["onyx", "openverse"]
    cur = conn.execute("SHOW PROVIDERS")
    assert [d[0] for d in cur.description or []] == [
        "provider",
        "title",
        "resources",
        "description",
        "source",
        "version",
    ]
    assert {r[4] for r in cur.fetchall()} == {"bundled"}  # bundled providers have no version


def test_show_services_resources_and_methods(conn: sqlprovider.Connection) -> None:
    assert [r[0] for r in rows(conn, "SHOW SERVICES IN digitalocean")] == ["genai"]
    resources = rows(conn, "SHOW RESOURCES IN digitalocean.genai LIKE 'indexing%'")
    assert [(r[0], r[1]) for r in resources] == [
        ("indexing_jobs", "SELECT, INSERT, REPLACE"),
        ("indexing_job_data_sources", "SELECT"),
    ]
    methods = {r[0]: r for r in rows(conn, "SHOW METHODS IN digitalocean.genai.indexing_jobs")}
    assert methods["genai_get_indexing_job"][1:6] == (
        "SELECT",
        "uuid",
        "",
        "GET",
        "/v2/gen-ai/indexing_jobs/{uuid}",
    )
    assert methods["genai_create_indexing_job"][1] == "INSERT"


def test_describe_lists_columns_and_params(conn: sqlprovider.Connection) -> None:
    described = {
        r[0]: r for r in rows(conn, "DESCRIBE digitalocean.genai.indexing_job_data_sources")
    }
    assert described["indexing_job_uuid"][1] == "VARCHAR"
    assert described["total_file_count"][1] == "UBIGINT"
    assert len(next(iter(described.values()))) == 3


def test_describe_extended_says_how_each_column_is_filtered(
    conn: sqlprovider.Connection,
) -> None:
    described = {
        str(r[0]): str(r[3]) for r in rows(conn, "DESCRIBE EXTENDED onyx.connector.indexing_status")
    }
    assert described["docs_indexed"].startswith(">, <, = → docs_count_value, loose → body")
    assert "one request, a list" in described["access_type"]
    assert described["cc_pair_status"] == "evaluated by DuckDB only"


def test_describe_of_a_duckdb_table_is_duckdbs(conn: sqlprovider.Connection) -> None:
    conn.execute("CREATE TABLE notes (id INTEGER, body VARCHAR)")
    described = rows(conn, "DESCRIBE memory.main.notes")
    assert [(r[0], r[1]) for r in described] == [("id", "INTEGER"), ("body", "VARCHAR")]


def test_explain_shows_the_plan_and_sends_nothing(conn: sqlprovider.Connection) -> None:
    lines = [
        str(r[0])
        for r in rows(
            conn,
            "EXPLAIN SELECT j.uuid, ds.status FROM digitalocean.genai.indexing_jobs j "
            "JOIN digitalocean.genai.indexing_job_data_sources ds "
            "ON ds.indexing_job_uuid = j.uuid WHERE j.knowledge_base_uuid = 'kb-1'",
        )
    ]
    text = "\n".join(lines)
    assert "method: genai_list_indexing_jobs (GET" in text  # complete, unlike the latest 15
    assert "one per distinct value of j.uuid" in text
    assert "run in DuckDB" in text


def test_explain_of_plain_sql_is_duckdbs(conn: sqlprovider.Connection) -> None:
    explained = rows(conn, "EXPLAIN SELECT 42")
    assert explained and "Projection" in str(explained[0])


def test_metadata_mistakes_are_clear(conn: sqlprovider.Connection) -> None:
    with pytest.raises(sqlprovider.ProgrammingError, match="write SHOW METHODS IN"):
        conn.execute("SHOW METHODS")
    with pytest.raises(sqlprovider.ProgrammingError, match="did you mean 'digitalocean'"):
        conn.execute("SHOW SERVICES IN digitalocen")
    with pytest.raises(sqlprovider.ProgrammingError, match=r"did you mean 'onyx\.connector'"):
        conn.execute("SHOW RESOURCES IN onyx.conector")


def test_metadata_is_a_result_set_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exec", "-o", "json", "SHOW PROVIDERS"]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert [row["provider"] for row in parsed] == ["amperity", "digitalocean", "onyx", "openverse"]
