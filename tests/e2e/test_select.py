"""SELECT through the engine against the DigitalOcean emulator on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from tests.e2e.conftest import TOKEN, Emulator

JOBS = "digitalocean.genai.indexing_jobs"


def test_every_page_arrives_exactly_once(emulator: Emulator, conn: sqlprovider.Connection) -> None:
    expected = {job["uuid"] for job in emulator.all_jobs()}
    cur = conn.execute(f"SELECT uuid FROM {JOBS}")
    uuids = [row[0] for row in cur.fetchall()]
    assert len(expected) == 1000
    assert len(uuids) == 1000
    assert set(uuids) == expected
    assert cur.stats["requests"] == 5  # 1,000 jobs at 200 a page


def test_rows_keep_the_api_order(emulator: Emulator, conn: sqlprovider.Connection) -> None:
    expected = [job["uuid"] for job in emulator.all_jobs()]
    assert [r[0] for r in conn.execute(f"SELECT uuid FROM {JOBS}")] == expected


def test_issue_example_failed_jobs_newest_first(
    emulator: Emulator, conn: sqlprovider.Connection
) -> None:
    failed = [j for j in emulator.all_jobs() if j["status"] == "INDEX_JOB_STATUS_FAILED"]
    failed.sort(key=lambda j: j["created_at"], reverse=True)
    rows = conn.execute(
        f"""SELECT uuid, phase, status, total_datasources, created_at
        FROM {JOBS}
        WHERE status = 'INDEX_JOB_STATUS_FAILED'
        ORDER BY created_at DESC, uuid"""
    ).fetchall()
    assert failed, "the seeded data should hold failed jobs"
    assert sorted(r[0] for r in rows) == sorted(j["uuid"] for j in failed)
    created = [r[4] for r in rows]
    assert created == sorted(created, reverse=True)
    assert all(r[2] == "INDEX_JOB_STATUS_FAILED" for r in rows)


def test_typed_columns(conn: sqlprovider.Connection) -> None:
    cur = conn.execute(
        f"SELECT uuid, total_datasources, total_items_failed, created_at, is_report_available,"
        f" data_source_uuids, data_source_jobs FROM {JOBS} LIMIT 3"
    )
    types = {d[0]: d[1] for d in cur.description or []}
    assert types == {
        "uuid": "VARCHAR",
        "total_datasources": "BIGINT",
        "total_items_failed": "UBIGINT",
        "created_at": "TIMESTAMP WITH TIME ZONE",
        "is_report_available": "BOOLEAN",
        "data_source_uuids": "VARCHAR[]",
        "data_source_jobs": "JSON",
    }
    row = cur.fetchone()
    assert row is not None
    assert isinstance(row[1], int) and isinstance(row[2], int)
    assert row[3].tzinfo is not None
    assert isinstance(row[5], list)
    assert isinstance(json.loads(row[6]), list)


def test_json_columns_are_queryable(emulator: Emulator, conn: sqlprovider.Connection) -> None:
    job = emulator.all_jobs()[0]
    rows = conn.execute(
        f"SELECT json_array_length(data_source_jobs) FROM {JOBS} WHERE uuid = '{job['uuid']}'"
    ).fetchall()
    assert rows == [(len(job["data_source_jobs"]),)]


def test_in_fans_out_one_request_per_value(
    emulator: Emulator, conn: sqlprovider.Connection
) -> None:
    uuids = [j["uuid"] for j in emulator.all_jobs()[:3]]
    listed = ", ".join(f"'{u}'" for u in [*uuids, "00000000-0000-0000-0000-000000000000"])
    cur = conn.execute(f"SELECT uuid, phase FROM {JOBS} WHERE uuid IN ({listed}) ORDER BY uuid")
    assert [r[0] for r in cur.fetchall()] == sorted(uuids)
    assert cur.stats["requests"] == 4  # the unknown id is a 404: no row, no error


def test_unknown_id_gives_no_rows(conn: sqlprovider.Connection) -> None:
    cur = conn.execute(f"SELECT * FROM {JOBS} WHERE uuid = 'no-such-job'")
    assert cur.fetchall() == []


def test_dependent_join_jobs_to_data_sources(
    emulator: Emulator, conn: sqlprovider.Connection
) -> None:
    failed = [j for j in emulator.all_jobs() if j["phase"] == "BATCH_JOB_PHASE_FAILED"]
    expected = set()
    for job in failed:
        body = emulator.api(f"/v2/gen-ai/indexing_jobs/{job['uuid']}/data_sources")
        expected |= {(job["uuid"], ds["data_source_uuid"]) for ds in body["indexed_data_sources"]}
    cur = conn.execute(
        f"""SELECT j.uuid, ds.data_source_uuid
        FROM {JOBS} j
        JOIN digitalocean.genai.indexing_job_data_sources ds ON ds.indexing_job_uuid = j.uuid
        WHERE j.phase = 'BATCH_JOB_PHASE_FAILED'"""
    )
    rows = cur.fetchall()
    assert expected and set(rows) == expected and len(rows) == len(expected)
    # 5 list pages, then one request per failed job: the outer filter limits the fan-out.
    assert cur.stats["requests"] == 5 + len(failed)


def test_constant_in_join_on_binds_the_param(
    emulator: Emulator, conn: sqlprovider.Connection
) -> None:
    job = emulator.all_jobs()[0]
    cur = conn.execute(
        f"""SELECT kb.uuid, ds.data_source_uuid
        FROM digitalocean.genai.knowledge_bases kb
        JOIN digitalocean.genai.indexing_job_data_sources ds
          ON ds.indexing_job_uuid = '{job["uuid"]}' AND kb.uuid = '{job["knowledge_base_uuid"]}'"""
    )
    rows = cur.fetchall()
    assert {r[1] for r in rows} == {d["data_source_uuid"] for d in job["data_source_jobs"]}
    assert {r[0] for r in rows} == {job["knowledge_base_uuid"]}


def test_residual_predicates_and_limit(emulator: Emulator, conn: sqlprovider.Connection) -> None:
    everything = emulator.all_jobs()
    expected = [j["uuid"] for j in everything if j["total_datasources"] > 2][:7]
    cur = conn.execute(f"SELECT uuid FROM {JOBS} WHERE total_datasources > 2 LIMIT 7")
    assert [r[0] for r in cur.fetchall()] == expected
    assert cur.stats["requests"] == 5  # a residual predicate: every page is needed

    cur = conn.execute(f"SELECT uuid FROM {JOBS} LIMIT 5")
    assert [r[0] for r in cur.fetchall()] == [j["uuid"] for j in everything[:5]]
    assert cur.stats["requests"] == 1  # LIMIT alone stops after the first page


def test_user_page_param_fetches_one_page_and_warns(
    emulator: Emulator, conn: sqlprovider.Connection
) -> None:
    cur = conn.execute(f"SELECT uuid FROM {JOBS} WHERE page = 2 AND per_page = 10")
    assert [r[0] for r in cur.fetchall()] == [j["uuid"] for j in emulator.all_jobs()[10:20]]
    assert any("only the page" in w for w in cur.warnings)


def test_join_with_local_table_and_csv_file(
    emulator: Emulator, conn: sqlprovider.Connection, tmp_path: Path
) -> None:
    kbs = emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"]
    owners = tmp_path / "owners.csv"
    owners.write_text(
        "kb,owner\n" + "".join(f"{kb['uuid']},team-{i}\n" for i, kb in enumerate(kbs))
    )
    conn.execute("CREATE TABLE budgets AS SELECT 'x' AS team, 5 AS amount")
    rows = conn.execute(
        f"""SELECT o.owner, count(*) AS jobs
        FROM {JOBS} j JOIN read_csv('{owners}') o ON o.kb = j.knowledge_base_uuid
        LEFT JOIN budgets b ON b.team = o.owner
        GROUP BY o.owner ORDER BY o.owner"""
    ).fetchall()
    counts: dict[str, int] = {}
    names = {kb["uuid"]: f"team-{i}" for i, kb in enumerate(kbs)}
    for job in emulator.all_jobs():
        owner = names[job["knowledge_base_uuid"]]
        counts[owner] = counts.get(owner, 0) + 1
    assert rows == sorted(counts.items())


def test_cte_window_and_union(conn: sqlprovider.Connection) -> None:
    rows = conn.execute(
        f"""WITH ranked AS (
              SELECT knowledge_base_uuid, uuid,
                     row_number() OVER (
                         PARTITION BY knowledge_base_uuid ORDER BY created_at DESC) AS n
              FROM {JOBS})
            SELECT count(*) FROM ranked WHERE n = 1
            UNION ALL
            SELECT count(DISTINCT knowledge_base_uuid) FROM {JOBS}"""
    ).fetchall()
    assert rows[0] == rows[1]


def test_seed_select_example_through_the_cli(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = emulator.all_jobs()[3]
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", TOKEN)
    sql = """SELECT
