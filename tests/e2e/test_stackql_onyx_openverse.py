"""The fixture registry's onyx and openverse (StackQL's format) against their emulators: the
same SELECTs through them and through the bundled providers return the same rows; a read by
POST with its filters in the body; StackQL's default items key; EXEC of a method no verb
lists; writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.onyx import OnyxConfig
from sqlprovider.emulators.onyx import create_app as onyx_app
from sqlprovider.emulators.openverse import OpenverseConfig
from sqlprovider.emulators.openverse import create_app as openverse_app

REGISTRY = Path(__file__).resolve().parents[1] / "fixtures" / "stackql"
KEY = "on_e2e-onyx-key-1234"


def frozen() -> float:
    return 1000.0


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, EmulatorServer]]:
    started = {
        "onyx": EmulatorServer(
            onyx_app(OnyxConfig(api_key=KEY, connectors=120, clock=frozen)), name="onyx"
        ).start(),
        "openverse": EmulatorServer(
            openverse_app(OpenverseConfig(clock=frozen)), name="openverse"
        ).start(),
    }
    yield started
    for server in started.values():
        server.stop()


def _connect(servers: dict[str, EmulatorServer], **options: object) -> sqlprovider.Connection:
    return sqlprovider.connect(
        servers={"onyx": servers["onyx"].url + "/api", "openverse": servers["openverse"].url},
        auth={"onyx": {"token": KEY}},
        **options,
    )


@pytest.fixture(scope="module")
def both(
    servers: dict[str, EmulatorServer],
) -> Iterator[tuple[sqlprovider.Connection, sqlprovider.Connection]]:
    with _connect(servers, registry=[REGISTRY]) as registry, _connect(servers) as bundled:
        yield registry, bundled


def test_the_providers_are_the_registrys(
    both: tuple[sqlprovider.Connection, sqlprovider.Connection],
) -> None:
    registry, bundled = both
    sources = {r[0]: r[4] for r in registry.execute("SHOW PROVIDERS").fetchall()}
    assert sources["onyx"] == sources["openverse"] == f"registry {REGISTRY}"
    assert {r[0]: r[4] for r in bundled.execute("SHOW PROVIDERS").fetchall()}["onyx"] == "bundled"


DIFFERENTIAL = [
    "SELECT cc_pair_id, name, source, access_type, last_status, docs_indexed, last_success "
    "FROM onyx.connector.indexing_status WHERE cc_pair_id IS NOT NULL ORDER BY cc_pair_id",
    "SELECT cc_pair_id, name FROM onyx.connector.indexing_status WHERE source = 'web' "
    "AND cc_pair_id IS NOT NULL ORDER BY cc_pair_id",
    "SELECT source, count(*) FROM onyx.connector.indexing_status GROUP BY source ORDER BY source",
    "SELECT cc_pair_id, name, error_msg FROM onyx.connector.failed_indexing_status "
    "ORDER BY cc_pair_id",
    "SELECT id, status, total_docs_indexed, time_started FROM onyx.connector.index_attempts "
    "WHERE cc_pair_id = 3 ORDER BY id",
    "SELECT s.name, count(a.id) FROM onyx.connector.indexing_status s JOIN "
    "onyx.connector.index_attempts a ON a.cc_pair_id = s.cc_pair_id WHERE s.cc_pair_id < 6 "
    "GROUP BY s.name ORDER BY s.name",
    "SELECT task_id, active, model, action, progress, start_time, error "
    "FROM openverse.ingestion.tasks ORDER BY task_id",
    "SELECT model, count(*) FROM openverse.ingestion.tasks GROUP BY model ORDER BY model",
    "SELECT exists, is_alias FROM openverse.ingestion.index_stats WHERE name = 'image'",
]


@pytest.mark.parametrize("sql", DIFFERENTIAL)
def test_registry_and_bundled_providers_return_the_same_rows(
    both: tuple[sqlprovider.Connection, sqlprovider.Connection], sql: str
) -> None:
    registry, bundled = both
    expected = bundled.execute(sql).fetchall()
    assert expected, "the comparison needs rows"
    assert registry.execute(sql).fetchall() == expected


def test_filters_go_in_the_body_by_their_own_names(
    both: tuple[sqlprovider.Connection, sqlprovider.Connection],
    servers: dict[str, EmulatorServer],
) -> None:
    registry, bundled = both
    web = bundled.execute(
        "SELECT name FROM onyx.connector.indexing_status WHERE source = 'web'"
    ).fetchall()
    word = web[0][0].split()[-1].lower()
    onyx = servers["onyx"]
    onyx.log.clear()
    rows = registry.execute(
        "SELECT name FROM onyx.connector.indexing_status WHERE name_filter = ? AND source = 'web'",
        [word],
    ).fetchall()
    assert sorted(rows) == sorted(r for r in web if word in r[0].lower())
    [request] = onyx.log.entries()
    assert request.json == {"get_all_connectors": True, "name_filter": word, "source": "web"}


def test_a_method_only_exec_reaches_and_a_write(
    servers: dict[str, EmulatorServer],
) -> None:
    with _connect(servers, registry=[REGISTRY]) as conn:
        methods = {r[0]: r[1] for r in conn.execute("SHOW METHODS IN onyx.connector.connectors")}
        assert methods == {"run_once": "EXEC"}
        ran = conn.execute("EXEC onyx.connector.connectors.run_once @data__connector_id = 1")
        assert ran.fetchall()[0][4] == "ok"
        onyx = servers["onyx"]
        onyx.log.clear()
        conn.execute(
            "UPDATE onyx.connector.indexing_status SET status = 'PAUSED' WHERE cc_pair_id = 2"
        )
    puts = [(e.path, e.json) for e in onyx.log.entries() if e.method == "PUT"]
    assert puts == [("/api/manage/admin/cc-pair/2/status", {"status": "PAUSED"})]


def test_naive_body_fields_under_both_names(servers: dict[str, EmulatorServer]) -> None:
    """The read's body filter and the update's body field are named by their own names or
    as data__ (StackQL's reference pages write data__): the same requests either way, and
    the same rows."""
    onyx = servers["onyx"]
    sent = []
    with _connect(servers, registry=[REGISTRY]) as conn:
        rows = []
        for name in ("source", "data__source"):
            onyx.log.clear()
            rows.append(
                conn.execute(
                    f"SELECT cc_pair_id FROM onyx.connector.indexing_status WHERE {name} = 'web' "
                    "ORDER BY cc_pair_id"
                ).fetchall()
            )
            sent.append([(e.method, e.path, e.json) for e in onyx.log.entries()])
        for name in ("status", "data__status"):
            onyx.log.clear()
            conn.execute(
                f"UPDATE onyx.connector.indexing_status SET {name} = 'PAUSED' WHERE cc_pair_id = 3"
            )
            sent.append(
                [(e.method, e.path, e.json) for e in onyx.log.entries() if e.method == "PUT"]
            )
    assert rows[0] == rows[1] and rows[0]
    assert (
        sent[0]
        == sent[1]
        == [
            (
                "POST",
                "/api/manage/admin/connector/indexing-status",
                {"get_all_connectors": True, "source": "web"},
            )
        ]
    )
    assert (
        sent[2] == sent[3] == [("PUT", "/api/manage/admin/cc-pair/3/status", {"status": "PAUSED"})]
    )
