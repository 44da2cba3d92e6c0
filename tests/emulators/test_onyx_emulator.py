"""The Onyx emulator behaves like the real API: auth, errors, filters, paging, attempts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.onyx import OnyxConfig, OnyxState, create_app
from tests.conftest import Clock

KEY = "on_emulator-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NOT_AUTHENTICATED = {"detail": "Access denied. User is not authenticated."}
STATUS = "/api/manage/admin/connector/indexing-status"
RUN_ONCE = "/api/manage/admin/connector/run-once"
QUEUE, RUN = 2.0, 10.0


@pytest.fixture
def server(clock: Clock) -> Iterator[EmulatorServer]:
    config = OnyxConfig(api_key=KEY, queue_seconds=QUEUE, attempt_seconds=RUN, clock=clock)
    with EmulatorServer(create_app(config), name="onyx") as running:
        yield running


@pytest.fixture(scope="module")
def reader() -> Iterator[EmulatorServer]:
    """One server, on a clock that never moves, for the tests that only read."""
    config = OnyxConfig(api_key=KEY, clock=Clock())
    with EmulatorServer(create_app(config), name="onyx") as running:
        yield running


def post(server: EmulatorServer, path: str, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(server.url + path, json=body, headers=headers or AUTH)


def get(server: EmulatorServer, path: str, **params: Any) -> httpx.Response:
    return httpx.get(server.url + path, params=params, headers=AUTH)


def groups(server: EmulatorServer, **body: Any) -> list[dict[str, Any]]:
    response = post(server, STATUS, body)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def flat(response: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for group in response for row in group["indexing_statuses"]]


def everything(server: EmulatorServer, **body: Any) -> list[dict[str, Any]]:
    return flat(groups(server, get_all_connectors=True, **body))


def row_of(server: EmulatorServer, cc_pair_id: int) -> dict[str, Any]:
    return next(r for r in everything(server) if r.get("cc_pair_id") == cc_pair_id)


def attempts(server: EmulatorServer, cc_pair_id: int, **params: Any) -> dict[str, Any]:
    response = get(server, f"/api/manage/admin/cc-pair/{cc_pair_id}/index-attempts", **params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def state(server: EmulatorServer) -> OnyxState:
    onyx: OnyxState = server.app.state.onyx
    return onyx


def test_missing_or_wrong_credentials_are_403(reader: EmulatorServer) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer on_wrong"},
        {"Authorization": f"bearer {KEY}"},  # the prefix is case-sensitive
        {"X-Onyx-Authorization": "Bearer on_wrong", "Authorization": f"Bearer {KEY}"},
    ):
        response = httpx.post(reader.url + STATUS, json={}, headers=headers)
        assert response.status_code == 403
        assert response.json() == NOT_AUTHENTICATED


def test_api_keys_with_or_without_bearer_and_the_onyx_header(reader: EmulatorServer) -> None:
    for headers in (
        {"Authorization": f"Bearer {KEY}"},
        {"Authorization": KEY},
        {"X-Onyx-Authorization": f"Bearer {KEY}", "Authorization": "Bearer on_wrong"},
        {"X-Onyx-Authorization": KEY},
        {"X-Onyx-Authorization": "", "Authorization": KEY},  # empty: Authorization is read
    ):
        response = httpx.post(reader.url + STATUS, json={}, headers=headers)
        assert response.status_code == 200, headers
        assert response.json()[0]["source"] == "confluence"


def test_a_body_that_is_not_json_is_422_even_before_auth(reader: EmulatorServer) -> None:
    response = httpx.post(reader.url + STATUS, content=b"{nope", headers={})
    assert response.status_code == 422
    body = response.json()
    assert body["status_code"] == 422 and body["data"] is None
    assert body["message"].startswith("1 validation error: {'type': 'json_invalid'")


def test_bad_enum_is_422_with_the_custom_body(reader: EmulatorServer) -> None:
    response = post(reader, STATUS, {"access_type_filters": ["secret"]})
    assert response.status_code == 422
    expected = "'public', 'private' or 'sync'"
    assert response.json() == {
        "status_code": 422,
        "message": "1 validation error: {'type': 'enum', 'loc': ('body', 'access_type_filters', "
        f"0), 'msg': \"Input should be {expected}\", 'input': 'secret', 'ctx': {{'expected': "
        f'"{expected}"}}}}',
        "data": None,
    }


def test_every_wrong_field_is_reported_at_once(reader: EmulatorServer) -> None:
    body = {"get_all_connectors": "maybe", "docs_count_value": "many", "source": "nope"}
    message = post(reader, STATUS, body).json()["message"]
    assert message.startswith("3 validation errors: {'type': 'enum', 'loc': ('body', 'source')")
    assert "{'type': 'int_parsing', 'loc': ('body', 'docs_count_value')" in message
    assert "{'type': 'bool_parsing', 'loc': ('body', 'get_all_connectors')" in message
    missing = post(reader, RUN_ONCE, {"from_beginning": True}).json()["message"]
    assert missing == (
        "1 validation error: {'type': 'missing', 'loc': ('body', 'connector_id'), "
        "'msg': 'Field required', 'input': {'from_beginning': True}}"
    )
    assert post(reader, STATUS, ["not", "an", "object"]).status_code == 422


def _expected(rows: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    """What the server's filters keep: federated rows only answer to name_filter."""
    name = (body.get("name_filter") or "").lower()
    operator, value = body.get("docs_count_operator"), body.get("docs_count_value")
    kept = []
    for row in rows:
        if "cc_pair_id" not in row:
            if name in row["name"].lower():
                kept.append(row)
            continue
        if body.get("source") not in (None, row["source"]):
            continue
        if (
            body.get("access_type_filters")
            and row["access_type"] not in body["access_type_filters"]
        ):
            continue
        if (
            body.get("last_status_filters")
            and row["last_status"] not in body["last_status_filters"]
        ):
            continue
        docs = row["docs_indexed"]
        compare = {">": docs > (value or 0), "<": docs < (value or 0), "=": docs == value}
        if value is not None and operator is not None and not compare[operator]:
            continue
        if name in row["name"].lower():
            kept.append(row)
    return kept


