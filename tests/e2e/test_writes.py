"""Writes through the engine against the DigitalOcean emulator: the seed's statements
verbatim, per-row sends, RETURNING, safe retries, waiting for jobs, and dry runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.result import Result
from tests.e2e.conftest import TOKEN, Emulator

JOBS = "digitalocean.genai.indexing_jobs"

SEED_INSERT = """INSERT INTO digitalocean.genai.indexing_jobs (
data__data_source_uuids,
data__knowledge_base_uuid
)
SELECT
'{{ data_source_uuids }}',
'{{ knowledge_base_uuid }}'
RETURNING
job
;"""

SEED_REPLACE = """REPLACE digitalocean.genai.indexing_jobs
SET
data__uuid = '{{ uuid }}'
WHERE
uuid = '{{ uuid }}' --required
RETURNING
job;"""


def _fill(template: str, **values: str) -> str:
    from sqlprovider.template import render

    return render(template, values)


def _knowledge_bases(emulator: Emulator) -> list[dict[str, Any]]:
    return list(emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"])


def _data_sources(emulator: Emulator, kb: str) -> list[str]:
    body = emulator.api(f"/v2/gen-ai/knowledge_bases/{kb}/data_sources", per_page=200)
    return [d["uuid"] for d in body["knowledge_base_data_sources"]]


def _posts(emulator: Emulator) -> list[Any]:
    return [e for e in emulator.server.log.entries() if e.method == "POST"]


def test_seed_insert_verbatim(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    sources = _data_sources(emulator, kb)[:2]
    sql = _fill(
        SEED_INSERT, data_source_uuids=str(sources).replace("'", '"'), knowledge_base_uuid=kb
    )
    with emulator.connect() as conn:
        cur = conn.execute(sql)
        [(job,)] = cur.fetchall()
    assert [d[0] for d in cur.description or []] == ["job"]
    assert job["knowledge_base_uuid"] == kb
    assert job["data_source_uuids"] == sources
    assert job["phase"] == "BATCH_JOB_PHASE_PENDING"
    [post] = _posts(emulator)
    assert post.json == {"data_source_uuids": sources, "knowledge_base_uuid": kb}
    # The emulator applied it: a later SELECT sees the new job.
    with emulator.connect() as conn:
        rows = conn.execute(f"SELECT phase FROM {JOBS} WHERE uuid = '{job['uuid']}'").fetchall()
    assert rows == [("BATCH_JOB_PHASE_PENDING",)]


def test_seed_replace_verbatim_cancels(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10, phase_seconds=3600)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    with emulator.connect() as conn:
        [(uuid,)] = conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}') RETURNING job.uuid"
        ).fetchall()
        [(job,)] = conn.execute(_fill(SEED_REPLACE, uuid=uuid)).fetchall()
    assert job["uuid"] == uuid and job["phase"] == "BATCH_JOB_PHASE_CANCELLED"
    [put] = [e for e in emulator.server.log.entries() if e.method == "PUT"]
    assert put.path == f"/v2/gen-ai/indexing_jobs/{uuid}/cancel"
    assert put.json == {"uuid": uuid}


def test_insert_select_from_a_table_sends_one_request_per_row(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=10)
    kbs = [kb["uuid"] for kb in _knowledge_bases(emulator)[:4]]
    with emulator.connect() as conn:
        conn.execute(
            "CREATE TABLE targets AS SELECT * FROM (VALUES "
            + ", ".join(f"('{kb}')" for kb in kbs)
            + ") AS t(kb)"
        )
        rows = conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) SELECT kb FROM targets"
        ).fetchall()
    assert len(rows) == 4
    assert all(r[2] == 200 and r[4] == "ok" for r in rows)
    assert sorted(p.json["knowledge_base_uuid"] for p in _posts(emulator)) == sorted(kbs)
    assert len({r[3] for r in rows}) == 4  # four new job ids


def test_insert_select_from_a_provider_table(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10)
    kbs = _knowledge_bases(emulator)
    with emulator.connect() as conn:
        cur = conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) "
            "SELECT uuid FROM digitalocean.genai.knowledge_bases ORDER BY uuid LIMIT 3 "
            "RETURNING knowledge_base_uuid"
        )
        sent = [r[0] for r in cur.fetchall()]
    assert sorted(sent) == sorted(kb["uuid"] for kb in kbs)[:3]


def test_returning_star_field_and_path(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    with emulator.connect() as conn:
        cur = conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}') RETURNING *"
        )
        star = cur.fetchall()
        columns = [d[0] for d in cur.description or []]
        path = conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}') "
            "RETURNING job.uuid, upper(job.phase) AS phase, job.knowledge_base_uuid = uuid AS same"
        ).fetchall()
    assert columns[:4] == ["uuid", "knowledge_base_uuid", "phase", "status"]
    assert star[0][1] == kb
    assert path[0][1] == "BATCH_JOB_PHASE_PENDING" and path[0][2] is False


def test_post_meeting_500_is_sent_once_and_says_to_check(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=10)
    emulator.server.faults.fail("POST", "/v2/gen-ai/indexing_jobs", status=500, times=1)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    with emulator.connect() as conn, pytest.raises(sqlprovider.HTTPStatusError) as raised:
        conn.execute(f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}')")
    assert raised.value.status_code == 500
    assert "not retried" in str(raised.value) and "check" in str(raised.value)
    assert len(_posts(emulator)) == 1


def test_put_is_retried_after_503(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10, phase_seconds=3600)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    with emulator.connect() as conn:
        [(uuid,)] = conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}') RETURNING uuid"
        ).fetchall()
        emulator.server.faults.fail(
            "PUT", f"/v2/gen-ai/indexing_jobs/{uuid}/cancel", status=503, times=1
        )
        rows = conn.execute(f"EXEC {JOBS}.genai_cancel_indexing_job @uuid = '{uuid}'").fetchall()
    assert rows[0][2] == 200 and rows[0][4] == "ok"
    puts = [e for e in emulator.server.log.entries() if e.method == "PUT"]
    assert [p.status for p in puts] == [503, 200]


def test_exec_with_raw_json_body(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10, phase_seconds=3600)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    with emulator.connect() as conn:
        [(uuid,)] = conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}') RETURNING uuid"
        ).fetchall()
        rows = conn.execute(
            f"EXEC {JOBS}.genai_cancel_indexing_job @uuid = '{uuid}', "
            f'@@json = \'{{"uuid": "{uuid}"}}\''
        ).fetchall()
    assert rows[0][3] == uuid
    [put] = [e for e in emulator.server.log.entries() if e.method == "PUT"]
    assert put.json == {"uuid": uuid}


def test_await_until_succeeded(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10, phase_seconds=0.2)
    kb = next(k["uuid"] for k in _knowledge_bases(emulator) if "fail" not in k["name"])
    with emulator.connect(wait_interval=0.05) as conn:
        [(uuid, phase)] = conn.execute(
            f"INSERT /*+ AWAIT */ INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}') "
            "RETURNING job.uuid, job.phase"
        ).fetchall()
    assert phase == "BATCH_JOB_PHASE_SUCCEEDED"
    polls = [e for e in emulator.server.log.entries() if e.method == "GET" and uuid in e.path]
    assert len(polls) >= 2


def test_await_reports_a_failed_job(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10, phase_seconds=0.1)
    failing = [k["uuid"] for k in _knowledge_bases(emulator) if "fail" in k["name"]]
    assert failing, "the seeded data should hold a knowledge base whose jobs fail"
    with (
        emulator.connect(wait_interval=0.05) as conn,
        pytest.raises(sqlprovider.WriteFailedError) as raised,
    ):
        conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{failing[0]}')", wait=True
        )
    assert "BATCH_JOB_PHASE_FAILED" in str(raised.value)
    assert isinstance(raised.value.result, Result)
    assert raised.value.result.rows[0][4] == "failed: BATCH_JOB_PHASE_FAILED"


def test_await_timeout_names_the_job(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10, phase_seconds=3600)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    with (
        emulator.connect(wait_interval=0.05, wait_timeout=0.3) as conn,
        pytest.raises(sqlprovider.OperationalError) as raised,
    ):
        conn.execute(f"INSERT /*+ AWAIT */ INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}')")
    message = str(raised.value)
    assert "gave up waiting after 0.3 s" in message and "BATCH_JOB_PHASE_PENDING" in message
    job = next(iter(_posts(emulator)))
    assert job.status == 200


def test_wrong_body_type_is_the_apis_400(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10)
    with emulator.connect() as conn, pytest.raises(sqlprovider.HTTPStatusError) as raised:
        conn.execute(
            f"EXEC {JOBS}.genai_create_indexing_job @@json = '{{\"knowledge_base_uuid\": 5}}'"
        )
    assert raised.value.status_code == 400
    assert raised.value.api_message


def test_dry_run_sends_nothing(
    make_emulator: Callable[..., Emulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = make_emulator(jobs=10)
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", TOKEN)
    code = main(
        [
            "exec",
            "--dry-run",
            _fill(SEED_INSERT, data_source_uuids='["a"]', knowledge_base_uuid="kb"),
            "--server",
            f"digitalocean={emulator.url}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"POST {emulator.url}/v2/gen-ai/indexing_jobs" in out
    assert 'body: {"data_source_uuids": ["a"], "knowledge_base_uuid": "kb"}' in out
    assert TOKEN not in out
    assert emulator.server.log.entries() == []


def test_cli_await_and_outcome_rows(
    make_emulator: Callable[..., Emulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = make_emulator(jobs=10, phase_seconds=0.1)
    kb = next(k["uuid"] for k in _knowledge_bases(emulator) if "fail" not in k["name"])
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", TOKEN)
    monkeypatch.setenv("SQLPROVIDER_DIGITALOCEAN_URL", emulator.url)
    code = main(
        [
            "exec",
            "-o",
            "csv",
            "--await",
            "--await-interval",
            "0.05",
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}')",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    header, row = out.splitlines()
    assert header == "resource,method,http_status,id,outcome"
    assert row.endswith("done: BATCH_JOB_PHASE_SUCCEEDED")


KBS = "digitalocean.genai.knowledge_bases"
KB_SOURCES = "digitalocean.genai.knowledge_base_data_sources"


def test_update_changes_only_the_fields_set(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10)
    before = _knowledge_bases(emulator)[0]
    with emulator.connect() as conn:
        rows = conn.execute(
            f"UPDATE {KBS} SET name = 'renamed', tags = ['team:search'] "
            f"WHERE uuid = '{before['uuid']}' RETURNING uuid, name, tags, region"
        ).fetchall()
    assert rows == [(before["uuid"], "renamed", ["team:search"], before["region"])]
    [put] = [e for e in emulator.server.log.entries() if e.method == "PUT"]
    assert put.path == f"/v2/gen-ai/knowledge_bases/{before['uuid']}"
    assert put.json == {"name": "renamed", "tags": ["team:search"]}  # nothing else is sent
    after = emulator.api(f"/v2/gen-ai/knowledge_bases/{before['uuid']}")["knowledge_base"]
    assert (after["name"], after["project_id"]) == ("renamed", before["project_id"])


def test_delete_in_sends_one_request_per_value_and_reports_each(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=10)
    first, second = (kb["uuid"] for kb in _knowledge_bases(emulator)[:2])
    with emulator.connect() as conn:
        cur = conn.execute(f"DELETE FROM {KBS} WHERE uuid IN ('{first}', '{second}')")
        outcomes = sorted(cur.fetchall(), key=lambda row: str(row[3]))
        remaining = conn.execute(f"SELECT uuid FROM {KBS}").fetchall()
    assert [d[0] for d in cur.description or []] == [
        "resource",
        "method",
        "http_status",
        "id",
        "outcome",
    ]
    assert outcomes == sorted(
        [(KBS, "genai_delete_knowledge_base", 200, kb, "ok") for kb in (first, second)],
        key=lambda row: str(row[3]),
    )
    deletes = [e.path for e in emulator.server.log.entries() if e.method == "DELETE"]
    assert sorted(deletes) == sorted(f"/v2/gen-ai/knowledge_bases/{kb}" for kb in (first, second))
    assert {first, second}.isdisjoint(uuid for (uuid,) in remaining)
    assert len(remaining) == len(_knowledge_bases(emulator)) == 23


def test_delete_of_ids_chosen_by_a_subquery(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    sources = _data_sources(emulator, kb)
    with emulator.connect() as conn:
        conn.execute(
            f"DELETE FROM {KB_SOURCES} WHERE knowledge_base_uuid = '{kb}' AND data_source_uuid IN "
            f"(SELECT uuid FROM {KB_SOURCES} WHERE knowledge_base_uuid = '{kb}' "
            "ORDER BY uuid LIMIT 1)"
        )
    assert _data_sources(emulator, kb) == [s for s in sources if s != min(sources)]


def test_a_failed_row_keeps_the_outcome_of_the_others(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=10)
    kb, refused = (k["uuid"] for k in _knowledge_bases(emulator)[:2])
    emulator.server.faults.fail("DELETE", f"/v2/gen-ai/knowledge_bases/{refused}", status=409)
    with (
        emulator.connect() as conn,
        pytest.raises(sqlprovider.WriteFailedError) as raised,
    ):
        conn.execute(f"DELETE FROM {KBS} WHERE uuid IN ('{kb}', '{refused}', 'no-such-kb')")
    # 'no-such-kb' was read, found missing, and never written to.
    assert "1 of 2 requests" in str(raised.value)
    assert any(refused in line and "409" in line for line in raised.value.failures)
    result = raised.value.result
    assert isinstance(result, Result)
    rows = {row[3]: (row[2], row[4]) for row in result.rows}
    assert rows[kb] == (200, "ok")
    assert rows[refused][0] == 409 and rows[refused][1].startswith("error: ")
    assert "no-such-kb" not in rows


@pytest.mark.parametrize(
    ("sql", "needs"),
    [
        (f"UPDATE {KBS} SET name = 'x'", "needs uuid"),
        (f"DELETE FROM {KBS}", "needs uuid"),
        (f"UPDATE {KBS} SET uuid = 'x' WHERE name = 'kb-000-docs'", "cannot be SET"),
    ],
)
def test_update_and_delete_without_where_are_refused(
    make_emulator: Callable[..., Emulator], sql: str, needs: str
) -> None:
    emulator = make_emulator(jobs=10)
    with emulator.connect() as conn, pytest.raises(sqlprovider.ProgrammingError) as raised:
        conn.execute(sql)
    assert needs in str(raised.value)
    assert [e for e in emulator.server.log.entries() if e.method in ("PUT", "DELETE")] == []


def _writes(emulator: Emulator) -> list[tuple[str, str]]:
    return [
        (e.method, e.path)
        for e in emulator.server.log.entries()
        if e.method in ("PUT", "PATCH", "DELETE", "POST")
    ]


def test_a_where_on_other_columns_selects_then_writes_exactly_those(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=10)
    kbs = _knowledge_bases(emulator)
    chosen = kbs[3]
    with emulator.connect() as conn:
        conn.execute(f"DELETE FROM {KBS} WHERE name = '{chosen['name']}'")
    assert _writes(emulator) == [("DELETE", f"/v2/gen-ai/knowledge_bases/{chosen['uuid']}")]
    assert [k["uuid"] for k in _knowledge_bases(emulator)] == [
        k["uuid"] for k in kbs if k["uuid"] != chosen["uuid"]
    ]


def test_a_where_condition_is_never_sent_as_a_value(
    make_emulator: Callable[..., Emulator],
) -> None:
    # uuid C exists, but its name is not 'x': nothing is selected, nothing is renamed.
    emulator = make_emulator(jobs=10)
    kb = _knowledge_bases(emulator)[0]
    with emulator.connect() as conn:
        result = conn.execute(
            f"UPDATE {KBS} SET tags = ['t'] WHERE uuid = '{kb['uuid']}' AND name = 'x'"
        )
        assert result.fetchall() == []
    assert _writes(emulator) == []
    assert _knowledge_bases(emulator)[0]["name"] == kb["name"]


def test_conditions_on_one_id_intersect(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10)
    a, b, c = (k["uuid"] for k in _knowledge_bases(emulator)[:3])
    with emulator.connect() as conn:
        conn.execute(f"DELETE FROM {KBS} WHERE uuid = '{a}' AND uuid = '{b}'")
        conn.execute(f"DELETE FROM {KBS} WHERE uuid = '{a}' AND uuid IN ('{b}', '{c}')")
    assert _writes(emulator) == []


@pytest.mark.parametrize(
    "where",
    ["uuid IN (SELECT NULL)", "uuid = ''", "uuid = '..'", "uuid = '.'"],
)
def test_null_empty_and_dot_ids_are_refused_before_sending(
    make_emulator: Callable[..., Emulator], where: str
) -> None:
    emulator = make_emulator(jobs=10)
    with emulator.connect() as conn, pytest.raises(sqlprovider.DataError) as raised:
        conn.execute(f"UPDATE {KBS} SET tags = ['t'] WHERE {where}")
    assert "nothing was sent" in str(raised.value)
    assert _writes(emulator) == []


def test_set_may_read_the_objects_current_fields(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10)
    kb = _knowledge_bases(emulator)[0]
    with emulator.connect() as conn:
        conn.execute(f"UPDATE {KBS} SET name = upper(name) WHERE uuid = '{kb['uuid']}'")
    assert _knowledge_bases(emulator)[0]["name"] == kb["name"].upper()


def test_select_then_write_cancels_exactly_the_running_jobs(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=60)
    running = {j["uuid"] for j in emulator.all_jobs() if j["phase"] == "BATCH_JOB_PHASE_RUNNING"}
    assert running
    with emulator.connect() as conn:
        conn.execute(
            "REPLACE digitalocean.genai.indexing_jobs SET data__uuid = uuid "
            "WHERE phase = 'BATCH_JOB_PHASE_RUNNING'"
        )
    cancelled = {p.split("/")[-2] for m, p in _writes(emulator) if m == "PUT"}
    assert cancelled == running


def test_a_dry_run_of_select_then_write_reads_and_lists_the_very_writes(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=60)
    running = sorted(
        j["uuid"] for j in emulator.all_jobs() if j["phase"] == "BATCH_JOB_PHASE_RUNNING"
    )
    emulator.server.log.clear()
    with emulator.connect() as conn:
        lines = conn.dry_run(
            "REPLACE digitalocean.genai.indexing_jobs SET data__uuid = uuid "
            "WHERE phase = 'BATCH_JOB_PHASE_RUNNING'"
        )
    puts = sorted(line.split("/")[-2] for line in lines if line.startswith("PUT "))
    assert puts == running
    assert {e.method for e in emulator.server.log.entries()} == {"GET"}  # read, never written


def test_a_redirect_answering_a_write_is_an_error_not_a_success(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=10)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    emulator.server.faults.fail("DELETE", f"/v2/gen-ai/knowledge_bases/{kb}", status=307)
    with emulator.connect() as conn, pytest.raises(sqlprovider.HTTPStatusError) as raised:
        conn.execute(f"DELETE FROM {KBS} WHERE uuid = '{kb}'")
    assert raised.value.status_code == 307
    assert "redirect" in str(raised.value) and "never sent again" in str(raised.value)
    assert [e.method for e in emulator.server.log.entries() if e.method == "DELETE"] == ["DELETE"]
    assert kb in {k["uuid"] for k in _knowledge_bases(emulator)}  # nothing was deleted
