"""The same seed gives byte-identical answers: each emulator is driven through a fixed script
of requests (seeded reads, validation errors, writes, the clock moving, faults) and the
digest of every answer (status, headers, body) and of the request log is pinned.

The digests were computed from the code before the emulators were restructured; a change
that alters any byte an emulator sends fails here. If a change of behaviour is meant, run
with ``EMULATOR_TRANSCRIPTS=<dir>`` to write the transcripts, compare them, and update the
constant.

The apps run in-process over ``httpx.ASGITransport`` (no sockets, no port in the URLs), on
a clock moved by hand. A few values come from the wall clock by design (DigitalOcean's
created jobs and ``ratelimit-reset``, Openverse's posted tasks); those, and only those, are
masked where a step says so.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from sqlprovider.emulators import amperity, digitalocean, onyx, openverse
from sqlprovider.emulators.faults import Faults
from sqlprovider.emulators.kit import RequestLog
from tests.conftest import Clock

BASE = "http://emulator"
VOLATILE_HEADERS = frozenset({"ratelimit-reset"})  # epoch seconds of the wall clock


class Transcript:
    """Sends requests to an app in-process and writes down everything that comes back."""

    def __init__(self, app: Starlette, clock: Clock, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.clock = clock
        self.headers = headers or {}
        self.lines: list[bytes] = []
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app)
        self._client = httpx.AsyncClient(transport=transport, base_url=BASE)

    @property
    def faults(self) -> Faults:
        faults: Faults = self.app.state.faults
        return faults

    def call(
        self,
        method: str,
        path: str,
        *,
        tick: float = 0.0,
        mask: Iterable[str] = (),
        mask_headers: Iterable[str] = (),
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request; ``tick`` moves the clock first, ``mask`` blanks JSON keys whose
        values come from the wall clock (in the recorded copy only)."""
        self.clock.now += tick
        sent = {**self.headers, **(headers or {})}
        request = self._client.request(method, path, headers=sent, **kwargs)
        response = self._loop.run_until_complete(request)
        body = response.content
        for key in mask:
            pattern = rb'"' + key.encode() + rb'":\s*("[^"]*"|-?[0-9][0-9.e+-]*|null)'
            body = re.sub(pattern, b'"' + key.encode() + b'":"*"', body)
        hidden = VOLATILE_HEADERS | set(mask_headers)
        if body != response.content:  # the masked values' length is the wall clock's too
            hidden |= {"content-length"}
        head = [
            f"{name}: {'*' if name in hidden else value}"
            for name, value in sorted(response.headers.multi_items())
        ]
        line = f"{method} {response.request.url} -> {response.status_code}\n"
        self.lines.append(line.encode() + "\n".join(head).encode() + b"\n" + body + b"\n")
        return response

    def close(self) -> bytes:
        """The whole transcript: every answer, then the request log."""
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()
        log: RequestLog = self.app.state.log
        for entry in log.entries():
            fields = (entry.method, entry.path, entry.query, sorted(entry.headers.items()))
            self.lines.append(repr((*fields, entry.json, entry.status, entry.fault)).encode())
        return b"\n".join(self.lines)


def json_of(response: httpx.Response) -> Any:
    return response.json()


# -- DigitalOcean --------------------------------------------------------------------------

DO_AUTH = {"Authorization": "Bearer sandbox-do-token"}
DO_JOBS = "/v2/gen-ai/indexing_jobs"
DO_KBS = "/v2/gen-ai/knowledge_bases"
# Created jobs and changed knowledge bases carry times of the wall clock.
DO_WALL = ("created_at", "updated_at", "started_at", "finished_at", "completed_at")


