"""The DB-API and its asyncio twin against the DigitalOcean emulator: parameters bound into
path params, body fields and EXEC arguments arrive as exactly one value (proven by the
emulator's request log and the raw URL on the wire), API rows kept with CREATE TABLE AS,
and a cancelled task that stops its requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import sqlprovider
import sqlprovider.aio
from tests.e2e.conftest import TOKEN, Emulator

JOBS = "digitalocean.genai.indexing_jobs"
KBS = "digitalocean.genai.knowledge_bases"
JOB_PATH = "/v2/gen-ai/indexing_jobs"
HOSTILE = ["x' OR '1'='1", "'); DROP TABLE t; --", "a/../../b?c=1#d"]


class Wire(httpx.AsyncBaseTransport):
    """The real transport, recording each request's raw (percent-encoded) path."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.raw_paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.raw_paths.append(request.url.raw_path.decode())
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _knowledge_bases(emulator: Emulator) -> list[dict[str, Any]]:
    return list(emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"])


def _data_sources(emulator: Emulator, kb: str) -> list[str]:
    body = emulator.api(f"/v2/gen-ai/knowledge_bases/{kb}/data_sources", per_page=200)
    return [d["uuid"] for d in body["knowledge_base_data_sources"]]


def _logged(emulator: Emulator, method: str) -> list[Any]:
    return [e for e in emulator.server.log.entries() if e.method == method]


def test_where_param_binds_the_path_and_hostile_values_stay_one_segment(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=20)
    job = emulator.all_jobs()[3]
    emulator.server.log.clear()
    wire = Wire()
    with emulator.connect(transport=wire) as conn:
        cur = conn.execute(f"SELECT uuid, phase, status FROM {JOBS} WHERE uuid = ?", [job["uuid"]])
        assert cur.fetchall() == [(job["uuid"], job["phase"], job["status"])]
        for value in HOSTILE:
            assert conn.execute(f"SELECT * FROM {JOBS} WHERE uuid = ?", [value]).fetchall() == []
    expected = [f"{JOB_PATH}/{quote(v, safe='')}" for v in [job["uuid"], *HOSTILE]]
    assert wire.raw_paths == expected  # one percent-encoded segment each, nothing else sent
    logged = _logged(emulator, "GET")
    assert [e.path for e in logged] == [f"{JOB_PATH}/{v}" for v in [job["uuid"], *HOSTILE]]
    assert [e.status for e in logged] == [200, 404, 404, 404]


def test_insert_values_binds_body_fields(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=5)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    sources = _data_sources(emulator, kb)[:2]
    sql = (
        f"INSERT INTO {JOBS} (data__knowledge_base_uuid, data__data_source_uuids) "
        "VALUES (?, ?) RETURNING job.knowledge_base_uuid, job.data_source_uuids"
    )
    with emulator.connect() as conn:
        assert conn.execute(sql, [kb, sources]).fetchall() == [(kb, sources)]
        with pytest.raises(sqlprovider.HTTPStatusError) as raised:
            conn.execute(sql, [HOSTILE[1], [HOSTILE[0]]])
    assert raised.value.status_code == 404
    first, second = _logged(emulator, "POST")
    assert first.json == {"knowledge_base_uuid": kb, "data_source_uuids": sources}
    assert second.json == {"knowledge_base_uuid": HOSTILE[1], "data_source_uuids": [HOSTILE[0]]}


def test_update_set_binds_a_hostile_value_verbatim(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=5)
    kb = _knowledge_bases(emulator)[1]
    with emulator.connect() as conn:
        cur = conn.execute(
            f"UPDATE {KBS} SET data__name = :name, tags = :tags WHERE uuid = :uuid "
            "RETURNING uuid, name",
            {"name": HOSTILE[1], "tags": [HOSTILE[0]], "uuid": kb["uuid"]},
        )
        assert cur.fetchall() == [(kb["uuid"], HOSTILE[1])]
        assert cur.rowcount == 1
    [put] = _logged(emulator, "PUT")
    assert put.path == f"/v2/gen-ai/knowledge_bases/{kb['uuid']}"
    assert put.json == {"name": HOSTILE[1], "tags": [HOSTILE[0]]}
    after = emulator.api(f"/v2/gen-ai/knowledge_bases/{kb['uuid']}")["knowledge_base"]
    assert (after["name"], after["tags"]) == (HOSTILE[1], [HOSTILE[0]])


def test_exec_binds_its_arguments(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=5, phase_seconds=3600)
    kb = _knowledge_bases(emulator)[0]["uuid"]
    wire = Wire()
    with emulator.connect(transport=wire) as conn:
        [(job,)] = conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES (?) RETURNING uuid", [kb]
        ).fetchall()
        cur = conn.execute(
            f"EXEC {JOBS}.genai_cancel_indexing_job @uuid = ?, @body_uuid = ? "
            "RETURNING job.uuid, job.phase",
            [job, job],
        )
        assert cur.fetchall() == [(job, "BATCH_JOB_PHASE_CANCELLED")]
        with pytest.raises(sqlprovider.HTTPStatusError) as raised:
            conn.execute(f"EXEC {JOBS}.genai_cancel_indexing_job @uuid = ?", [HOSTILE[2]])
    assert raised.value.status_code == 404
    puts = _logged(emulator, "PUT")
    assert puts[0].path == f"{JOB_PATH}/{job}/cancel" and puts[0].json == {"uuid": job}
    hostile_path = f"{JOB_PATH}/{quote(HOSTILE[2], safe='')}/cancel"
    assert wire.raw_paths[-1] == hostile_path  # the ``/``, ``?`` and ``#`` are escaped
    assert len(puts) == 2 and puts[1].json is None


