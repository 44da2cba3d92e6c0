"""The oracle's ground: every SELECT-able resource of every bundled provider has its full
data loaded, with the engine's columns and types, and nothing is missing from it."""

from __future__ import annotations

import httpx
import pytest

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from tests.oracle.fulldata import FullData, selectable_resources
from tests.oracle.harness import do_get, onyx_rows, openverse_names, sql_text, table

RESOURCES = [r.qualified_name for r in selectable_resources()]


def test_every_selectable_resource_has_a_full_data_loader(
    engine: sqlprovider.Connection, full: FullData
) -> None:
    assert full.missing == [], f"resources with no full-data loader: {full.missing}"
    # The engine's own listing names the same resources the oracle holds.
    shown = set()
    for provider, *_ in engine.execute("SHOW PROVIDERS").fetchall():
        for service, *_ in engine.execute(f"SHOW SERVICES IN {provider}").fetchall():
            for resource, verbs, _ in engine.execute(
                f"SHOW RESOURCES IN {provider}.{service}"
            ).fetchall():
                if "SELECT" in verbs:
                    shown.add(f"{provider}.{service}.{resource}")
    assert shown == set(full.tables) == set(RESOURCES)


@pytest.mark.parametrize("name", RESOURCES)
def test_full_data_has_the_columns_and_types_the_engine_describes(
    engine: sqlprovider.Connection, full: FullData, name: str
) -> None:
    described = engine.execute(f"DESCRIBE {sql_text(table(name))}").fetchall()
    info = full.info(name)
    # DESCRIBE may spell a type by another of DuckDB's names (TIMESTAMPTZ): DuckDB's own
    # spelling of it is what the oracle's column has.
    canonical = [
        full.db.execute(f"SELECT typeof(NULL::{r[1]})").fetchone()[0]  # type: ignore[index]
        for r in described
    ]
    assert [r[0] for r in described] == list(info.columns)
    assert canonical == list(info.types)
    assert info.rows > 0, f"{name}: the full data is empty"


def test_full_data_is_complete(servers: dict[str, EmulatorServer], full: FullData) -> None:
    """Counts straight from the emulators (over HTTP, or their state), not via the engine."""

    def count(name: str, where: str = "") -> int:
        return int(full.db.execute(f"SELECT count(*) FROM {name} {where}").fetchone()[0])  # type: ignore[index]

    do = servers["digitalocean"]
    assert (
        count("digitalocean.genai.indexing_jobs")
        == do_get(do, "/v2/gen-ai/indexing_jobs", per_page=1)["meta"]["total"]
    )
    assert (
        count("digitalocean.genai.knowledge_bases")
        == do_get(do, "/v2/gen-ai/knowledge_bases", per_page=1)["meta"]["total"]
    )
    assert count("onyx.connector.indexing_status") == len(onyx_rows(servers["onyx"]))
    assert count("onyx.connector.index_attempts") == len(servers["onyx"].app.state.onyx.attempts)
    amperity = servers["amperity"].app.state.amperity
    assert count("amperity.ingest.jobs") == len(amperity.jobs)
    assert count("amperity.ingest.job_tables") == sum(len(job.tables) for job in amperity.jobs)
    tasks = httpx.get(servers["openverse"].url + "/task").json()
    assert count("openverse.ingestion.tasks") == len(tasks)
    assert count("openverse.ingestion.index_stats", "WHERE exists") == len(
        openverse_names(servers["openverse"])
    )
