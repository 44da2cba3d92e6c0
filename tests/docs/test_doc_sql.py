"""Every SQL statement in README.md and docs/*.md runs against the emulators, and does what
the docs say it does, checked against the emulators' own answers.

Reads run against one set of emulators; writes against another, each write on objects no
other example touches. Placeholder ids of the docs (``'kb-1'``, ``'job-1'``, ``'ds-1'``,
``'...'``) are replaced by real ids of the emulator; every other character of a statement
is run as written. Each statement is matched by exactly one case below, which says what it
must do; a statement without a case fails, so a new example needs a new check.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import sqlprovider
from sqlprovider.sql import split_statements
from tests.docs.blocks import blocks_of
from tests.docs.conftest import Emulators

STATEMENTS = [
    (f"{block.where} #{number}", statement.text)
    for block in blocks_of("sql")
    for number, statement in enumerate(split_statements(block.text), 1)
]
FAILED = "INDEX_JOB_STATUS_FAILED"
Ids = dict[str, str | list[str]]


@dataclass
class Outcome:
    """What a statement returned, and what the case arranged before it ran."""

    emulators: Emulators
    ids: Ids
    arranged: Any
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def id(self, placeholder: str) -> str:
        value = self.ids[placeholder]
        assert isinstance(value, str)
        return value

    def outcomes_ok(self, count: int) -> None:
        """Outcome rows (a write without RETURNING): ``count`` requests, every one ok."""
        assert self.columns == ["resource", "method", "http_status", "id", "outcome"]
        assert self.column("outcome") == ["ok"] * count, self.rows


def _nothing(emulators: Emulators) -> Ids:
    return {}


def _arrange_nothing(emulators: Emulators, ids: Ids, folder: Path) -> Any:
    return None


@dataclass(frozen=True)
class Case:
    """What one statement of the docs must do.

    Attributes:
        needle: a regular expression only this statement matches.
        check: asserts on what it returned (and on the emulators' state after it).
        writes: it changes things: run against the emulators for writes.
        ids: the real ids that stand for the doc's placeholders.
        arrange: sets up the data the statement is about; returns what check compares with.
    """

    needle: str
    check: Callable[[Outcome], None]
    writes: bool = False
    ids: Callable[[Emulators], Ids] = _nothing
    arrange: Callable[[Emulators, Ids, Path], Any] = field(default=_arrange_nothing)


# -- reads -----------------------------------------------------------------------------------


def check_failed_jobs(run: Outcome) -> None:
    expected = {j["uuid"] for j in run.emulators.jobs() if j["status"] == FAILED}
    assert run.columns == ["uuid", "phase", "status", "total_datasources", "created_at"]
    assert expected and set(run.column("uuid")) == expected
    assert len(run.rows) == len(expected)
    created = run.column("created_at")
    assert created == sorted(created, reverse=True)


def one_data_source(emulators: Emulators) -> Ids:
    return {"ds-1": emulators.jobs()[0]["data_source_uuids"][0]}


def check_list_contains(run: Outcome) -> None:
    source = run.id("ds-1")
    jobs = [j for j in run.emulators.jobs() if source in j["data_source_uuids"]]
    assert jobs and sorted(run.column("uuid")) == sorted(j["uuid"] for j in jobs)
    first = {j["uuid"]: (j["data_source_jobs"] or [{}])[0].get("status") for j in jobs}
    assert dict(run.rows) == first


def two_jobs(emulators: Emulators) -> Ids:
    return {"'...'": [j["uuid"] for j in emulators.jobs()[3:5]]}


def check_two_jobs(run: Outcome) -> None:
    assert run.columns == ["uuid", "phase"]
    assert sorted(run.column("uuid")) == sorted(run.ids["'...'"])
    assert len(run.emulators.requests("digitalocean")) == 2  # two GETs by id


def check_failed_data_sources(run: Outcome) -> None:
    expected = sorted(
        (j["uuid"], ds["data_source_uuid"], ds["status"], ds.get("error_msg"))
        for j in run.emulators.jobs()
        if j["phase"] == "BATCH_JOB_PHASE_FAILED"
        for ds in j["data_source_jobs"]
    )
    assert expected and sorted(run.rows) == expected
    # the jobs are listed, then one request per failed job
    failed = {row[0] for row in expected}
    paths = [e.path for e in run.emulators.requests("digitalocean")]
    assert sorted(p for p in paths if p.endswith("/data_sources")) == sorted(
        f"/v2/gen-ai/indexing_jobs/{uuid}/data_sources" for uuid in failed
    )


def write_owners(emulators: Emulators, ids: Ids, folder: Path) -> dict[str, str]:
    """owners.csv, in the folder the statement runs in: two knowledge bases have owners."""
    names = [kb["name"] for kb in emulators.knowledge_bases()[:2]]
    owners = {names[0]: "search-team", names[1]: "docs-team"}
    with (folder / "owners.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kb", "owner"])
        writer.writerows(owners.items())
    return owners


def check_owners(run: Outcome) -> None:
    owners: dict[str, str] = run.arranged
    names = {kb["uuid"]: kb["name"] for kb in run.emulators.knowledge_bases()}
    jobs: dict[str, int] = {}
    for job in run.emulators.jobs():
        if job["knowledge_base_uuid"] in names:
            name = names[job["knowledge_base_uuid"]]
            jobs[name] = jobs.get(name, 0) + 1
    assert run.columns == ["name", "owner", "jobs"]
    assert {row[0]: row[2] for row in run.rows} == jobs
    assert {row[0]: row[1] for row in run.rows} == {n: owners.get(n) for n in jobs}
    assert run.column("jobs") == sorted(run.column("jobs"), reverse=True)


# -- writes ----------------------------------------------------------------------------------


def kb_and_two_sources(emulators: Emulators) -> Ids:
    kb = emulators.fresh_kb()
    sources = [s["uuid"] for s in emulators.data_sources(kb)[:2]]
    return {"kb-1": kb, "ds-1": sources[0], "ds-2": sources[1]}


def check_created_job(run: Outcome) -> None:
    [(job,)] = run.rows
    assert run.columns == ["job"]
    assert job["knowledge_base_uuid"] == run.id("kb-1")
    assert job["data_source_uuids"] == [run.id("ds-1"), run.id("ds-2")]
    assert job["phase"] == "BATCH_JOB_PHASE_PENDING"
    assert len(run.emulators.requests("digitalocean", "POST")) == 1


def name_one_kb_docs(emulators: Emulators, ids: Ids, folder: Path) -> set[str]:
    """One knowledge base is renamed docs-search (the seeded ones are named kb-NNN-...)."""
    kb = emulators.fresh_kb()
    path = f"/v2/gen-ai/knowledge_bases/{kb}"
    emulators.request("digitalocean", "PUT", path, json={"name": "docs-search"}).raise_for_status()
    return {k["uuid"] for k in emulators.knowledge_bases() if k["name"].startswith("docs-")}


def posted_kbs(run: Outcome) -> list[str]:
    posts = run.emulators.requests("digitalocean", "POST")
    return sorted(e.json["knowledge_base_uuid"] for e in posts)


def check_insert_from_select(run: Outcome) -> None:
    named: set[str] = run.arranged
    assert named
    run.outcomes_ok(len(named))
    assert posted_kbs(run) == sorted(named)
    assert {e.method for e in run.emulators.requests("digitalocean")} == {"GET", "POST"}


def two_kbs(emulators: Emulators) -> Ids:
    return {"kb-1": emulators.fresh_kb(), "kb-2": emulators.fresh_kb()}


def check_insert_values(run: Outcome) -> None:
    run.outcomes_ok(2)
    assert posted_kbs(run) == sorted([run.id("kb-1"), run.id("kb-2")])


def stuck_jobs(emulators: Emulators, ids: Ids, folder: Path) -> set[str]:
    day_ago = datetime.now(UTC) - timedelta(days=1)
    return {
        j["uuid"]
        for j in emulators.jobs()
        if j["phase"] == "BATCH_JOB_PHASE_RUNNING"
        and datetime.fromisoformat(j["created_at"]) < day_ago
    }


def check_cancel_stuck(run: Outcome) -> None:
    stuck: set[str] = run.arranged
    assert stuck
    run.outcomes_ok(len(stuck))
    puts = {e.path for e in run.emulators.requests("digitalocean", "PUT")}
    assert puts == {f"/v2/gen-ai/indexing_jobs/{uuid}/cancel" for uuid in stuck}
    after = {j["uuid"]: j["phase"] for j in run.emulators.jobs()}
    assert {after[uuid] for uuid in stuck} == {"BATCH_JOB_PHASE_CANCELLED"}


def pending_job(emulators: Emulators) -> Ids:
    return {"job-1": emulators.fresh_job("BATCH_JOB_PHASE_PENDING")}


def check_cancel_one(run: Outcome) -> None:
    [(job,)] = run.rows
    assert (job["uuid"], job["phase"]) == (run.id("job-1"), "BATCH_JOB_PHASE_CANCELLED")
    [put] = run.emulators.requests("digitalocean", "PUT")
    assert (put.path, put.json) == (
        f"/v2/gen-ai/indexing_jobs/{run.id('job-1')}/cancel",
        {"uuid": run.id("job-1")},
    )


def one_kb(emulators: Emulators) -> Ids:
    return {"kb-1": emulators.fresh_kb()}


def check_rename(run: Outcome) -> None:
    kb = run.id("kb-1")
    assert run.rows == [(kb, "docs-v2", ["team:search"])]
    stored = run.emulators.get("digitalocean", f"/v2/gen-ai/knowledge_bases/{kb}")
    assert stored["knowledge_base"]["name"] == "docs-v2"
    [put] = run.emulators.requests("digitalocean", "PUT")
    assert put.json == {"name": "docs-v2", "tags": ["team:search"]}  # only the fields SET


def check_delete_two(run: Outcome) -> None:
    run.outcomes_ok(2)
    for kb in (run.id("kb-1"), run.id("kb-2")):
        path = f"/v2/gen-ai/knowledge_bases/{kb}"
        assert run.emulators.request("digitalocean", "GET", path).status_code == 404


def web_crawler_sources(emulators: Emulators, ids: Ids, folder: Path) -> set[str]:
    sources = emulators.data_sources(str(ids["kb-1"]))
    return {s["uuid"] for s in sources if s.get("web_crawler_data_source")}


def check_delete_crawlers(run: Outcome) -> None:
    crawlers: set[str] = run.arranged
    assert crawlers
    run.outcomes_ok(len(crawlers))
    kb = run.id("kb-1")
    deleted = {e.path for e in run.emulators.requests("digitalocean", "DELETE")}
    assert deleted == {f"/v2/gen-ai/knowledge_bases/{kb}/data_sources/{s}" for s in crawlers}
    left = run.emulators.data_sources(kb)
    assert left and not any(s.get("web_crawler_data_source") for s in left)


def check_exec_cancel(run: Outcome) -> None:
    run.outcomes_ok(1)
    job = run.emulators.get("digitalocean", f"/v2/gen-ai/indexing_jobs/{run.id('job-1')}")
    assert job["job"]["phase"] == "BATCH_JOB_PHASE_CANCELLED"


def check_exec_cancel_with_body(run: Outcome) -> None:
    check_exec_cancel(run)
    [put] = run.emulators.requests("digitalocean", "PUT")
    assert put.json == {"uuid": run.id("job-1")}


def check_run_once(run: Outcome) -> None:
    [(success, message, data)] = run.rows
    assert run.columns == ["success", "message", "data"]
    assert success is True and data >= 1
    assert message == f"Marked {data} index attempts with indexing triggers."
    [post] = run.emulators.requests("onyx", "POST")
    assert post.json == {"connector_id": 12, "from_beginning": True}


CASES = [
    Case(r"SELECT uuid, phase, status, total_datasources, created_at", check_failed_jobs),
    Case(r"list_contains\(data_source_uuids, 'ds-1'\)", check_list_contains, ids=one_data_source),
    Case(r"WHERE uuid IN \('\.\.\.', '\.\.\.'\)", check_two_jobs, ids=two_jobs),
    Case(r"ds\.error_msg", check_failed_data_sources),
    Case(r"read_csv\('owners\.csv'\)", check_owners, arrange=write_owners),
    Case(r"SELECT '\[\"ds-1\", \"ds-2\"\]', 'kb-1'", check_created_job, True, kb_and_two_sources),
    Case(r"WHERE name LIKE 'docs-%'", check_insert_from_select, True, arrange=name_one_kb_docs),
    Case(r"VALUES \('kb-1'\), \('kb-2'\)", check_insert_values, True, two_kbs),
    Case(r"SET data__uuid = uuid", check_cancel_stuck, True, arrange=stuck_jobs),
    Case(r"SET data__uuid = 'job-1'", check_cancel_one, True, pending_job),
    Case(r"SET name = 'docs-v2'", check_rename, True, one_kb),
    Case(r"WHERE uuid IN \('kb-1', 'kb-2'\)", check_delete_two, True, two_kbs),
    Case(
        r"web_crawler_data_source IS NOT NULL",
        check_delete_crawlers,
        True,
        one_kb,
        web_crawler_sources,
    ),
    Case(r"@uuid = 'job-1'$", check_exec_cancel, True, pending_job),
    Case(r"@@json = '\{\"uuid\": \"job-1\"\}'", check_exec_cancel_with_body, True, pending_job),
    Case(r"connectors\.run_once @connector_id = 12", check_run_once, True),
]


def case_for(sql: str) -> Case:
    matching = [case for case in CASES if re.search(case.needle, sql)]
    assert len(matching) == 1, f"{len(matching)} cases match this statement: {sql}"
    return matching[0]


def substitute(sql: str, ids: Ids) -> str:
    """The statement with the doc's placeholder ids replaced by real ones."""
    for placeholder, value in ids.items():
        if isinstance(value, list):  # one value per occurrence, in order
            for one in value:
                assert placeholder in sql, placeholder
                sql = sql.replace(placeholder, f"'{one}'", 1)
            continue
        pattern = rf"(?<![\w-]){re.escape(placeholder)}(?![\w-])"
        assert re.search(pattern, sql), placeholder
        sql = re.sub(pattern, value, sql)
    return sql


def test_every_case_is_a_statement_of_the_docs() -> None:
    assert len(STATEMENTS) >= len(CASES)
    for case in CASES:
        assert any(re.search(case.needle, sql) for _, sql in STATEMENTS), (
            f"no statement: {case.needle}"
        )


@pytest.fixture(scope="module")
def read_conn(sandbox: Emulators) -> Iterator[sqlprovider.Connection]:
    with sandbox.connect() as conn:
        yield conn


@pytest.fixture(scope="module")
def write_conn(writable: Emulators) -> Iterator[sqlprovider.Connection]:
    with writable.connect() as conn:
        yield conn


@pytest.mark.parametrize(("where", "sql"), STATEMENTS, ids=[w for w, _ in STATEMENTS])
def test_every_sql_statement_runs_against_the_emulators(
    where: str,
    sql: str,
    sandbox: Emulators,
    writable: Emulators,
    read_conn: sqlprovider.Connection,
    write_conn: sqlprovider.Connection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = case_for(sql)
    emulators, conn = (writable, write_conn) if case.writes else (sandbox, read_conn)
    ids = case.ids(emulators)
    arranged = case.arrange(emulators, ids, tmp_path)
    monkeypatch.chdir(tmp_path)  # relative file names (owners.csv) are read from here
    emulators.clear_logs()
    cursor = conn.execute(substitute(sql, ids))
    columns = [d[0] for d in cursor.description or []]
    outcome = Outcome(emulators, ids, arranged, columns, cursor.fetchall())
    if not case.writes:  # a read sends no write (Onyx reads by POST; DigitalOcean never)
        assert sandbox.requests("digitalocean", "POST", "PUT", "PATCH", "DELETE") == []
    case.check(outcome)