@pytest.mark.parametrize(
    "body",
    [
        {"source": "web"},
        {"access_type_filters": ["sync"]},
        {"access_type_filters": ["public", "private"]},
        {"last_status_filters": ["failed"]},
        {"last_status_filters": ["in_progress", "not_started"]},
        {"docs_count_operator": ">", "docs_count_value": 5000},
        {"docs_count_operator": "<", "docs_count_value": 100},
        {"docs_count_operator": "=", "docs_count_value": "FROM_A_ROW"},
        {"docs_count_value": 100},  # no operator: no filter
        {"name_filter": "ENGINEERING"},
        {"name_filter": "slack"},  # matches the federated connector only
        {
            "source": "confluence",
            "access_type_filters": ["public", "sync"],
            "last_status_filters": ["success", "completed_with_errors"],
            "docs_count_operator": ">",
            "docs_count_value": 1000,
            "name_filter": "wiki",
        },
    ],
)
def test_filters_keep_what_filtering_every_row_keeps(
    reader: EmulatorServer, body: dict[str, Any]
) -> None:
    every = everything(reader)
    if body.get("docs_count_value") == "FROM_A_ROW":
        body = {**body, "docs_count_value": every[3]["docs_indexed"]}
    filtered = everything(reader, **body)
    assert filtered == _expected(every, body)
    if body == {"docs_count_value": 100}:
        assert filtered == every
    else:
        assert 0 < len(filtered) < len(every)


def test_rows_are_grouped_by_source_newest_pair_first(reader: EmulatorServer) -> None:
    response = groups(reader, get_all_connectors=True)
    sources = [g["source"] for g in response]
    assert sources == sorted(sources) and len(sources) == len(set(sources)) > 5
    for group in response:
        rows = group["indexing_statuses"]
        pairs = [r["cc_pair_id"] for r in rows if "cc_pair_id" in r]
        assert pairs == sorted(pairs, reverse=True)
        assert {r["source"] for r in rows if "cc_pair_id" in r} == {group["source"]}
    slack = next(g for g in response if g["source"] == "slack")["indexing_statuses"]
    assert slack[-1] == {"id": 1, "source": "federated_slack", "name": "Federated Slack"}
    rows = flat(response)
    assert len([r for r in rows if "cc_pair_id" in r]) == 1000
    assert {"success", "failed", "in_progress", None} <= {r.get("last_status") for r in rows}
    assert {"ACTIVE", "PAUSED", "SCHEDULED"} <= {r.get("cc_pair_status") for r in rows}
    assert any(r.get("in_repeated_error_state") for r in rows)