def digitalocean_script(seed: int) -> bytes:
    clock = Clock()
    config = digitalocean.DigitalOceanConfig(
        jobs=450, seed=seed, burst_429=1, retry_after=0.5, phase_seconds=2.0, clock=clock
    )
    t = Transcript(digitalocean.create_app(config), clock, DO_AUTH)
    t.call("GET", DO_JOBS)  # the burst's 429
    t.call("GET", DO_JOBS, headers={"Authorization": ""})
    t.call("GET", DO_JOBS, headers={"Authorization": "Bearer nope"})
    t.call("GET", DO_JOBS, headers={"Authorization": "sandbox-do-token"})
    first = t.call("GET", DO_JOBS)
    for params in (
        {"page": 2, "per_page": 200},
        {"page": 3, "per_page": 200},
        {"page": 3, "per_page": 7},
        {"page": 99},
        {"per_page": 500},
        {"per_page": "many"},
        {"page": 0},
        {"per_page": -1},
    ):
        t.call("GET", DO_JOBS, params=params)
    jobs = json_of(first)["jobs"]
    t.call("GET", f"{DO_JOBS}/{jobs[0]['uuid']}")
    t.call("GET", f"{DO_JOBS}/{jobs[3]['uuid']}/data_sources")
    t.call("GET", f"{DO_JOBS}/no-such-job")
    t.call("GET", f"{DO_JOBS}/no-such-job/data_sources")
    t.call("GET", "/v2/gen-ai/nope")
    t.call("DELETE", DO_JOBS)
    kbs = json_of(t.call("GET", DO_KBS))["knowledge_bases"]
    t.call("GET", DO_KBS, params={"page": 3, "per_page": 10})
    kb, failing = kbs[0]["uuid"], kbs[9]["uuid"]
    for suffix in ("", "/indexing_jobs", "/data_sources"):
        t.call("GET", f"{DO_KBS}/{kb}{suffix}")
        t.call("GET", f"{DO_KBS}/nope{suffix}")
    t.call("GET", f"{DO_KBS}/{kb}/data_sources", params={"page": 2, "per_page": 1})
    sources = [
        s["uuid"]
        for s in json_of(t.call("GET", f"{DO_KBS}/{kb}/data_sources"))[
            "knowledge_base_data_sources"
        ]
    ]
    # Starting jobs: refusals, then two that run (one on a knowledge base that fails).
    for content in (b"", b"{", b"[1]", b'{"knowledge_base_uuid": 5}'):
        t.call("POST", DO_JOBS, content=content)
    for body in (
        {"knowledge_base_uuid": kb, "data_source_uuids": "x"},
        {"knowledge_base_uuid": kb, "data_source_uuids": [1]},
        {"knowledge_base_uuid": "nope"},
        {"knowledge_base_uuid": kb, "data_source_uuids": ["nope"]},
    ):
        t.call("POST", DO_JOBS, json=body)
    created = json_of(
        t.call(
            "POST",
            DO_JOBS,
            json={"knowledge_base_uuid": kb, "data_source_uuids": None},
            mask=DO_WALL,
        )
    )["job"]["uuid"]
    doomed = json_of(
        t.call(
            "POST",
            DO_JOBS,
            json={"knowledge_base_uuid": failing, "data_source_uuids": []},
            mask=DO_WALL,
        )
    )["job"]["uuid"]
    t.call(
        "POST",
        DO_JOBS,
        json={"knowledge_base_uuid": kb, "data_source_uuids": sources[:1]},
        mask=DO_WALL,
    )
    for tick in (0.0, 2.5, 2.0):
        t.call("GET", f"{DO_JOBS}/{created}", tick=tick, mask=DO_WALL)
        t.call("GET", f"{DO_JOBS}/{doomed}/data_sources", mask=DO_WALL)
    t.call("GET", DO_JOBS, params={"per_page": 5}, mask=DO_WALL)
    t.call("GET", DO_JOBS, params={"page": 2, "per_page": 2}, mask=DO_WALL)
    t.call("GET", f"{DO_KBS}/{kb}/indexing_jobs", mask=DO_WALL)
    t.call("GET", DO_KBS, params={"per_page": 3}, mask=DO_WALL)
    # Cancelling: a created job still pending, a finished one, a seeded running one.
    pending = json_of(
        t.call("POST", DO_JOBS, json={"knowledge_base_uuid": kbs[1]["uuid"]}, mask=DO_WALL)
    )["job"]["uuid"]
    t.call("PUT", f"{DO_JOBS}/{pending}/cancel", json={"uuid": pending}, mask=DO_WALL)
    t.call("GET", f"{DO_JOBS}/{pending}", tick=10, mask=DO_WALL)
    t.call("PUT", f"{DO_JOBS}/{created}/cancel", mask=DO_WALL)
    running = [j["uuid"] for j in jobs if j["phase"] == "BATCH_JOB_PHASE_RUNNING"]
    every = json_of(t.call("GET", DO_JOBS, params={"per_page": 200}, mask=DO_WALL))["jobs"]
    running += [j["uuid"] for j in every if j["phase"] == "BATCH_JOB_PHASE_PENDING"]
    for job_uuid in running[:2]:
        t.call("PUT", f"{DO_JOBS}/{job_uuid}/cancel", content=b"", mask=DO_WALL)
    t.call("PUT", f"{DO_JOBS}/{pending}/cancel", json={"uuid": 5})
    t.call("PUT", f"{DO_JOBS}/nope/cancel")
    # Changing and deleting knowledge bases.
    t.call("PUT", f"{DO_KBS}/{kb}", json={"name": "renamed", "tags": ["a", "b"]}, mask=DO_WALL)
    t.call("PUT", f"{DO_KBS}/{kb}", content=b"", mask=DO_WALL)
    for body in ({"name": 1}, {"tags": "x"}, {"tags": [1]}, {"project_id": None}):
        t.call("PUT", f"{DO_KBS}/{kb}", json=body)
    t.call("PUT", f"{DO_KBS}/nope", json={"name": "x"})
    t.call("DELETE", f"{DO_KBS}/{kb}/data_sources/{sources[0]}")
    t.call("DELETE", f"{DO_KBS}/{kb}/data_sources/{sources[0]}")
    t.call("GET", f"{DO_KBS}/{kb}/data_sources")
    t.call("DELETE", f"{DO_KBS}/{kbs[2]['uuid']}")
    t.call("DELETE", f"{DO_KBS}/{kbs[2]['uuid']}")
    t.call("GET", f"{DO_KBS}/{kbs[2]['uuid']}")
    t.call("GET", DO_KBS, params={"per_page": 4}, mask=DO_WALL)
    # The fault layer, with the API's error bodies.
    t.faults.fail("GET", DO_JOBS, status=503, retry_after=0.25, query="page=2")
    t.faults.fail("*", "*", status=500, times=1)
    t.call("GET", DO_JOBS, params={"page": 2}, mask=DO_WALL)
    t.call("GET", f"{DO_KBS}/nope")
    t.faults.fail("GET", DO_JOBS, status=429)
    t.faults.fail("GET", DO_JOBS, status=418)
    t.faults.garble("GET", DO_JOBS)
    t.faults.truncate("GET", DO_JOBS, keep=0.3)
    t.faults.truncate("GET", DO_JOBS, keep=40)
    t.faults.transform("GET", DO_JOBS, lambda d: {**d, "jobs": []})
    t.faults.transform("GET", DO_JOBS, lambda d: d["meta"].update(total=1))
    t.faults.delay("GET", DO_JOBS, seconds=0.01)
    for _ in range(9):
        t.call("GET", DO_JOBS, params={"page": 4, "per_page": 100})
    return t.close()


