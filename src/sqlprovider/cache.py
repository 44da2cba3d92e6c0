"""The result cache: answers of read requests, kept for a while and served again.

A dashboard that refreshes every minute asks the same questions over and over; each repeat
within the TTL is answered from here instead of spending the API's rate limit (Steampipe's
model). Two things are kept, under one memory budget:

- the raw pages of one read request (``CachedAnswer``), so a hit is loaded exactly as a fresh
  answer would be and every later step (DuckDB, the statement's own filters) is the same;
- the rows a whole fetch loaded (``CachedTable``: the store's table as Parquet written by
  DuckDB), keyed by every request of the fetch, the table the store derived and the
  provider's definition, so a repeat of the same fetch skips parsing and loading too.

The key is the request itself (verb, URL, query, headers, body, how much of it was read) and
an HMAC of the credential that would have sent it: two users never see each other's rows,
and no secret is kept, not even its plain hash. A write to a provider drops its cached reads
(every resource of it: a write to one often changes others, as a new indexing job changes
its knowledge base).

One cache lives per process and directory, shared by every session that turns caching on:
in memory (bounded, least recently used first out), and also on disk under ``cache_dir`` so
that several processes share it. Ages use the wall clock so that processes agree.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import struct
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CacheUse", "CachedAnswer", "CachedTable", "PageCache", "shared_cache"]

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
_MAGIC = b"sqlprovider-cache 1\n"
_TABLE_MAGIC = b"sqlprovider-table 1\n"
_SUFFIXES = (".pages", ".table")
_INVALIDATED = ".invalidated"

log = logging.getLogger("sqlprovider.cache")


@dataclass(frozen=True)
class CachedAnswer:
    """The pages of one read request as the API sent them, and when it was asked."""

    pages: tuple[bytes, ...]
    asked_at: float  # wall-clock seconds when the request was started

    @property
    def age(self) -> float:
        """Seconds since the API was asked."""
        return max(0.0, time.time() - self.asked_at)

    @property
    def size(self) -> int:
        """Bytes held."""
        return sum(len(p) for p in self.pages)


@dataclass(frozen=True)
class CachedTable:
    """The rows one whole fetch loaded, as the store keeps them (Parquet), what loading
    them cost, and when its oldest answer was asked."""

    data: bytes
    pages: int  # pages the rows were loaded from
    rows: int
    asked_at: float  # wall-clock seconds when its oldest request was started

    @property
    def age(self) -> float:
        """Seconds since the oldest of its requests was asked."""
        return max(0.0, time.time() - self.asked_at)

    @property
    def size(self) -> int:
        """Bytes held."""
        return len(self.data)


Kept = CachedAnswer | CachedTable


class PageCache:
    """Answers of read requests by key, in memory and, with a directory, on disk.

    Args:
        directory: where answers are also kept for other processes (None: memory only).
        max_bytes: the memory held before the least recently used answers are dropped.
    """

    def __init__(self, directory: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = directory
        self.max_bytes = max_bytes
        self._memory: OrderedDict[tuple[str, str], Kept] = OrderedDict()
        self._bytes = 0
        self._dropped_at: dict[str, float] = {}  # provider → when its reads were dropped
        self._lock = threading.Lock()
        self._salt = self._load_salt()

    # -- keys ---------------------------------------------------------------------------

    def identity(self, credential_headers: Mapping[str, str]) -> str:
        """Who asks: a keyed hash of the credential headers (never the secret itself)."""
        text = json.dumps(sorted(credential_headers.items()))
        return hmac.new(self._salt, text.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def key(provider: str, identity: str, request: Mapping[str, Any]) -> tuple[str, str]:
        """The key of ``request`` (plain data describing it whole) asked by ``identity``."""
        text = json.dumps([identity, request], sort_keys=True, default=str)
        return provider, hashlib.sha256(text.encode()).hexdigest()

    # -- reading and writing --------------------------------------------------------------

    def get(self, key: tuple[str, str], ttl: float) -> CachedAnswer | None:
        """The answer under ``key`` if it is younger than ``ttl`` seconds and no write to
        its provider came after it was asked."""
        found = self._get(key, ttl, ".pages")
        return found if isinstance(found, CachedAnswer) else None

    def get_table(self, key: tuple[str, str], ttl: float) -> CachedTable | None:
        """The loaded rows under ``key``, on the same terms as ``get``."""
        found = self._get(key, ttl, ".table")
        return found if isinstance(found, CachedTable) else None

    def put(self, key: tuple[str, str], pages: Sequence[bytes], asked_at: float) -> None:
        """Keep ``pages``, the whole answer of a request started at ``asked_at``."""
        self._put(key, CachedAnswer(tuple(pages), asked_at), ".pages")

    def put_table(self, key: tuple[str, str], table: CachedTable) -> None:
        """Keep the rows a whole fetch loaded (``table.asked_at``: its oldest request's)."""
        self._put(key, table, ".table")

    def _get(self, key: tuple[str, str], ttl: float, suffix: str) -> Kept | None:
        provider, _ = key
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
        if found is None and self.directory is not None:
            found = self._read_file(key, suffix)
            if found is not None:
                self._remember(key, found)
        if found is None or found.age > ttl:
            return None
        if found.asked_at <= self._dropped(provider):
            return None
        return found

    def _put(self, key: tuple[str, str], kept: Kept, suffix: str) -> None:
        provider, _ = key
        if kept.asked_at <= self._dropped(provider):
            return  # a write came while it was in flight: its rows may be stale already
        self._remember(key, kept)
        if self.directory is not None:
            self._write_file(key, kept, suffix)

    def invalidate(self, provider: str) -> None:
        """Drop every cached read of ``provider`` (after a write to it)."""
        now = time.time()
        with self._lock:
            self._dropped_at[provider] = now
            for key in [k for k in self._memory if k[0] == provider]:
                self._bytes -= self._memory.pop(key).size
        if self.directory is not None:
            folder = self._folder(provider)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                _write_atomically(folder / _INVALIDATED, repr(now).encode())
            except OSError as exc:
                log.warning(
                    "could not mark the cached reads of %s in %s as stale (%s); other "
                    "processes may serve them until they expire",
                    provider,
                    self.directory,
                    exc.strerror or exc,
                )
            for suffix in _SUFFIXES:
                for path in folder.glob(f"*/*{suffix}"):
                    with contextlib.suppress(OSError):
                        path.unlink()

    def clear(self) -> None:
        """Drop everything (``.cache clear``)."""
        with self._lock:
            providers = {k[0] for k in self._memory}
        if self.directory is not None and self.directory.is_dir():
            providers |= {p.name for p in self.directory.iterdir() if p.is_dir()}
        for provider in providers:
            self.invalidate(provider)

    def _remember(self, key: tuple[str, str], kept: Kept) -> None:
        if kept.size > self.max_bytes:
            return
        with self._lock:
            old = self._memory.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._memory[key] = kept
            self._bytes += kept.size
            while self._bytes > self.max_bytes:
                _, dropped = self._memory.popitem(last=False)
                self._bytes -= dropped.size

    def _dropped(self, provider: str) -> float:
        at = self._dropped_at.get(provider, 0.0)
        if self.directory is not None:
            with contextlib.suppress(OSError, ValueError):
                at = max(at, float((self._folder(provider) / _INVALIDATED).read_text()))
        return at

    # -- files ----------------------------------------------------------------------------

    def _folder(self, provider: str) -> Path:
        assert self.directory is not None
        return self.directory / provider

    def _file(self, key: tuple[str, str], suffix: str) -> Path:
        provider, digest = key
        return self._folder(provider) / digest[:2] / f"{digest}{suffix}"

    def _read_file(self, key: tuple[str, str], suffix: str) -> Kept | None:
        try:
            data = self._file(key, suffix).read_bytes()
        except OSError:
            return None
        return _decode(data) if suffix == ".pages" else _decode_table(data)

    def _write_file(self, key: tuple[str, str], kept: Kept, suffix: str) -> None:
        path = self._file(key, suffix)
        data = _encode(kept) if isinstance(kept, CachedAnswer) else _encode_table(kept)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, data)
        except OSError:
            pass  # a full or read-only disk costs the cache, never the statement

    def _load_salt(self) -> bytes:
        """The key of the credential hashes: random per process in memory; on disk, made
        once per directory and readable by its owner only, so processes agree."""
        if self.directory is None:
            return secrets.token_bytes(32)
        path = self.directory / ".salt"
        try:
            return path.read_bytes()
        except OSError:
            pass
        salt = secrets.token_bytes(32)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(salt)
        except FileExistsError:
            return path.read_bytes()  # another process made it first
        except OSError:
            pass
        return salt


