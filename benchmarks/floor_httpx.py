"""Floor (a): a plain httpx async client fetching every page, 8 at a time, parsing and summing.

Usage: python -m benchmarks.floor_httpx BASE_URL TOKEN
"""

from __future__ import annotations

import asyncio
import json
import sys

import httpx

PATH = "/v2/gen-ai/indexing_jobs"


async def main(base: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        first = (await client.get(PATH, params={"page": 1, "per_page": 200})).json()
        pages = first["meta"]["pages"]
        count = len(first["jobs"])
        total = sum(j["total_datasources"] for j in first["jobs"])
        gate = asyncio.Semaphore(8)

        async def one(page: int) -> tuple[int, int]:
            async with gate:
                response = await client.get(PATH, params={"page": page, "per_page": 200})
            jobs = json.loads(response.content)["jobs"]
            return len(jobs), sum(j["total_datasources"] for j in jobs)

        for n, s in await asyncio.gather(*(one(p) for p in range(2, pages + 1))):
            count += n
            total += s
    print(count, total)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