def digitalocean_limits_script(seed: int) -> bytes:
    clock = Clock()
    hourly = digitalocean.DigitalOceanConfig(jobs=20, seed=seed, hourly_limit=3, clock=clock)
    t = Transcript(digitalocean.create_app(hourly), clock, DO_AUTH)
    for _ in range(5):
        t.call("GET", DO_JOBS, params={"per_page": 3})
    t.call("GET", DO_JOBS, headers={"Authorization": ""})
    minute = digitalocean.DigitalOceanConfig(jobs=20, seed=seed, minute_limit=2, clock=clock)
    m = Transcript(digitalocean.create_app(minute), clock, DO_AUTH)
    for _ in range(4):  # retry-after counts wall-clock seconds down from 60
        m.call("GET", DO_JOBS, params={"per_page": 3}, mask_headers=("retry-after",))
    lifted = digitalocean.DigitalOceanConfig(
        jobs=20, seed=seed, minute_limit=1, rate_limited=False, clock=clock
    )
    u = Transcript(digitalocean.create_app(lifted), clock, DO_AUTH)
    for _ in range(3):
        u.call("GET", DO_JOBS, params={"per_page": 3})
    return b"\n".join((t.close(), m.close(), u.close()))


# -- Onyx ----------------------------------------------------------------------------------