def _encode(answer: CachedAnswer) -> bytes:
    header = struct.pack(
        f"<dI{len(answer.pages)}Q",
        answer.asked_at,
        len(answer.pages),
        *[len(p) for p in answer.pages],
    )
    return _MAGIC + header + b"".join(answer.pages)


def _decode(data: bytes) -> CachedAnswer | None:
    """An answer read back, or None for a file this version did not write whole."""
    if not data.startswith(_MAGIC):
        return None
    at = len(_MAGIC)
    try:
        asked_at, count = struct.unpack_from("<dI", data, at)
        at += struct.calcsize("<dI")
        sizes = struct.unpack_from(f"<{count}Q", data, at)
    except struct.error:
        return None
    at += struct.calcsize(f"<{count}Q")
    if at + sum(sizes) != len(data):
        return None
    pages = []
    for size in sizes:
        pages.append(data[at : at + size])
        at += size
    return CachedAnswer(tuple(pages), asked_at)


_TABLE_HEADER = "<dQQ"


def _encode_table(table: CachedTable) -> bytes:
    header = struct.pack(_TABLE_HEADER, table.asked_at, table.pages, table.rows)
    return _TABLE_MAGIC + header + table.data


def _decode_table(data: bytes) -> CachedTable | None:
    """Loaded rows read back, or None for a file this version did not write. (A file cut
    short is found out by DuckDB, whose Parquet reader checks the footer: a miss too.)"""
    if not data.startswith(_TABLE_MAGIC):
        return None
    at = len(_TABLE_MAGIC)
    try:
        asked_at, pages, rows = struct.unpack_from(_TABLE_HEADER, data, at)
    except struct.error:
        return None
    return CachedTable(data[at + struct.calcsize(_TABLE_HEADER) :], pages, rows, asked_at)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new, whole."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


_shared: dict[str | None, PageCache] = {}
_shared_lock = threading.Lock()


def shared_cache(directory: str | os.PathLike[str] | None = None) -> PageCache:
    """The process's cache for ``directory`` (None: memory only), made on first use, so
    that every session of a server shares one."""
    name = None if directory is None else str(Path(directory).expanduser().resolve())
    with _shared_lock:
        cache = _shared.get(name)
        if cache is None:
            cache = PageCache(None if name is None else Path(name))
            _shared[name] = cache
        return cache


@dataclass(frozen=True)
class CacheUse:
    """A session's use of a cache: which one, and how old an answer it takes."""

    cache: PageCache
    ttl: float
