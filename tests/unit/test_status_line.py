"""The status line while a statement runs: a wait counts down each second, and the request
count it shows is the one ``.timing`` shows (both read the client's count of requests sent).

Both run on real time: a countdown is a matter of seconds passing.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import httpx

from sqlprovider.http.auth import Credentials
from sqlprovider.http.client import ApiClient
from sqlprovider.http.request import RequestSpec
from sqlprovider.options import ConnectOptions
from sqlprovider.providers import bundled_providers_dir, load_provider
from sqlprovider.secret import Secret
from sqlprovider.session import Session

PROVIDER = load_provider(bundled_providers_dir() / "digitalocean.yaml")
JOBS = "digitalocean.genai.indexing_jobs"
BASE = "https://api.test"


def test_a_wait_for_a_429_counts_down_each_second_then_clears() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200)])
    seen: list[tuple[float, str]] = []
    started = time.monotonic()

    async def main() -> None:
        client = ApiClient(
            PROVIDER,
            Credentials("bearer", Secret("t0k3n")),
            transport=httpx.MockTransport(lambda request: next(answers)),
            on_wait=lambda line: seen.append((time.monotonic() - started, line)),
        )
        try:
            await client.send(RequestSpec("GET", f"{BASE}/v2/x"), context=JOBS)
        finally:
            await client.aclose()

    asyncio.run(main())
    lines = [line for _, line in seen]
    assert lines == [
        f"{JOBS}: HTTP 429, retry 1 of {PROVIDER.retry.max_attempts - 1} in {left} s"
        for left in (3, 2, 1)
    ] + [""]
    moments = [moment for moment, _ in seen]
    # a new line each second, not all at once
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    assert len(gaps) == 3 and all(0.5 < gap < 1.9 for gap in gaps), gaps


def test_the_status_line_counts_the_requests_timing_counts() -> None:
    """Five pages, the first asked twice (a 429 first): six requests sent, in both."""
    pages = 5
    refused = {"done": False}

    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.3)  # slow enough that the status line shows (after 1 s)
        if not refused["done"]:
            refused["done"] = True
            return httpx.Response(429, headers={"Retry-After": "0"})
        page = int(request.url.params.get("page", "1"))
        jobs = [{"uuid": f"job-{page}-{i}"} for i in range(3)]
        body = {"jobs": jobs, "meta": {"page": page, "pages": pages, "total": 3 * pages}}
        return httpx.Response(200, content=json.dumps(body).encode())

    lines: list[str] = []
    options = ConnectOptions(
        servers={"digitalocean": BASE},
        auth={"digitalocean": {"token": "t0k3n"}},
        transport=httpx.MockTransport(answer),
        concurrency=1,
        progress=lines.append,
    )
    session = Session(options)
    try:
        [result] = session.execute(f"SELECT uuid FROM {JOBS}")
    finally:
        session.close()
    assert len(result.rows) == 3 * pages
    shown = [line for line in lines if line.startswith(JOBS)]
    assert shown, "the fetch took over a second: a status line was shown"
    counted = [int(line.split(": ")[1].split(" ")[0]) for line in shown]
    assert counted == sorted(counted)
    assert result.stats["requests"] == pages + 1
    # the last line shown went out with the last page: every request had been sent
    assert counted[-1] == result.stats["requests"]
