"""The emulated DigitalOcean GenAI account: seeded knowledge bases, data sources and indexing
jobs, and the state machine jobs created through the API move through."""

from __future__ import annotations

import random
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlprovider.emulators.kit import dumps

DEFAULT_TOKEN = "sandbox-do-token"
MAX_PER_PAGE = 200
_EPOCH = datetime(2025, 6, 1, tzinfo=UTC)

ERRORS = {
    400: ("bad_request", "The request was invalid."),
    401: ("unauthorized", "Unable to authenticate you."),
    403: ("forbidden", "You do not have access for the attempted action."),
    404: ("not_found", "The resource you requested could not be found."),
    429: ("too_many_requests", "API rate limit exceeded."),
    500: ("server_error", "Unexpected server-side error"),
    502: ("server_error", "Bad gateway"),
    503: ("service_unavailable", "The service is temporarily unavailable."),
}

# Seeded outcomes: (phase, status, data source status, weight).
_OUTCOMES = (
    ("BATCH_JOB_PHASE_SUCCEEDED", "INDEX_JOB_STATUS_COMPLETED", "DATA_SOURCE_STATUS_UPDATED", 70),
    (
        "BATCH_JOB_PHASE_SUCCEEDED",
        "INDEX_JOB_STATUS_NO_CHANGES",
        "DATA_SOURCE_STATUS_NOT_UPDATED",
        8,
    ),
    (
        "BATCH_JOB_PHASE_SUCCEEDED",
        "INDEX_JOB_STATUS_PARTIAL",
        "DATA_SOURCE_STATUS_PARTIALLY_UPDATED",
        6,
    ),
    ("BATCH_JOB_PHASE_FAILED", "INDEX_JOB_STATUS_FAILED", "DATA_SOURCE_STATUS_FAILED", 6),
    ("BATCH_JOB_PHASE_ERROR", "INDEX_JOB_STATUS_FAILED", "DATA_SOURCE_STATUS_FAILED", 2),
    ("BATCH_JOB_PHASE_CANCELLED", "INDEX_JOB_STATUS_CANCELLED", "DATA_SOURCE_STATUS_CANCELLED", 4),
    (
        "BATCH_JOB_PHASE_RUNNING",
        "INDEX_JOB_STATUS_IN_PROGRESS",
        "DATA_SOURCE_STATUS_IN_PROGRESS",
        2,
    ),
    ("BATCH_JOB_PHASE_PENDING", "INDEX_JOB_STATUS_PENDING", None, 2),
)


# What a created job shows in each of its phases: (phase, status, data source status).
_Phase = tuple[str, str, str | None]
_PENDING: _Phase = ("BATCH_JOB_PHASE_PENDING", "INDEX_JOB_STATUS_PENDING", None)
_RUNNING: _Phase = (
    "BATCH_JOB_PHASE_RUNNING",
    "INDEX_JOB_STATUS_IN_PROGRESS",
    "DATA_SOURCE_STATUS_IN_PROGRESS",
)
_SUCCEEDED: _Phase = (
    "BATCH_JOB_PHASE_SUCCEEDED",
    "INDEX_JOB_STATUS_COMPLETED",
    "DATA_SOURCE_STATUS_UPDATED",
)
_FAILED: _Phase = ("BATCH_JOB_PHASE_FAILED", "INDEX_JOB_STATUS_FAILED", "DATA_SOURCE_STATUS_FAILED")
_CANCELLED: _Phase = (
    "BATCH_JOB_PHASE_CANCELLED",
    "INDEX_JOB_STATUS_CANCELLED",
    "DATA_SOURCE_STATUS_CANCELLED",
)


