"""Floor (b): urllib3 from 8 threads with orjson, the nearest to the physical limit in Python.

Usage: python -m benchmarks.floor_urllib3 BASE_URL TOKEN
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import orjson
import urllib3

PATH = "/v2/gen-ai/indexing_jobs"


def main(base: str, token: str) -> None:
    pool = urllib3.PoolManager(maxsize=8)
    headers = {"Authorization": f"Bearer {token}"}

    def one(page: int) -> tuple[int, int, int]:
        response = pool.request("GET", f"{base}{PATH}?page={page}&per_page=200", headers=headers)
        document = orjson.loads(response.data)
        jobs = document["jobs"]
        return len(jobs), sum(j["total_datasources"] for j in jobs), document["meta"]["pages"]

    count, total, pages = one(1)
    with ThreadPoolExecutor(8) as threads:
        for n, s, _ in threads.map(one, range(2, pages + 1)):
            count += n
            total += s
    print(count, total)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
