"""The example SQL files in docs/examples, run against all four emulators and checked against
what the emulators' APIs hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sqlprovider.cli.demo import example
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.sandbox import EMULATORS, SandboxOptions, base_url, start_all
from sqlprovider.session import Session

SINCE, UNTIL = datetime(2025, 5, 25, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, EmulatorServer]]:
    running = start_all(options=SandboxOptions(rate_limited=False))
    yield {s.name: s for s in running}
    for server in running:
        server.stop()


@pytest.fixture
def session(
    servers: dict[str, EmulatorServer], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Session]:
    monkeypatch.setenv("AMPERITY_TENANT", EMULATORS["amperity"].env["AMPERITY_TENANT"])
    opened = Session(
        servers={name: base_url(s) for name, s in servers.items()},
        auth={name: {"token": s.token} for name, s in servers.items() if s.token},
    )
    yield opened
    opened.close()


def get(server: EmulatorServer, path: str, **params: Any) -> Any:
    kind = EMULATORS[server.name]
    headers = {"Authorization": f"Bearer {kind.token}"} if kind.token else {}
    if server.name == "amperity":
        headers.update({"amperity-tenant": "acme", "api-version": "2024-04-01"})
    response = httpx.get(base_url(server) + path, params=params, headers=headers)
    response.raise_for_status()
    return response.json()


def digitalocean_jobs(server: EmulatorServer) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    page = 1
    while True:
        body = get(server, "/v2/gen-ai/indexing_jobs", page=page, per_page=200)
        jobs.extend(body["jobs"])
        if page >= body["meta"]["pages"]:
            return jobs
        page += 1


def amperity_tables(server: EmulatorServer) -> list[dict[str, Any]]:
    body = get(server, "/ingest/jobs", created_from=SINCE.isoformat(), created_to=UNTIL.isoformat())
    return [
        table
        for job in body["data"]
        for table in job["tables"]
        if SINCE <= datetime.fromisoformat(table["started_at"]) < UNTIL
    ]


def test_failed_or_stuck_across_four_platforms(
    servers: dict[str, EmulatorServer], session: Session
) -> None:
    [result] = session.execute(example("failed_or_stuck.sql"))
    assert result.columns == [
        "platform",
        "job_id",
        "state",
        "problem",
        "started",
        "finished",
        "items",
        "detail",
    ]
    failed = Counter(row[0] for row in result.rows if row[3] == "failed")

    do_failed = [
        j
        for j in digitalocean_jobs(servers["digitalocean"])
        if j["phase"] in ("BATCH_JOB_PHASE_FAILED", "BATCH_JOB_PHASE_ERROR")
    ]
    onyx_rows = [
        row
        for group in httpx.post(
            base_url(servers["onyx"]) + "/manage/admin/connector/indexing-status",
            json={"get_all_connectors": True},
            headers={"Authorization": f"Bearer {servers['onyx'].token}"},
        ).json()
        for row in group["indexing_statuses"]
    ]
    openverse_errors = [t for t in get(servers["openverse"], "/task") if t["error"]]
    amperity_failed = [t for t in amperity_tables(servers["amperity"]) if t["state"] == "failed"]

    assert failed["digitalocean"] == len(do_failed) > 0
    assert failed["onyx"] == sum(1 for r in onyx_rows if r.get("last_status") == "failed") > 0
    flagged = [
        r for r in onyx_rows if r.get("last_status") == "failed" or r.get("in_repeated_error_state")
    ]
    assert sum(1 for row in result.rows if row[0] == "onyx") == len(flagged)
    assert failed["openverse"] == len(openverse_errors) > 0
    assert failed["amperity"] == len(amperity_failed) > 0
    assert {row[1] for row in result.rows if row[0] == "digitalocean" and row[3] == "failed"} == {
        j["uuid"] for j in do_failed
    }


def test_failures_by_day_joins_two_platforms(
    servers: dict[str, EmulatorServer], session: Session
) -> None:
    [result] = session.execute(example("failures_by_day.sql"))
    by_day = {row[0].isoformat(): row[1:] for row in result.rows}
    jobs: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for job in digitalocean_jobs(servers["digitalocean"]):
        created = datetime.fromisoformat(job["created_at"])
        if SINCE <= created < UNTIL:
            jobs[created.date().isoformat()] += 1
            failed[created.date().isoformat()] += job["phase"] in (
                "BATCH_JOB_PHASE_FAILED",
                "BATCH_JOB_PHASE_ERROR",
            )
    loads = Counter(t["started_at"][:10] for t in amperity_tables(servers["amperity"]))
    days = sorted(set(jobs) | set(loads))
    assert sorted(by_day) == days
    for day in days:
        indexing_jobs, indexing_failed, table_loads = by_day[day][:3]
        assert (indexing_jobs, indexing_failed, table_loads) == (jobs[day], failed[day], loads[day])
    assert all(day.startswith("2025-05") for day in days)