@dataclass
class DigitalOceanConfig:
    """What the emulator serves and how it behaves.

    Attributes:
        token: the bearer token it accepts.
        jobs: seeded indexing jobs.
        knowledge_bases: seeded knowledge bases (every tenth one's name holds "fail", and
            jobs created for it end FAILED).
        seed: the same seed gives byte-identical responses.
        burst_429: the first N requests are answered 429 with ``retry-after``.
        retry_after: seconds the 429s ask to wait.
        rate_limited: enforce the API's rate limits: ``hourly_limit`` requests in any hour
            (then 429 until the oldest counted request is an hour old; ``ratelimit-*``
            headers tell) and ``minute_limit`` in any minute (then 429 with
            ``retry-after``). Off, the headers still come but nothing is counted.
        phase_seconds: how long a created job stays PENDING, then RUNNING.
        clock: seconds, monotonic; tests inject one to move time.
    """

    token: str = DEFAULT_TOKEN
    jobs: int = 1000
    knowledge_bases: int = 25
    seed: int = 42
    burst_429: int = 0
    retry_after: float = 1
    rate_limited: bool = True
    hourly_limit: int = 5000
    minute_limit: int = 250
    phase_seconds: float = 2.0
    clock: Callable[[], float] = field(default=time.monotonic)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _seeded_source(source_uuid: str, index: int, n: int, created: datetime) -> dict[str, Any]:
    """Data source ``n`` of knowledge base ``index``: a Spaces bucket or a web crawl."""
    source: dict[str, Any] = {
        "uuid": source_uuid,
        "created_at": _stamp(created),
        "updated_at": _stamp(created),
        "chunking_algorithm": "CHUNKING_ALGORITHM_SECTION_BASED",
        "chunking_options": {"max_chunk_size": 500},
    }
    if n % 2 == 0:
        source["spaces_data_source"] = {
            "bucket_name": f"bucket-{index}",
            "item_path": f"/docs/{n}",
            "region": "tor1",
        }
    else:
        source["web_crawler_data_source"] = {
            "base_url": f"https://example.com/{index}/{n}",
            "crawling_option": "SCOPED",
            "embed_media": False,
        }
    return source


@dataclass(frozen=True)
class _SourceCounts:
    """A seeded job's counters, shared out evenly over its data sources."""

    sources: int
    indexed: int
    failed: int

    def job(
        self, source_uuid: str, status: str, started: datetime, finished: datetime | None
    ) -> dict[str, Any]:
        """The ``data_source_jobs`` entry of one data source."""
        each, failed = self.indexed // self.sources, self.failed // self.sources
        source_job: dict[str, Any] = {
            "data_source_uuid": source_uuid,
            "status": status,
            "started_at": _stamp(started),
            "total_file_count": str(each),
            "indexed_file_count": str(each - failed),
            "indexed_item_count": str(each),
            "failed_item_count": str(failed),
            "skipped_item_count": "0",
            "removed_item_count": "0",
            "total_bytes": str(self.indexed * 2048),
            "total_bytes_indexed": str(self.indexed * 2000),
        }
        if finished is not None:
            source_job["completed_at"] = _stamp(finished)
        if status == "DATA_SOURCE_STATUS_FAILED":
            source_job["error_msg"] = "CRAWL_FAILED"
            source_job["error_details"] = "the crawler could not reach the site (HTTP 503)"
        return source_job


