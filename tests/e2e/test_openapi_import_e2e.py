"""Providers imported from OpenAPI specs answer like the hand-written ones, against the bundled
emulators. The specs (tests/fixtures/openapi/) were written for these tests: each describes
what its emulator serves, as an API's published spec would. They are imported with the
`sqlprovider providers import openapi` command, then queried beside the shipped provider
over the same emulator, and the answers compared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import sqlprovider
from sqlprovider.cli.main import main
from sqlprovider.emulators.amperity import AmperityConfig
from sqlprovider.emulators.amperity import create_app as amperity_app
from sqlprovider.emulators.digitalocean import DigitalOceanConfig
from sqlprovider.emulators.digitalocean import create_app as digitalocean_app
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.onyx import OnyxConfig
from sqlprovider.emulators.onyx import create_app as onyx_app
from sqlprovider.emulators.openverse import OpenverseConfig
from sqlprovider.emulators.openverse import create_app as openverse_app

SPECS = Path(__file__).resolve().parents[1] / "fixtures" / "openapi"
TOKENS = {"digitalocean": "oa-do-token", "onyx": "oa-onyx-key", "amperity": "oa-amp-token"}
TENANT = "acme-oa"
# The emulator each imported provider is checked against.
IMPORTED = {
    "digitalocean": "do_imported",
    "onyx": "onyx_imported",
    "amperity": "amperity_imported",
    "openverse": "openverse_imported",
}


def frozen() -> float:
    return 1000.0


def start(name: str, jobs: int = 450) -> EmulatorServer:
    apps = {
        "digitalocean": lambda: digitalocean_app(
            DigitalOceanConfig(
                token=TOKENS[name], jobs=jobs, rate_limited=False, clock=frozen, phase_seconds=3600
            )
        ),
        "onyx": lambda: onyx_app(OnyxConfig(api_key=TOKENS[name], connectors=300, clock=frozen)),
        "amperity": lambda: amperity_app(
            AmperityConfig(
                token=TOKENS[name], tenant=TENANT, jobs=300, rate_limited=False, clock=frozen
            )
        ),
        "openverse": lambda: openverse_app(OpenverseConfig(clock=frozen)),
    }
    return EmulatorServer(apps[name](), name=name).start()


def base_url(server: EmulatorServer) -> str:
    return server.url + "/api" if server.name == "onyx" else server.url


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The imported providers, written by the command as a user would."""
    found = tmp_path_factory.mktemp("imported")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(found / "cache"))
        for emulator, name in IMPORTED.items():
            out = found / f"{name}.yaml"
            spec = str(SPECS / f"{emulator}.yaml")
            assert (
                main(["providers", "import", "openapi", spec, "--name", name, "--out", str(out)])
                == 0
            )
        yield found


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, EmulatorServer]]:
    started = {name: start(name) for name in IMPORTED}
    yield started
    for server in started.values():
        server.stop()


def connect(servers: dict[str, EmulatorServer], folder: Path) -> sqlprovider.Connection:
    urls = {name: base_url(s) for name, s in servers.items()}
    urls.update({IMPORTED[name]: url for name, url in urls.items()})
    auth = {name: {"token": token} for name, token in TOKENS.items() if name in servers}
    auth.update({IMPORTED[name]: entry for name, entry in auth.items()})
    return sqlprovider.connect(
        providers_path=[folder], servers=urls, auth=auth, max_attempts=1, timeout=60
    )


@pytest.fixture
def conn(
    servers: dict[str, EmulatorServer], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[sqlprovider.Connection]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder / "cache"))
    monkeypatch.setenv("AMPERITY_TENANT", TENANT)  # the shipped provider's tenant
    monkeypatch.setenv("AMPERITY_IMPORTED_AMPERITY_TENANT", TENANT)  # the imported one's
    with connect(servers, folder) as connection:
        yield connection