ONYX_KEY = "on_sandbox-onyx-key"
ONYX = "/api/manage"
STATUS = f"{ONYX}/admin/connector/indexing-status"
RUN_ONCE = f"{ONYX}/admin/connector/run-once"


def onyx_script(seed: int) -> bytes:
    clock = Clock()
    config = onyx.OnyxConfig(
        connectors=300,
        federated_connectors=2,
        seed=seed,
        queue_seconds=2,
        attempt_seconds=10,
        clock=clock,
    )
    t = Transcript(onyx.create_app(config), clock, {"Authorization": f"Bearer {ONYX_KEY}"})
    # Credentials: missing, wrong, without Bearer, in X-Onyx-Authorization; bad JSON first.
    t.call("POST", STATUS, json={}, headers={"Authorization": ""})
    t.call("POST", STATUS, json={}, headers={"Authorization": "Bearer nope"})
    t.call("POST", STATUS, content=b"{oops", headers={"Authorization": "Bearer nope"})
    t.call("POST", STATUS, json={}, headers={"Authorization": ONYX_KEY})
    t.call(
        "POST",
        STATUS,
        json={},
        headers={"X-Onyx-Authorization": f"Bearer {ONYX_KEY}", "Authorization": "nope"},
    )
    for body in (
        {"get_all_connectors": True},
        {"source": "slack", "get_all_connectors": "yes"},
        {"access_type_filters": ["sync"], "last_status_filters": ["failed", "in_progress"]},
        {"docs_count_operator": ">", "docs_count_value": 5000, "get_all_connectors": 1},
        {"docs_count_operator": "=", "docs_count_value": 0},
        {"name_filter": "ENG", "source_to_page": {"web": 2, "slack": -1, "github": 40}},
        {"name_filter": "slack", "get_all_connectors": True},
        {"secondary_index": True},
        {"source": "gmail", "source_to_page": {"gmail": "2"}},
    ):
        t.call("POST", STATUS, json=body)
    for content in (b"", b"null", b"[]", b"[1,"):
        t.call("POST", STATUS, content=content)
    t.call(
        "POST",
        STATUS,
        json={
            "secondary_index": "maybe",
            "source": "nope",
            "access_type_filters": "public",
            "last_status_filters": ["done", 3],
            "docs_count_operator": "!=",
            "docs_count_value": 1.5,
            "name_filter": 7,
            "source_to_page": {"bogus": "x", "web": 2.0},
            "get_all_connectors": [],
        },
    )
    t.call("POST", STATUS, json={"docs_count_value": "12a", "source_to_page": []})
    t.call("GET", f"{ONYX}/admin/connector/failed-indexing-status")
    t.call(
        "GET",
        f"{ONYX}/admin/connector/failed-indexing-status",
        params={"secondary_index": "true", "get_editable": "no"},
    )
    t.call(
        "GET",
        f"{ONYX}/admin/connector/failed-indexing-status",
        params={"secondary_index": "maybe", "get_editable": "2"},
    )
    t.call("GET", f"{ONYX}/connector-status")
    attempts = f"{ONYX}/admin/cc-pair/{{}}/index-attempts"
    t.call("GET", attempts.format(1))
    t.call("GET", attempts.format(7), params={"page_num": 1, "page_size": 3})
    t.call("GET", attempts.format("x"), params={"page_num": -1, "page_size": 1001})
    t.call("GET", attempts.format(7), params={"page_size": 0})
    t.call("GET", attempts.format(99999))
    # Run-once and pausing drive attempts as the clock moves.
    rows = json_of(t.call("POST", STATUS, json={"get_all_connectors": True}))
    pairs = [row for group in rows for row in group["indexing_statuses"] if "cc_pair_id" in row]
    active = [r for r in pairs if r["cc_pair_status"] == "ACTIVE" and not r["in_progress"]]
    paused = [r for r in pairs if r["cc_pair_status"] == "PAUSED"]
    failing = [r for r in pairs if r["in_repeated_error_state"]]
    connectors = json_of(t.call("GET", f"{ONYX}/admin/connector/failed-indexing-status"))
    by_pair = {c["cc_pair_id"]: c["connector_id"] for c in connectors}
    target = active[0]["cc_pair_id"]
    t.call("POST", RUN_ONCE, json={"connector_id": 99999})
    t.call("POST", RUN_ONCE, json={"connector_id": "x", "credential_ids": [1, "y"]})
    t.call("POST", RUN_ONCE, json={"credential_ids": None, "from_beginning": "maybe"})
    t.call("POST", RUN_ONCE, content=b"")
    for connector_id in range(1, 40):
        t.call("POST", RUN_ONCE, json={"connector_id": connector_id, "credential_ids": [99999]})
        t.call("POST", RUN_ONCE, json={"connector_id": connector_id, "from_beginning": True})
    for pair in (target, *[r["cc_pair_id"] for r in failing[:2]]):
        t.call("GET", attempts.format(pair), params={"page_size": 2})
    for tick in (1.0, 1.5, 4.0, 20.0):
        t.call("GET", attempts.format(target), tick=tick, params={"page_size": 2})
        t.call("POST", STATUS, json={"last_status_filters": ["in_progress", "not_started"]})
    status = f"{ONYX}/admin/cc-pair/{{}}/status"
    if paused:
        pair = paused[0]["cc_pair_id"]
        connector = by_pair.get(pair, pair)
        t.call("POST", RUN_ONCE, json={"connector_id": connector, "from_beginning": False})
        t.call("PUT", status.format(pair), json={"status": "ACTIVE"})
        t.call("GET", attempts.format(pair), tick=3, params={"page_size": 2})
    t.call("POST", RUN_ONCE, json={"connector_id": 3})
    t.call("PUT", status.format(3), json={"status": "PAUSED"}, tick=0.5)
    t.call("GET", attempts.format(3), params={"page_size": 2})
    t.call("PUT", status.format(3), json={"status": "paused"})
    t.call("PUT", status.format(99999), json={"status": "ACTIVE"})
    t.call("PUT", status.format("x"), json={})
    t.call("GET", f"{ONYX}/connector-status", tick=3600)
    t.call("GET", f"{ONYX}/admin/connector/failed-indexing-status")
    t.call("POST", STATUS, json={"get_all_connectors": True})
    t.call("GET", f"{ONYX}/nope")
    t.call("GET", STATUS)
    t.call("GET", f"{ONYX}/admin/connector/indexing-status/")
    for status_code in (403, 422, 429, 500, 503, 599):
        t.faults.fail("GET", f"{ONYX}/connector-status", status=status_code)
        t.call("GET", f"{ONYX}/connector-status")
    t.faults.transform("POST", STATUS, lambda d: d[:1])
    t.call("POST", STATUS, json={})
    return t.close()


