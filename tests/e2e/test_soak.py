"""A short soak, run in CI (the long one: ``SOAK_SCALE=10 pytest tests/e2e/test_soak.py``): many
queries at once through one connection from threads, and a large IN fan-out against an
emulator that fails one request in ten — no deadlock, no leaked sockets, every answer right."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import sqlprovider
from tests.e2e.conftest import TOKEN, Emulator

SCALE = int(os.environ.get("SOAK_SCALE", "1"))
JOBS = "digitalocean.genai.indexing_jobs"


def open_sockets() -> int:
    """Sockets this process holds (Linux)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since it was listed
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


def test_concurrent_queries_through_one_connection(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=300)
    truth = {j["uuid"]: j["phase"] for j in emulator.all_jobs()}
    uuids = list(truth)
    rng = random.Random(7)
    asks = [rng.sample(uuids, 3) for _ in range(40 * SCALE)]
    with sqlprovider.connect(
        servers={"digitalocean": emulator.url}, auth={"digitalocean": {"token": TOKEN}}
    ) as conn:

        def ask(ids: list[str]) -> dict[str, str]:
            listed = ", ".join(f"'{i}'" for i in ids)
            rows = conn.execute(f"SELECT uuid, phase FROM {JOBS} WHERE uuid IN ({listed})")
            return dict(rows.fetchall())

        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(ask, asks, timeout=120))
    assert [set(a) for a in answers] == [set(ids) for ids in asks]
    assert all(answer == {u: truth[u] for u in answer} for answer in answers)


def test_fan_out_with_one_failure_in_ten(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=1000 * SCALE)
    uuids = [j["uuid"] for j in emulator.all_jobs()]
    # Every tenth request to a job fails once with 503; idempotent GETs are retried.
    for uuid in uuids[::10]:
        emulator.server.faults.fail("GET", f"/v2/gen-ai/indexing_jobs/{uuid}", status=503)
    before = open_sockets()
    with sqlprovider.connect(
        servers={"digitalocean": emulator.url},
        auth={"digitalocean": {"token": TOKEN}},
        concurrency=16,
    ) as conn:
        listed = ", ".join(f"'{u}'" for u in uuids)
        cur = conn.execute(f"SELECT uuid FROM {JOBS} WHERE uuid IN ({listed})")
        found = [row[0] for row in cur.fetchall()]
        retries = cur.stats["retries"]
    assert sorted(found) == sorted(uuids)  # every row, none twice
    assert retries == len(uuids[::10])
    assert open_sockets() <= before  # the connection's sockets were all closed


def resident_mb() -> float:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_memory_stays_flat_over_repeated_statements(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=2000)
    with sqlprovider.connect(
        servers={"digitalocean": emulator.url}, auth={"digitalocean": {"token": TOKEN}}
    ) as conn:
        sizes = []
        for _ in range(12 * SCALE):
            cur = conn.execute(f"SELECT count(*), max(created_at) FROM {JOBS}")
            assert cur.fetchall()[0][0] == 2000
            sizes.append(resident_mb())
    settled = sizes[len(sizes) // 4]  # after the first statements have warmed every cache
    assert sizes[-1] - settled < 25, f"memory grew: {[round(s) for s in sizes]}"
