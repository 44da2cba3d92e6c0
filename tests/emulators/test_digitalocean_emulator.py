"""The DigitalOcean emulator behaves like the real API: auth, errors, pagination, jobs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sqlprovider.emulators.digitalocean import DigitalOceanConfig, create_app
from sqlprovider.emulators.kit import EmulatorServer
from tests.conftest import Clock

TOKEN = "emulator-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def server(clock: Clock) -> Iterator[EmulatorServer]:
    config = DigitalOceanConfig(token=TOKEN, jobs=1000, phase_seconds=10, clock=clock)
    with EmulatorServer(create_app(config), name="digitalocean") as running:
        yield running


def get(server: EmulatorServer, path: str, **params: Any) -> httpx.Response:
    return httpx.get(server.url + path, params=params, headers=AUTH)


def test_missing_or_wrong_token_is_401(server: EmulatorServer) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = httpx.get(server.url + "/v2/gen-ai/indexing_jobs", headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert body["id"] == "unauthorized" and body["message"] == "Unable to authenticate you."
        assert body["request_id"] == response.headers["x-request-id"]


def test_every_response_carries_ratelimit_headers(server: EmulatorServer) -> None:
    first = get(server, "/v2/gen-ai/indexing_jobs")
    second = httpx.get(server.url + "/v2/gen-ai/nope", headers=AUTH)
    for response in (first, second):
        assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(
            response.headers
        )
    assert int(second.headers["ratelimit-remaining"]) < int(first.headers["ratelimit-remaining"])


def test_unknown_paths_and_ids_are_404_with_the_api_body(server: EmulatorServer) -> None:
    for path in ("/v2/gen-ai/nope", "/v2/gen-ai/indexing_jobs/no-such-job"):
        response = get(server, path)
        assert response.status_code == 404
        assert response.json()["id"] == "not_found"


def test_pagination_walks_every_job_exactly_once(server: EmulatorServer) -> None:
    url: str | None = server.url + "/v2/gen-ai/indexing_jobs?per_page=200"
    seen: list[str] = []
    pages = []
    while url:
        body = httpx.get(url, headers=AUTH).json()
        pages.append(body)
        seen.extend(job["uuid"] for job in body["jobs"])
        url = body["links"].get("pages", {}).get("next")
    assert len(seen) == 1000 == len(set(seen))
    assert [p["meta"]["page"] for p in pages] == [1, 2, 3, 4, 5]
    assert all(p["meta"] == {"page": p["meta"]["page"], "pages": 5, "total": 1000} for p in pages)
    assert set(pages[0]["links"]["pages"]) == {"next", "last"}
    assert set(pages[-1]["links"]["pages"]) == {"first", "previous"}
    assert pages[0]["links"]["pages"]["next"].startswith("http://127.0.0.1:")


def test_per_page_defaults_to_20_and_is_capped_at_200(server: EmulatorServer) -> None:
    assert len(get(server, "/v2/gen-ai/indexing_jobs").json()["jobs"]) == 20
    body = get(server, "/v2/gen-ai/indexing_jobs", per_page=500).json()
    assert len(body["jobs"]) == 200 and body["meta"]["pages"] == 5
    assert get(server, "/v2/gen-ai/indexing_jobs", page=99).json()["jobs"] == []
    bad = get(server, "/v2/gen-ai/indexing_jobs", per_page="many")
    assert bad.status_code == 400 and bad.json()["id"] == "bad_request"


def test_a_single_page_has_no_links(server: EmulatorServer) -> None:
    body = get(server, "/v2/gen-ai/knowledge_bases", per_page=200).json()
    assert body["links"] == {} and body["meta"] == {"page": 1, "pages": 1, "total": 25}


def test_jobs_have_the_api_field_types(server: EmulatorServer) -> None:
    jobs = get(server, "/v2/gen-ai/indexing_jobs", per_page=200).json()["jobs"]
    for job in jobs:
        assert isinstance(job["total_datasources"], int)
        assert isinstance(job["total_tokens"], str) and job["total_tokens"].isdigit()
        assert job["created_at"].endswith("Z")
        running = job["phase"] in ("BATCH_JOB_PHASE_PENDING", "BATCH_JOB_PHASE_RUNNING")
        assert ("finished_at" in job) is not running
    phases = {job["phase"] for job in jobs}
    assert {"BATCH_JOB_PHASE_SUCCEEDED", "BATCH_JOB_PHASE_FAILED"} <= phases
    created = [job["created_at"] for job in jobs]
    assert created == sorted(created, reverse=True)  # newest first


def test_same_seed_same_bytes(clock: Clock) -> None:
    bodies = []
    for _ in range(2):
        app = create_app(DigitalOceanConfig(token=TOKEN, jobs=300, clock=clock))
        with EmulatorServer(app) as running:
            body = get(running, "/v2/gen-ai/indexing_jobs", page=2, per_page=100).content
            # Links hold each server's own port; everything before them is identical.
            bodies.append(body.split(b'"links"')[0])
    assert bodies[0] == bodies[1] and len(bodies[0]) > 10_000


def test_created_job_moves_through_its_phases(server: EmulatorServer, clock: Clock) -> None:
    kb = get(server, "/v2/gen-ai/knowledge_bases").json()["knowledge_bases"][0]
    created = httpx.post(
        server.url + "/v2/gen-ai/indexing_jobs",
        headers=AUTH,
        json={"knowledge_base_uuid": kb["uuid"]},
    ).json()["job"]
    assert created["phase"] == "BATCH_JOB_PHASE_PENDING"
    assert created["data_source_uuids"]  # none given: every data source of the knowledge base

    def phase() -> str:
        return str(
            get(server, f"/v2/gen-ai/indexing_jobs/{created['uuid']}").json()["job"]["phase"]
        )

    clock.now += 10
    assert phase() == "BATCH_JOB_PHASE_RUNNING"
    clock.now += 10
    assert phase() == "BATCH_JOB_PHASE_SUCCEEDED"
    first = get(server, "/v2/gen-ai/indexing_jobs").json()["jobs"][0]
    assert first["uuid"] == created["uuid"]  # the list shows it first


def test_jobs_of_a_failing_knowledge_base_fail(server: EmulatorServer, clock: Clock) -> None:
    kbs = get(server, "/v2/gen-ai/knowledge_bases", per_page=200).json()["knowledge_bases"]
    failing = next(kb for kb in kbs if "fail" in kb["name"])
    job = httpx.post(
        server.url + "/v2/gen-ai/indexing_jobs",
        headers=AUTH,
        json={"knowledge_base_uuid": failing["uuid"]},
    ).json()["job"]
    clock.now += 25
    final = get(server, f"/v2/gen-ai/indexing_jobs/{job['uuid']}").json()["job"]
    assert final["phase"] == "BATCH_JOB_PHASE_FAILED"
    assert all(d["error_msg"] for d in final["data_source_jobs"])


def test_cancel_and_the_cancel_of_a_finished_job(server: EmulatorServer, clock: Clock) -> None:
    kb = get(server, "/v2/gen-ai/knowledge_bases").json()["knowledge_bases"][1]
    job = httpx.post(
        server.url + "/v2/gen-ai/indexing_jobs",
        headers=AUTH,
        json={"knowledge_base_uuid": kb["uuid"]},
    ).json()["job"]
    cancel = server.url + f"/v2/gen-ai/indexing_jobs/{job['uuid']}/cancel"
    cancelled = httpx.put(cancel, headers=AUTH, json={"uuid": job["uuid"]}).json()["job"]
    assert cancelled["phase"] == "BATCH_JOB_PHASE_CANCELLED" and "finished_at" in cancelled
    clock.now += 100
    again = httpx.put(cancel, headers=AUTH).json()["job"]
    assert again["phase"] == "BATCH_JOB_PHASE_CANCELLED"
    missing = httpx.put(server.url + "/v2/gen-ai/indexing_jobs/nope/cancel", headers=AUTH)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"knowledge_base_uuid": 5},
        {"knowledge_base_uuid": "x", "data_source_uuids": "not-a-list"},
        {"knowledge_base_uuid": "x", "data_source_uuids": [1, 2]},
        ["not", "an", "object"],
    ],
)
def test_wrong_body_types_are_400(server: EmulatorServer, body: Any) -> None:
    response = httpx.post(server.url + "/v2/gen-ai/indexing_jobs", headers=AUTH, json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["id"] == "bad_request" and error["message"] and error["request_id"]


def test_unknown_knowledge_base_is_404(server: EmulatorServer) -> None:
    response = httpx.post(
        server.url + "/v2/gen-ai/indexing_jobs", headers=AUTH, json={"knowledge_base_uuid": "nope"}
    )
    assert response.status_code == 404


def test_data_sources_of_jobs_and_knowledge_bases(server: EmulatorServer) -> None:
    job = get(server, "/v2/gen-ai/indexing_jobs").json()["jobs"][0]
    indexed = get(server, f"/v2/gen-ai/indexing_jobs/{job['uuid']}/data_sources").json()
    assert indexed["indexed_data_sources"] == job["data_source_jobs"]
    kb = job["knowledge_base_uuid"]
    sources = get(server, f"/v2/gen-ai/knowledge_bases/{kb}/data_sources").json()
    known = {s["uuid"] for s in sources["knowledge_base_data_sources"]}
    assert set(job["data_source_uuids"]) <= known
    latest = get(server, f"/v2/gen-ai/knowledge_bases/{kb}/indexing_jobs").json()["jobs"]
    assert 0 < len(latest) <= 15 and all(j["knowledge_base_uuid"] == kb for j in latest)
    one = get(server, f"/v2/gen-ai/knowledge_bases/{kb}").json()
    assert one["knowledge_base"]["uuid"] == kb and one["database_status"] == "ONLINE"
    assert one["knowledge_base"]["last_indexing_job"]["uuid"] == latest[0]["uuid"]


def test_429_burst_then_success(clock: Clock) -> None:
    app = create_app(
        DigitalOceanConfig(token=TOKEN, jobs=10, burst_429=2, retry_after=3, clock=clock)
    )
    with EmulatorServer(app) as running:
        statuses = [get(running, "/v2/gen-ai/indexing_jobs") for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["retry-after"] == "3"
    assert statuses[0].json()["id"] == "too_many_requests"


def test_request_log_and_faults(server: EmulatorServer) -> None:
    server.faults.fail("GET", "/v2/gen-ai/knowledge_bases", status=503, times=1)
    first = get(server, "/v2/gen-ai/knowledge_bases")
    second = get(server, "/v2/gen-ai/knowledge_bases")
    assert (first.status_code, second.status_code) == (503, 200)
    entries = server.log.entries()
    assert [e.status for e in entries] == [503, 200]
    assert entries[0].headers["authorization"] == "Bearer ***"
    assert TOKEN not in repr(entries)


def test_hourly_limit_refuses_with_the_reset_time() -> None:
    app = create_app(DigitalOceanConfig(token=TOKEN, jobs=10, hourly_limit=3, minute_limit=100))
    with EmulatorServer(app) as running:
        responses = [get(running, "/v2/gen-ai/indexing_jobs") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    refused = responses[3]
    assert refused.json()["id"] == "too_many_requests"
    assert "retry-after" not in refused.headers  # the hourly limit tells through its reset
    assert int(refused.headers["ratelimit-reset"]) == pytest.approx(time.time() + 3600, abs=5)


def test_minute_limit_asks_to_retry_after() -> None:
    app = create_app(DigitalOceanConfig(token=TOKEN, jobs=10, hourly_limit=100, minute_limit=2))
    with EmulatorServer(app) as running:
        responses = [get(running, "/v2/gen-ai/knowledge_bases") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert 1 <= int(responses[2].headers["retry-after"]) <= 60
    assert responses[2].headers["ratelimit-remaining"] == "98"  # refused ones are not counted


def test_rate_limits_can_be_lifted() -> None:
    app = create_app(DigitalOceanConfig(token=TOKEN, jobs=10, minute_limit=2, rate_limited=False))
    with EmulatorServer(app) as running:
        responses = [get(running, "/v2/gen-ai/knowledge_bases") for _ in range(5)]
    assert {r.status_code for r in responses} == {200}
    assert {r.headers["ratelimit-remaining"] for r in responses} == {"5000"}