class DigitalOceanState:
    """The emulated account: knowledge bases, their data sources and indexing jobs."""

    def __init__(self, config: DigitalOceanConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.rng = random.Random(config.seed)
        self.knowledge_bases: list[dict[str, Any]] = []
        self.data_sources: dict[str, list[dict[str, Any]]] = {}
        for index in range(config.knowledge_bases):
            self._seed_knowledge_base(index)
        self.kb_by_uuid = {kb["uuid"]: kb for kb in self.knowledge_bases}
        self.jobs: list[dict[str, Any]] = []  # newest first
        self._seed_jobs()
        self.by_uuid = {job["uuid"]: job for job in self.jobs}
        # Rendered once: list pages are joins of these, so serving a page is cheap.
        self.rendered = {job["uuid"]: dumps(job) for job in self.jobs}
        self.created: dict[str, dict[str, Any]] = {}  # jobs made through the API, live
        self.latest_seeded: dict[str, str] = {}
        for job in self.jobs:
            self.latest_seeded.setdefault(job["knowledge_base_uuid"], job["uuid"])

    def new_uuid(self) -> str:
        """A version-4 UUID from the seeded generator."""
        return str(uuidlib.UUID(int=self.rng.getrandbits(128), version=4))

    # -- the seeded account ------------------------------------------------------------------

    def _seed_knowledge_base(self, index: int) -> None:
        """Knowledge base ``index`` and its data sources (every tenth one's jobs fail)."""
        kb_uuid = self.new_uuid()
        created = _EPOCH - timedelta(days=200 - index)
        self.data_sources[kb_uuid] = [
            _seeded_source(self.new_uuid(), index, n, created) for n in range(2 + index % 3)
        ]
        self.knowledge_bases.append(
            {
                "uuid": kb_uuid,
                "name": f"kb-{index:03d}-" + ("nightly-fail" if index % 10 == 9 else "docs"),
                "region": ("tor1", "nyc3", "sfo3")[index % 3],
                "project_id": self.new_uuid(),
                "database_id": self.new_uuid(),
                "embedding_model_uuid": self.new_uuid(),
                "tags": ["env:test", f"team:{index % 4}"],
                "is_public": index % 5 == 0,
                "user_id": str(10_000_000 + index),
                "created_at": _stamp(created),
                "updated_at": _stamp(created + timedelta(days=1)),
                "added_to_agent_at": _stamp(created + timedelta(days=2)),
                "reranking_config": {"enabled": index % 2 == 0},
            }
        )

    def _seed_jobs(self) -> None:
        """Past jobs, one every 7 minutes back from the epoch, newest first."""
        rng = self.rng
        weights = [o[3] for o in _OUTCOMES]
        for index in range(self.config.jobs):
            kb = self.knowledge_bases[rng.randrange(len(self.knowledge_bases))]
            outcome = rng.choices(_OUTCOMES, weights)[0]
            if "fail" in kb["name"] and outcome[0] == "BATCH_JOB_PHASE_SUCCEEDED":
                outcome = _OUTCOMES[3]
            created = _EPOCH - timedelta(minutes=7 * index + 3)
            self.jobs.append(self._seeded_job(self.new_uuid(), kb, outcome, created))

    def _seeded_job(
        self,
        job_uuid: str,
        kb: dict[str, Any],
        outcome: tuple[str, str, str | None, int],
        created: datetime,
    ) -> dict[str, Any]:
        rng = self.rng
        phase, status, source_status, _ = outcome
        sources = self.data_sources[kb["uuid"]]
        chosen = sources[: 1 + rng.randrange(len(sources))]
        started = created + timedelta(seconds=rng.randrange(5, 60))
        running = phase in ("BATCH_JOB_PHASE_PENDING", "BATCH_JOB_PHASE_RUNNING")
        finished = None if running else started + timedelta(seconds=rng.randrange(30, 900))
        indexed = rng.randrange(10, 5000)
        failed = (
            indexed // 10
            if status in ("INDEX_JOB_STATUS_FAILED", "INDEX_JOB_STATUS_PARTIAL")
            else 0
        )
        job: dict[str, Any] = {
            "uuid": job_uuid,
            "knowledge_base_uuid": kb["uuid"],
            "data_source_uuids": [s["uuid"] for s in chosen],
            "phase": phase,
            "status": status,
            "created_at": _stamp(created),
            "updated_at": _stamp(finished or started),
            "total_datasources": len(chosen),
            "completed_datasources": 0 if running else len(chosen),
            "tokens": indexed * 12,
            "total_tokens": str(indexed * 12),
            "total_items_indexed": str(indexed),
            "total_items_failed": str(failed),
            "total_items_skipped": "0",
            "total_items_removed": "0",
            "is_report_available": not running,
            "data_source_jobs": [],
        }
        if source_status is not None:
            counts = _SourceCounts(len(chosen), indexed, failed)
            job["data_source_jobs"] = [
                counts.job(source["uuid"], source_status, started, finished) for source in chosen
            ]
        if phase != "BATCH_JOB_PHASE_PENDING":
            job["started_at"] = _stamp(started)
        if finished is not None:
            job["finished_at"] = _stamp(finished)
        return job

    # -- created jobs move through their phases as time passes -------------------------------

    def create_job(self, kb: dict[str, Any], sources: list[str]) -> dict[str, Any]:
        """Start a job; it is PENDING now."""
        now = datetime.now(UTC).replace(microsecond=0)
        with self.lock:
            job_uuid = self.new_uuid()
            live = {
                "uuid": job_uuid,
                "knowledge_base_uuid": kb["uuid"],
                "data_source_uuids": sources,
                "created_at": _stamp(now),
                "updated_at": _stamp(now),
                "total_datasources": len(sources),
                "completed_datasources": 0,
                "tokens": 0,
                "total_tokens": "0",
                "total_items_indexed": "0",
                "total_items_failed": "0",
                "total_items_skipped": "0",
                "total_items_removed": "0",
                "is_report_available": False,
                "_started": self.config.clock(),
                "_wall": now,
                "_fails": "fail" in kb["name"],
                "_cancelled_at": None,
            }
            self.created[job_uuid] = live
        return self.view(live)

    def cancel_job(self, job_uuid: str) -> dict[str, Any] | None:
        """Cancel a PENDING or RUNNING job; a finished one is returned unchanged."""
        with self.lock:
            live = self.created.get(job_uuid)
            if live is not None:
                if self.view(live)["phase"] in (
                    "BATCH_JOB_PHASE_PENDING",
                    "BATCH_JOB_PHASE_RUNNING",
                ):
                    live["_cancelled_at"] = datetime.now(UTC).replace(microsecond=0)
                return self.view(live)
            job = self.by_uuid.get(job_uuid)
            if job is None:
                return None
            if job["phase"] in ("BATCH_JOB_PHASE_PENDING", "BATCH_JOB_PHASE_RUNNING"):
                now = _stamp(datetime.now(UTC))
                job.update(
                    phase="BATCH_JOB_PHASE_CANCELLED",
                    status="INDEX_JOB_STATUS_CANCELLED",
                    finished_at=now,
                    updated_at=now,
                )
                for source_job in job["data_source_jobs"]:
                    source_job["status"] = "DATA_SOURCE_STATUS_CANCELLED"
                self.rendered[job_uuid] = dumps(job)
            return job

    def view(self, live: dict[str, Any]) -> dict[str, Any]:
        """A created job as the API shows it now."""
        job = {k: v for k, v in live.items() if not k.startswith("_")}
        elapsed = self.config.clock() - live["_started"]
        step = self.config.phase_seconds
        wall: datetime = live["_wall"]
        sources = job["data_source_uuids"]
        if live["_cancelled_at"] is not None:
            phase = _CANCELLED
            job["finished_at"] = _stamp(live["_cancelled_at"])
        elif elapsed < step:
            phase = _PENDING
        elif elapsed < 2 * step:
            phase = _RUNNING
            job["started_at"] = _stamp(wall + timedelta(seconds=step))
        else:
            phase = _FAILED if live["_fails"] else _SUCCEEDED
            job["started_at"] = _stamp(wall + timedelta(seconds=step))
            job["finished_at"] = _stamp(wall + timedelta(seconds=2 * step))
            job["completed_datasources"] = len(sources)
            job["is_report_available"] = True
            if not live["_fails"]:
                job.update(total_tokens="1200", tokens=1200, total_items_indexed="100")
        job["phase"], job["status"], source_status = phase
        job["data_source_jobs"] = []
        if source_status is not None:
            for source in sources:
                source_job = {"data_source_uuid": source, "status": source_status}
                if source_status == "DATA_SOURCE_STATUS_FAILED":
                    source_job.update(
                        error_msg="CRAWL_FAILED", error_details="the site answered 503"
                    )
                job["data_source_jobs"].append(source_job)
        return job

    def job(self, job_uuid: str) -> dict[str, Any] | None:
        """The job as the API shows it now, or None."""
        live = self.created.get(job_uuid)
        if live is not None:
            return self.view(live)
        return self.by_uuid.get(job_uuid)

    def latest_job(self, kb_uuid: str) -> dict[str, Any] | None:
        """The newest job of a knowledge base."""
        for live in reversed(list(self.created.values())):
            if live["knowledge_base_uuid"] == kb_uuid:
                return self.view(live)
        seeded = self.latest_seeded.get(kb_uuid)
        return None if seeded is None else self.by_uuid[seeded]

    def job_order(self) -> list[str]:
        """Every job id, newest first."""
        return [*reversed(list(self.created)), *(j["uuid"] for j in self.jobs)]

    def job_count(self) -> int:
        """How many jobs there are."""
        return len(self.created) + len(self.jobs)

    def rendered_jobs(self, start: int, stop: int) -> list[bytes]:
        """The JSON of the jobs from ``start`` to ``stop`` in list order (newest first)."""
        live = [dumps(self.view(j)) for j in reversed(list(self.created.values()))]
        chosen = live[start:stop]
        first = max(start - len(live), 0)
        last = max(stop - len(live), 0)
        seeded = self.jobs[first:last]
        return chosen + [self.rendered[j["uuid"]] for j in seeded]

    def update_knowledge_base(self, kb_uuid: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Change the given fields of a knowledge base; None when there is no such one."""
        with self.lock:
            kb = self.kb_by_uuid.get(kb_uuid)
            if kb is None:
                return None
            kb.update(fields)
            kb["updated_at"] = _stamp(datetime.now(UTC))
            return kb

    def delete_knowledge_base(self, kb_uuid: str) -> bool:
        """Remove a knowledge base and its data sources (its jobs stay listed)."""
        with self.lock:
            kb = self.kb_by_uuid.pop(kb_uuid, None)
            if kb is None:
                return False
            self.knowledge_bases.remove(kb)
            self.data_sources.pop(kb_uuid, None)
            return True

    def delete_data_source(self, kb_uuid: str, source_uuid: str) -> bool:
        """Remove a data source from a knowledge base."""
        with self.lock:
            sources = self.data_sources.get(kb_uuid, [])
            kept = [s for s in sources if s["uuid"] != source_uuid]
            if len(kept) == len(sources):
                return False
            self.data_sources[kb_uuid] = kept
            return True
