"""What BI and database tools send when they connect and browse (Metabase, DBeaver and every
JDBC tool through pgjdbc's DatabaseMetaData, Grafana's PostgreSQL data source), each query as
the tool writes it (``tool_queries``) and over the extended protocol (Parse, Bind, Describe,
Execute) the drivers use: every one answers, and what it lists is the providers' own tables,
columns and types. Then the tools' data queries, with their quoting, against the embedded
API; and the HTTP clients every connection shares."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.model import param_columns
from sqlprovider.pgserver.catalog import provider_tables
from sqlprovider.pgserver.pgtypes import oid_of
from sqlprovider.providers import Registry
from tests.serve.conftest import Served, embedded, serve_env
from tests.serve.tool_queries import EVERY, SCHEMA, TABLE, ToolQuery

LIST_PATH = "/v2/gen-ai/indexing_jobs"


def _expected_tables(query: ToolQuery) -> set[tuple[str, str]]:
    narrowed = SCHEMA in query.sql or SCHEMA in query.params
    return {
        (t.schema, t.name)
        for t in provider_tables(Registry())
        if not narrowed or t.schema == SCHEMA
    }


def _expected_columns() -> list[tuple[str, int]]:
    resource = Registry().resource(SCHEMA, *TABLE.split("_", 1))
    return [(c.name, oid_of(c.duckdb_type)) for c in (*resource.columns, *param_columns(resource))]


def _pick(row: tuple[Any, ...], position: int, default: str) -> Any:
    return default if position < 0 else row[position]


@pytest.mark.parametrize("query", EVERY, ids=[f"{q.tool}: {q.asks}" for q in EVERY])
def test_a_tool_query_answers_with_the_providers_catalog(served: Served, query: ToolQuery) -> None:
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        cursor = conn.execute(query.sql, query.params or None, prepare=True)
        rows = cursor.fetchall() if cursor.description else None
    if query.expect == "none":
        assert rows is None
        return
    assert rows is not None
    if query.expect == "schemas":
        listed = {row[query.columns[0] if query.columns else 0] for row in rows}
        assert set(Registry().names()) | {"public", "pg_catalog"} <= listed
    elif query.expect == "tables":
        schema, table = query.columns
        listed = {(_pick(r, schema, SCHEMA), r[table]) for r in rows}
        assert listed == _expected_tables(query)
    elif query.expect == "columns":
        table, name = query.columns
        assert {_pick(r, table, TABLE) for r in rows} == {TABLE}
        assert [r[name] for r in rows] == [name for name, _ in _expected_columns()]
    elif query.expect == "value":
        assert rows and tuple(rows[0]) == query.value
    elif query.expect == "empty":
        assert rows == []
    else:
        assert rows, "no rows"


def test_jdbc_column_types_are_the_columns_postgres_types(served: Served) -> None:
    getcolumns = next(q for q in EVERY if q.asks == "getColumns")
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        rows = conn.execute(getcolumns.sql, prepare=True).fetchall()
        described = {r[2]: r[12] for r in rows}  # pgjdbc's REMARKS come from pg_description
    assert [(r[2], r[3]) for r in rows] == _expected_columns()
    resource = Registry().resource(SCHEMA, *TABLE.split("_", 1))
    assert all(described[c.name] == (c.description or None) for c in resource.columns)


@pytest.mark.parametrize(
    "sql",
    [
        # Metabase's query builder: every name quoted, columns as schema.table.column
        'SELECT "digitalocean"."genai_indexing_jobs"."uuid" AS "uuid", '
        '"digitalocean"."genai_indexing_jobs"."status" AS "status" FROM '
        '"digitalocean"."genai_indexing_jobs" WHERE "digitalocean"."genai_indexing_jobs"'
        '."status" = \'INDEX_JOB_STATUS_FAILED\' ORDER BY "digitalocean"."genai_indexing_jobs"'
        '."uuid" ASC LIMIT 2000',
        # Grafana's time series: $__time(created_at) and $__timeFilter(created_at) expanded
        'SELECT created_at AS "time", total_datasources FROM digitalocean.genai_indexing_jobs '
        "WHERE created_at BETWEEN '2000-01-01T00:00:00Z' AND '2100-01-01T00:00:00Z' "
        "ORDER BY 1, 2",
        # DBeaver's data tab
        "SELECT * FROM digitalocean.genai_knowledge_bases gkb LIMIT 200",
    ],
    ids=["metabase", "grafana", "dbeaver"],
)
def test_the_tools_data_queries_give_the_embedded_api_rows(
    served: Served, emulator: EmulatorServer, sql: str
) -> None:
    with psycopg.connect(served.dsn(), autocommit=True) as conn:
        rows = conn.execute(sql, prepare=True).fetchall()
    three_part = (
        sql.replace('"digitalocean"."genai_indexing_jobs"', "digitalocean.genai.indexing_jobs")
        .replace("digitalocean.genai_indexing_jobs", "digitalocean.genai.indexing_jobs")
        .replace("digitalocean.genai_knowledge_bases", "digitalocean.genai.knowledge_bases")
        .replace("digitalocean.genai.indexing_jobs.", "indexing_jobs.")
    )
    with embedded(emulator) as conn:
        expected = conn.execute(three_part).fetchall()
    if "LIMIT 200" in sql:  # no ORDER BY: the same records (by their ids), in any order
        rows, expected = sorted(r[0] for r in rows), sorted(r[0] for r in expected)
    assert rows and rows == expected


def test_connections_share_the_http_clients_and_their_limits(
    make_served: Callable[..., Served], emulator: EmulatorServer
) -> None:
    """With --concurrency 1 the whole server has one request in flight per provider, however
    many clients ask: their second pages reach the API one after the other."""
    server = make_served(
        "--server", f"digitalocean={emulator.url}", "--cache-ttl", "0", "--concurrency", "1",
        env=serve_env(),
    )  # fmt: skip
    emulator.faults.delay("GET", LIST_PATH, seconds=0.6, times=None, query="page=2")
    emulator.log.clear()
    sql = "SELECT count(*) FROM digitalocean.genai.indexing_jobs WHERE status = %s"

    def one(status: str) -> int:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            row = conn.execute(sql, [status]).fetchone()
            assert row is not None
            return int(row[0])

    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            counts = list(pool.map(one, ["INDEX_JOB_STATUS_FAILED"] * 3))
    finally:
        emulator.faults.clear()
    seconds = sorted(
        e.time
        for e in emulator.log.entries()
        if e.path == LIST_PATH and "page=2" in e.query.split("&")
    )
    assert len(seconds) == 3 and len(set(counts)) == 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(seconds)]
    assert min(gaps) >= 0.5, gaps  # each waited for the one before (held 0.6 s)
