"""Through Spark (``local[2]``): the rate limit shared by the tasks, and writes of one
INSERT per row with their outcomes."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sqlprovider.emulators.amperity import AmperityConfig
from sqlprovider.emulators.amperity import create_app as amperity_app
from sqlprovider.emulators.kit import EmulatorServer
from tests.spark.conftest import TOKEN, Emulator

AMPERITY_TOKEN = "spark-amperity-token-5c2a90"
TENANT = "acme-spark"


@pytest.fixture(scope="module")
def amperity() -> Iterator[EmulatorServer]:
    """Amperity's emulator, keeping its documented 10 requests a second (429 beyond)."""
    config = AmperityConfig(token=AMPERITY_TOKEN, tenant=TENANT, jobs=200, days=30)
    with EmulatorServer(create_app_for(config), name="amperity") as server:
        yield server


def create_app_for(config: AmperityConfig) -> Any:
    return amperity_app(config)


def job_ids(server: EmulatorServer) -> list[str]:
    end = datetime(2025, 6, 1, tzinfo=UTC)
    params = {"created_from": (end - timedelta(days=7)).isoformat(), "created_to": end.isoformat()}
    headers = {"Authorization": f"Bearer {AMPERITY_TOKEN}", "amperity-tenant": TENANT,
               "api-version": "2024-04-01"}  # fmt: skip
    response = httpx.get(server.url + "/ingest/jobs", params=params, headers=headers)
    response.raise_for_status()
    return [job["id"] for job in response.json()["data"]]


def by_ids(spark: Any, server: EmulatorServer, ids: list[str], **options: str) -> Any:
    reader = (
        spark.read.format("sqlprovider")
        .option("server.amperity", server.url)
        .option("auth.amperity.token", AMPERITY_TOKEN)
        .option("numPartitions", "2")
    )
    for key, value in options.items():
        reader = reader.option(key, value)
    listed = ", ".join(f"'{i}'" for i in ids)
    return reader.load("amperity.ingest.jobs").where(f"tenant = '{TENANT}' AND id IN ({listed})")


def statuses(server: EmulatorServer) -> list[int | None]:
    return [e.status for e in server.log.entries()]


def test_two_tasks_share_the_rate_limit(spark: Any, amperity: EmulatorServer) -> None:
    ids = (job_ids(amperity) * 3)[:30]
    ids = list(dict.fromkeys(ids))
    assert len(ids) >= 20
    amperity.log.clear()
    found = by_ids(spark, amperity, ids).collect()
    assert sorted(r["id"] for r in found) == sorted(ids)
    sent = statuses(amperity)
    assert len(sent) == len(ids)
    assert sent.count(429) == 0  # 10 a second shared: 5 a second in each of the two tasks
    # The same read told the cluster may send 40 a second: the API refuses some (and the
    # engine's retries still bring every row).
    amperity.log.clear()
    found = by_ids(spark, amperity, ids, rate_limit="40").collect()
    assert sorted(r["id"] for r in found) == sorted(ids)
    assert statuses(amperity).count(429) > 0