def test_executemany_sends_one_request_per_set(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=5)
    kbs = [kb["uuid"] for kb in _knowledge_bases(emulator)[:3]]
    with emulator.connect() as conn:
        cur = conn.executemany(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES (?) RETURNING job.uuid",
            [[kb] for kb in kbs],
        )
        created = [row[0] for row in cur.fetchall()]
    assert cur.rowcount == 3 and len(set(created)) == 3
    assert [p.json for p in _logged(emulator, "POST")] == [{"knowledge_base_uuid": k} for k in kbs]


def test_create_table_as_keeps_api_rows_in_duckdb(
    emulator: Emulator, conn: sqlprovider.Connection
) -> None:
    failed = [j["uuid"] for j in emulator.all_jobs() if j["status"] == "INDEX_JOB_STATUS_FAILED"]
    cur = conn.execute(
        f"CREATE TABLE failed AS SELECT uuid, created_at FROM {JOBS} WHERE status = ?",
        ["INDEX_JOB_STATUS_FAILED"],
    )
    assert cur.rowcount == len(failed) and cur.stats["requests"] == 5
    duck = conn.duckdb
    assert sorted(r[0] for r in duck.execute("SELECT uuid FROM failed").fetchall()) == sorted(
        failed
    )
    latest = conn.execute("SELECT max(created_at) FROM failed").fetchall()
    assert latest == duck.execute("SELECT max(created_at) FROM failed").fetchall()
    conn.execute(f"INSERT INTO failed SELECT uuid, created_at FROM {JOBS} LIMIT 3")
    assert duck.execute("SELECT count(*) FROM failed").fetchall() == [(len(failed) + 3,)]


def test_async_query_matches_the_sync_one(emulator: Emulator) -> None:
    sql = f"SELECT uuid FROM {JOBS} WHERE status = :status ORDER BY uuid"
    params = {"status": "INDEX_JOB_STATUS_FAILED"}
    with emulator.connect() as conn:
        expected = conn.execute(sql, params).fetchall()

    async def main() -> list[Any]:
        async with sqlprovider.aio.connect(
            servers={"digitalocean": emulator.url}, auth={"digitalocean": {"token": TOKEN}}
        ) as conn:
            first, second = await asyncio.gather(
                conn.execute(sql, params), conn.execute("SELECT ? AS n", [7])
            )
            assert second.fetchall() == [(7,)]
            return first.fetchall()

    assert expected and asyncio.run(main()) == expected


def test_a_cancelled_task_stops_its_requests(make_emulator: Callable[..., Emulator]) -> None:
    # Every request is answered 429 "retry after 30 s": the statement would wait a long time.
    emulator = make_emulator(jobs=10, burst_429=1000, retry_after=30)

    async def main() -> None:
        async with sqlprovider.aio.connect(
            servers={"digitalocean": emulator.url}, auth={"digitalocean": {"token": TOKEN}}
        ) as conn:
            task = asyncio.create_task(conn.execute(f"SELECT uuid FROM {JOBS}"))
            deadline = time.monotonic() + 10
            while not emulator.server.log.entries() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.monotonic() - started < 5  # not the 30 s the API asked to wait
            sent = len(emulator.server.log.entries())
            await asyncio.sleep(0.3)
            assert len(emulator.server.log.entries()) == sent == 1  # nothing more was sent
            cur = await conn.execute("SELECT 1 AS still_open")
            assert cur.fetchall() == [(1,)]

    asyncio.run(main())
