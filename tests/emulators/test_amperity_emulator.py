"""The Amperity emulator behaves like the real ingest jobs API: headers, auth, errors, the
7-day window, jobs and their tables and files, the 10 requests a second limit."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sqlprovider.emulators.amperity import EPOCH, AmperityConfig, AmperityState, create_app
from sqlprovider.emulators.kit import EmulatorServer
from tests.conftest import Clock

TOKEN = "amperity-test-token"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "amperity-tenant": "acme",
    "api-version": "2024-04-01",
}
JOBS = "/ingest/jobs"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DOCUMENTED_STATES = {
    "scheduled",
    "started",
    "in-progress",
    "running",
    "finalizing",
    "succeeded",
    "stopping",
    "stopped",
    "failed",
    "skipped",
    "canceled",
}
TERMINAL = {"succeeded", "failed", "skipped", "stopped", "canceled"}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """Shared by the tests that only read: its clock never moves, so it stays at EPOCH."""
    config = AmperityConfig(token=TOKEN, rate_limited=False, clock=Clock())
    with EmulatorServer(create_app(config), name="amperity") as running:
        yield running


@pytest.fixture
def fresh(clock: Clock) -> Iterator[EmulatorServer]:
    """Its own server, for tests that move its clock, inject faults or read its log."""
    config = AmperityConfig(token=TOKEN, rate_limited=False, clock=clock)
    with EmulatorServer(create_app(config), name="amperity") as running:
        yield running


def seeded(server: EmulatorServer) -> AmperityState:
    state: AmperityState = server.app.state.amperity
    return state


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def list_jobs(
    server: EmulatorServer, start: datetime | str, end: datetime | str, **params: Any
) -> httpx.Response:
    window = {
        "created_from": start if isinstance(start, str) else stamp(start),
        "created_to": end if isinstance(end, str) else stamp(end),
    }
    return httpx.get(server.url + JOBS, params={**window, **params}, headers=HEADERS)


def ids_in(server: EmulatorServer, start: datetime, end: datetime) -> list[str]:
    response = list_jobs(server, start, end)
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["data"]]


def seeded_ids(server: EmulatorServer, start: datetime, end: datetime) -> list[str]:
    """From the state directly, not through its index: what a window should return."""
    return [job.id for job in seeded(server).jobs if start <= job.start < end]


# -- headers, auth and errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"amperity-tenant": None}, 400, "Missing required header: amperity-tenant"),
        ({"amperity-tenant": "globex"}, 400, "Unknown tenant: globex"),
        ({"api-version": None}, 400, "Missing required header: api-version"),
        (
            {"api-version": "2025-07-31"},  # the Profile API's version, not the control plane's
            400,
            "Unsupported API version: 2025-07-31. Supported: 2024-04-01, unstable",
        ),
        ({"Authorization": None}, 401, "Authentication Required: no Bearer token was provided"),
        ({"Authorization": TOKEN}, 401, "Authentication Required: no Bearer token was provided"),
        (
            {"Authorization": "Bearer expired"},
            401,
            "Authentication Required: the access token is invalid or expired",
        ),
        (
            {"Authorization": "Bearer sandbox-amperity-no-ingest"},
            403,
            "Not Authorized: the API key may not read ingest jobs",
        ),
    ],
)
def test_header_and_auth_errors_have_the_api_body(
    server: EmulatorServer, change: dict[str, str | None], status: int, message: str
) -> None:
    headers = {k: v for k, v in {**HEADERS, **change}.items() if v is not None}
    for path in (JOBS, f"{JOBS}/isj-20250501-12345-abcdef"):
        response = httpx.get(server.url + path, headers=headers)
        assert response.status_code == status
        assert response.json() == {"status": status, "message": message}
        assert response.headers["content-type"] == "application/json"


def test_api_version_may_come_as_a_query_parameter(server: EmulatorServer) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "api-version"}
    window = {"created_from": "2025-05-01", "created_to": "2025-05-02"}
    response = httpx.get(
        server.url + JOBS, params={**window, "api_version": "2024-04-01"}, headers=headers
    )
    assert response.status_code == 200 and response.json()["data"]
    unstable = httpx.get(
        server.url + JOBS, params=window, headers={**HEADERS, "api-version": "unstable"}
    )
    assert unstable.json() == response.json()


def test_unknown_paths_methods_and_ids(server: EmulatorServer) -> None:
    for path in ("/ingest/nope", f"{JOBS}/"):
        response = httpx.get(server.url + path, headers=HEADERS)
        assert (response.status_code, response.json()) == (
            404,
            {"status": 404, "message": "Not Found"},
        )
    missing = httpx.get(server.url + f"{JOBS}/isj-20250501-00000-nosuch", headers=HEADERS)
    assert missing.status_code == 404
    assert missing.json() == {
        "status": 404,
        "message": "Ingest job not found: isj-20250501-00000-nosuch",
    }
    posted = httpx.post(server.url + JOBS, headers=HEADERS)
    assert (posted.status_code, posted.json()) == (
        405,
        {"status": 405, "message": "Method Not Allowed"},
    )


# -- the window -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"created_to": "2025-05-08"}, "Missing required query parameter: created_from"),
        ({"created_from": "2025-05-01"}, "Missing required query parameter: created_to"),
        (
            {"created_from": "last week", "created_to": "2025-05-08"},
            "Invalid value for created_from: 'last week' is not an ISO-8601 timestamp "
            "(for example 2024-10-01 or 2024-10-01T00:00:00Z)",
        ),
        (
            {"created_from": "2025-05-01", "created_to": "2025-13-01"},
            "Invalid value for created_to: '2025-13-01' is not an ISO-8601 timestamp "
            "(for example 2024-10-01 or 2024-10-01T00:00:00Z)",
        ),
        (
            {"created_from": "2025-05-08", "created_to": "2025-05-01"},
            "created_to must not be earlier than created_from",
        ),
        (
            {"created_from": "2025-05-01", "created_to": "2025-05-02", "with_total": "yes"},
            "Invalid value for with_total: 'yes' is not a boolean (true or false)",
        ),
    ],
)
def test_missing_or_invalid_parameters_are_400(
    server: EmulatorServer, params: dict[str, str], message: str
) -> None:
    response = httpx.get(server.url + JOBS, params=params, headers=HEADERS)
    assert response.status_code == 400
    assert response.json() == {"status": 400, "message": message}


def test_a_window_may_span_seven_days_and_not_a_second_more(server: EmulatorServer) -> None:
    start = datetime(2025, 5, 1, tzinfo=UTC)
    week = list_jobs(server, start, start + timedelta(days=7), with_total="true")
    assert week.status_code == 200
    assert week.json()["total"] == len(week.json()["data"]) > 100
    refused = list_jobs(server, start, start + timedelta(days=7, seconds=1))
    assert refused.status_code == 400
    assert refused.json() == {
        "status": 400,
        "message": "The time window from created_from to created_to must not exceed 7 days",
    }
    assert "total" not in list_jobs(server, start, start + timedelta(days=1)).json()


def test_partial_dates_and_offsets_name_the_same_instant(server: EmulatorServer) -> None:
    full = list_jobs(server, "2025-05-01T00:00:00Z", "2025-05-03T00:00:00.000Z").json()
    partial = list_jobs(server, "2025-05-01", "2025-05-03").json()
    offset = list_jobs(server, "2025-05-01T02:00:00+02:00", "2025-05-02T19:00:00-05:00").json()
    assert full == partial == offset and full["data"]


def test_the_window_includes_its_start_and_excludes_its_end(server: EmulatorServer) -> None:
    job = seeded(server).jobs[100]
    before = seeded(server).jobs[99]
    assert ids_in(server, job.start, job.start + timedelta(milliseconds=1)) == [job.id]
    earlier = ids_in(server, job.start - timedelta(days=1), job.start)
    assert job.id not in earlier and earlier[-1] == before.id
    assert ids_in(server, job.start, job.start) == []  # an empty window is no error


def test_a_window_delivers_each_of_its_jobs_once_oldest_first(server: EmulatorServer) -> None:
    start = datetime(2025, 4, 10, 6, 30, tzinfo=UTC)
    end = start + timedelta(days=7)
    body = list_jobs(server, start, end).json()
    ids = [job["id"] for job in body["data"]]
    assert ids == seeded_ids(server, start, end) and len(ids) == len(set(ids)) > 100
    assert set(body) == {"data"}  # no cursor: callers page by moving the window
    starts = [min(t["started_at"] for t in job["tables"]) for job in body["data"]]
    assert starts == sorted(starts)
    assert all(start <= parse(s) < end for s in starts)


def test_consecutive_windows_partition_thirty_days(server: EmulatorServer) -> None:
    state = seeded(server)
    start = state.jobs[len(state.jobs) // 3].start  # a boundary right on a job's start
    end = start + timedelta(days=30)
    collected: list[str] = []
    low = start
    while low < end:
        high = min(low + timedelta(days=7), end)
        collected.extend(ids_in(server, low, high))
        low = high
    assert len(collected) == len(set(collected))
    assert collected == seeded_ids(server, start, end)
    assert collected[0] == state.jobs[len(state.jobs) // 3].id
    assert 600 < len(collected) < 740  # ~22 jobs a day


def test_the_seeded_jobs_span_ninety_days_before_the_epoch(server: EmulatorServer) -> None:
    state = seeded(server)
    assert len(state.jobs) == 2000 == len(state.by_id)
    assert EPOCH - timedelta(days=90) <= state.jobs[0].start < EPOCH - timedelta(days=89)
    assert EPOCH - timedelta(hours=1) < state.jobs[-1].start < EPOCH
    assert ids_in(server, EPOCH, EPOCH + timedelta(days=7)) == []


# -- jobs, tables and files -----------------------------------------------------------------


def test_get_by_id_is_the_job_of_the_list_under_either_base_path(server: EmulatorServer) -> None:
    start = datetime(2025, 5, 10, tzinfo=UTC)
    listed = list_jobs(server, start, start + timedelta(days=1)).json()["data"][3]
    for prefix in ("", "/api"):
        response = httpx.get(server.url + f"{prefix}{JOBS}/{listed['id']}", headers=HEADERS)
        assert response.status_code == 200
        assert response.json() == listed
    api = httpx.get(
        server.url + "/api" + JOBS,
        params={"created_from": "2025-05-10", "created_to": "2025-05-11"},
        headers=HEADERS,
    )
    assert api.json()["data"][3] == listed
    assert re.match(r"^isj-20250510-\d{5}-[0-9A-Za-z]{6}$", listed["id"])
    assert re.match(r"^wf-20250510-\d{4}-[0-9a-z]{3}$", listed["workflow_id"])


def check_table(job: dict[str, Any], table: dict[str, Any]) -> None:
    assert set(table) == {
        "feed_id",
        "job_id",
        "table_name",
        "state",
        "read",
        "errors",
        "rejected",
        "inserted",
        "updated",
        "started_at",
        "ended_at",
        "files",
    }
    assert table["job_id"] == job["id"] and table["feed_id"].startswith("df-")
    assert table["state"] in DOCUMENTED_STATES
    assert STAMP.match(table["started_at"])
    if table["state"] in TERMINAL:
        assert STAMP.match(table["ended_at"]) and table["ended_at"] >= table["started_at"]
    else:
        assert table["ended_at"] is None
    files = table["files"]
    assert table["read"] == sum(f["read"] for f in files)
    assert table["errors"] == sum(f["errors"] for f in files)
    for file in files:
        assert set(file) == {"file_id", "name", "read", "errors"}
        assert re.match(r"^cb-\d{8}-\d{5}-\w{5}/part\d\.(avro|csv|parquet|json)$", file["file_id"])
        assert file["file_id"].endswith("/" + file["name"]) and 0 <= file["errors"] <= file["read"]
    if table["state"] == "succeeded":
        assert files and table["read"] == (
            table["errors"] + table["rejected"] + table["inserted"] + table["updated"]
        )
    elif table["state"] in ("skipped", "canceled", "scheduled"):
        assert files == [] and table["read"] == table["inserted"] == 0
    else:
        assert table["inserted"] == table["updated"] == table["rejected"] == 0


def test_tables_and_files_of_every_job(server: EmulatorServer) -> None:
    states: dict[str, int] = {}
    end = EPOCH
    jobs = 0
    while end > EPOCH - timedelta(days=91):
        for job in list_jobs(server, end - timedelta(days=7), end).json()["data"]:
            jobs += 1
            assert set(job) == {"id", "workflow_id", "tables"} and job["tables"]
            assert job["tables"][0]["started_at"] == min(t["started_at"] for t in job["tables"])
            for table in job["tables"]:
                check_table(job, table)
                states[table["state"]] = states.get(table["state"], 0) + 1
        end -= timedelta(days=7)
    assert jobs == 2000
    assert states["succeeded"] > 0.8 * sum(states.values())
    for state in ("failed", "skipped", "stopped", "canceled", "running", "finalizing"):
        assert states.get(state, 0) > 0, state  # stuck ones stay running or finalizing
    assert states["scheduled"] == states["stopping"] == 1  # the jobs in flight at the epoch


def test_jobs_in_flight_finish_as_the_clock_moves_and_stuck_ones_never(
    fresh: EmulatorServer, clock: Clock
) -> None:
    server = fresh

    def states(job_id: str) -> list[tuple[str, str | None]]:
        job = httpx.get(server.url + f"{JOBS}/{job_id}", headers=HEADERS).json()
        return [(t["state"], t["ended_at"]) for t in job["tables"]]

    newest, stopping, long_run = reversed(ids_in(server, EPOCH - timedelta(hours=1), EPOCH))
    assert [s for s, _ in states(newest)] == ["running", "running", "scheduled"]
    assert [s for s, _ in states(stopping)] == ["succeeded", "stopping"]
    assert [s for s, _ in states(long_run)] == ["running", "finalizing"]
    stuck = next(
        job.id for job in seeded(server).jobs[:-3] if any(t.end_at is None for t in job.tables)
    )
    stuck_before = httpx.get(server.url + f"{JOBS}/{stuck}", headers=HEADERS).content
    assert b'"ended_at":null' in stuck_before

    clock.now += 60
    assert states(stopping)[1] == ("stopped", "2025-06-01T00:00:30.000Z")
    clock.now += 3 * 3600
    assert [s for s, _ in states(newest)] == ["succeeded"] * 3
    assert [s for s, _ in states(long_run)] == ["failed", "succeeded"]
    assert all(ended is not None for _, ended in states(newest) + states(long_run))
    assert httpx.get(server.url + f"{JOBS}/{stuck}", headers=HEADERS).content == stuck_before


def test_same_seed_same_bytes_whatever_the_order_of_requests(clock: Clock) -> None:
    start, end = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 8, tzinfo=UTC)
    bodies = []
    for seed, first_by_id in ((7, True), (7, False), (8, False)):
        app = create_app(AmperityConfig(token=TOKEN, seed=seed, rate_limited=False, clock=clock))
        with EmulatorServer(app) as running:
            if first_by_id:
                some = seeded(running).window(start, end)[5].id
                httpx.get(running.url + f"{JOBS}/{some}", headers=HEADERS)
            bodies.append(list_jobs(running, start, end).content)
    assert bodies[0] == bodies[1] and len(bodies[0]) > 100_000
    assert bodies[2] != bodies[0]


# -- rate limit, request log, faults --------------------------------------------------------


def test_a_burst_of_thirty_requests_meets_429s() -> None:
    app = create_app(AmperityConfig(token=TOKEN, jobs=50))
    with EmulatorServer(app) as running, httpx.Client(headers=HEADERS) as client:
        began = time.monotonic()
        responses = [client.get(running.url + f"{JOBS}/nope") for _ in range(30)]
        elapsed = time.monotonic() - began
    statuses = [r.status_code for r in responses]
    assert statuses[:10] == [404] * 10  # the burst passes
    refused = [r for r in responses if r.status_code == 429]
    assert len(refused) >= 30 - 10 - int(elapsed * 10) - 1 > 0
    for response in refused:
        assert response.json() == {"status": 429, "message": "Too Many Requests"}
        assert "retry-after" not in response.headers  # none documented
        assert not any(h.startswith(("ratelimit", "x-ratelimit")) for h in response.headers)


def test_without_rate_limits_a_burst_passes() -> None:
    app = create_app(AmperityConfig(token=TOKEN, jobs=50, rate_limited=False))
    with EmulatorServer(app) as running, httpx.Client(headers=HEADERS) as client:
        statuses = {client.get(running.url + f"{JOBS}/nope").status_code for _ in range(30)}
    assert statuses == {404}


def test_the_rate_limit_refills_ten_a_second(clock: Clock) -> None:
    app = create_app(AmperityConfig(token=TOKEN, jobs=50, clock=clock))
    with EmulatorServer(app) as running, httpx.Client(headers=HEADERS) as client:

        def status() -> int:
            return client.get(running.url + f"{JOBS}/nope").status_code

        assert [status() for _ in range(11)] == [404] * 10 + [429]
        clock.now += 0.1
        assert [status(), status()] == [404, 429]
        clock.now += 5  # refills up to the burst, no more
        assert [status() for _ in range(11)] == [404] * 10 + [429]


def test_request_log_and_an_injected_fault(fresh: EmulatorServer) -> None:
    server = fresh
    server.faults.fail("GET", JOBS, status=503, times=1)
    first = list_jobs(server, "2025-05-01", "2025-05-02")
    second = list_jobs(server, "2025-05-01", "2025-05-02")
    assert first.status_code == 503
    assert first.json() == {"status": 503, "message": "Service Unavailable"}
    assert second.status_code == 200 and second.json()["data"]
    server.faults.fail("*", "*", status=500)
    crashed = httpx.get(server.url + f"{JOBS}/anything", headers=HEADERS)
    assert crashed.json() == {"status": 500, "message": "An unexpected error occurred."}
    entries = server.log.entries()
    assert [(e.method, e.path, e.status) for e in entries] == [
        ("GET", JOBS, 503),
        ("GET", JOBS, 200),
        ("GET", f"{JOBS}/anything", 500),
    ]
    assert entries[0].query == "created_from=2025-05-01&created_to=2025-05-02"
    assert entries[0].headers["authorization"] == "Bearer ***"
    assert entries[0].headers["amperity-tenant"] == "acme"
    assert TOKEN not in repr(entries)
