"""StackQL registry documents, loaded unmodified, against the DigitalOcean emulator.

The fixture registry (tests/fixtures/stackql) describes the emulator's GenAI routes in
StackQL's format. The same SELECTs through it and through the hand-written bundled provider
return the same rows; the statements of StackQL's reference page for
``digitalocean.genai.indexing_jobs`` plan and run; writes touch exactly what their WHERE
selects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sqlprovider
from sqlprovider.errors import MissingParamsError, ProviderError, UnknownNameError
from tests.e2e.conftest import Emulator

REGISTRY = Path(__file__).resolve().parents[1] / "fixtures" / "stackql"


def registry_connect(emulator: Emulator, **options: Any) -> sqlprovider.Connection:
    """A connection to ``emulator`` whose digitalocean provider is the fixture registry's."""
    options.setdefault("registry", [REGISTRY])
    return emulator.connect(**options)


@pytest.fixture(scope="module")
def both(emulator: Emulator) -> Iterator[tuple[sqlprovider.Connection, sqlprovider.Connection]]:
    """The registry provider's connection and the bundled provider's, to one emulator."""
    with registry_connect(emulator) as registry, emulator.connect() as bundled:
        yield registry, bundled


@pytest.fixture(scope="module")
def sample(emulator: Emulator) -> dict[str, str]:
    """Ids of the emulator's objects, read without the engine."""
    kbs = emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"]
    job = emulator.api("/v2/gen-ai/indexing_jobs", per_page=1)["jobs"][0]
    return {"kb": kbs[0]["uuid"], "job": job["uuid"], "kb_of_job": job["knowledge_base_uuid"]}


DIFFERENTIAL = [
    "SELECT uuid, name, region, is_public, created_at, user_id FROM "
    "digitalocean.genai.knowledge_bases ORDER BY uuid",
    "SELECT uuid, name FROM digitalocean.genai.knowledge_bases WHERE uuid = '{kb}'",
    "SELECT uuid, name FROM digitalocean.genai.knowledge_bases ORDER BY uuid LIMIT 7",
    "SELECT uuid, phase, status, total_tokens, total_datasources, created_at, finished_at "
    "FROM digitalocean.genai.indexing_jobs WHERE uuid = '{job}'",
    "SELECT uuid, phase, total_items_indexed FROM digitalocean.genai.indexing_jobs "
    "WHERE uuid IN ('{job}', '00000000-0000-4000-8000-000000000000') ORDER BY uuid",
    "SELECT data_source_uuid, status, indexed_item_count, total_bytes FROM "
    "digitalocean.genai.indexing_job_data_sources WHERE indexing_job_uuid = '{job}' "
    "ORDER BY data_source_uuid",
    "SELECT uuid, chunking_algorithm, created_at FROM "
    "digitalocean.genai.knowledge_base_data_sources WHERE knowledge_base_uuid = '{kb}' "
    "ORDER BY uuid",
    "SELECT kb.name, count(*) FROM digitalocean.genai.knowledge_bases kb JOIN "
    "digitalocean.genai.knowledge_base_data_sources ds ON ds.knowledge_base_uuid = kb.uuid "
    "GROUP BY kb.name ORDER BY kb.name",
    "SELECT count(*), count(DISTINCT region) FROM digitalocean.genai.knowledge_bases "
    "WHERE region = 'tor1'",
]


@pytest.mark.parametrize("sql", DIFFERENTIAL)
def test_registry_and_bundled_providers_return_the_same_rows(
    both: tuple[sqlprovider.Connection, sqlprovider.Connection], sample: dict[str, str], sql: str
) -> None:
    registry, bundled = both
    statement = sql.format(**sample)
    expected = bundled.execute(statement).fetchall()
    assert expected, "the comparison needs rows"
    assert registry.execute(statement).fetchall() == expected


def test_every_job_of_the_one_row_per_page_list_is_the_bundled_list(
    both: tuple[sqlprovider.Connection, sqlprovider.Connection], emulator: Emulator
) -> None:
    """The list method has no objectKey, as in StackQL's registry: a row per page holding
    the page's jobs; unnested, they are every job, as the bundled provider lists them."""
    registry, bundled = both
    pages = registry.execute("SELECT jobs, meta FROM digitalocean.genai.indexing_jobs").fetchall()
    assert len(pages) == 5  # 1,000 jobs, 200 a page (queryParamPushdown.top's maxValue)
    unnested = registry.execute(
        "SELECT j->>'uuid' FROM (SELECT unnest(from_json(jobs, '[\"json\"]')) AS j "
        "FROM digitalocean.genai.indexing_jobs) ORDER BY 1"
    ).fetchall()
    listed = bundled.execute(
        "SELECT uuid FROM digitalocean.genai.indexing_jobs ORDER BY 1"
    ).fetchall()
    assert unnested == listed
    assert len(listed) == len(emulator.all_jobs())