# -- Amperity ------------------------------------------------------------------------------

AMPERITY_HEADERS = {
    "Authorization": "Bearer sandbox-amperity-token",
    "amperity-tenant": "acme",
    "api-version": "2024-04-01",
}
AMPERITY_JOBS = "/ingest/jobs"


def amperity_script(seed: int) -> bytes:
    clock = Clock()
    config = amperity.AmperityConfig(jobs=500, days=30, seed=seed, clock=clock)
    t = Transcript(amperity.create_app(config), clock, AMPERITY_HEADERS)
    window = {"created_from": "2025-05-25", "created_to": "2025-06-01T00:00:00Z"}

    def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        return t.call(method, path, tick=kwargs.pop("tick", 0.25), **kwargs)

    for headers in (
        {"amperity-tenant": ""},
        {"amperity-tenant": "other"},
        {"api-version": ""},
        {"api-version": "2025-07-31"},
        {"api-version": "unstable"},
        {"Authorization": ""},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer sandbox-amperity-no-ingest"},
        {"Authorization": "Bearer nope"},
        {"Authorization": "bearer sandbox-amperity-token"},
    ):
        call("GET", AMPERITY_JOBS, params=window, headers=headers)
    call(
        "GET",
        AMPERITY_JOBS,
        params={**window, "api_version": "2024-04-01"},
        headers={"api-version": ""},
    )
    for params in (
        {},
        {"created_from": "2025-05-25"},
        {"created_from": "", "created_to": "2025-05-26"},
        {"created_from": "yesterday", "created_to": "2025-05-26"},
        {"created_from": "2025-05-25", "created_to": "2025-05-24"},
        {"created_from": "2025-05-01", "created_to": "2025-05-08T00:00:00.001Z"},
        {"created_from": "2025-05-01", "created_to": "2025-05-08", "with_total": "true"},
        {"created_from": "2025-05-01", "created_to": "2025-05-01", "with_total": "TRUE"},
        {**window, "with_total": "maybe"},
        {**window, "with_total": "false", "limit": 3, "next_token": "x"},
        {"created_from": "2025-05-31T22:30:00+01:00", "created_to": "2025-06-02"},
    ):
        call("GET", AMPERITY_JOBS, params=params)
    ids: list[str] = []
    # Every seeded job, a week at a time, under both prefixes.
    for week in range(5):
        low = amperity.EPOCH.timestamp() - (week + 1) * 7 * 86400
        params = {
            "created_from": _iso(low),
            "created_to": _iso(low + 7 * 86400),
            "with_total": "true",
        }
        prefix = "/api" if week % 2 else ""
        data = json_of(call("GET", prefix + AMPERITY_JOBS, params=params))["data"]
        ids += [job["id"] for job in data]
    for job_id in ids[::37] + ids[-3:]:
        call("GET", f"{AMPERITY_JOBS}/{job_id}")
    recent = {"created_from": "2025-05-31T23:00:00Z", "created_to": "2025-06-01T00:00:00Z"}
    for tick in (0.0, 31.0, 35 * 60.0, 30 * 60.0):  # the jobs in flight end as time passes
        call("GET", AMPERITY_JOBS, params=recent, tick=tick)
        call("GET", f"/api{AMPERITY_JOBS}/{ids[-1]}")
    call("GET", f"{AMPERITY_JOBS}/isj-nope")
    call("GET", f"{AMPERITY_JOBS}/")
    call("GET", "/api/ingest/nope")
    call("POST", AMPERITY_JOBS, json={})
    call("DELETE", f"{AMPERITY_JOBS}/{ids[0]}")
    for _ in range(12):  # the token bucket: 10 at once, then 429
        call("GET", f"{AMPERITY_JOBS}/{ids[1]}", tick=0.0)
    call("GET", f"{AMPERITY_JOBS}/{ids[1]}", tick=0.1)
    call("GET", f"{AMPERITY_JOBS}/{ids[1]}", tick=5.0)
    for status_code in (500, 503, 409, 502):
        t.faults.fail("GET", AMPERITY_JOBS, status=status_code)
        call("GET", AMPERITY_JOBS, params=recent)
    t.faults.garble("GET", "*", body=b"oops")
    call("GET", f"{AMPERITY_JOBS}/{ids[2]}")
    t.faults.transform("GET", AMPERITY_JOBS, lambda d: {"data": d["data"][:1]})
    call("GET", AMPERITY_JOBS, params=window)
    return t.close()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


