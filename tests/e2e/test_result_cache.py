"""The result cache against the DigitalOcean emulator, proven by its request log: a repeat
within the TTL sends nothing, a write invalidates, other credentials miss, and processes
that name one cache directory share it, loaded rows and pages alike."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import sqlprovider
from tests.e2e.conftest import TOKEN, Emulator

JOBS = "digitalocean.genai.indexing_jobs"
KBS = "digitalocean.genai.knowledge_bases"
STATEMENT = f"SELECT uuid, phase FROM {JOBS} WHERE phase = 'BATCH_JOB_PHASE_FAILED' ORDER BY uuid"


def _gets(emulator: Emulator) -> list[str]:
    return [e.path for e in emulator.server.log.entries() if e.method == "GET"]


def test_a_repeat_within_the_ttl_sends_nothing_and_answers_the_same(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(jobs=450)
    with emulator.connect(cache_ttl=60, cache_dir=tmp_path) as conn:
        first = conn.execute(STATEMENT)
        fresh, fresh_stats = first.fetchall(), dict(first.stats)
        sent = len(_gets(emulator))
        again = conn.execute(STATEMENT)
        cached, cached_stats = again.fetchall(), dict(again.stats)
    assert sent == 3  # 450 jobs at 200 a page
    assert len(_gets(emulator)) == sent  # nothing more went out
    assert cached == fresh
    assert "cached_requests" not in fresh_stats
    assert (cached_stats["requests"], cached_stats["cached_requests"]) == (0, 1)
    assert cached_stats["pages"] == fresh_stats["pages"] == 3


def test_without_a_ttl_every_statement_asks(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=10)
    with emulator.connect() as conn:  # connect() keeps no cache unless asked
        conn.execute(STATEMENT).fetchall()
        conn.execute(STATEMENT).fetchall()
    assert len(_gets(emulator)) == 2


def test_an_answer_older_than_the_ttl_is_asked_again(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(jobs=10)
    with emulator.connect(cache_ttl=0.3, cache_dir=tmp_path) as conn:
        conn.execute(STATEMENT).fetchall()
        time.sleep(0.4)
        conn.execute(STATEMENT).fetchall()
    assert len(_gets(emulator)) == 2


def test_a_write_drops_the_cached_reads_and_reads_its_objects_afresh(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(jobs=10)
    query = f"SELECT uuid, name FROM {KBS} ORDER BY uuid"
    with emulator.connect(cache_ttl=60, cache_dir=tmp_path) as conn:
        before = conn.execute(query).fetchall()
        conn.execute(query).fetchall()
        assert len(_gets(emulator)) == 1
        target = before[0][0]
        assert len(list(tmp_path.rglob("*.table"))) == 1
        conn.execute(f"UPDATE {KBS} SET name = 'renamed' WHERE uuid = '{target}'")
        # The write read its object from the API, not from the cache.
        assert _gets(emulator)[1:] == [f"/v2/gen-ai/knowledge_bases/{target}"]
        assert not list(tmp_path.rglob("*.table")) and not list(tmp_path.rglob("*.pages"))
        after = conn.execute(query).fetchall()
    assert len(_gets(emulator)) == 3  # the read after the write asked the API
    assert dict(after)[target] == "renamed"
    assert {u: n for u, n in after if u != target} == {u: n for u, n in before if u != target}


def test_other_credentials_never_see_cached_rows(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(jobs=10)
    with emulator.connect(cache_ttl=60, cache_dir=tmp_path) as conn:
        conn.execute(STATEMENT).fetchall()
    stranger = {"digitalocean": {"token": "someone-elses-token-0000"}}
    with (
        emulator.connect(cache_ttl=60, cache_dir=tmp_path, auth=stranger) as conn,
        pytest.raises(sqlprovider.OperationalError) as caught,
    ):
        conn.execute(STATEMENT)
    assert "401" in str(caught.value)
    statuses = [e.status for e in emulator.server.log.entries()]
    assert statuses == [200, 401]  # the stranger's statement went to the API, and failed
    kept = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"someone-elses-token" not in kept and TOKEN.encode() not in kept


def test_explain_analyze_says_the_rows_came_from_the_cache(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(jobs=10)
    with emulator.connect(cache_ttl=60, cache_dir=tmp_path) as conn:
        conn.execute(STATEMENT).fetchall()
        lines = [r[0] for r in conn.execute(f"EXPLAIN ANALYZE {STATEMENT}").fetchall()]
    [actual] = [line for line in lines if line.startswith("actual 1.")]
    assert "0 requests sent, 1 answered from the cache (0 s old)" in actual


def test_processes_naming_one_cache_directory_share_it(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(jobs=10)
    command = [
        sys.executable, "-m", "sqlprovider", "exec", STATEMENT, "-o", "csv",
        "--server", f"digitalocean={emulator.url}",
        "--cache-ttl", "60", "--cache-dir", str(tmp_path / "cache"),
    ]  # fmt: skip
    env = {**os.environ, "DIGITALOCEAN_TOKEN": TOKEN}
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    assert len(_gets(emulator)) == 1


def _exec(emulator: Emulator, cache: Path, statement: str = STATEMENT) -> str:
    command = [
        sys.executable, "-m", "sqlprovider", "exec", statement, "-o", "csv",
        "--server", f"digitalocean={emulator.url}",
        "--cache-ttl", "60", "--cache-dir", str(cache),
    ]  # fmt: skip
    env = {**os.environ, "DIGITALOCEAN_TOKEN": TOKEN}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_another_process_loads_the_rows_kept_without_the_pages(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(jobs=450)
    first = _exec(emulator, tmp_path)
    assert len(list(tmp_path.rglob("*.table"))) == 1
    for pages in tmp_path.rglob("*.pages"):
        pages.unlink()  # only the loaded rows are left to answer
    assert _exec(emulator, tmp_path) == first
    assert len(_gets(emulator)) == 3  # the first process's 3 pages; the second sent nothing


def test_damaged_loaded_rows_are_a_miss_and_the_pages_answer(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(jobs=450)
    first = _exec(emulator, tmp_path)
    [kept] = tmp_path.rglob("*.table")
    kept.write_bytes(kept.read_bytes()[:-40])  # the Parquet footer cut off
    assert _exec(emulator, tmp_path) == first
    assert len(_gets(emulator)) == 3  # answered from the pages kept beside it


def test_other_columns_of_a_cached_request_load_from_its_pages(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    emulator = make_emulator(jobs=450)
    other = f"SELECT status, count(*) AS n FROM {JOBS} GROUP BY status ORDER BY status"
    with emulator.connect(cache_ttl=60, cache_dir=tmp_path) as conn:
        conn.execute(STATEMENT).fetchall()
        counted = conn.execute(other)
        rows, stats = counted.fetchall(), dict(counted.stats)
    with emulator.connect() as plain:
        assert rows == plain.execute(other).fetchall()
    assert len(_gets(emulator)) == 3 + 3  # the first statement's pages, then the plain one's
    assert (stats["requests"], stats["cached_requests"], stats["pages"]) == (0, 1, 3)
    assert len(list(tmp_path.rglob("*.table"))) == 2  # one per table the store derived


def test_a_bad_ttl_names_what_it_takes(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=1)
    with pytest.raises(sqlprovider.InterfaceError, match="cache_ttl must be a number of seconds"):
        emulator.connect(cache_ttl=-1)