def test_limit_goes_to_the_page_size_param(emulator: Emulator) -> None:
    emulator.server.log.clear()
    with registry_connect(emulator) as conn:
        rows = conn.execute("SELECT uuid FROM digitalocean.genai.knowledge_bases LIMIT 3")
        assert len(rows.fetchall()) == 3
    lists = [e for e in emulator.server.log.entries() if e.path == "/v2/gen-ai/knowledge_bases"]
    assert [e.query for e in lists] == ["per_page=3"]


# The statements of StackQL's reference page for digitalocean.genai.indexing_jobs (made from
# the public registry's genai document), with their placeholders; see docs/registry.md.
SEED_SELECT_ONE = """SELECT
completed_datasources, created_at, data_source_uuids, finished_at, knowledge_base_uuid,
phase, started_at, status, tokens, total_datasources, total_items_failed,
total_items_indexed, total_items_skipped, updated_at, uuid
FROM digitalocean.genai.indexing_jobs
WHERE uuid = '{{ uuid }}' -- required;"""
SEED_SELECT_PAGES = """SELECT
jobs,
links,
meta
FROM digitalocean.genai.indexing_jobs
WHERE page = '{{ page }}'
AND per_page = '{{ per_page }}';"""
SEED_INSERT = """INSERT INTO digitalocean.genai.indexing_jobs (
data__data_source_uuids,
data__knowledge_base_uuid
)
SELECT
'{{ data_source_uuids }}',
'{{ knowledge_base_uuid }}'
RETURNING
job
;"""
SEED_REPLACE = """REPLACE digitalocean.genai.indexing_jobs
SET
data__uuid = '{{ uuid }}'
WHERE
uuid = '{{ uuid }}' --required
RETURNING
job;"""


def _filled(sql: str, **values: str) -> str:
    for name, value in values.items():
        sql = sql.replace("{{ " + name + " }}", value)
    assert "{{" not in sql
    return sql


def test_the_registry_reference_page_reads(emulator: Emulator, sample: dict[str, str]) -> None:
    with registry_connect(emulator) as conn:
        one = conn.execute(_filled(SEED_SELECT_ONE, uuid=sample["job"]))
        row = dict(zip([d[0] for d in one.description or []], one.fetchone() or (), strict=True))
        truth = emulator.api(f"/v2/gen-ai/indexing_jobs/{sample['job']}")["job"]
        assert row["uuid"] == truth["uuid"] and row["phase"] == truth["phase"]
        assert row["total_items_indexed"] == int(truth["total_items_indexed"])  # sent as text
        pages = conn.execute(_filled(SEED_SELECT_PAGES, page="3", per_page="100")).fetchall()
    # From page 3 on, following the next links: pages 3 to 10 of 100 jobs.
    assert len(pages) == 8
    assert all(isinstance(p[0], str) and p[0].startswith("[") for p in pages)


def test_the_registry_reference_page_writes(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=20)
    kb = emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"][0]
    sources = emulator.api(f"/v2/gen-ai/knowledge_bases/{kb['uuid']}/data_sources")[
        "knowledge_base_data_sources"
    ]
    with registry_connect(emulator) as conn:
        inserted = conn.execute(
            _filled(
                SEED_INSERT,
                data_source_uuids=f'["{sources[0]["uuid"]}"]',
                knowledge_base_uuid=kb["uuid"],
            )
        ).fetchall()
        job = json.loads(inserted[0][0])  # the body's key job, as JSON (no objectKey)
        assert job["knowledge_base_uuid"] == kb["uuid"]
        assert job["data_source_uuids"] == [sources[0]["uuid"]]
        emulator.server.log.clear()
        replaced = conn.execute(_filled(SEED_REPLACE, uuid=job["uuid"])).fetchall()
    assert json.loads(replaced[0][0])["uuid"] == job["uuid"]
    assert emulator.api(f"/v2/gen-ai/indexing_jobs/{job['uuid']}")["job"]["phase"] == (
        "BATCH_JOB_PHASE_CANCELLED"
    )
    writes = [e for e in emulator.server.log.entries() if e.method == "PUT"]
    assert [(e.path, e.json) for e in writes] == [
        (f"/v2/gen-ai/indexing_jobs/{job['uuid']}/cancel", {"uuid": job["uuid"]})
    ]


def test_a_write_touches_exactly_what_its_where_selects(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=5)
    kbs = emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"]
    chosen = [kb for kb in kbs if kb["region"] == "nyc3"]
    with registry_connect(emulator) as conn:
        emulator.server.log.clear()
        conn.execute(
            "REPLACE digitalocean.genai.knowledge_bases SET name = name || '-renamed' "
            "WHERE region = 'nyc3'"
        )
    puts = sorted(e.path for e in emulator.server.log.entries() if e.method == "PUT")
    assert puts == sorted(f"/v2/gen-ai/knowledge_bases/{kb['uuid']}" for kb in chosen)
    after = emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"]
    renamed = {kb["uuid"] for kb in after if kb["name"].endswith("-renamed")}
    assert renamed == {kb["uuid"] for kb in chosen}


