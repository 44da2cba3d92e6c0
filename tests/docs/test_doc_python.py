"""Every Python block of README.md and docs/*.md runs, against the emulators where it talks
to an API, and the doctest of the package's docstring passes.

A block runs as written. What it takes from around it in the docs is given to it first and
named in its case: the environment variables ``sqlprovider sandbox`` prints, a ``conn``, a
``job_id``, a list of ``knowledge_bases``. The value of every expression statement of a block
(outside functions) is kept, as a REPL shows it, so the checks can look at what each line
gave. A block without a case fails.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import doctest
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import sqlprovider
from sqlprovider.cache import shared_cache
from sqlprovider.emulators.digitalocean import DigitalOceanConfig, create_app
from sqlprovider.emulators.kit import EmulatorServer, Fault
from tests.docs.blocks import Block, blocks_of
from tests.docs.conftest import Emulators

BLOCKS = blocks_of("python")
FAILED = "INDEX_JOB_STATUS_FAILED"
VALUES = "__doc_values__"


class _KeepValues(ast.NodeTransformer):
    """``expr`` statements become ``__doc_values__.append(expr)`` (not inside functions)."""

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        target = ast.Attribute(ast.Name(VALUES, ast.Load()), "append", ast.Load())
        return ast.copy_location(ast.Expr(ast.Call(target, [node.value], [])), node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return node


def run_block(block: Block, namespace: dict[str, Any]) -> list[Any]:
    """Run the block's code in ``namespace``; the values of its expression statements."""
    tree = ast.fix_missing_locations(_KeepValues().visit(ast.parse(block.text)))
    values: list[Any] = []
    namespace[VALUES] = values
    exec(compile(tree, block.where, "exec"), namespace)
    return values


@dataclass
class Context:
    sandbox: Emulators
    writable: Emulators
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def failed_jobs(self) -> list[dict[str, Any]]:
        return [j for j in self.sandbox.jobs() if j["status"] == FAILED]

    def credentials_only(self) -> None:
        """The tokens (and tenant) `sqlprovider sandbox` prints, but no server URLs."""
        for name, value in self.sandbox.env.items():
            if not name.startswith("SQLPROVIDER_"):
                self.monkeypatch.setenv(name, value)

    def printed_lines(self) -> list[str]:
        return self.capsys.readouterr().out.splitlines()


def readme_join(block: Block, ctx: Context) -> None:
    """servers= points at the emulator (the block's 127.0.0.1:8080 is where the docs
    assume it); the token comes from DIGITALOCEAN_TOKEN, as the README's exports set it."""
    ctx.credentials_only()
    code = block.text.replace('"http://127.0.0.1:8080"', repr(ctx.sandbox.url("digitalocean")))
    assert code != block.text
    namespace: dict[str, Any] = {}
    run_block(Block(block.page, block.line, block.lang, code), namespace)
    expected = sorted(
        (j["uuid"], ds["data_source_uuid"], ds["status"])
        for j in ctx.sandbox.jobs()
        if j["phase"] == "BATCH_JOB_PHASE_FAILED"
        for ds in j["data_source_jobs"]
    )
    assert expected and sorted(namespace["rows"]) == expected


def failed_jobs_printed(block: Block, ctx: Context) -> None:
    """connect() with no arguments: servers and credentials from the environment."""
    ctx.sandbox.use_environment(ctx.monkeypatch)
    run_block(block, {})
    printed = [line.split()[:2] for line in ctx.printed_lines()]
    jobs = ctx.failed_jobs()
    assert sorted(p[0] for p in printed) == sorted(j["uuid"] for j in jobs)
    assert {p[1] for p in printed} == {j["phase"] for j in jobs}


def parameters(block: Block, ctx: Context) -> None:
    job_id = ctx.sandbox.jobs()[7]["uuid"]
    with ctx.sandbox.connect() as conn:
        namespace = {"conn": conn, "job_id": job_id, "datetime": datetime, "UTC": UTC}
        by_id, by_status = run_block(block, namespace)
        [row] = by_id.fetchall()
        assert row[[d[0] for d in by_id.description].index("uuid")] == job_id
        columns = [d[0] for d in by_status.description]
        rows = [dict(zip(columns, r, strict=True)) for r in by_status.fetchall()]
    since = datetime(2024, 10, 1, tzinfo=UTC)
    expected = [
        j["uuid"] for j in ctx.failed_jobs() if datetime.fromisoformat(j["created_at"]) >= since
    ]
    assert expected and sorted(r["uuid"] for r in rows) == sorted(expected)


def executemany(block: Block, ctx: Context) -> None:
    knowledge_bases = [ctx.writable.fresh_kb(), ctx.writable.fresh_kb()]
    ctx.writable.clear_logs()
    with ctx.writable.connect() as conn:
        [cursor] = run_block(block, {"conn": conn, "knowledge_bases": knowledge_bases})
        assert cursor.rowcount == 2
        assert [row[-1] for row in cursor.fetchall()] == ["ok", "ok"]
    posts = ctx.writable.requests("digitalocean", "POST")
    assert [p.json["knowledge_base_uuid"] for p in posts] == knowledge_bases  # in order


def keep_api_data(block: Block, ctx: Context) -> None:
    with ctx.sandbox.connect() as conn:
        created, inserted, counted = run_block(block, {"conn": conn})
        failed = len(ctx.failed_jobs())
        assert (created.rowcount, inserted.rowcount) == (failed, 10)
        assert counted == [(failed + 10,)]
        # the loaded API rows are gone; the copy stays
        assert conn.duckdb.sql("SELECT count(DISTINCT uuid) FROM failed").fetchall()[0][0] > 0