def test_pages_hold_ten_rows_and_the_summary_counts_every_filtered_row(
    reader: EmulatorServer,
) -> None:
    body = {"access_type_filters": ["public"]}
    every = [r for r in everything(reader, **body) if r["source"] == "web"]
    first = groups(reader, **body)
    assert all(len(g["indexing_statuses"]) <= 10 for g in first)
    assert all(g["current_page"] == 1 for g in first)
    web = next(g for g in first if g["source"] == "web")
    pages = -(-len(every) // 10)
    assert web["total_pages"] == pages > 2
    assert web["summary"] == {
        "total_connectors": len(every),
        "active_connectors": sum(r["cc_pair_status"] == "ACTIVE" for r in every),
        "public_connectors": len(every),
        "total_docs_indexed": sum(r["docs_indexed"] for r in every),
    }
    walked = []
    for page in range(1, pages + 1):
        response = groups(reader, source_to_page={"web": page}, **body)
        group = next(g for g in response if g["source"] == "web")
        assert group["current_page"] == page and group["summary"] == web["summary"]
        walked.extend(group["indexing_statuses"])
    assert walked == every
    # Pages slice a Python list as the server does: -1 is not empty, it counts from the end.
    negative = groups(reader, source_to_page={"web": -1}, **body)
    from_the_end = next(g for g in negative if g["source"] == "web")
    assert from_the_end["current_page"] == -1
    assert from_the_end["indexing_statuses"] == every[-20:-10]
    past_the_end = groups(reader, source_to_page={"web": pages + 1, "file": 0}, **body)
    assert {"web", "file"}.isdisjoint(g["source"] for g in past_the_end)
    assert any(g["source"] == "github" for g in past_the_end)  # other sources: page 1


def test_get_all_connectors_echoes_the_page_and_source_keeps_federated_rows(
    reader: EmulatorServer,
) -> None:
    response = groups(reader, source="web", get_all_connectors=True, source_to_page={"web": 3})
    assert [g["source"] for g in response] == ["slack", "web"]
    web = response[1]
    assert web["current_page"] == 3 and len(web["indexing_statuses"]) > 10
    assert response[0]["indexing_statuses"] == [
        {"id": 1, "source": "federated_slack", "name": "Federated Slack"}
    ]


def test_secondary_index_has_no_attempts(reader: EmulatorServer) -> None:
    rows = [r for r in everything(reader, secondary_index=True) if "cc_pair_id" in r]
    assert {r["last_status"] for r in rows} == {None}
    assert {r["last_success"] for r in rows} == {None}
    assert not any(r["in_progress"] for r in rows)
    failed = get(reader, "/api/manage/admin/connector/failed-indexing-status", secondary_index=1)
    assert failed.status_code == 200 and failed.json() == []


def test_index_attempts_are_paged_newest_first(reader: EmulatorServer) -> None:
    pairs = [r for r in everything(reader) if "cc_pair_id" in r]
    busy = next(r for r in pairs if attempts(reader, r["cc_pair_id"])["total_items"] >= 7)
    cc = busy["cc_pair_id"]
    whole = attempts(reader, cc, page_size=1000)
    total = whole["total_items"]
    ids = [a["id"] for a in whole["items"]]
    assert len(ids) == total and ids == sorted(ids, reverse=True)
    walked: list[int] = []
    for page in range(-(-total // 3)):
        chunk = attempts(reader, cc, page_num=page, page_size=3)
        assert chunk["total_items"] == total and len(chunk["items"]) <= 3
        walked.extend(a["id"] for a in chunk["items"])
    assert walked == ids
    assert attempts(reader, cc, page_num=99) == {"items": [], "total_items": total}
    assert len(attempts(reader, cc)["items"]) == min(10, total)  # page_size defaults to 10
    latest = whole["items"][0]
    assert busy["last_status"] == latest["status"]
    assert busy["latest_index_attempt_docs_indexed"] == latest["total_docs_indexed"]
    assert latest["time_updated"].endswith("+00:00")  # isoformat(), not pydantic's Z
    for params in ({"page_num": -1}, {"page_size": 0}, {"page_size": 1001}):
        bad = get(reader, f"/api/manage/admin/cc-pair/{cc}/index-attempts", **params)
        assert bad.status_code == 422 and bad.json()["status_code"] == 422
    unknown = get(reader, "/api/manage/admin/cc-pair/999999/index-attempts")
    assert unknown.status_code == 400
    assert unknown.json() == {"detail": "CC Pair not found for current user permissions"}


def test_pause_cancels_the_running_attempt_and_resume_shows(server: EmulatorServer) -> None:
    every = everything(server)
    running = next(r for r in every if r.get("in_progress") and r["cc_pair_status"] == "ACTIVE")
    cc = running["cc_pair_id"]
    path = f"/api/manage/admin/cc-pair/{cc}/status"
    before = next(g for g in groups(server) if g["source"] == running["source"])["summary"]
    paused = httpx.put(server.url + path, json={"status": "PAUSED"}, headers=AUTH)
    assert paused.status_code == 200 and paused.json() == {"message": "200"}
    row = row_of(server, cc)
    assert row["cc_pair_status"] == "PAUSED" and not row["in_progress"]
    assert row["last_status"] == row["last_finished_status"] == "canceled"
    assert attempts(server, cc)["items"][0]["status"] == "canceled"
    after = next(g for g in groups(server) if g["source"] == running["source"])["summary"]
    assert after["active_connectors"] == before["active_connectors"] - 1
    resumed = httpx.put(server.url + path, json={"status": "ACTIVE"}, headers=AUTH)
    assert resumed.status_code == 200 and row_of(server, cc)["cc_pair_status"] == "ACTIVE"
    wrong = httpx.put(server.url + path, json={"status": "paused"}, headers=AUTH)
    assert wrong.status_code == 422 and "'input': 'paused'" in wrong.json()["message"]
    missing = httpx.put(
        server.url + "/api/manage/admin/cc-pair/999999/status",
        json={"status": "ACTIVE"},
        headers=AUTH,
    )
    assert missing.status_code == 400
    assert missing.json() == {"detail": "Connection not found for current user's permissions"}


def _healthy(server: EmulatorServer) -> dict[str, Any]:
    """An active pair that indexes fine, alone on its connector (ids: read from the state,
    as the indexing-status rows do not carry connector ids)."""
    onyx = state(server)
    return next(
        r
        for r in everything(server)
        if r.get("cc_pair_status") == "ACTIVE"
        and r["last_status"] == "success"
        and len(onyx.by_connector[onyx.cc_pairs[r["cc_pair_id"]].connector_id]) == 1
    )


def test_run_once_attempt_moves_with_the_clock(server: EmulatorServer, clock: Clock) -> None:
    row = _healthy(server)
    cc = row["cc_pair_id"]
    connector = state(server).cc_pairs[cc].connector_id
    response = post(server, RUN_ONCE, {"connector_id": connector})
    assert response.json() == {
        "success": True,
        "message": "Marked 1 index attempts with indexing triggers.",
        "data": 1,
    }
    queued = row_of(server, cc)
    assert (queued["last_status"], queued["in_progress"]) == ("not_started", False)
    assert queued["last_finished_status"] == "success"
    first = attempts(server, cc)["items"][0]
    assert first["status"] == "not_started" and first["time_started"] is None
    again = post(server, RUN_ONCE, {"connector_id": connector}).json()
    assert again["data"] == 0  # an unfinished attempt is not triggered twice

    clock.now += QUEUE + RUN / 2
    running = row_of(server, cc)
    assert running["last_status"] == "in_progress" and running["in_progress"]
    attempt = attempts(server, cc)["items"][0]
    assert attempt["id"] == first["id"] and attempt["time_started"] is not None

    clock.now += RUN
    done = row_of(server, cc)
    final = attempts(server, cc)["items"][0]
    assert final["status"] == done["last_status"] == done["last_finished_status"] == "success"
    assert not done["in_progress"]
    assert done["last_success"] == final["time_started"].replace("+00:00", "Z")
    assert done["docs_indexed"] == row["docs_indexed"] + final["new_docs_indexed"]
    assert done["latest_index_attempt_docs_indexed"] == final["total_docs_indexed"] > 0


def test_run_once_for_a_failing_pair_fails(server: EmulatorServer, clock: Clock) -> None:
    failing = get(server, "/api/manage/admin/connector/failed-indexing-status").json()
    rows = {r["cc_pair_id"]: r for r in everything(server) if "cc_pair_id" in r}
    entry = next(
        f
        for f in failing
        if rows[f["cc_pair_id"]]["cc_pair_status"] == "ACTIVE"
        and rows[f["cc_pair_id"]]["last_status"] == "failed"
    )
    assert not entry["is_deletable"]  # only paused (inactive) pairs may be deleted
    body = {"connector_id": entry["connector_id"], "credential_ids": [entry["credential_id"]]}
    assert post(server, RUN_ONCE, body).json()["data"] == 1
    clock.now += QUEUE + RUN + 1
    latest = attempts(server, entry["cc_pair_id"])["items"][0]
    assert latest["status"] == "failed" and latest["error_msg"] == entry["error_msg"]
    assert latest["full_exception_trace"].startswith("Traceback")
    still = get(server, "/api/manage/admin/connector/failed-indexing-status").json()
    assert entry["cc_pair_id"] in {f["cc_pair_id"] for f in still}
    wrong = post(server, RUN_ONCE, {**body, "credential_ids": [entry["credential_id"] + 100000]})
    assert wrong.status_code == 400
    assert wrong.json() == {"detail": "Not all specified credentials are associated with connector"}
    unknown = post(server, RUN_ONCE, {"connector_id": 999999})
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Connector by id 999999 does not exist."}


def test_a_paused_pair_indexes_once_resumed(server: EmulatorServer, clock: Clock) -> None:
    row = _healthy(server)
    cc = row["cc_pair_id"]
    path = f"/api/manage/admin/cc-pair/{cc}/status"
    httpx.put(server.url + path, json={"status": "PAUSED"}, headers=AUTH)
    connector = state(server).cc_pairs[cc].connector_id
    assert post(server, RUN_ONCE, {"connector_id": connector}).json()["data"] == 1
    assert row_of(server, cc)["last_status"] == "success"  # nothing runs while paused
    httpx.put(server.url + path, json={"status": "ACTIVE"}, headers=AUTH)
    assert row_of(server, cc)["last_status"] == "not_started"


def test_a_scheduled_pair_goes_initial_indexing_then_active(
    server: EmulatorServer, clock: Clock
) -> None:
    row = next(r for r in everything(server) if r.get("cc_pair_status") == "SCHEDULED")
    assert row["last_status"] is None and row["docs_indexed"] == 0
    cc = row["cc_pair_id"]
    assert attempts(server, cc) == {"items": [], "total_items": 0}
    post(server, RUN_ONCE, {"connector_id": state(server).cc_pairs[cc].connector_id})
    clock.now += QUEUE + 0.5
    assert row_of(server, cc)["cc_pair_status"] == "INITIAL_INDEXING"
    clock.now += RUN
    done = row_of(server, cc)
    assert done["cc_pair_status"] == "ACTIVE" and done["docs_indexed"] > 0
    assert done["last_success"] is not None and done["last_success"].endswith("Z")


def test_failed_indexing_status_lists_unrecovered_failures(reader: EmulatorServer) -> None:
    failed = get(reader, "/api/manage/admin/connector/failed-indexing-status").json()
    assert 50 < len(failed) < 400
    for entry in failed[:8]:
        items = attempts(reader, entry["cc_pair_id"], page_size=1000)["items"]
        last_failed = next(a for a in items if a["status"] == "failed")
        assert entry["error_msg"] == last_failed["error_msg"]
        assert not any(
            a["status"] == "success" and a["time_updated"] > last_failed["time_updated"]
            for a in items
        )
    bad = get(reader, "/api/manage/admin/connector/failed-indexing-status", get_editable="maybe")
    assert bad.status_code == 422 and "'loc': ('query', 'get_editable')" in bad.json()["message"]


def test_connector_status_matches_the_rows(reader: EmulatorServer) -> None:
    basic = get(reader, "/api/manage/connector-status").json()
    rows = [r for r in everything(reader) if "cc_pair_id" in r]
    derived = [(r["source"], r["cc_pair_status"], r["last_success"] is not None) for r in rows]
    mine = [(b["source"], b["status"], b["has_successful_run"]) for b in basic]
    assert sorted(mine) == sorted(derived)


def test_unknown_paths_and_methods(reader: EmulatorServer) -> None:
    missing = get(reader, "/api/manage/nope")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
    wrong = get(reader, RUN_ONCE)
    assert wrong.status_code == 405 and wrong.json() == {"detail": "Method Not Allowed"}


def test_same_seed_same_bytes(clock: Clock) -> None:
    bodies = []
    for _ in range(2):
        app = create_app(OnyxConfig(api_key=KEY, connectors=200, seed=7, clock=clock))
        with EmulatorServer(app) as running:
            bodies.append(post(running, STATUS, {"get_all_connectors": True}).content)
    assert bodies[0] == bodies[1] and len(bodies[0]) > 10_000


def test_request_log_and_faults(server: EmulatorServer) -> None:
    server.faults.fail("POST", STATUS, status=503, times=1)
    first = post(server, STATUS, {})
    second = post(server, STATUS, {})
    assert (first.status_code, second.status_code) == (503, 200)
    assert first.json() == {"detail": "Service Unavailable"}
    entries = server.log.entries()
    assert [e.status for e in entries] == [503, 200]
    assert [(e.method, e.path, e.json) for e in entries] == [("POST", STATUS, {})] * 2
    assert entries[0].headers["authorization"] == "Bearer ***"
    assert KEY not in repr(entries)
