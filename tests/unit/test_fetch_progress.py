"""A long fetch reports its progress on one status line, and clears it when done."""

from __future__ import annotations

import asyncio
import json

import httpx

from sqlprovider.executor.fetch import FetchRun
from sqlprovider.http import ApiClient, Credentials, Secret, build_request
from sqlprovider.planner import Planner
from sqlprovider.providers import Registry
from sqlprovider.sql import split_statements
from sqlprovider.store import Store, TableSpec

PAGES = 4


def handler(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params.get("page", "1"))
    jobs = [{"uuid": f"job-{page}-{i}", "total_datasources": 1} for i in range(3)]
    body = {"jobs": jobs, "meta": {"page": page, "pages": PAGES, "total": 3 * PAGES}}
    return httpx.Response(200, content=json.dumps(body).encode())


def test_progress_lines_then_a_clear() -> None:
    planner = Planner(Registry())
    [fetch] = planner.plan(
        split_statements("SELECT uuid FROM digitalocean.genai.indexing_jobs")[0]
    ).fetches
    lines: list[str] = []
    store = Store()

    async def run() -> None:
        provider = Registry().get("digitalocean")
        client = ApiClient(
            provider,
            Credentials("bearer", Secret("t0k3n-1")),
            transport=httpx.MockTransport(handler),
            concurrency=1,
        )
        spec = TableSpec(
            name=fetch.table,
            records=fetch.method.records,
            record_columns=tuple(c for c in fetch.resource.columns if c.name == "uuid"),
            param_columns=(),
        )
        loader = store.create(spec)
        request = build_request(fetch.method, "https://api.test", {})
        run = FetchRun(
            fetch, client, loader, [request], lines.append, first_report=0, report_every=0
        )
        try:
            await run.run()
        finally:
            await client.aclose()

    try:
        asyncio.run(run())
    finally:
        store.close()
    assert lines[-1] == ""  # cleared at the end
    shown = lines[:-1]
    assert len(shown) == PAGES
    assert shown[0].startswith("digitalocean.genai.indexing_jobs: 1 request, 1 page, ")
    assert shown[-1].startswith(
        f"digitalocean.genai.indexing_jobs: {PAGES} requests, {PAGES} pages"
    )
    assert "lookups" not in shown[-1]  # one request planned: no fan-out to count