# -- Openverse -----------------------------------------------------------------------------

# Posted tasks start at the wall clock's time; their status shows it.
OV_WALL = ("start_timestamp", "start_time", "finish_timestamp", "finish_time")


def openverse_script(seed: int) -> bytes:
    clock = Clock()
    config = openverse.OpenverseConfig(
        tasks=120,
        seed=seed,
        task_seconds=10,
        send_callbacks=False,
        clock=clock,
        es_status="yellow",
        databases_down=("upstream", "api"),
    )
    app = openverse.create_app(config)
    t = Transcript(app, clock)
    for params in ({}, {"check_deps": "false"}, {"check_deps": "yes"}, {"check_deps": "maybe"}):
        t.call("GET", "/", params=params)
    tasks = json_of(t.call("GET", "/task"))
    t.call("GET", f"/task/{tasks[0]['task_id']}")
    t.call("GET", f"/task/{tasks[-1]['task_id']}")
    t.call("GET", "/task/nope")
    for name in ("image", "image-filtered", "audio", "nope", "image-*", "*-filtered", "zzz*"):
        t.call("GET", f"/stat/{name}")
    live = json_of(t.call("GET", "/stat/image"))["alt_names"]
    t.call("GET", f"/stat/{live}")
    # Refused bodies.
    t.call("POST", "/task", content=b"", headers={"content-type": "application/json"})
    t.call("POST", "/task", content=b"{nope", headers={"content-type": "application/json"})
    t.call("POST", "/task", content=b"x", headers={"content-type": "text/plain"})
    refused: tuple[Any, ...] = (
        {},
        {"model": "video", "action": "REINDEX"},
        {"model": "image", "action": "POINT_ALIAS", "index_suffix": "x"},
        {"model": "image", "action": "DELETE_INDEX", "alias": "a", "index_suffix": "b"},
        {"model": "image", "action": "DELETE_INDEX"},
        {"model": "image", "action": "UPDATE_INDEX", "index_suffix": "x"},
        {"model": "image", "action": "REINDEX", "force_delete": "yes"},
        [],
    )
    for body in refused:
        t.call("POST", "/task", json=body)
    t.call(
        "POST",
        "/task",
        content=b"model=image&action=BOGUS&alias=a&alias=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    # Tasks: outcomes decided at once, then ones that take their time.
    reindex = json_of(
        t.call(
            "POST",
            "/task",
            json={"model": "image", "action": "REINDEX", "callback_url": "http://cb/1"},
            mask=OV_WALL,
        )
    )
    t.call("POST", "/task", json={"model": "audio", "action": "INGEST_UPSTREAM"}, mask=OV_WALL)
    t.call("DELETE", "/state")
    t.call(
        "POST",
        "/task",
        json={"model": "image", "action": "REINDEX", "index_suffix": live.removeprefix("image-")},
        mask=OV_WALL,
    )
    bad_name = {"model": "image", "action": "REINDEX", "index_suffix": "Bad"}
    t.call("POST", "/task", json=bad_name, mask=OV_WALL)
    for body in (
        {"model": "image", "action": "DELETE_INDEX", "alias": "image"},
        {"model": "image", "action": "DELETE_INDEX", "index_suffix": live.removeprefix("image-")},
        {"model": "image", "action": "DELETE_INDEX", "index_suffix": "gone"},
        {"model": "image", "action": "DELETE_INDEX", "alias": "zzz*"},
        {
            "model": "image",
            "action": "CREATE_AND_POPULATE_FILTERED_INDEX",
            "origin_index_suffix": "gone",
        },
        {
            "model": "audio",
            "action": "CREATE_AND_POPULATE_FILTERED_INDEX",
            "destination_index_suffix": live.removeprefix("image-"),
        },
        {"model": "audio", "action": "CREATE_AND_POPULATE_FILTERED_INDEX"},
        {"model": "image", "action": "POINT_ALIAS", "index_suffix": "gone", "alias": "x"},
        {"model": "image", "action": "POINT_ALIAS", "index_suffix": "x", "alias": live},
        {"model": "image", "action": "UPDATE_INDEX", "index_suffix": "new", "since_date": "d"},
        {"model": "model_3d", "action": "UPDATE_INDEX", "index_suffix": "Up", "since_date": "d"},
    ):
        t.call("POST", "/task", json=body, mask=OV_WALL)
    task_id = reindex["task_id"]
    for tick in (0.0, 2.5, 5.0):
        t.call("GET", f"/task/{task_id}", tick=tick, mask=OV_WALL)
    t.call("GET", "/task", tick=2.5, mask=OV_WALL)
    t.call("GET", f"/stat/image-{task_id}")
    for body in (
        {"model": "image", "action": "POINT_ALIAS", "index_suffix": task_id, "alias": "image"},
        {"model": "image", "action": "PROMOTE", "index_suffix": task_id, "alias": "image-new"},
        {"model": "image", "action": "PROMOTE", "index_suffix": "gone", "alias": "image-x"},
        {
            "model": "image",
            "action": "DELETE_INDEX",
            "alias": "image-filtered",
            "force_delete": True,
        },
        {"model": "image", "action": "DELETE_INDEX", "index_suffix": task_id},
    ):
        t.call("POST", "/task", json=body, mask=OV_WALL)
    t.call("GET", "/task", tick=11, mask=OV_WALL)
    for name in ("image", "image-new", "image-filtered", f"image-{task_id}", "audio-*"):
        t.call("GET", f"/stat/{name}")
    t.call("GET", "/task/", mask=OV_WALL)
    t.call("POST", "/stat/image")
    t.call("DELETE", "/task")
    t.call("GET", "/state")
    t.call("PUT", "/task/nope")
    t.call("GET", "/nope")
    t.faults.fail("GET", "/task", status=503, retry_after=1)
    t.faults.fail("GET", "/stat/image", status=500)
    t.call("GET", "/task")
    t.call("GET", "/stat/image")
    t.faults.transform("GET", "/stat/image", lambda d: {**d, "exists": None})
    t.call("GET", "/stat/image")
    state: openverse.OpenverseState = app.state.openverse
    extra = repr(
        (
            state.callbacks,
            sorted((i.name, i.documents) for i in state.indices.values()),
            sorted(state.aliases.items()),
        )
    ).encode()
    return t.close() + b"\n" + extra


SCRIPTS: dict[str, Callable[[int], bytes]] = {
    "digitalocean": digitalocean_script,
    "digitalocean-limits": digitalocean_limits_script,
    "onyx": onyx_script,
    "amperity": amperity_script,
    "openverse": openverse_script,
}

# sha256 of each script's transcript, computed from the emulators before they were
# restructured (commit "tests/emulators: pin every emulator's answers").
DIGESTS: dict[tuple[str, int], str] = {
    ("digitalocean", 42): "b847dacaaa8678d3ca22e5ffaa714067703b97a8ddf3b834ffc6971bcee63b3c",
    ("digitalocean", 7): "ca02f30c035e15bdfdc8d19efc9c35b6fe9cb6849852de238f85ce5b254a76c9",
    ("digitalocean-limits", 42): "e359cb8a13272385681f9415dd6885d4b1bd9b222b13b246e5b4cb703871b8ce",
    ("digitalocean-limits", 7): "7848413fd2841f7264a4162571f7ae560cfd93c20905027e940995d9e458e103",
    ("onyx", 42): "e7b0d0d880b0016eaa755669efc9997d4cd928cfec113570d2e7d0244face058",
    ("onyx", 7): "1855ce0a1ba9d59f5455361cfc4dcc120df1d054ee3cd72871a7cb0a5d0f583e",
    ("amperity", 42): "6d75b372c686f8158b8c7ae61772dfe4a89ee98e017ab85d4e5a8ce059360aca",
    ("amperity", 7): "bbaff561c0e00421b62c04f05930247fc795041a841eb1ca62c1308a17aecb93",
    ("openverse", 42): "6c596dc7a172e23565864b435b90a422e9e6cd47b9fcf4a757d93902ba65334f",
    ("openverse", 7): "1e63c24299f271e20ae824478c8bd60e8406ffc290f52a79906ead98cd424d69",
}


@pytest.mark.parametrize("seed", [42, 7])
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_the_same_seed_gives_byte_identical_answers(name: str, seed: int) -> None:
    transcript = SCRIPTS[name](seed)
    assert transcript == SCRIPTS[name](seed), "two runs of the same seed differ"
    digest = hashlib.sha256(transcript).hexdigest()
    folder = os.environ.get("EMULATOR_TRANSCRIPTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}-{seed}.txt").write_bytes(transcript)
    assert digest == DIGESTS.get((name, seed)), f"{name} seed {seed}: {digest}"
