"""Floor for the ``IN`` fan-out: plain httpx async, 8 GETs at a time, one per id, parsing each.

Usage: python -m benchmarks.floor_fanout BASE_URL TOKEN IDS_FILE
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx

PATH = "/v2/gen-ai/indexing_jobs/"


async def main(base: str, token: str, ids: list[str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        gate = asyncio.Semaphore(8)

        async def one(job: str) -> int:
            async with gate:
                response = await client.get(PATH + job)
            response.raise_for_status()
            return int(json.loads(response.content)["job"]["total_datasources"])

        values = await asyncio.gather(*(one(job) for job in ids))
    print(len(values), sum(values))


if __name__ == "__main__":
    wanted = Path(sys.argv[3]).read_text().split()
    asyncio.run(main(sys.argv[1], sys.argv[2], wanted))
