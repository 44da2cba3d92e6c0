"""The Openverse ingestion server emulator behaves like the real task API: validation, task
outcomes, the tracker's status fields and ordering, and the indices tasks act on."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.openverse import OpenverseConfig, OpenverseState, create_app
from tests.conftest import Clock

TASK_SECONDS = 10.0
STATUS_FIELDS = [
    "task_id",
    "active",
    "model",
    "action",
    "progress",
    "start_timestamp",
    "start_time",
    "finish_timestamp",
    "finish_time",
    "active_workers",
    "error",
    "is_bad_request",
]
BAD_REQUEST = {"message": "Failed during task execution due to bad request. Check scheduler logs."}
SERVER_ERROR = {
    "message": "Failed to schedule task due to an internal server error. Check scheduler logs."
}


@pytest.fixture
def server(clock: Clock) -> Iterator[EmulatorServer]:
    config = OpenverseConfig(task_seconds=TASK_SECONDS, clock=clock)
    with EmulatorServer(create_app(config), name="openverse") as running:
        yield running


@pytest.fixture
def api(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


def state_of(server: EmulatorServer) -> OpenverseState:
    state: OpenverseState = server.app.state.openverse
    return state


def post(api: httpx.Client, body: Any) -> httpx.Response:
    return api.post("/task", json=body)


def stat(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.get(f"/stat/{name}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def status(api: httpx.Client, task_id: str) -> dict[str, Any]:
    response = api.get(f"/task/{task_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def scheduled(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Post a task that must be scheduled; its status, active, read via ``status_check``."""
    response = post(api, body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert set(answer) == {"message", "task_id", "status_check"}
    assert answer["message"] == "Successfully scheduled task"
    assert re.fullmatch(r"[0-9a-f]{32}", answer["task_id"])
    assert answer["status_check"] == f"{str(api.base_url).rstrip('/')}/task/{answer['task_id']}"
    current: dict[str, Any] = api.get(answer["status_check"]).json()
    assert list(current) == STATUS_FIELDS
    assert current["task_id"] == answer["task_id"]
    assert current["active"] is True and current["error"] is False
    assert (current["model"], current["action"]) == (body["model"], body["action"])
    assert current["finish_timestamp"] == 0.0 and current["finish_time"] is None
    assert current["start_timestamp"] == pytest.approx(time.time(), abs=30)
    return current


def run(api: httpx.Client, clock: Clock, body: dict[str, Any]) -> dict[str, Any]:
    """Post a task, let its time pass, and return its final status."""
    started = scheduled(api, body)
    clock.now += TASK_SECONDS
    final = status(api, started["task_id"])
    assert final["active"] is False
    return final


def live_index(api: httpx.Client, alias: str) -> str:
    name = stat(api, alias)["alt_names"]
    assert isinstance(name, str)
    return name


# -- health, routes, auth -------------------------------------------------------------------


def test_health_check_and_its_dependencies() -> None:
    healthy = create_app(OpenverseConfig(tasks=0))
    sick = create_app(OpenverseConfig(tasks=0, es_status="yellow", databases_down=("api",)))
    with EmulatorServer(healthy) as ok, EmulatorServer(sick) as bad:
        assert httpx.get(ok.url + "/").json() == {"status": "200 OK"}
        assert httpx.get(ok.url + "/", params={"check_deps": "true"}).json() == {"status": "200 OK"}
        # Without check_deps (or with a false value) the dependencies are not looked at.
        for params in ({}, {"check_deps": "false"}, {"check_deps": ""}):
            response = httpx.get(bad.url + "/", params=params)
            assert (response.status_code, response.json()) == (200, {"status": "200 OK"})
        response = httpx.get(bad.url + "/", params={"check_deps": "yes"})
        assert response.status_code == 503
        assert response.json() == {
            "status": "503 Service Unavailable",
            "dependencies": {
                "es": ["Elasticsearch cluster health: yellow"],
                "db": ["Database connection for 'api' could not be established"],
            },
        }
        invalid = httpx.get(bad.url + "/", params={"check_deps": "maybe"})
        assert invalid.status_code == 400
        assert invalid.json() == {
            "title": "Invalid parameter",
            "description": 'The "check_deps" parameter is invalid. '
            'The value of the parameter must be "true" or "false".',
        }


def test_unreachable_elasticsearch_in_the_health_check() -> None:
    app = create_app(OpenverseConfig(tasks=0, es_status=None, databases_down=("upstream", "api")))
    with EmulatorServer(app) as running:
        body = httpx.get(running.url + "/", params={"check_deps": "1"}).json()
    assert body["dependencies"] == {
        "es": ["Elasticsearch could not be reached"],
        "db": [
            "Database connection for 'upstream' could not be established",
            "Database connection for 'api' could not be established",
        ],
    }


def test_unknown_routes_and_methods_get_falcon_bodies(api: httpx.Client) -> None:
    missing = api.get("/tasks")
    assert (missing.status_code, missing.json()) == (404, {"title": "404 Not Found"})
    slash = api.get("/task/")  # falcon neither strips nor redirects
    assert slash.status_code == 404
    wrong = api.delete("/task")
    assert (wrong.status_code, wrong.json()) == (405, {"title": "405 Method Not Allowed"})
    assert wrong.headers["allow"] == "GET, POST"


def test_no_auth_is_asked_for(api: httpx.Client) -> None:
    plain = api.get("/task")
    with_token = api.get("/task", headers={"Authorization": "Bearer anything"})
    assert plain.status_code == with_token.status_code == 200
    assert plain.content == with_token.content


def test_unknown_task_is_404(api: httpx.Client) -> None:
    response = api.get("/task/abc")
    assert response.status_code == 404
    assert response.json() == {"message": "No task found with id abc."}


# -- seeded data -------------------------------------------------------------------------------


def test_seeded_tasks_are_a_history_of_data_refreshes(api: httpx.Client) -> None:
    tasks = api.get("/task").json()
    assert len(tasks) == 200 == len({t["task_id"] for t in tasks})
    assert all(list(t) == STATUS_FIELDS and t["active"] is False for t in tasks)
    finishes = [t["finish_timestamp"] for t in tasks]
    assert finishes == sorted(finishes)  # the tracker's order
    assert {t["model"] for t in tasks} == {"image", "audio"}
    assert {t["action"] for t in tasks} == {
        "REINDEX",
        "CREATE_AND_POPULATE_FILTERED_INDEX",
        "POINT_ALIAS",
        "DELETE_INDEX",
    }
    for task in tasks:
        assert isinstance(task["progress"], float)
        assert task["error"] is (task["progress"] < 100)
        assert task["start_time"].startswith(
            time.strftime("%Y-%m-%d", time.gmtime(task["start_timestamp"]))
        )
        if task["finish_timestamp"]:
            assert task["finish_timestamp"] > task["start_timestamp"]
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?", task["finish_time"])
    failed = [t for t in tasks if t["error"] and not t["is_bad_request"]]
    refused = [t for t in tasks if t["error"] and t["is_bad_request"]]
    assert failed and all(t["action"] != "DELETE_INDEX" for t in failed)
    assert refused and all(t["action"] == "DELETE_INDEX" and t["progress"] == 0 for t in refused)


def test_seeded_indices_and_aliases(api: httpx.Client, server: EmulatorServer) -> None:
    for model in ("image", "audio"):
        live = live_index(api, model)
        assert stat(api, model) == {"exists": True, "is_alias": True, "alt_names": live}
        assert stat(api, live) == {"exists": True, "is_alias": False, "alt_names": [model]}
        assert live_index(api, f"{model}-filtered") == f"{live}-filtered"
        kept = [n for n in state_of(server).indices if n.startswith(f"{model}-")]
        # Three indices kept per model, each with its filtered twin; the last refresh may
        # have stopped before it deleted the one it replaced.
        assert len(kept) in (6, 8)
        assert {f"{n}-filtered" for n in kept if not n.endswith("-filtered")} <= set(kept)
        assert all(state_of(server).indices[n].documents > 0 for n in kept)
    assert stat(api, "nope") == {"exists": False, "is_alias": None, "alt_names": None}


def test_stat_with_a_wildcard_is_what_get_stat_makes_of_it(
    api: httpx.Client, server: EmulatorServer
) -> None:
    first = min(n for n in state_of(server).indices if n.startswith("audio-"))
    assert stat(api, "audio-*") == {"exists": True, "is_alias": True, "alt_names": first}
    nothing = api.get("/stat/nothing-*")  # IndexError upstream
    assert (nothing.status_code, nothing.json()) == (500, {"title": "500 Internal Server Error"})


def test_same_seed_same_bytes(clock: Clock) -> None:
    bodies = []
    for _ in range(2):
        with EmulatorServer(create_app(OpenverseConfig(tasks=300, clock=clock))) as running:
            bodies.append(httpx.get(running.url + "/task").content)
    assert bodies[0] == bodies[1] and bodies[0].count(b'"task_id"') == 300
    assert bodies[0].startswith(b'[{"task_id": ')  # falcon's json.dumps spacing


# -- each action's lifecycle ---------------------------------------------------------------------


def test_reindex_creates_the_index_and_reports_progress(
    api: httpx.Client, server: EmulatorServer, clock: Clock
) -> None:
    started = scheduled(api, {"model": "image", "action": "REINDEX", "index_suffix": "new"})
    assert started["progress"] == 0.0 and started["active_workers"] is True
    # The index is created before the workers fill it; no alias points at it yet.
    assert stat(api, "image-new") == {"exists": True, "is_alias": False, "alt_names": []}
    clock.now += TASK_SECONDS / 4
    assert status(api, started["task_id"])["progress"] == 25.0
    clock.now += TASK_SECONDS / 4
    halfway = status(api, started["task_id"])
    assert (halfway["active"], halfway["progress"]) == (True, 50.0)
    clock.now += TASK_SECONDS / 2
    done = status(api, started["task_id"])
    assert done["active"] is False and done["progress"] == 100.0
    assert (done["error"], done["is_bad_request"], done["active_workers"]) == (False, False, False)
    assert done["finish_timestamp"] == pytest.approx(started["start_timestamp"] + TASK_SECONDS)
    assert done["finish_time"] is not None
    assert state_of(server).indices["image-new"].documents > 0


def test_reindex_without_a_suffix_uses_the_task_id(api: httpx.Client, clock: Clock) -> None:
    final = run(api, clock, {"model": "audio", "action": "REINDEX"})
    assert final["progress"] == 100.0
    assert stat(api, f"audio-{final['task_id']}")["exists"] is True


def test_filtered_index_is_made_from_the_origin(
    api: httpx.Client, server: EmulatorServer, clock: Clock
) -> None:
    origin = live_index(api, "image")
    suffix = origin.removeprefix("image-")
    body = {
        "model": "image",
        "action": "CREATE_AND_POPULATE_FILTERED_INDEX",
        "origin_index_suffix": suffix,
        "destination_index_suffix": "fresh",
    }
    started = scheduled(api, body)
    clock.now += TASK_SECONDS / 2
    # Upstream only sets progress when the ES reindex returns.
    assert status(api, started["task_id"])["progress"] == 0.0
    assert stat(api, "image-fresh-filtered")["exists"] is True
    clock.now += TASK_SECONDS / 2
    done = status(api, started["task_id"])
    assert (done["progress"], done["error"]) == (100.0, False)
    indices = state_of(server).indices
    assert indices["image-fresh-filtered"].documents == int(indices[origin].documents * 0.985)


def test_filtered_index_defaults_to_the_live_alias_and_a_random_suffix(
    api: httpx.Client, server: EmulatorServer, clock: Clock
) -> None:
    before = set(state_of(server).indices)
    final = run(api, clock, {"model": "audio", "action": "CREATE_AND_POPULATE_FILTERED_INDEX"})
    assert final["progress"] == 100.0
    (created,) = set(state_of(server).indices) - before
    assert re.fullmatch(r"audio-[0-9a-f]{32}-filtered", created)


def test_point_alias_moves_the_alias(api: httpx.Client, clock: Clock) -> None:
    old = live_index(api, "image")
    run(api, clock, {"model": "image", "action": "REINDEX", "index_suffix": "next"})
    body = {"model": "image", "action": "POINT_ALIAS", "index_suffix": "next", "alias": "image"}
    started = scheduled(api, body)
    assert live_index(api, "image") == old  # not until the task is done
    clock.now += TASK_SECONDS
    done = status(api, started["task_id"])
    assert (done["active"], done["progress"], done["error"]) == (False, 100.0, False)
    assert stat(api, "image") == {"exists": True, "is_alias": True, "alt_names": "image-next"}
    assert stat(api, old)["alt_names"] == []
    assert stat(api, "image-next")["alt_names"] == ["image"]


def test_point_alias_creates_a_new_alias(api: httpx.Client, clock: Clock) -> None:
    live = live_index(api, "audio")
    body = {"model": "audio", "action": "POINT_ALIAS", "alias": "audio-main"}
    final = run(api, clock, body | {"index_suffix": live.removeprefix("audio-")})
    assert final["progress"] == 100.0
    assert stat(api, live)["alt_names"] == ["audio", "audio-main"]


def test_delete_index_removes_an_unaliased_index(
    api: httpx.Client, server: EmulatorServer, clock: Clock
) -> None:
    live = live_index(api, "image")
    old = next(n for n in state_of(server).indices if n.startswith("image-") and n != live)
    body = {"model": "image", "action": "DELETE_INDEX", "index_suffix": old.removeprefix("image-")}
    started = scheduled(api, body)
    assert stat(api, old)["exists"] is True
    clock.now += TASK_SECONDS
    done = status(api, started["task_id"])
    assert (done["progress"], done["error"], done["is_bad_request"]) == (100.0, False, False)
    assert stat(api, old)["exists"] is False


def test_force_deleting_an_alias_deletes_its_index(api: httpx.Client, clock: Clock) -> None:
    live = live_index(api, "audio-filtered")
    body = {"model": "audio", "action": "DELETE_INDEX", "alias": "audio-filtered"}
    final = run(api, clock, body | {"force_delete": True})
    assert (final["progress"], final["error"]) == (100.0, False)
    assert stat(api, live)["exists"] is False
    assert stat(api, "audio-filtered")["exists"] is False  # the alias went with it


@pytest.mark.parametrize(
    "body",
    [
        {"action": "INGEST_UPSTREAM", "index_suffix": "legacy"},
        {"action": "UPDATE_INDEX", "index_suffix": "legacy", "since_date": "2025-01-01"},
    ],
)
def test_legacy_actions_fill_an_index(
    api: httpx.Client, server: EmulatorServer, clock: Clock, body: dict[str, Any]
) -> None:
    final = run(api, clock, {"model": "image", **body})
    assert (final["progress"], final["error"]) == (100.0, False)
    assert state_of(server).indices["image-legacy"].documents > 0


def test_promote_points_the_alias(api: httpx.Client, clock: Clock) -> None:
    run(api, clock, {"model": "image", "action": "REINDEX", "index_suffix": "promoted"})
    body = {"model": "image", "action": "PROMOTE", "index_suffix": "promoted", "alias": "image"}
    started = scheduled(api, body)
    clock.now += TASK_SECONDS / 2
    assert status(api, started["task_id"])["progress"] == 50.0
    clock.now += TASK_SECONDS / 2
    assert status(api, started["task_id"])["progress"] == 100.0
    assert live_index(api, "image") == "image-promoted"


def test_a_task_that_ends_at_once_is_completed_in_the_answer(clock: Clock) -> None:
    app = create_app(OpenverseConfig(tasks=0, task_seconds=0, clock=clock))
    with EmulatorServer(app) as running:
        body = {"model": "image", "action": "REINDEX", "index_suffix": "now"}
        response = httpx.post(running.url + "/task", json=body)
        assert response.status_code == 202
        assert response.json()["message"] == "Successfully completed task"
        final = httpx.get(response.json()["status_check"]).json()
        assert (final["active"], final["progress"], final["error"]) == (False, 100.0, False)


# -- validation ------------------------------------------------------------------------------

_ALL_ACTIONS = (
    "['REINDEX', 'POINT_ALIAS', 'INGEST_UPSTREAM', 'PROMOTE', 'UPDATE_INDEX', 'DELETE_INDEX', "
    "'CREATE_AND_POPULATE_FILTERED_INDEX']"
)


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"action": "REINDEX"}, "'model' is a required property"),
        # The schema's if/then branches hold when "action" is missing, so jsonschema's best
        # match for an empty body is a field they require: what the real server says too.
        ({}, "'index_suffix' is a required property"),
        (
            {"model": "video", "action": "REINDEX"},
            "'video' is not one of ['audio', 'image', 'model_3d']",
        ),
        ({"model": "image", "action": "NOPE"}, f"'NOPE' is not one of {_ALL_ACTIONS}"),
        (
            {"model": "image", "action": "POINT_ALIAS", "alias": "image"},
            "'index_suffix' is a required property",
        ),
        (
            {"model": "image", "action": "POINT_ALIAS", "index_suffix": "x"},
            "'alias' is a required property",
        ),
        (
            {"model": "image", "action": "PROMOTE", "index_suffix": "x"},
            "'alias' is a required property",
        ),
        (
            {"model": "image", "action": "UPDATE_INDEX", "index_suffix": "x"},
            "'since_date' is a required property",
        ),
        (
            {"model": "image", "action": "DELETE_INDEX"},
            "{'model': 'image', 'action': 'DELETE_INDEX'} "
            "is not valid under any of the given schemas",
        ),
        (
            {"model": "image", "action": "DELETE_INDEX", "alias": "a", "index_suffix": "b"},
            "{'model': 'image', 'action': 'DELETE_INDEX', 'alias': 'a', 'index_suffix': 'b'} "
            "is valid under each of {'required': ['index_suffix']}, {'required': ['alias']}",
        ),
        ({"model": "image", "action": "REINDEX", "index_suffix": 5}, "5 is not of type 'string'"),
        (
            {"model": "image", "action": "DELETE_INDEX", "alias": "image", "force_delete": "yes"},
            "'yes' is not of type 'boolean'",
        ),
        (["image", "REINDEX"], "['image', 'REINDEX'] is not of type 'object'"),
    ],
)
def test_schema_violations_are_400_with_falcon_bodies(
    api: httpx.Client, server: EmulatorServer, body: Any, description: str
) -> None:
    response = post(api, body)
    assert response.status_code == 400
    assert response.json() == {
        "title": "Request data failed validation",
        "description": description,
    }
    assert len(state_of(server).tasks) == 200  # nothing was scheduled