def normal(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if isinstance(value, list):
        return tuple(value)
    return value


def answer(conn: sqlprovider.Connection, sql: str) -> list[tuple[Any, ...]]:
    rows = [tuple(normal(v) for v in row) for row in conn.execute(sql).fetchall()]
    return sorted(rows, key=repr)


def same_answer(
    conn: sqlprovider.Connection, server: EmulatorServer, sql: str, shipped: str, imported: str
) -> tuple[list[tuple[Any, ...]], int, int]:
    """The answer of ``sql`` over the shipped and the imported table (the same), and how many
    requests each took."""
    server.log.clear()
    expected = answer(conn, sql.format(shipped))
    shipped_requests = len(server.log.entries())
    server.log.clear()
    found = answer(conn, sql.format(imported))
    assert found == expected
    return found, shipped_requests, len(server.log.entries())


def test_failed_indexing_jobs(
    conn: sqlprovider.Connection, servers: dict[str, EmulatorServer]
) -> None:
    sql = "SELECT uuid, phase, status, created_at FROM {} WHERE status = 'INDEX_JOB_STATUS_FAILED'"
    rows, shipped, imported = same_answer(
        conn,
        servers["digitalocean"],
        sql,
        "digitalocean.genai.indexing_jobs",
        "do_imported.gen_ai.indexing_jobs",
    )
    assert rows and (shipped, imported) == (3, 3)  # 450 jobs, 200 a page (the spec's maximum)


def test_one_job_by_uuid_is_one_request(
    conn: sqlprovider.Connection, servers: dict[str, EmulatorServer]
) -> None:
    server = servers["digitalocean"]
    headers = {"Authorization": f"Bearer {TOKENS['digitalocean']}"}
    job = httpx.get(server.url + "/v2/gen-ai/indexing_jobs", headers=headers).json()["jobs"][7]
    sql = (
        "SELECT uuid, phase, total_tokens, data_source_uuids FROM {} WHERE uuid = '"
        + job["uuid"]
        + "'"
    )
    [row], shipped, imported = same_answer(
        conn, server, sql, "digitalocean.genai.indexing_jobs", "do_imported.gen_ai.indexing_jobs"
    )
    assert row[0] == job["uuid"] and (shipped, imported) == (1, 1)
    missing = "SELECT uuid FROM do_imported.gen_ai.indexing_jobs WHERE uuid = 'no-such-job'"
    assert conn.execute(missing).fetchall() == []  # empty_on: [404]


def test_jobs_of_a_knowledge_base_and_the_knowledge_bases(
    conn: sqlprovider.Connection, servers: dict[str, EmulatorServer]
) -> None:
    server = servers["digitalocean"]
    bases, _, _ = same_answer(
        conn,
        server,
        "SELECT uuid, name, region, tags, created_at, user_id FROM {}",
        "digitalocean.genai.knowledge_bases",
        "do_imported.gen_ai.knowledge_bases",
    )
    assert len(bases) == 25
    jobs, _, _ = same_answer(
        conn,
        server,
        "SELECT uuid, status FROM {} WHERE knowledge_base_uuid = '" + bases[0][0] + "'",
        "digitalocean.genai.indexing_jobs",
        "do_imported.gen_ai.indexing_jobs",
    )
    assert jobs  # complete: the 15-job method (max_rows) is not used while the list can run


def test_onyx_indexing_status(
    conn: sqlprovider.Connection, servers: dict[str, EmulatorServer]
) -> None:
    sql = "SELECT cc_pair_id, name, source, access_type, last_status, docs_indexed FROM {}"
    tables = ("onyx.connector.indexing_status", "onyx_imported.manage.indexing_status")
    rows, _, imported = same_answer(conn, servers["onyx"], sql, *tables)
    assert len(rows) > 30 and imported == 1  # every source's rows, not its first page of 10
    web, _, _ = same_answer(conn, servers["onyx"], sql + " WHERE source = 'web'", *tables)
    assert web and {r[2] for r in web} == {"web"}


def test_amperity_jobs_in_a_window(
    conn: sqlprovider.Connection, servers: dict[str, EmulatorServer]
) -> None:
    sql = (
        "SELECT id, workflow_id FROM {} "
        "WHERE created_from = '2025-05-01' AND created_to = '2025-05-20'"
    )
    rows, shipped, imported = same_answer(
        conn, servers["amperity"], sql, "amperity.ingest.jobs", "amperity_imported.ingest.jobs"
    )
    assert rows and shipped == imported == 3  # 19 days in slices of 7
    one = "SELECT id, workflow_id FROM {} WHERE id = '" + rows[0][0] + "'"
    [row], _, _ = same_answer(
        conn, servers["amperity"], one, "amperity.ingest.jobs", "amperity_imported.ingest.jobs"
    )
    assert row == rows[0]


def test_openverse_tasks(conn: sqlprovider.Connection, servers: dict[str, EmulatorServer]) -> None:
    sql = "SELECT task_id, active, model, action, progress, error FROM {}"
    tables = ("openverse.ingestion.tasks", "openverse_imported.api.task")
    rows, _, _ = same_answer(conn, servers["openverse"], sql, *tables)
    assert len(rows) == 200
    one = sql + " WHERE task_id = '" + rows[3][0] + "'"
    [row], shipped, imported = same_answer(conn, servers["openverse"], one, *tables)
    assert row == rows[3] and shipped == imported == 1


def test_writes_through_the_imported_provider(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """INSERT sends the body fields, EXEC cancels by the path param, DELETE reads the rows it
    deletes and sends each one's id (the data source's uuid column) in the path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder / "cache"))
    server = start("digitalocean", jobs=20)
    try:
        with connect({"digitalocean": server}, folder) as conn:
            [(kb,)] = conn.execute(
                "SELECT uuid FROM do_imported.gen_ai.knowledge_bases ORDER BY uuid LIMIT 1"
            ).fetchall()
            server.log.clear()
            inserted = conn.execute(
                "INSERT INTO do_imported.gen_ai.indexing_jobs (data__knowledge_base_uuid) "
                f"VALUES ('{kb}') RETURNING uuid, phase"
            ).fetchall()
            [post] = server.log.entries()
            assert (post.method, post.json) == ("POST", {"knowledge_base_uuid": kb})
            [(job, phase)] = inserted
            assert phase == "BATCH_JOB_PHASE_PENDING"
            server.log.clear()
            conn.execute(f"EXEC do_imported.gen_ai.indexing_jobs.cancel_job @uuid = '{job}'")
            [put] = server.log.entries()
            assert (put.method, put.path) == ("PUT", f"/v2/gen-ai/indexing_jobs/{job}/cancel")
            sources = conn.execute(
                "SELECT uuid FROM do_imported.gen_ai.knowledge_base_data_sources "
                f"WHERE knowledge_base_uuid = '{kb}' ORDER BY uuid"
            ).fetchall()
            server.log.clear()
            conn.execute(
                "DELETE FROM do_imported.gen_ai.knowledge_base_data_sources "
                f"WHERE knowledge_base_uuid = '{kb}' AND uuid = '{sources[0][0]}'"
            )
            deletes = [e for e in server.log.entries() if e.method == "DELETE"]
            path = f"/v2/gen-ai/knowledge_bases/{kb}/data_sources/{sources[0][0]}"
            assert [d.path for d in deletes] == [path]
    finally:
        server.stop()
