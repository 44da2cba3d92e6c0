"""Amperity through its emulator: 7-day slices of a longer range (no gaps, no repeats), range
pushdown from started_at, nested tables and files, the rate limit under a burst, and errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

import sqlprovider
from sqlprovider.emulators.amperity import AmperityConfig, create_app
from sqlprovider.emulators.kit import EmulatorServer

TOKEN = "e2e-amperity-token-91d2"
TENANT = "acme-e2e"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "amperity-tenant": TENANT,
    "api-version": "2024-04-01",
}


@pytest.fixture(scope="module")
def amperity() -> Iterator[EmulatorServer]:
    config = AmperityConfig(token=TOKEN, tenant=TENANT)
    with EmulatorServer(create_app(config), name="amperity") as server:
        yield server


@pytest.fixture(autouse=True)
def tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMPERITY_TENANT", TENANT)


def connect(server: EmulatorServer) -> sqlprovider.Connection:
    return sqlprovider.connect(
        servers={"amperity": server.url}, auth={"amperity": {"token": TOKEN}}
    )


def jobs_between(server: EmulatorServer, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The jobs of a range, asked week by week straight from the API (the ground truth)."""
    found: dict[str, dict[str, Any]] = {}
    while start < end:
        stop = min(start + timedelta(days=7), end)
        params = {"created_from": start.isoformat(), "created_to": stop.isoformat()}
        response = httpx.get(server.url + "/ingest/jobs", params=params, headers=HEADERS)
        while response.status_code == 429:  # the engine's requests just used the bucket up
            time.sleep(0.2)
            response = httpx.get(server.url + "/ingest/jobs", params=params, headers=HEADERS)
        response.raise_for_status()
        for job in response.json()["data"]:
            found.setdefault(job["id"], job)
        start = stop
    return list(found.values())


def listed(server: EmulatorServer) -> list[dict[str, list[str]]]:
    return [parse_qs(e.query) for e in server.log.entries() if e.path == "/ingest/jobs"]


def test_a_30_day_range_is_asked_in_7_day_slices(amperity: EmulatorServer) -> None:
    start, end = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 5, 1, tzinfo=UTC)
    truth = jobs_between(amperity, start, end)
    amperity.log.clear()
    with connect(amperity) as conn:
        rows = conn.execute(
            "SELECT id, workflow_id, created_from FROM amperity.ingest.jobs "
            "WHERE created_from = '2025-04-01' AND created_to = '2025-05-01'"
        ).fetchall()
    sent = [(q["created_from"][0], q["created_to"][0]) for q in listed(amperity)]
    assert sorted(sent) == [
        ("2025-04-01T00:00:00Z", "2025-04-08T00:00:00Z"),
        ("2025-04-08T00:00:00Z", "2025-04-15T00:00:00Z"),
        ("2025-04-15T00:00:00Z", "2025-04-22T00:00:00Z"),
        ("2025-04-22T00:00:00Z", "2025-04-29T00:00:00Z"),
        ("2025-04-29T00:00:00Z", "2025-05-01T00:00:00Z"),
    ]
    assert len(truth) > 100
    assert sorted(r[0] for r in rows) == sorted(j["id"] for j in truth)  # no gap, no repeat
    assert {r[2] for r in rows} == {"2025-04-01"}  # rows show the range the statement asked


def test_range_pushdown_on_started_at_matches_filtering_everything(
    amperity: EmulatorServer,
) -> None:
    start, end = datetime(2025, 4, 3, 12, tzinfo=UTC), datetime(2025, 4, 19, tzinfo=UTC)
    expected = sorted(
        (table["job_id"], table["feed_id"])
        for job in jobs_between(amperity, start - timedelta(days=7), end + timedelta(days=7))
        for table in job["tables"]
        if start <= datetime.fromisoformat(table["started_at"]) < end
    )
    amperity.log.clear()
    with connect(amperity) as conn:
        rows = conn.execute(
            "SELECT job_id, feed_id FROM amperity.ingest.job_tables "
            "WHERE started_at >= '2025-04-03T12:00:00Z' AND started_at < '2025-04-19'"
        ).fetchall()
    assert sorted(rows) == expected and expected
    first = listed(amperity)[0]
    # The API lists a job under its first table's start: the range is asked for an hour
    # earlier (the provider's widen), so a job whose later table started in range is there.
    assert first["created_from"] == ["2025-04-03T11:00:00Z"]
    assert len(listed(amperity)) == 3  # 15.5 days and an hour: three slices