def asyncio_main(block: Block, ctx: Context) -> None:
    """The block defines main(); the test runs it, as the block's reader would."""
    ctx.sandbox.use_environment(ctx.monkeypatch)
    namespace: dict[str, Any] = {}
    assert run_block(block, namespace) == []
    asyncio.run(namespace["main"]())
    assert sorted(ctx.printed_lines()) == sorted(j["uuid"] for j in ctx.failed_jobs())


def emulator_from_python(block: Block, ctx: Context) -> None:
    namespace: dict[str, Any] = {}
    url, entries, fault = run_block(block, namespace)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    assert entries == []  # nothing was asked of it
    assert isinstance(fault, Fault) and (fault.status, fault.times) == (503, 2)
    with pytest.raises(httpx.ConnectError):  # the with block stopped it
        httpx.get(url + "/v2/gen-ai/indexing_jobs")


def faults_example(block: Block, ctx: Context) -> None:
    """``emulator`` is the tests/e2e fixture: an object whose ``server`` is a running
    DigitalOcean emulator."""
    config = DigitalOceanConfig(token="docs-token", jobs=50, rate_limited=False)
    with EmulatorServer(create_app(config)) as server:
        run_block(block, {"emulator": SimpleNamespace(server=server)})

        def page(number: int) -> httpx.Response:
            headers = {"Authorization": "Bearer docs-token"}
            path = "/v2/gen-ai/indexing_jobs"
            return httpx.get(server.url + path, params={"page": number}, headers=headers)

        assert page(1).status_code == 200
        assert page(2).status_code == 503  # the first fault, once
        assert page(2).json()["jobs"] == []  # then the transform, once
        assert len(page(2).json()["jobs"]) == 20  # then the app's own answer
        assert server.faults.pending() == []
        log = server.log.entries()  # docs/emulators.md: the log keeps a credential's scheme
        assert [(e.fault, e.status) for e in log[1:3]] == [("status", 503), ("transform", 200)]
        assert {e.headers["authorization"] for e in log} == {"Bearer ***"}


def cache_repeat(block: Block, ctx: Context) -> None:
    """The second count is answered by the cache: the emulator's log shows one scan."""
    ctx.sandbox.use_environment(ctx.monkeypatch)
    jobs = len(ctx.sandbox.jobs())
    shared_cache().clear()  # as in a new process: earlier tests' shells cached this count
    ctx.sandbox.clear_logs()
    [shown] = run_block(block, {})
    assert shown == (True, 0, 1)
    pages = len(ctx.sandbox.requests("digitalocean", "GET"))
    assert pages == -(-jobs // 200)  # one scan, every page once


def _through_serve(block: Block, ctx: Context) -> list[Any]:
    """Run a block of docs/serve.md against ``sqlprovider serve`` on the sandbox (on a free
    port: the block's 5466 is replaced by it)."""
    from tests.docs.test_doc_serve import serving

    with serving(["--port", "0", "--cache-ttl", "0"], ctx.sandbox) as port:
        text = block.text.replace("port=5466", f"port={port}").replace(":5466", f":{port}")
        return run_block(dataclasses.replace(block, text=text), {})


def serve_psycopg(block: Block, ctx: Context) -> None:
    """Three failed jobs, oldest first, their timestamps with a time zone."""
    values = _through_serve(block, ctx)
    assert values[-1] == (True, 3)


def serve_pandas(block: Block, ctx: Context) -> None:
    """The inspector lists the table; the frame's counts add up to every job."""
    values = _through_serve(block, ctx)
    assert values[-1] == (True, len(ctx.sandbox.jobs()))


CASES: list[tuple[str, Callable[[Block, Context], None]]] = [
    (r'servers=\{"digitalocean": "http://127\.0\.0\.1:8080"\}', readme_join),
    (r"with sqlprovider\.connect\(\) as conn:\n    cur = conn\.execute\(", failed_jobs_printed),
    (r"WHERE status = :status AND created_at >= :since", parameters),
    (r"conn\.executemany\(", executemany),
    (r"CREATE TABLE failed AS", keep_api_data),
    (r"async with sqlprovider\.aio\.connect\(\) as conn:", asyncio_main),
    (r"with EmulatorServer\(create_app\(DigitalOceanConfig", emulator_from_python),
    (r"emulator\.server\.faults\.fail\(", faults_example),
    (r"sqlprovider\.connect\(cache_ttl=60\)", cache_repeat),
    (r"psycopg\.connect\(\"host=127\.0\.0\.1 port=5466", serve_psycopg),
    (r"sa\.create_engine\(\"postgresql\+psycopg://", serve_pandas),
]


def case_for(block: Block) -> Callable[[Block, Context], None]:
    matching = [check for needle, check in CASES if re.search(needle, block.text)]
    assert len(matching) == 1, f"{block.where}: {len(matching)} cases match this block"
    return matching[0]


def test_every_case_is_a_block_of_the_docs() -> None:
    for needle, _ in CASES:
        assert any(re.search(needle, b.text) for b in BLOCKS), f"no block: {needle}"


@pytest.fixture
def ctx(
    sandbox: Emulators,
    writable: Emulators,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Context]:
    yield Context(sandbox, writable, monkeypatch, capsys)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_every_python_block_runs(block: Block, ctx: Context) -> None:
    case_for(block)(block, ctx)


def test_the_package_docstring_doctest_passes() -> None:
    failed, attempted = doctest.testmod(sqlprovider, optionflags=doctest.ELLIPSIS)
    assert (failed, attempted) == (0, 3)