def test_unparsable_bodies(api: httpx.Client) -> None:
    empty = api.post("/task")
    assert (empty.status_code, empty.json()) == (
        400,
        {"title": "Invalid JSON", "description": "Could not parse an empty JSON body"},
    )
    broken = api.post("/task", content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert broken.json() == {
        "title": "Invalid JSON",
        "description": "Could not parse JSON body - Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)",
    }
    text = api.post("/task", content=b"x", headers={"content-type": "text/plain"})
    assert (text.status_code, text.json()) == (
        415,
        {
            "title": "415 Unsupported Media Type",
            "description": "text/plain is an unsupported media type.",
        },
    )


def test_a_form_body_is_read_like_json(api: httpx.Client) -> None:
    response = api.post("/task", data={"model": "image", "action": "REINDEX"})
    assert response.status_code == 202
    forced = api.post(
        "/task",
        data={"model": "image", "action": "DELETE_INDEX", "alias": "x", "force_delete": "true"},
    )
    assert forced.json()["description"] == "'true' is not of type 'boolean'"


# -- refusals and failures -------------------------------------------------------------------------


def test_deleting_a_live_alias_without_force_is_a_bad_request(api: httpx.Client) -> None:
    live = live_index(api, "image")
    response = post(api, {"model": "image", "action": "DELETE_INDEX", "alias": "image"})
    assert (response.status_code, response.json()) == (400, BAD_REQUEST)
    task = api.get("/task").json()[-1]  # it finished: last by finish time
    assert (task["action"], task["is_bad_request"], task["error"]) == ("DELETE_INDEX", True, True)
    assert task["progress"] == 0.0 and task["finish_time"] is not None
    assert live_index(api, "image") == live


def test_deleting_an_aliased_index_is_a_bad_request(api: httpx.Client) -> None:
    live = live_index(api, "audio")
    body = {"model": "audio", "action": "DELETE_INDEX", "index_suffix": live.removeprefix("audio-")}
    response = post(api, body)
    assert (response.status_code, response.json()) == (400, BAD_REQUEST)
    assert stat(api, live)["exists"] is True


def test_deleting_a_missing_index_completes_but_is_flagged(api: httpx.Client) -> None:
    response = post(api, {"model": "image", "action": "DELETE_INDEX", "index_suffix": "gone"})
    assert response.status_code == 202
    assert response.json()["message"] == "Successfully completed task"
    task = status(api, response.json()["task_id"])
    assert (task["active"], task["progress"], task["error"]) == (False, 100.0, False)
    assert task["is_bad_request"] is True


def test_pointing_an_alias_at_a_missing_index_fails(api: httpx.Client, clock: Clock) -> None:
    live = live_index(api, "image")
    body = {"model": "image", "action": "POINT_ALIAS", "index_suffix": "missing", "alias": "image"}
    final = run(api, clock, body)
    assert (final["error"], final["is_bad_request"], final["progress"]) == (True, False, 0.0)
    # An Elasticsearch error ends the task process before it records a finish time.
    assert final["finish_timestamp"] == 0.0 and final["finish_time"] is None
    assert live_index(api, "image") == live


def test_an_alias_named_like_an_index_fails(
    api: httpx.Client, server: EmulatorServer, clock: Clock
) -> None:
    live = live_index(api, "image")
    other = next(n for n in state_of(server).indices if n.startswith("image-") and n != live)
    body = {"model": "image", "action": "POINT_ALIAS", "index_suffix": live.removeprefix("image-")}
    final = run(api, clock, body | {"alias": other})
    assert (final["error"], final["progress"]) == (True, 0.0)
    assert final["finish_time"] is not None  # upstream returns, it does not raise
    assert stat(api, other)["is_alias"] is False


def test_reindexing_into_an_existing_index_is_a_server_error(api: httpx.Client) -> None:
    live = live_index(api, "image")
    body = {"model": "image", "action": "REINDEX", "index_suffix": live.removeprefix("image-")}
    response = post(api, body)
    assert (response.status_code, response.json()) == (500, SERVER_ERROR)
    failed = api.get("/task").json()[0]  # finish_timestamp 0: listed first
    assert (failed["action"], failed["error"], failed["finish_time"]) == ("REINDEX", True, None)


def test_filtered_index_of_a_missing_origin_fails(
    api: httpx.Client, server: EmulatorServer
) -> None:
    body = {
        "model": "audio",
        "action": "CREATE_AND_POPULATE_FILTERED_INDEX",
        "origin_index_suffix": "nope",
        "destination_index_suffix": "orphan",
    }
    assert (post(api, body).status_code, post(api, body).json()) == (500, SERVER_ERROR)
    # The destination was created before the ES reindex failed, and stays, empty.
    assert state_of(server).indices["audio-orphan-filtered"].documents == 0


def test_one_reindex_at_a_time_until_the_worker_state_is_cleared(
    api: httpx.Client, clock: Clock
) -> None:
    first = scheduled(api, {"model": "image", "action": "REINDEX", "index_suffix": "one"})
    second = post(api, {"model": "audio", "action": "REINDEX", "index_suffix": "two"})
    assert (second.status_code, second.json()) == (500, SERVER_ERROR)
    refused = api.get("/task").json()[-1]
    assert (refused["action"], refused["model"], refused["error"]) == ("REINDEX", "audio", True)
    assert refused["active_workers"] is True  # upstream sets it before the refusal
    cleared = api.delete("/state")
    assert (cleared.status_code, cleared.content) == (200, b"")
    scheduled(api, {"model": "audio", "action": "REINDEX", "index_suffix": "three"})
    clock.now += TASK_SECONDS
    assert status(api, first["task_id"])["progress"] == 100.0


# -- the task list, callbacks, request log, faults ---------------------------------------------


def test_task_list_puts_running_tasks_first(api: httpx.Client, clock: Clock) -> None:
    done = run(api, clock, {"model": "image", "action": "REINDEX", "index_suffix": "a"})
    running = scheduled(api, {"model": "audio", "action": "REINDEX", "index_suffix": "b"})
    tasks = api.get("/task").json()
    assert len(tasks) == 202
    assert tasks[0]["task_id"] == running["task_id"] and tasks[0]["active"] is True
    assert tasks[-1]["task_id"] == done["task_id"]  # the latest finish time
    clock.now += TASK_SECONDS
    assert api.get("/task").json()[-1]["task_id"] == running["task_id"]


def test_callbacks_are_posted_when_a_task_completes(
    api: httpx.Client, server: EmulatorServer, clock: Clock
) -> None:
    sink = server.url + "/callback-sink"
    body = {"model": "image", "action": "REINDEX", "index_suffix": "cb", "callback_url": sink}
    done = run(api, clock, body)
    failing = {"model": "image", "action": "POINT_ALIAS", "index_suffix": "absent"}
    run(api, clock, failing | {"alias": "image", "callback_url": sink})
    deadline = time.monotonic() + 5
    while not any(e.path == "/callback-sink" for e in server.log.entries()):
        assert time.monotonic() < deadline, "no callback arrived"
        time.sleep(0.02)
    calls = [e for e in server.log.entries() if e.path == "/callback-sink"]
    assert [(e.method, e.json) for e in calls] == [("POST", None)]  # no body
    assert state_of(server).callbacks == [(done["task_id"], sink)]  # none for the failure


def test_request_log_and_an_injected_fault(api: httpx.Client, server: EmulatorServer) -> None:
    server.faults.fail("POST", "/task", status=503, times=1)
    body = {"model": "image", "action": "REINDEX", "index_suffix": "retry"}
    first = post(api, body)
    assert (first.status_code, first.json()) == (503, {"title": "503 Service Unavailable"})
    assert stat(api, "image-retry")["exists"] is False  # the fault reached no task
    second = post(api, body)
    assert second.status_code == 202
    entries = [e for e in server.log.entries() if e.path == "/task"]
    assert [(e.method, e.status, e.json) for e in entries] == [
        ("POST", 503, body),
        ("POST", 202, body),
    ]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