def test_files_carry_their_job_and_table(amperity: EmulatorServer) -> None:
    start, end = datetime(2025, 4, 10, tzinfo=UTC), datetime(2025, 4, 12, tzinfo=UTC)
    truth = sorted(
        (table["job_id"], table["feed_id"], table["table_name"], file["file_id"], file["read"])
        for job in jobs_between(amperity, start, end)
        for table in job["tables"]
        for file in table["files"]
    )
    with connect(amperity) as conn:
        rows = conn.execute(
            "SELECT job_id, feed_id, table_name, file_id, read FROM amperity.ingest.job_files "
            "WHERE created_from = '2025-04-10' AND created_to = '2025-04-12'"
        ).fetchall()
    assert sorted(rows) == truth and truth


def test_one_job_by_id_with_its_tables(amperity: EmulatorServer) -> None:
    [job] = jobs_between(
        amperity, datetime(2025, 4, 10, tzinfo=UTC), datetime(2025, 4, 10, 6, tzinfo=UTC)
    )[:1]
    with connect(amperity) as conn:
        jobs = conn.execute(
            f"SELECT id, workflow_id FROM amperity.ingest.jobs WHERE id = '{job['id']}'"
        ).fetchall()
        tables = conn.execute(
            f"SELECT table_name, state FROM amperity.ingest.job_tables WHERE job_id = '{job['id']}'"
        ).fetchall()
        missing = conn.execute("SELECT * FROM amperity.ingest.jobs WHERE id = 'isj-x'").fetchall()
    assert jobs == [(job["id"], job["workflow_id"])]
    assert tables == [(t["table_name"], t["state"]) for t in job["tables"]]
    assert missing == []


def test_a_burst_keeps_to_the_rate_limit_and_no_429_reaches_the_user(
    amperity: EmulatorServer,
) -> None:
    ids = [
        j["id"]
        for j in jobs_between(
            amperity, datetime(2025, 4, 20, tzinfo=UTC), datetime(2025, 4, 27, tzinfo=UTC)
        )
    ][:30]
    time.sleep(1.2)  # the ground truth above drew on the emulator's bucket: let it refill
    amperity.log.clear()
    with connect(amperity) as conn:
        cur = conn.execute(
            "SELECT j.id, t.table_name FROM amperity.ingest.jobs j "
            "JOIN amperity.ingest.job_tables t ON t.job_id = j.id "
            f"WHERE j.id IN ({', '.join(repr(i) for i in ids)})"
        )
        rows = cur.fetchall()
    assert {r[0] for r in rows} == set(ids)
    statuses = [e.status for e in amperity.log.entries()]
    assert len(statuses) == 60  # one get per job for each table, none retried
    assert statuses.count(429) == 0  # the client kept to 10 a second
    times = sorted(e.time for e in amperity.log.entries())
    assert times[-1] - times[0] >= 5.0  # 60 requests at 10 a second take about 6 s


def test_missing_range_names_every_way_to_give_it(amperity: EmulatorServer) -> None:
    with connect(amperity) as conn, pytest.raises(sqlprovider.MissingParamsError) as raised:
        conn.execute("SELECT * FROM amperity.ingest.job_tables WHERE state = 'failed'")
    message = str(raised.value)
    assert "created_from can also be given as started_at >= '...'" in message
    assert "created_to can also be given as started_at < '...'" in message


def test_the_apis_error_body_surfaces(amperity: EmulatorServer) -> None:
    with connect(amperity) as conn, pytest.raises(sqlprovider.HTTPStatusError) as raised:
        conn.execute(
            "SELECT * FROM amperity.ingest.jobs "
            "WHERE created_from = 'yesterday' AND created_to = 'today'"
        )
    assert raised.value.status_code == 400
    assert raised.value.api_message and raised.value.api_message in str(raised.value)


def test_a_wrong_token_is_an_auth_error(
    amperity: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMPERITY_TOKEN", "wrong-token-12345")
    with (
        sqlprovider.connect(servers={"amperity": amperity.url}) as conn,
        pytest.raises(sqlprovider.AuthError) as raised,
    ):
        conn.execute("SELECT * FROM amperity.ingest.jobs WHERE id = 'isj-1'")
    assert "AMPERITY_TOKEN" in str(raised.value) and "wrong-token-12345" not in str(raised.value)
