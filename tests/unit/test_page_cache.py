"""The result cache on its own: ages, keys, credentials, writes, memory bound, files; for
answers (pages) and loaded rows (tables) alike."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sqlprovider.cache import (
    CachedAnswer,
    CachedTable,
    PageCache,
    _decode,
    _decode_table,
    _encode,
    _encode_table,
)

REQUEST = {"verb": "GET", "url": "http://127.0.0.1:1/v2/jobs", "query": [["page", "1"]]}


def _key(
    cache: PageCache, token: str = "alpha-token", provider: str = "digitalocean"
) -> tuple[str, str]:
    identity = cache.identity({"Authorization": f"Bearer {token}"})
    return cache.key(provider, identity, REQUEST)


def test_an_answer_is_served_while_younger_than_the_ttl() -> None:
    cache = PageCache()
    key = _key(cache)
    cache.put(key, [b'{"jobs": []}', b'{"jobs": [1]}'], time.time() - 30)
    answer = cache.get(key, ttl=60)
    assert answer is not None
    assert answer.pages == (b'{"jobs": []}', b'{"jobs": [1]}')
    assert 29 <= answer.age <= 31
    assert cache.get(key, ttl=20) is None  # the same answer is too old for a shorter TTL


def test_other_credentials_and_other_requests_have_other_keys() -> None:
    cache = PageCache()
    cache.put(_key(cache), [b"[]"], time.time())
    assert cache.get(_key(cache, token="beta-token"), ttl=60) is None
    other = cache.key("digitalocean", cache.identity({}), {**REQUEST, "query": [["page", "2"]]})
    assert cache.get(other, ttl=60) is None
    assert cache.get(_key(cache), ttl=60) is not None


def test_the_identity_never_holds_the_secret_nor_its_plain_hash() -> None:
    import hashlib

    cache = PageCache()
    header = "Bearer alpha-token"
    identity = cache.identity({"Authorization": header})
    assert "alpha-token" not in identity
    assert identity != hashlib.sha256(header.encode()).hexdigest()
    assert identity != PageCache().identity({"Authorization": header})  # keyed per cache


def test_a_write_drops_its_providers_reads_only() -> None:
    cache = PageCache()
    mine, theirs = _key(cache), _key(cache, provider="onyx")
    cache.put(mine, [b"[]"], time.time() - 1)
    cache.put(theirs, [b"[]"], time.time() - 1)
    cache.invalidate("digitalocean")
    assert cache.get(mine, ttl=60) is None
    assert cache.get(theirs, ttl=60) is not None


def test_an_answer_asked_before_a_write_is_not_kept_after_it() -> None:
    cache = PageCache()
    key = _key(cache)
    asked_at = time.time() - 0.5
    cache.invalidate("digitalocean")  # the write lands while the read is in flight
    cache.put(key, [b"[]"], asked_at)
    assert cache.get(key, ttl=60) is None


def test_memory_is_bounded_least_recently_used_first_out() -> None:
    cache = PageCache(max_bytes=250)
    keys = [cache.key("p", "id", {"n": n}) for n in range(3)]
    cache.put(keys[0], [b"x" * 100], time.time())
    cache.put(keys[1], [b"x" * 100], time.time())
    assert cache.get(keys[0], ttl=60) is not None  # now the most recently used
    cache.put(keys[2], [b"x" * 100], time.time())
    assert cache.get(keys[1], ttl=60) is None
    assert cache.get(keys[0], ttl=60) is not None
    assert cache.get(keys[2], ttl=60) is not None
    cache.put(cache.key("p", "id", {"n": 9}), [b"x" * 1000], time.time())  # too big: not kept
    assert cache.get(keys[2], ttl=60) is not None


def test_a_directory_shares_answers_and_writes_between_caches(tmp_path: Path) -> None:
    first, second = PageCache(tmp_path), PageCache(tmp_path)
    assert first.identity({"a": "b"}) == second.identity({"a": "b"})  # one salt per folder
    assert (tmp_path / ".salt").stat().st_mode & 0o777 == 0o600
    key = _key(first)
    first.put(key, [b"[1]"], time.time())
    answer = second.get(key, ttl=60)
    assert answer is not None and answer.pages == (b"[1]",)
    second.invalidate("digitalocean")
    assert first.get(key, ttl=60) is None  # the other process's write counts too


def test_clear_drops_everything(tmp_path: Path) -> None:
    cache = PageCache(tmp_path)
    keys = [_key(cache), _key(cache, provider="onyx")]
    for key in keys:
        cache.put(key, [b"[]"], time.time() - 1)
    cache.clear()
    assert all(PageCache(tmp_path).get(k, ttl=60) is None for k in keys)
    assert all(cache.get(k, ttl=60) is None for k in keys)


def test_a_damaged_file_is_a_miss(tmp_path: Path) -> None:
    cache = PageCache(tmp_path)
    key = _key(cache)
    cache.put(key, [b"[1, 2, 3]"], time.time())
    [path] = [p for p in tmp_path.rglob("*.pages")]
    path.write_bytes(path.read_bytes()[:-2])
    assert PageCache(tmp_path).get(key, ttl=60) is None


def test_a_folder_it_cannot_write_costs_the_cache_only(tmp_path: Path) -> None:
    cache = PageCache(tmp_path)
    key = _key(cache)
    (tmp_path / "digitalocean").write_text("a file where the provider's folder would go")
    cache.put(key, [b"[]"], time.time())
    assert cache.get(key, ttl=60) is not None  # still served from memory
    assert PageCache(tmp_path).get(key, ttl=60) is None


@given(st.lists(st.binary(max_size=64), max_size=6), st.floats(0, 2e9, allow_nan=False))
def test_files_read_back_what_was_written(pages: list[bytes], asked_at: float) -> None:
    answer = CachedAnswer(tuple(pages), asked_at)
    assert _decode(_encode(answer)) == answer
    assert _decode(_encode(answer) + b"x") is None
    assert _decode(b"something else") is None


def _table(asked_at: float, size: int = 10) -> CachedTable:
    return CachedTable(b"p" * size, pages=3, rows=450, asked_at=asked_at)


def test_loaded_rows_are_served_on_the_terms_of_answers() -> None:
    cache = PageCache()
    key = _key(cache)
    cache.put_table(key, _table(time.time() - 30))
    kept = cache.get_table(key, ttl=60)
    assert kept is not None and (kept.pages, kept.rows, kept.data) == (3, 450, b"p" * 10)
    assert 29 <= kept.age <= 31
    assert cache.get_table(key, ttl=20) is None
    assert cache.get(key, ttl=60) is None  # loaded rows are never taken for pages
    assert cache.get_table(_key(cache, token="beta-token"), ttl=60) is None


def test_a_write_drops_loaded_rows_and_an_in_flight_fetch_keeps_none() -> None:
    cache = PageCache()
    mine, theirs = _key(cache), _key(cache, provider="onyx")
    cache.put_table(mine, _table(time.time() - 1))
    cache.put_table(theirs, _table(time.time() - 1))
    started = time.time() - 0.5  # a fetch whose oldest request went out before the write
    cache.invalidate("digitalocean")
    assert cache.get_table(mine, ttl=60) is None
    assert cache.get_table(theirs, ttl=60) is not None
    cache.put_table(mine, _table(started))
    assert cache.get_table(mine, ttl=60) is None


def test_answers_and_loaded_rows_share_one_memory_budget() -> None:
    cache = PageCache(max_bytes=250)
    pages, table = cache.key("p", "id", {"n": 1}), cache.key("p", "id", {"n": 2})
    cache.put(pages, [b"x" * 100], time.time())
    cache.put_table(table, _table(time.time(), size=100))
    cache.put(cache.key("p", "id", {"n": 3}), [b"x" * 100], time.time())
    assert cache.get(pages, ttl=60) is None  # the least recently used went first
    assert cache.get_table(table, ttl=60) is not None
    cache.put_table(cache.key("p", "id", {"n": 4}), _table(time.time(), size=1000))
    assert cache.get_table(cache.key("p", "id", {"n": 4}), ttl=60) is None  # too big


def test_a_directory_shares_loaded_rows_and_clear_drops_them(tmp_path: Path) -> None:
    first = PageCache(tmp_path)
    key = _key(first)
    first.put_table(key, _table(time.time() - 5))
    kept = PageCache(tmp_path).get_table(key, ttl=60)
    assert kept is not None and (kept.data, kept.pages, kept.rows) == (b"p" * 10, 3, 450)
    assert 4 <= kept.age <= 6  # the age travels with the file
    assert len(list(tmp_path.rglob("*.table"))) == 1
    first.clear()
    assert not list(tmp_path.rglob("*.table"))
    assert PageCache(tmp_path).get_table(key, ttl=60) is None


@given(
    st.binary(max_size=64),
    st.integers(0, 2**40),
    st.integers(0, 2**40),
    st.floats(0, 2e9, allow_nan=False),
)
def test_table_files_read_back_what_was_written(
    data: bytes, pages: int, rows: int, asked_at: float
) -> None:
    table = CachedTable(data, pages, rows, asked_at)
    assert _decode_table(_encode_table(table)) == table
    assert _decode_table(_encode(CachedAnswer((data,), asked_at))) is None
    assert _decode_table(b"sqlprovider-table 1\nshort") is None
