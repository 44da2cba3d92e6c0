"""Openverse's ingestion server through its emulator: listing and reading tasks, index stats,
starting tasks with AWAIT until they finish or fail, and inputs refused before sending."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.openverse import OpenverseConfig, create_app
from sqlprovider.result import Result

TASKS = "openverse.ingestion.tasks"
STATS = "openverse.ingestion.index_stats"


@pytest.fixture(scope="module")
def seeded() -> Iterator[EmulatorServer]:
    with EmulatorServer(create_app(OpenverseConfig()), name="openverse") as server:
        yield server


@pytest.fixture
def fresh() -> Iterator[EmulatorServer]:
    """An emulator whose tasks finish 0.2 s after they start (real time, for AWAIT)."""
    with EmulatorServer(create_app(OpenverseConfig(task_seconds=0.2))) as server:
        yield server


def connect(server: EmulatorServer) -> sqlprovider.Connection:
    return sqlprovider.connect(servers={"openverse": server.url}, wait_interval=0.05)


def api(server: EmulatorServer, path: str) -> Any:
    return httpx.get(server.url + path).json()


def test_tasks_list_and_get_by_id(seeded: EmulatorServer) -> None:
    truth = api(seeded, "/task")
    with connect(seeded) as conn:
        rows = conn.execute(f"SELECT task_id, action, error FROM {TASKS}").fetchall()
        failed = [r for r in rows if r[2]]
        one = conn.execute(
            f"SELECT task_id, model, progress FROM {TASKS} WHERE task_id = '{failed[0][0]}'"
        ).fetchall()
        missing = conn.execute(f"SELECT * FROM {TASKS} WHERE task_id = 'nope'").fetchall()
    assert [r[0] for r in rows] == [t["task_id"] for t in truth]
    assert failed, "the seeded history should hold failed tasks"
    task = api(seeded, f"/task/{failed[0][0]}")
    assert one == [(task["task_id"], task["model"], task["progress"])]
    assert missing == []  # 404 on a get means no such task: no rows


def test_index_stats_for_aliases_and_indices(seeded: EmulatorServer) -> None:
    with connect(seeded) as conn:
        rows = conn.execute(
            f"SELECT name, exists, is_alias, alt_names FROM {STATS} "
            "WHERE name IN ('image', 'audio-filtered', 'no-such-index') ORDER BY name"
        ).fetchall()
    by_name = {r[0]: r[1:] for r in rows}
    assert by_name["no-such-index"] == (False, None, None)
    exists, is_alias, target = by_name["image"]
    assert exists and is_alias
    assert json.loads(target).startswith("image-")  # a JSON column: the index it points at
    assert by_name["audio-filtered"][:2] == (True, True)


def test_reindex_with_await_reports_the_final_state(fresh: EmulatorServer) -> None:
    with connect(fresh) as conn:
        [row] = conn.execute(
            f"INSERT /*+ AWAIT */ INTO {TASKS} (data__model, data__action, data__index_suffix) "
            "SELECT 'image', 'REINDEX', '20231106' RETURNING task_id, active, progress, error"
        ).fetchall()
        stats = conn.execute(
            f"SELECT exists, is_alias FROM {STATS} WHERE name = 'image-20231106'"
        ).fetchall()
    task_id, active, progress, error = row
    assert (active, progress, error) == (False, 100.0, False)
    assert api(fresh, f"/task/{task_id}")["progress"] == 100.0
    assert stats == [(True, False)]
    [post] = [e for e in fresh.log.entries() if e.method == "POST"]
    assert post.json == {"model": "image", "action": "REINDEX", "index_suffix": "20231106"}


def test_a_task_that_fails_fails_the_awaited_statement(fresh: EmulatorServer) -> None:
    with (
        connect(fresh) as conn,
        pytest.raises(sqlprovider.WriteFailedError) as raised,
    ):
        conn.execute(
            f"INSERT INTO {TASKS} (data__model, data__action, data__index_suffix, data__alias) "
            "VALUES ('audio', 'POINT_ALIAS', 'does-not-exist', 'audio')",
            wait=True,
        )
    result = raised.value.result
    assert isinstance(result, Result)
    assert result.rows[0][4].startswith("failed: ")
    assert "the job ended" in str(raised.value)


def test_deleting_a_live_alias_is_the_servers_400(fresh: EmulatorServer) -> None:
    with connect(fresh) as conn, pytest.raises(sqlprovider.HTTPStatusError) as raised:
        conn.execute(
            f"INSERT INTO {TASKS} (data__model, data__action, data__alias) "
            "VALUES ('image', 'DELETE_INDEX', 'image')"
        )
    assert raised.value.status_code == 400
    assert "Failed during task execution due to bad request" in str(raised.value)


@pytest.mark.parametrize(
    ("columns", "values", "problem"),
    [
        ("data__model, data__action", "'image', 'POINT_ALIAS'", "also needs index_suffix"),
        ("data__model, data__action", "'image', 'DELETE_INDEX'", "needs alias (data__alias) or"),
        ("data__model, data__action", "'video', 'REINDEX'", "model cannot be sent as 'video'"),
        ("data__model, data__action", "'image', 'REBUILD'", "action cannot be sent as 'REBUILD'"),
    ],
)
def test_bad_task_inputs_are_refused_before_sending(
    fresh: EmulatorServer, columns: str, values: str, problem: str
) -> None:
    with connect(fresh) as conn, pytest.raises(sqlprovider.DataError) as raised:
        conn.execute(f"INSERT INTO {TASKS} ({columns}) VALUES ({values})")
    assert problem in str(raised.value)
    assert fresh.log.entries() == []


def test_health(seeded: EmulatorServer) -> None:
    with connect(seeded) as conn:
        assert conn.execute("SELECT status FROM openverse.ingestion.health").fetchall() == [
            ("200 OK",)
        ]
