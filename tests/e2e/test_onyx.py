"""Onyx through its emulator: every resource, every pushdown rule (what was sent, and that the
answer equals fetching everything and filtering), pausing, running a connector, and 403s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.onyx import OnyxConfig, create_app
from tests.conftest import Clock

KEY = "on_e2e-onyx-key-7c21"
STATUS = "onyx.connector.indexing_status"
STATUS_PATH = "/api/manage/admin/connector/indexing-status"


@pytest.fixture(scope="module")
def onyx() -> Iterator[EmulatorServer]:
    """1,000 connectors, read-only tests."""
    with EmulatorServer(create_app(OnyxConfig(api_key=KEY)), name="onyx") as server:
        yield server


def connect(server: EmulatorServer, key: str = KEY) -> sqlprovider.Connection:
    return sqlprovider.connect(servers={"onyx": server.url + "/api"}, auth={"onyx": {"token": key}})


def every_row(server: EmulatorServer) -> list[dict[str, Any]]:
    """All indexing-status rows, read from the API directly (the ground truth)."""
    response = httpx.post(
        server.url + STATUS_PATH,
        json={"get_all_connectors": True},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    response.raise_for_status()
    return [row for group in response.json() for row in group["indexing_statuses"]]


def posted_bodies(server: EmulatorServer) -> list[Any]:
    return [e.json for e in server.log.entries() if e.method == "POST" and e.path == STATUS_PATH]


def test_every_connector_arrives_once(onyx: EmulatorServer) -> None:
    truth = every_row(onyx)
    with connect(onyx) as conn:
        rows = conn.execute(f"SELECT cc_pair_id, federated_id, source FROM {STATUS}").fetchall()
    assert len(truth) == 1001  # 1,000 cc pairs and the federated Slack connector
    ids = [r[0] for r in rows if r[0] is not None]
    assert len(ids) == len(set(ids)) == 1000
    assert sorted(ids) == sorted(r["cc_pair_id"] for r in truth if "cc_pair_id" in r)
    assert [r for r in rows if r[0] is None] == [(None, 1, "federated_slack")]


PUSHDOWN_CASES: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
    ("source = 'web'", {"source": "web"}, lambda r: r["source"] == "web"),
    (
        "access_type IN ('public', 'sync')",
        {"access_type_filters": ["public", "sync"]},
        lambda r: r.get("access_type") in ("public", "sync"),
    ),
    (
        "last_status = 'failed'",
        {"last_status_filters": ["failed"]},
        lambda r: r.get("last_status") == "failed",
    ),
    (
        "docs_indexed > 5000",
        {"docs_count_operator": ">", "docs_count_value": 5000},
        lambda r: (r.get("docs_indexed") or 0) > 5000,
    ),
    (
        "docs_indexed < 50",
        {"docs_count_operator": "<", "docs_count_value": 50},
        lambda r: r.get("docs_indexed") is not None and r["docs_indexed"] < 50,
    ),
    (
        "name ILIKE '%wiki%'",
        {"name_filter": "wiki"},
        lambda r: "wiki" in (r.get("name") or "").lower(),
    ),
    (
        "name LIKE '%Sales%'",  # case-sensitive locally; the API's filter is looser
        {"name_filter": "Sales"},
        lambda r: "Sales" in (r.get("name") or ""),
    ),
]


@pytest.mark.parametrize(
    ("condition", "sent", "keep"), PUSHDOWN_CASES, ids=[c[0] for c in PUSHDOWN_CASES]
)
def test_pushdown_sends_the_filter_and_never_changes_the_answer(
    onyx: EmulatorServer,
    condition: str,
    sent: dict[str, Any],
    keep: Callable[[dict[str, Any]], bool],
) -> None:
    expected = sorted(r["cc_pair_id"] for r in every_row(onyx) if "cc_pair_id" in r and keep(r))
    onyx.log.clear()
    with connect(onyx) as conn:
        rows = conn.execute(f"SELECT cc_pair_id FROM {STATUS} WHERE {condition}").fetchall()
    assert sorted(r[0] for r in rows) == expected
    assert expected, "the seeded data should hold matching rows"
    [body] = posted_bodies(onyx)
    assert body == {"get_all_connectors": True, **sent}


def test_filters_combine_in_one_request(onyx: EmulatorServer) -> None:
    def keep(r: dict[str, Any]) -> bool:
        return (
            r["source"] == "confluence"
            and r["access_type"] == "private"
            and r["docs_indexed"] > 1000
            and r["last_status"] in ("success", "failed")
        )

    expected = sorted(r["cc_pair_id"] for r in every_row(onyx) if "cc_pair_id" in r and keep(r))
    onyx.log.clear()
    with connect(onyx) as conn:
        rows = conn.execute(
            f"SELECT cc_pair_id FROM {STATUS} WHERE source = 'confluence' "
            "AND access_type = 'private' AND docs_indexed > 1000 "
            "AND last_status IN ('success', 'failed')"
        ).fetchall()
    assert sorted(r[0] for r in rows) == expected and expected
    [body] = posted_bodies(onyx)
    assert body["access_type_filters"] == ["private"]
    assert body["last_status_filters"] == ["success", "failed"]
    assert (body["docs_count_operator"], body["docs_count_value"]) == (">", 1000)


def test_summary_counts_match_the_rows(onyx: EmulatorServer) -> None:
    with connect(onyx) as conn:
        summary = dict(
            (row[0], row[1:])
            for row in conn.execute(
                "SELECT source, total_connectors, total_docs_indexed "
                "FROM onyx.connector.indexing_summary"
            ).fetchall()
        )
        counted = conn.execute(
            f"SELECT source, count(*), sum(docs_indexed) FROM {STATUS} "
            "WHERE cc_pair_id IS NOT NULL GROUP BY source"
        ).fetchall()
    for source, count, docs in counted:
        total, total_docs = summary[source]
        assert total_docs == docs
        assert total == count + (1 if source == "slack" else 0)  # the federated connector


def test_failed_connectors_and_their_attempts(onyx: EmulatorServer) -> None:
    with connect(onyx) as conn:
        failed = conn.execute(
            "SELECT cc_pair_id, error_msg FROM onyx.connector.failed_indexing_status"
        ).fetchall()
        attempts = conn.execute(
            "SELECT f.cc_pair_id, a.id, a.status FROM onyx.connector.failed_indexing_status f "
            "JOIN onyx.connector.index_attempts a ON a.cc_pair_id = f.cc_pair_id"
        ).fetchall()
    assert failed and all(error for _, error in failed)
    assert {row[0] for row in attempts} == {row[0] for row in failed}
    assert any(status == "failed" for _, _, status in attempts)
    ids = [(cc, attempt) for cc, attempt, _ in attempts]
    assert len(ids) == len(set(ids))


def test_index_attempts_page_from_zero(onyx: EmulatorServer) -> None:
    pair = next(r for r in every_row(onyx) if r.get("last_status") == "failed")
    onyx.log.clear()
    with connect(onyx) as conn:
        rows = conn.execute(
            "SELECT id FROM onyx.connector.index_attempts "
            f"WHERE cc_pair_id = {pair['cc_pair_id']} AND page_size = 2"
        ).fetchall()
    truth = httpx.get(
        f"{onyx.url}/api/manage/admin/cc-pair/{pair['cc_pair_id']}/index-attempts",
        params={"page_size": 1000},
        headers={"Authorization": KEY},
    ).json()
    assert [r[0] for r in rows] == [item["id"] for item in truth["items"]]
    pages = [e.query for e in onyx.log.entries() if "page_size=2" in e.query]
    assert pages[0] == "page_size=2&page_num=0"
    assert len(pages) == truth["total_items"] // 2 + 1


def test_pause_resume_and_run_once() -> None:
    clock = Clock()
    config = OnyxConfig(api_key=KEY, connectors=60, clock=clock)
    with EmulatorServer(create_app(config)) as server, connect(server) as conn:
        pair = conn.execute(
            f"SELECT cc_pair_id FROM {STATUS} WHERE cc_pair_status = 'ACTIVE' LIMIT 1"
        ).fetchone()
        assert pair is not None
        cc_pair_id = pair[0]
        outcome = conn.execute(
            f"UPDATE {STATUS} SET data__status = 'PAUSED' WHERE cc_pair_id = {cc_pair_id}"
        ).fetchall()
        assert outcome[0][2] == 200 and outcome[0][4] == "ok"
        status = conn.execute(
            f"SELECT cc_pair_status FROM {STATUS} WHERE cc_pair_id = {cc_pair_id}"
        ).fetchone()
        assert status == ("PAUSED",)
        conn.execute(f"UPDATE {STATUS} SET data__status = 'ACTIVE' WHERE cc_pair_id = {cc_pair_id}")
        connector_id = server.app.state.onyx.cc_pairs[cc_pair_id].connector_id
        [(success, message, started)] = conn.execute(
            "EXEC onyx.connector.connectors.run_once "
            f"@connector_id = {connector_id}, @from_beginning = true "
            "RETURNING success, message, data"
        ).fetchall()
        assert success is True and started >= 1 and "index attempts" in message
        clock.now += 2  # past the queue: the attempt runs
        running = conn.execute(
            f"SELECT in_progress, last_status FROM {STATUS} WHERE cc_pair_id = {cc_pair_id}"
        ).fetchone()
        assert running == (True, "in_progress")
        [put] = [e for e in server.log.entries() if e.method == "PUT"][:1]
        assert put.json == {"status": "PAUSED"}


def test_a_wrong_key_is_a_clear_403(onyx: EmulatorServer) -> None:
    with (
        connect(onyx, key="on_wrong-key-123456") as conn,
        pytest.raises(sqlprovider.AuthError) as raised,
    ):
        conn.execute(f"SELECT * FROM {STATUS}")
    message = str(raised.value)
    assert "HTTP 403: Access denied. User is not authenticated." in message
    assert "ONYX_API_KEY" in message and "on_wrong-key-123456" not in message


def test_a_value_outside_the_enum_is_never_sent_and_the_answer_is_duckdbs(
    onyx: EmulatorServer,
) -> None:
    # The API would refuse 'secret' (422), yet rows may hold values outside the declared
    # enum: the condition stays with DuckDB, over every row.
    onyx.log.clear()
    with connect(onyx) as conn:
        rows = conn.execute(f"SELECT name FROM {STATUS} WHERE access_type = 'secret'").fetchall()
    assert rows == []
    assert not [r for r in every_row(onyx) if r.get("access_type") == "secret"]
    assert all("access_type_filters" not in (body or {}) for body in posted_bodies(onyx))