completed_datasources,
created_at,
data_source_uuids,
finished_at,
knowledge_base_uuid,
phase,
started_at,
status,
tokens,
total_datasources,
total_items_failed,
total_items_indexed,
total_items_skipped,
updated_at,
uuid
FROM digitalocean.genai.indexing_jobs
WHERE uuid = '{{ uuid }}' -- required;
"""
    code = main(
        [
            "exec",
            "-o",
            "json",
            sql,
            "--var",
            f"uuid={job['uuid']}",
            "--server",
            f"digitalocean={emulator.url}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    [row] = json.loads(out)
    assert row["uuid"] == job["uuid"]
    assert row["phase"] == job["phase"]
    assert row["total_items_failed"] == int(job["total_items_failed"])
    assert row["created_at"] == job["created_at"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "table"])
def test_cli_output_formats(
    emulator: Emulator,
    fmt: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQLPROVIDER_DIGITALOCEAN_URL", emulator.url)
    monkeypatch.setenv("DIGITALOCEAN_ACCESS_TOKEN", TOKEN)  # the seed's variable name works too
    expected = [j["uuid"] for j in emulator.all_jobs()[:3]]
    assert main(["exec", "-o", fmt, f"SELECT uuid FROM {JOBS} LIMIT 3"]) == 0
    out = capsys.readouterr().out
    if fmt == "csv":
        assert out.splitlines() == ["uuid", *expected]
    elif fmt == "jsonl":
        assert [json.loads(line)["uuid"] for line in out.splitlines()] == expected
    else:
        assert all(u in out for u in expected) and "3 rows" in out


def test_explain_analyze_runs_the_query_and_reports_what_each_fetch_cost(
    emulator: Emulator, conn: sqlprovider.Connection
) -> None:
    emulator.server.log.clear()
    lines = [r[0] for r in conn.execute(f"EXPLAIN ANALYZE SELECT count(*) FROM {JOBS}")]
    assert f"1. fetch {JOBS}" in lines
    assert f"actual 1. {JOBS}: 5 requests, 5 pages, 1,000 rows loaded" in lines
    assert lines[-1].startswith("actual: the query returned 1 row;")
    assert len(emulator.server.log.entries()) == 5
    assert not any("_sp_" in line for line in lines)  # no internal table names


def test_explain_analyze_of_a_write_is_refused_before_anything_is_sent(
    emulator: Emulator, conn: sqlprovider.Connection
) -> None:
    emulator.server.log.clear()
    with pytest.raises(sqlprovider.NotSupportedError, match="dry run"):
        conn.execute(
            "EXPLAIN ANALYZE DELETE FROM digitalocean.genai.knowledge_bases WHERE uuid = 'x'"
        )
    assert emulator.server.log.entries() == []