def test_deletes_select_then_write(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=5)
    kb = emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"][1]
    path = f"/v2/gen-ai/knowledge_bases/{kb['uuid']}/data_sources"
    sources = emulator.api(path)["knowledge_base_data_sources"]
    with registry_connect(emulator) as conn:
        conn.execute(
            "DELETE FROM digitalocean.genai.knowledge_base_data_sources "
            f"WHERE knowledge_base_uuid = '{kb['uuid']}' AND uuid = '{sources[0]['uuid']}'"
        )
    left = [s["uuid"] for s in emulator.api(path)["knowledge_base_data_sources"]]
    assert left == [s["uuid"] for s in sources[1:]]


def test_newest_version_wins_unless_one_is_pinned(emulator: Emulator) -> None:
    with registry_connect(emulator) as newest:
        rows = newest.execute("SHOW PROVIDERS LIKE 'digitalocean'").fetchall()
        assert rows[0][4:] == (f"registry {REGISTRY}", "v24.11.00")
    pinned = {"digitalocean": "v24.10.00"}
    with registry_connect(emulator, provider_versions=pinned) as older:
        rows = older.execute("SHOW PROVIDERS LIKE 'digitalocean'").fetchall()
        assert rows[0][5] == "v24.10.00"
        names = [r[0] for r in older.execute("SHOW RESOURCES IN digitalocean.genai").fetchall()]
        assert names == ["indexing_jobs"]
        # No sqlVerbs: the method called list serves SELECT (one page: no pagination declared).
        jobs = older.execute("SELECT uuid FROM digitalocean.genai.indexing_jobs").fetchall()
        assert len(jobs) == 20  # the emulator's default page


def test_a_pinned_version_that_is_not_there_never_falls_back(emulator: Emulator) -> None:
    """Pinned to a version no registry holds, the bundled digitalocean is not used instead."""
    with (
        registry_connect(emulator, provider_versions={"digitalocean": "v24.10.01"}) as conn,
        pytest.raises(UnknownNameError) as caught,
    ):
        conn.execute("SELECT uuid FROM digitalocean.genai.knowledge_bases")
    assert str(caught.value) == (
        "unknown provider version 'digitalocean@v24.10.01'; did you mean 'v24.10.00' or "
        "'v24.11.00'? (no registry directory holds that version; digitalocean has v24.10.00, "
        "v24.11.00)"
    )


def test_a_listed_service_without_its_document(emulator: Emulator) -> None:
    with registry_connect(emulator) as conn:
        services = dict(
            (r[0], r[2]) for r in conn.execute("SHOW SERVICES IN digitalocean").fetchall()
        )
        assert services["billing"] == "Listed by the registry, its document not shipped with it"
        with pytest.raises(ProviderError, match=r"billing\.yaml is not in this registry"):
            conn.execute("SHOW RESOURCES IN digitalocean.billing")


def test_a_missing_param_names_the_methods(emulator: Emulator) -> None:
    with (
        registry_connect(emulator) as conn,
        pytest.raises(MissingParamsError, match="indexing_job_uuid"),
    ):
        conn.execute("SELECT * FROM digitalocean.genai.indexing_job_data_sources")


def test_naive_body_fields_under_both_names_send_the_same_body(
    make_emulator: Callable[..., Emulator],
) -> None:
    """DigitalOcean's create is ``requestBodyTranslate: naive``: its fields by their own
    names (as StackQL shows them) and as data__ (as StackQL's reference page writes them)
    send the same body; EXEC takes both too."""
    emulator = make_emulator(jobs=5)
    kb = emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"][0]
    source = emulator.api(f"/v2/gen-ai/knowledge_bases/{kb['uuid']}/data_sources")[
        "knowledge_base_data_sources"
    ][0]["uuid"]
    values = f"SELECT '[\"{source}\"]', '{kb['uuid']}'"
    statements = [
        f"INSERT INTO digitalocean.genai.indexing_jobs (data_source_uuids, knowledge_base_uuid) "
        f"{values}",
        "INSERT INTO digitalocean.genai.indexing_jobs "
        f"(data__data_source_uuids, data__knowledge_base_uuid) {values}",
        "EXEC digitalocean.genai.indexing_jobs.genai_create_indexing_job "
        f"@data_source_uuids = '[\"{source}\"]', @knowledge_base_uuid = '{kb['uuid']}'",
        "EXEC digitalocean.genai.indexing_jobs.genai_create_indexing_job "
        f"@data__data_source_uuids = '[\"{source}\"]', @data__knowledge_base_uuid = '{kb['uuid']}'",
    ]
    bodies = []
    with registry_connect(emulator) as conn:
        for statement in statements:
            emulator.server.log.clear()
            conn.execute(statement)
            [posted] = [e for e in emulator.server.log.entries() if e.method == "POST"]
            bodies.append((posted.path, posted.json))
    expected = (
        "/v2/gen-ai/indexing_jobs",
        {"data_source_uuids": [source], "knowledge_base_uuid": kb["uuid"]},
    )
    assert bodies == [expected] * len(statements)