def digitalocean_job(emulator: Emulator, uuid: str) -> dict[str, Any]:
    response = httpx.get(
        f"{emulator.url}/v2/gen-ai/indexing_jobs/{uuid}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    response.raise_for_status()
    job: dict[str, Any] = response.json()["job"]
    return job


def test_a_write_creates_one_job_per_row(
    spark: Any, digitalocean: Emulator, tmp_path: Path
) -> None:
    kbs = [
        r[0]
        for r in spark.read.format("sqlprovider")
        .option("server.digitalocean", digitalocean.url)
        .option("auth.digitalocean.token", TOKEN)
        .load("digitalocean.genai.knowledge_bases")
        .select("uuid")
        .limit(3)
        .collect()
    ]
    frame = spark.createDataFrame([(k,) for k in kbs], "knowledge_base_uuid STRING")
    digitalocean.server.log.clear()
    outcomes = tmp_path / "outcomes"
    (
        frame.repartition(2)
        .write.format("sqlprovider")
        .mode("append")
        .option("server.digitalocean", digitalocean.url)
        .option("auth.digitalocean.token", TOKEN)
        .option("outcomes", str(outcomes))
        .save("digitalocean.genai.indexing_jobs")
    )
    posts = [e for e in digitalocean.server.log.entries() if e.method == "POST"]
    assert sorted(p.json["knowledge_base_uuid"] for p in posts) == sorted(kbs)
    rows = spark.read.parquet(str(outcomes)).collect()
    assert sorted(r["status"] for r in rows) == ["ok"] * 3
    assert all(json.loads(r["response"])["http_status"] == 200 for r in rows)
    created = {r["id"]: json.loads(r["values"])["knowledge_base_uuid"] for r in rows}
    for job, kb in created.items():  # each created job is there, for the row's knowledge base
        assert digitalocean_job(digitalocean, job)["knowledge_base_uuid"] == kb
    assert len(created) == 3


def test_a_failing_row_is_reported_and_nothing_is_sent_twice(
    spark: Any, digitalocean: Emulator, tmp_path: Path
) -> None:
    kb = (
        spark.read.format("sqlprovider")
        .option("server.digitalocean", digitalocean.url)
        .option("auth.digitalocean.token", TOKEN)
        .load("digitalocean.genai.knowledge_bases")
        .first()["uuid"]
    )
    missing = "00000000-0000-4000-8000-000000000000"
    frame = spark.createDataFrame([(kb,), (missing,)], "knowledge_base_uuid STRING").coalesce(1)
    digitalocean.server.log.clear()
    outcomes = tmp_path / "outcomes"
    with pytest.raises(Exception) as raised:
        (
            frame.write.format("sqlprovider")
            .mode("append")
            .option("server.digitalocean", digitalocean.url)
            .option("auth.digitalocean.token", TOKEN)
            .option("outcomes", str(outcomes))
            .save("digitalocean.genai.indexing_jobs")
        )
    message = str(raised.value)
    assert "1 of 2 rows failed" in message
    assert "partition 0 row 1" in message and missing in message
    assert TOKEN not in message
    posts = [e.json["knowledge_base_uuid"] for e in digitalocean.server.log.entries()
             if e.method == "POST"]  # fmt: skip
    assert sorted(posts) == sorted([kb, missing])  # each row once, the failed one not retried
    rows = spark.read.parquet(str(outcomes)).orderBy("row").collect()
    assert [r["status"] for r in rows] == ["ok", "failed"]
    assert missing in rows[1]["error"]


def test_write_tasks_keep_to_their_share_of_the_rate(
    spark: Any, digitalocean: Emulator, tmp_path: Path
) -> None:
    kbs = [
        r[0]
        for r in spark.read.format("sqlprovider")
        .option("server.digitalocean", digitalocean.url)
        .load("digitalocean.genai.knowledge_bases")
        .select("uuid")
        .limit(8)
        .collect()
    ]
    assert len(set(kbs)) == 8
    frame = spark.createDataFrame([(k,) for k in kbs], "knowledge_base_uuid STRING")
    digitalocean.server.log.clear()
    outcomes = tmp_path / "outcomes"
    (
        frame.repartition(2)
        .write.format("sqlprovider")
        .mode("append")
        .option("server.digitalocean", digitalocean.url)
        .option("rate_limit", "4")  # 4 a second for the cluster: 2 in each of 2 tasks
        .option("numPartitions", "2")
        .option("outcomes", str(outcomes))
        .save("digitalocean.genai.indexing_jobs")
    )
    sent = {e.json["knowledge_base_uuid"]: e.time for e in digitalocean.server.log.entries()
            if e.method == "POST"}  # fmt: skip
    assert sorted(sent) == sorted(kbs)  # each row once
    by_task: dict[int, list[float]] = {}
    for row in spark.read.parquet(str(outcomes)).collect():
        assert row["status"] == "ok"
        by_task.setdefault(row["partition"], []).append(
            sent[json.loads(row["values"])["knowledge_base_uuid"]]
        )
    assert len(by_task) == 2
    for times in by_task.values():
        times.sort()
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps and min(gaps) >= 0.5 * 0.9  # one POST each half second in each task
