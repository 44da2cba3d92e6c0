"""By hand, not in CI: import the five reference OpenAPI excerpts of the seed APIs, run the seed
queries (and a few writes) through each imported provider and through the hand-written one,
against the bundled emulators, and report where they differ.

    .venv/bin/python scripts/import_reference_specs.py [SPEC_DIR] [--keep DIR]

SPEC_DIR defaults to ../shared/reference/specs: the excerpts are reference data kept outside
the repository (CI has no copy; tests/e2e/test_openapi_import_e2e.py checks specs written for the
tests instead). --keep writes the imported provider files to DIR for reading.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

import sqlprovider
from sqlprovider.emulators import amperity, digitalocean, onyx, openverse
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.model import Provider
from sqlprovider.providers import Registry
from sqlprovider.providers.openapi import Imported, import_openapi

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPECS = ROOT.parent / "shared" / "reference" / "specs"
TOKENS = {"digitalocean": "ref-do", "onyx": "ref-onyx", "amperity": "ref-amperity"}
TENANT = "acme-ref"
# spec file → (imported provider, its service, the shipped provider it stands beside)
SPECS = {
    "digitalocean-genai-indexing-jobs.yaml": ("do_jobs", "gen_ai", "digitalocean"),
    "digitalocean-genai-knowledge-bases.yaml": ("do_kbs", "gen_ai", "digitalocean"),
    "onyx-connector-indexing-status.yaml": ("onyx_oa", "manage", "onyx"),
    "amperity-ingest-jobs.yaml": ("amperity_oa", "ingest", "amperity"),
    "openverse-ingestion-server-task.yaml": ("openverse_oa", "api", "openverse"),
}


def frozen() -> float:
    return 1000.0  # time never moves: the data stays what was seeded


def start(name: str) -> EmulatorServer:
    apps: dict[str, Callable[[], Any]] = {
        "digitalocean": lambda: digitalocean.create_app(
            digitalocean.DigitalOceanConfig(
                token=TOKENS[name], jobs=450, rate_limited=False, clock=frozen
            )
        ),
        "onyx": lambda: onyx.create_app(onyx.OnyxConfig(api_key=TOKENS[name], clock=frozen)),
        "amperity": lambda: amperity.create_app(
            amperity.AmperityConfig(
                token=TOKENS[name], tenant=TENANT, jobs=300, rate_limited=False, clock=frozen
            )
        ),
        "openverse": lambda: openverse.create_app(openverse.OpenverseConfig(clock=frozen)),
    }
    return EmulatorServer(apps[name](), name=name).start()


@contextmanager
def connection(
    servers: dict[str, EmulatorServer], folder: Path
) -> Iterator[sqlprovider.Connection]:
    """Every shipped and imported provider, each pointed at its emulator."""
    urls, auth = {}, {}
    for shipped, server in servers.items():
        url = server.url + ("/api" if shipped == "onyx" else "")
        names = [shipped, *(n for n, _, s in SPECS.values() if s == shipped)]
        urls.update(dict.fromkeys(names, url))
        if shipped in TOKENS:
            auth.update({n: {"token": TOKENS[shipped]} for n in names})
    os.environ["AMPERITY_TENANT"] = TENANT
    os.environ["AMPERITY_OA_AMPERITY_TENANT"] = TENANT
    with sqlprovider.connect(
        providers_path=[folder], servers=urls, auth=auth, max_attempts=1, timeout=60
    ) as conn:
        yield conn


# -- comparing answers -----------------------------------------------------------------------


def normal(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, decimal.Decimal | float):
        return round(float(value), 6)
    if isinstance(value, list | tuple):
        return tuple(normal(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def answer(conn: sqlprovider.Connection, sql: str) -> list[tuple[Any, ...]] | str:
    try:
        rows = conn.execute(sql).fetchall()
    except sqlprovider.Error as exc:
        return f"error: {exc}"
    return sorted((tuple(normal(v) for v in row) for row in rows), key=repr)


def shown(found: list[tuple[Any, ...]] | str) -> str:
    return found if isinstance(found, str) else f"{len(found)} rows"


@dataclass
class Check:
    """A statement over a shipped table and over the imported one (``{}`` is the table)."""

    title: str
    emulator: str
    sql: str
    shipped: str
    imported: str
    write: bool = False


def read_checks(servers: dict[str, EmulatorServer]) -> list[Check]:
    headers = {"Authorization": f"Bearer {TOKENS['digitalocean']}"}
    jobs_url = servers["digitalocean"].url + "/v2/gen-ai/indexing_jobs"
    job = httpx.get(jobs_url, headers=headers).json()["jobs"][3]
    task = httpx.get(servers["openverse"].url + "/task").json()[5]["task_id"]
    jobs = ("digitalocean.genai.indexing_jobs", "do_jobs.gen_ai.indexing_jobs")
    status = "SELECT cc_pair_id, name, source, access_type, last_status, docs_indexed FROM {}"
    indexing = ("onyx.connector.indexing_status", "onyx_oa.manage.indexing_status")
    tasks_sql = "SELECT task_id, active, model, action, progress, error FROM {}"
    tasks = ("openverse.ingestion.tasks", "openverse_oa.api.task")
    return [
        Check(
            "failed indexing jobs",
            "digitalocean",
            "SELECT uuid, phase, status, created_at FROM {} "
            "WHERE status = 'INDEX_JOB_STATUS_FAILED'",
            *jobs,
        ),
        Check(
            "one job by uuid",
            "digitalocean",
            "SELECT uuid, phase, status, created_at, total_tokens, data_source_uuids FROM {} "
            f"WHERE uuid = '{job['uuid']}'",
            *jobs,
        ),
        Check(
            "the jobs of a knowledge base",
            "digitalocean",
            "SELECT uuid, status FROM {} WHERE knowledge_base_uuid = "
            f"'{job['knowledge_base_uuid']}'",
            *jobs,
        ),
        Check(
            "knowledge bases",
            "digitalocean",
            "SELECT uuid, name, region, tags, is_public, created_at FROM {}",
            "digitalocean.genai.knowledge_bases",
            "do_kbs.gen_ai.knowledge_bases",
        ),
        Check("Onyx indexing status", "onyx", status, *indexing),
        Check("Onyx indexing status of web", "onyx", status + " WHERE source = 'web'", *indexing),
        Check(
            "Amperity jobs, 19 days",
            "amperity",
            "SELECT id, workflow_id FROM {} "
            "WHERE created_from = '2025-05-01' AND created_to = '2025-05-20'",
            "amperity.ingest.jobs",
            "amperity_oa.ingest.jobs",
        ),
        Check("Openverse tasks", "openverse", tasks_sql, *tasks),
        Check("one Openverse task", "openverse", tasks_sql + f" WHERE task_id = '{task}'", *tasks),
    ]


def write_checks() -> list[Check]:
    kb, ds, job = "{kb}", "{ds}", "{job}"  # filled in from a fresh emulator
    return [
        Check(
            "start an indexing job",
            "digitalocean",
            f"INSERT INTO {{}} (data__knowledge_base_uuid) VALUES ('{kb}')",
            "digitalocean.genai.indexing_jobs",
            "do_jobs.gen_ai.indexing_jobs",
            write=True,
        ),
        Check(
            "cancel a job",
            "digitalocean",
            f"EXEC {{}}.genai_cancel_indexing_job @uuid = '{job}'",
            "digitalocean.genai.indexing_jobs",
            "do_jobs.gen_ai.indexing_jobs",
            write=True,
        ),
        Check(
            "rename a knowledge base (UPDATE; imported: REPLACE)",
            "digitalocean",
            f"{{}} SET name = 'renamed' WHERE uuid = '{kb}'",
            "UPDATE digitalocean.genai.knowledge_bases",
            "REPLACE do_kbs.gen_ai.knowledge_bases",
            write=True,
        ),
        Check(
            "delete a data source of a knowledge base",
            "digitalocean",
            f"DELETE FROM {{}} WHERE knowledge_base_uuid = '{kb}' AND uuid = '{ds}'",
            "digitalocean.genai.knowledge_base_data_sources",
            "do_kbs.gen_ai.knowledge_base_data_sources",
            write=True,
        ),
        Check(
            "run a connector once",
            "onyx",
            "EXEC {} @connector_id = 3",
            "onyx.connector.connectors.run_once",
            "onyx_oa.manage.run_once.connector_run_once",
            write=True,
        ),
        Check(
            "pause a cc pair (UPDATE; imported: EXEC)",
            "onyx",
            "{}",
            "UPDATE onyx.connector.indexing_status SET status = 'PAUSED' WHERE cc_pair_id = 3",
            "EXEC onyx_oa.manage.cc_pair.update_cc_pair_status @cc_pair_id = 3, @status = 'PAUSED'",
            write=True,
        ),
        Check(
            "start a reindex task",
            "openverse",
            "INSERT INTO {} (model, action) VALUES ('image', 'REINDEX')",
            "openverse.ingestion.tasks",
            "openverse_oa.api.task",
            write=True,
        ),
    ]


def ids(server: EmulatorServer) -> dict[str, str]:
    """Ids of a fresh DigitalOcean emulator for the writes."""
    headers = {"Authorization": f"Bearer {TOKENS['digitalocean']}"}
    base = server.url + "/v2/gen-ai"
    kb = httpx.get(base + "/knowledge_bases", headers=headers).json()["knowledge_bases"][2]
    sources = httpx.get(f"{base}/knowledge_bases/{kb['uuid']}/data_sources", headers=headers)
    params = {"per_page": 200}
    jobs = httpx.get(base + "/indexing_jobs", headers=headers, params=params).json()["jobs"]
    running = next(j for j in jobs if j["phase"] == "BATCH_JOB_PHASE_RUNNING")
    first = sources.json()["knowledge_base_data_sources"][0]
    return {"kb": kb["uuid"], "ds": first["uuid"], "job": running["uuid"]}


def sent(server: EmulatorServer) -> list[tuple[str, str, str]]:
    """The writes the emulator received (reads left out)."""
    return [
        (e.method, e.path, json.dumps(e.json, sort_keys=True))
        for e in server.log.entries()
        if e.method != "GET" and not e.path.endswith("indexing-status")
    ]


def run_write(check: Check, folder: Path) -> str:
    """The write on two fresh emulators, one per provider: the same requests?"""
    results = []
    for table in (check.shipped, check.imported):
        server = start(check.emulator)
        try:
            values = ids(server) if check.emulator == "digitalocean" else {}
            with connection({check.emulator: server}, folder) as conn:
                server.log.clear()
                sql = check.sql.replace("{}", table).replace("{kb}", values.get("kb", ""))
                sql = sql.replace("{ds}", values.get("ds", "")).replace(
                    "{job}", values.get("job", "")
                )
                outcome = answer(conn, sql)
                results.append((shown(outcome), sent(server)))
        finally:
            server.stop()
    (shipped_outcome, shipped_sent), (imported_outcome, imported_sent) = results
    verdict = "SAME REQUESTS" if shipped_sent == imported_sent else "DIFFERENT REQUESTS"
    lines = [
        f"- {check.title}: {verdict} (hand-written {shipped_outcome}; imported {imported_outcome})"
    ]
    if shipped_sent != imported_sent:
        lines += [f"    hand-written sent {shipped_sent}", f"    imported sent {imported_sent}"]
    return "\n".join(lines)


def run_read(check: Check, conn: sqlprovider.Connection, server: EmulatorServer) -> str:
    server.log.clear()
    expected = answer(conn, check.sql.format(check.shipped))
    shipped_requests = len(server.log.entries())
    server.log.clear()
    found = answer(conn, check.sql.format(check.imported))
    imported_requests = len(server.log.entries())
    verdict = "SAME" if found == expected else "DIFFERENT"
    lines = [
        f"- {check.title}: {verdict} (hand-written {shown(expected)} in {shipped_requests} "
        f"requests; imported {shown(found)} in {imported_requests})",
        f"    {check.sql.format(check.imported)}",
    ]
    if found != expected and not isinstance(found, str) and not isinstance(expected, str):
        lines.append(f"    only hand-written: {[r for r in expected if r not in found][:2]}")
        lines.append(f"    only imported: {[r for r in found if r not in expected][:2]}")
    return "\n".join(lines)


# -- what was imported -----------------------------------------------------------------------


def describe(imported: Imported, shipped: Provider) -> Iterator[str]:
    guesses = imported.text.count("# guessed:")
    yield f"  {imported.todos} TODO comments, {guesses} guesses"
    twins = {r.name.rstrip("s"): r for r in shipped.resources()}
    for resource in imported.provider.resources():
        methods = ", ".join(f"{m.name} ({m.sql_verb} {m.http_verb})" for m in resource.methods)
        yield f"  {resource.qualified_name}: {len(resource.columns)} columns; {methods}"
        twin = twins.get(resource.name.rstrip("s"))
        if twin is None:
            continue
        ours = {c.name: c.type for c in resource.columns}
        theirs = {c.name: c.type for c in twin.columns}
        typed = [f"{n} {t} (hand: {theirs[n]})" for n, t in ours.items() if theirs.get(n, t) != t]
        yield (
            f"    vs {twin.qualified_name}: missing {sorted(set(theirs) - set(ours)) or '-'}; "
            f"extra {sorted(set(ours) - set(theirs)) or '-'}; types {typed or '-'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("specs", nargs="?", default=str(DEFAULT_SPECS), metavar="SPEC_DIR")
    parser.add_argument("--keep", metavar="DIR", help="write the imported providers here")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="imported-"))
    folder.mkdir(parents=True, exist_ok=True)
    registry = Registry()
    for file, (name, _, shipped) in SPECS.items():
        imported = import_openapi(Path(args.specs) / file, name)
        (folder / f"{name}.yaml").write_text(imported.text)
        print(f"## {file} → {name}")
        print("\n".join(describe(imported, registry.get(shipped))))
    servers = {name: start(name) for name in ("digitalocean", "onyx", "amperity", "openverse")}
    try:
        with connection(servers, folder) as conn:
            print("\n## seed queries")
            for check in read_checks(servers):
                print(run_read(check, conn, servers[check.emulator]))
    finally:
        for server in servers.values():
            server.stop()
    print("\n## writes (each on fresh emulators)")
    for check in write_checks():
        print(run_write(check, folder))
    print(f"\nthe imported providers are in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
