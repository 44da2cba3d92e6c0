"""The emulated Amperity tenant: seeded ingest jobs, each with its tables (feeds) and files.

Every table has a planned timeline (queued, running from ``run_at`` to ``end_at``, maybe
stopped at ``stop_at``, or stuck forever). Its state and counters are read off that plan at the
emulator's "now": ``EPOCH`` plus the time the injected clock has moved since the state was
built. A job's tables are drawn the first time it is asked for, and a job that ended before
``EPOCH`` never changes, so it is rendered to JSON once; only the few in flight at ``EPOCH``
are rendered per request.
"""

from __future__ import annotations

import bisect
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlprovider.emulators.kit import dumps

DEFAULT_TOKEN = "sandbox-amperity-token"
DEFAULT_TENANT = "acme"
DEFAULT_FORBIDDEN_TOKEN = "sandbox-amperity-no-ingest"
API_VERSIONS = ("2024-04-01", "unstable")  # the ingest paths are the same in both specs
MAX_WINDOW = timedelta(days=7)
EPOCH = datetime(2025, 6, 1, tzinfo=UTC)  # the seeded data's "now": fixed, so data is stable

MESSAGES = {
    400: "Bad Request",
    401: "Authentication Required",
    403: "Not Authorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "An unexpected error occurred.",
    503: "Service Unavailable",
}

_B62 = string.digits + string.ascii_letters
_HOUR_MS = 3_600_000
_DAY_MS = 24 * _HOUR_MS

# Courier groups of the tenant: each ingest job loads one group's feeds (file extension, tables).
_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("avro", ("Shopify_Customers", "Shopify_Orders", "Shopify_OrderItems")),
    ("csv", ("POS_Transactions", "POS_TransactionItems")),
    ("parquet", ("Loyalty_Members",)),
    ("csv", ("Salesforce_Contacts", "Salesforce_Accounts")),
    ("json", ("Email_Sends", "Email_Opens", "Email_Clicks", "Email_Unsubscribes")),
    ("parquet", ("Web_Sessions",)),
    ("csv", ("Product_Catalog", "Store_Locations")),
    ("json", ("Zendesk_Tickets",)),
)

# Seeded outcomes of jobs that ended before EPOCH, with weights.
_OUTCOMES = (
    ("succeeded", 78),
    ("long", 3),  # succeeded after hours
    ("partial_failure", 6),  # one table failed, the others succeeded
    ("failed", 3),  # every table failed
    ("skipped", 5),  # some tables had no new files
    ("stopped", 3),  # the workflow was stopped: running tables stopped, queued ones canceled
    ("stuck", 2),  # one table has been running (or finalizing) ever since
)


@dataclass
class AmperityConfig:
    """What the emulator serves and how it behaves.

    Attributes:
        token: the bearer token it accepts.
        tenant: the tenant id the ``amperity-tenant`` header must name.
        jobs: seeded ingest jobs, spread over ``days`` days before ``EPOCH``.
        days: how far back the seeded jobs go.
        seed: the same seed gives byte-identical responses.
        rate_limited: enforce the documented 10 requests a second (429 beyond).
        rate: requests a second refilled into the token bucket.
        burst: requests that may come at once (the bucket's size).
        forbidden_token: a token that authenticates but whose API key may not read ingest
            jobs (403); None for none.
        api_versions: the ``api-version`` values accepted.
        clock: seconds, monotonic; drives the rate limit and the in-flight jobs. Tests
            inject one to move time.
    """

    token: str = DEFAULT_TOKEN
    tenant: str = DEFAULT_TENANT
    jobs: int = 2000
    days: int = 90
    seed: int = 42
    rate_limited: bool = True
    rate: float = 10.0
    burst: float = 10.0
    forbidden_token: str | None = DEFAULT_FORBIDDEN_TOKEN
    api_versions: tuple[str, ...] = API_VERSIONS
    clock: Callable[[], float] = field(default=time.monotonic)


def stamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as the API writes times (``2024-06-01T04:02:54.433Z``)."""
    return moment.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


# A file: (file_id, name, rows read, rows with errors).
File = tuple[str, str, int, int]


@dataclass
class Table:
    """One feed loaded by a job, planned from queueing to its end."""

    feed_id: str
    table_name: str
    job_id: str
    started_at: datetime  # when the job queued it; the API's started_at
    run_at: datetime  # when it begins reading files
    end_at: datetime | None  # None: stuck, it never ends
    final: str  # its state once ended
    files: list[File]  # every file it reads, in order
    done: int  # files read when it ends (fewer than all when it fails or stops)
    rejected: int = 0
    inserted: int = 0
    updated: int = 0
    stop_at: datetime | None = None  # when its workflow was asked to stop
    stuck_state: str = "running"

    def view(self, now: datetime) -> dict[str, Any]:
        """The table as the API shows it at ``now``."""
        ended: datetime | None = None
        rejected = inserted = updated = 0
        if self.end_at is None:
            state = self.stuck_state
            done = len(self.files) if state == "finalizing" else len(self.files) // 2
        elif now >= self.end_at:
            state, done, ended = self.final, self.done, self.end_at
            if state == "succeeded":
                rejected, inserted, updated = self.rejected, self.inserted, self.updated
        elif self.stop_at is not None and now >= self.stop_at:
            state, done = "stopping", self.done_at(self.stop_at)
        elif now < self.run_at:
            state, done = "scheduled", 0
        else:
            progress = (now - self.run_at) / (self.end_at - self.run_at)
            done = self.done_at(now)
            state = "started" if progress < 0.05 else "running" if progress < 0.85 else "finalizing"
        files = self.files[:done]
        return {
            "feed_id": self.feed_id,
            "job_id": self.job_id,
            "table_name": self.table_name,
            "state": state,
            "read": sum(f[2] for f in files),
            "errors": sum(f[3] for f in files),
            "rejected": rejected,
            "inserted": inserted,
            "updated": updated,
            "started_at": stamp(self.started_at),
            "ended_at": None if ended is None else stamp(ended),
            "files": [
                {"file_id": file_id, "name": name, "read": read, "errors": errors}
                for file_id, name, read, errors in files
            ],
        }

    def done_at(self, moment: datetime) -> int:
        """Files read by ``moment`` while running: all of them by 85% of the run."""
        assert self.end_at is not None
        if moment <= self.run_at:
            return 0
        progress = (moment - self.run_at) / (self.end_at - self.run_at)
        return min(self.done, int(len(self.files) * min(progress / 0.85, 1.0)))


Group = tuple[str, list[tuple[str, str]]]  # file extension, feeds (feed_id, table_name)


@dataclass
class Job:
    """A seeded ingest job: its id, workflow and tables; ``start`` is what windows match.

    Its tables are drawn from their own random stream the first time they are needed, so a
    big tenant starts fast and the data does not depend on the order of requests."""

    id: str
    workflow_id: str
    start: datetime  # the earliest started_at of its tables
    outcome: str
    group: Group
    stream: int  # seeds the generator its tables are drawn from
    _tables: list[Table] | None = None
    rendered: bytes | None = None  # the JSON, once rendered, for jobs that no longer change

    @property
    def tables(self) -> list[Table]:
        """Its tables (drawn on first use)."""
        if self._tables is None:
            self._tables = _Seeder(random.Random(self.stream)).tables(self)
        return self._tables

    @property
    def settled(self) -> bool:
        """Whether it no longer changes: every table ended before EPOCH, or is stuck."""
        return all(t.end_at is None or t.end_at <= EPOCH for t in self.tables)

    def view(self, now: datetime) -> dict[str, Any]:
        """The job as ``GET /ingest/jobs/{job-id}`` shows it at ``now``."""
        return {
            "id": self.id,
            "workflow_id": self.workflow_id,
            "tables": [table.view(now) for table in self.tables],
        }


class _Seeder:
    """Draws seeded data from one random generator, so a seed fixes every byte."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def code(self, length: int) -> str:
        return "".join(self.rng.choices(_B62, k=length))

    def between(self, low: int, high: int) -> int:
        """An int in ``[low, high)``; cheaper than ``randrange``, and seeding needs many."""
        return low + int(self.rng.random() * (high - low))

    def catalog(self) -> list[Group]:
        """The tenant's courier groups and their feeds."""
        return [(ext, [(f"df-{self.code(8)}", name) for name in names]) for ext, names in _GROUPS]

    def ids(self, start: datetime) -> tuple[str, str]:
        """A job id (``isj-20240827-54061-2l6XhD``) and a workflow id (``wf-20240618-3423-b45``)."""
        day = f"{start.year:04d}{start.month:02d}{start.day:02d}"
        job_id = f"isj-{day}-{self.between(10_000, 100_000)}-{self.code(6)}"
        return job_id, f"wf-{day}-{self.between(1000, 10000)}-{self.code(3).lower()}"

    def files(self, start: datetime, ext: str, count: int) -> list[File]:
        rng = self.rng
        day = f"{start.year:04d}{start.month:02d}{start.day:02d}"
        batch = f"cb-{day}-{self.between(10_000, 100_000)}-{self.code(5)}"
        rows = rng.choice((800, 5_000, 40_000, 250_000))
        files = []
        for part in range(count):
            read = self.between(rows // 4, rows)
            errors = self.between(1, max(2, read // 50)) if rng.random() < 0.3 else 0
            name = f"part{part}.{ext}"
            files.append((f"{batch}/{name}", name, read, errors))
        return files

    def table(
        self,
        job_id: str,
        feed: tuple[str, str],
        ext: str,
        started: datetime,
        run_ms: int,
        length_ms: int,
        final: str,
    ) -> Table:
        """A table queued at ``started``, reading from ``run_ms`` later for ``length_ms``."""
        rng = self.rng
        skipped = final in ("skipped", "canceled")
        files = [] if skipped else self.files(started, ext, self.between(1, 6))
        run_at = started + timedelta(milliseconds=run_ms)
        end_at = run_at + timedelta(milliseconds=length_ms)
        table = Table(feed[0], feed[1], job_id, started, run_at, end_at, final, files, len(files))
        if final == "failed":  # fails on the last file it reads: a type mismatch
            table.done = self.between(1, len(files) + 1)
            file_id, name, read, _ = files[table.done - 1]
            files[table.done - 1] = (file_id, name, read, read // 2 + 1)
        elif final == "succeeded":
            read = sum(f[2] for f in files)
            kept = read - sum(f[3] for f in files)
            table.rejected = int(kept * rng.uniform(0, 0.05))
            table.updated = int((kept - table.rejected) * rng.uniform(0, 0.6))
            table.inserted = kept - table.rejected - table.updated
        elif final == "stuck":
            table.final, table.end_at = "running", None
            table.stuck_state = rng.choice(("running", "running", "finalizing"))
        return table

    def tables(self, job: Job) -> list[Table]:
        """The tables of a job that ended (or got stuck) before EPOCH."""
        rng = self.rng
        outcome, start = job.outcome, job.start
        ext, feeds = job.group
        tables = []
        failing = self.between(0, len(feeds))
        for index, feed in enumerate(feeds):
            final = "succeeded"
            if outcome == "failed" or (outcome == "partial_failure" and index == failing):
                final = "failed"
            elif outcome == "skipped" and (index == failing or rng.random() < 0.3):
                final = "skipped"
            elif outcome == "stuck" and index == failing:
                final = "stuck"
            queued = start + timedelta(milliseconds=0 if index == 0 else self.between(1, 5_000))
            if final == "skipped":
                length = self.between(200, 3_000)
            elif outcome == "long":
                length = self.between(3 * _HOUR_MS, 9 * _HOUR_MS)
            else:
                length = self.between(5_000, 1_200_000)
            run_ms = self.between(0, 60_000)
            if outcome == "stopped" and 0 < index == len(feeds) - 1:
                run_ms += 20 * 60_000  # queued behind the others: canceled if stopped early
            tables.append(self.table(job.id, feed, ext, queued, run_ms, length, final))
        if outcome == "stopped":
            last = max(t.end_at for t in tables if t.end_at is not None)
            stop_at = start + timedelta(
                milliseconds=int((last - start) / timedelta(milliseconds=1) * rng.uniform(0.2, 0.8))
            )
            for table in tables:
                _stop(table, stop_at, self.between(2_000, 30_000))
        return tables

    def in_flight(self, which: int, catalog: list[Group]) -> Job:
        """One of three jobs still going at EPOCH; they end as the clock moves on."""
        minute = 60_000
        start = EPOCH - timedelta(minutes=(2, 15, 40)[which])
        job_id, workflow_id = self.ids(start)
        group = catalog[(0, 1, 3)[which]]  # groups of at least two feeds
        ext, feeds = group
        plans: list[tuple[int, int, int, str]]  # queued after, run after, length, final
        if which == 0:  # running; one table still queued
            plans = [(0, 2_000, 22 * minute, "succeeded"), (800, 3_000, 27 * minute, "succeeded")]
            plans.append((1_500, 27 * minute, 10 * minute, "succeeded"))
        elif which == 1:  # one table done, one stopping; see _stop
            plans = [(0, 1_000, 4 * minute, "succeeded"), (600, 1_500, 30 * minute, "succeeded")]
        else:  # a long run that fails, and one table finalizing
            plans = [(0, 1_000, 100 * minute, "failed"), (900, 1_000, 42 * minute, "succeeded")]
        tables = [
            self.table(job_id, feeds[i], ext, start + timedelta(milliseconds=q), r, n, f)
            for i, (q, r, n, f) in enumerate(plans)
        ]
        if which == 1:
            _stop(tables[1], EPOCH - timedelta(seconds=5), 35_000)
        return Job(job_id, workflow_id, start, "in_flight", group, 0, tables)


def _stop(table: Table, stop_at: datetime, wind_down_ms: int) -> None:
    """The workflow was stopped at ``stop_at``: a running table winds down and stops, a
    queued one is canceled, one already ended keeps its state."""
    if table.end_at is None or table.end_at <= stop_at:
        return
    if table.run_at >= stop_at:
        table.final, table.files, table.done = "canceled", [], 0
        table.run_at = table.end_at = max(stop_at, table.started_at)
        return
    table.done = table.done_at(stop_at)
    table.final, table.stop_at = "stopped", stop_at
    table.end_at = stop_at + timedelta(milliseconds=wind_down_ms)
    table.rejected = table.inserted = table.updated = 0


class AmperityState:
    """The emulated tenant's ingest jobs, ordered by start, and the emulator's clock."""

    def __init__(self, config: AmperityConfig) -> None:
        self.config = config
        self._clock_start = config.clock()
        master = _Seeder(random.Random(config.seed))
        catalog = master.catalog()
        weights = [weight for _, weight in _OUTCOMES]
        live = min(3, max(config.jobs, 0))
        jobs = [master.in_flight(which, catalog) for which in range(live)]
        self.by_id = {job.id: job for job in jobs}
        historic = max(config.jobs - live, 0)
        span = config.days * _DAY_MS - _HOUR_MS  # historic jobs start over an hour before EPOCH
        slot = span / max(historic, 1)
        for index in range(historic):
            before = _HOUR_MS + int(slot * (index + master.rng.uniform(0.05, 0.95)))
            start = EPOCH - timedelta(milliseconds=before)
            outcome = master.rng.choices(_OUTCOMES, weights)[0][0]
            if outcome == "long" and start > EPOCH - timedelta(hours=10):
                outcome = "succeeded"  # a long run this recent would still be going
            stream = (abs(config.seed) << 40) | (index << 1)
            own = _Seeder(random.Random(stream))
            group = catalog[own.between(0, len(catalog))]
            job_id, workflow_id = own.ids(start)
            while job_id in self.by_id:  # one in 62**6 * 90,000 a day: never, but be sure
                job_id, workflow_id = own.ids(start)
            job = Job(job_id, workflow_id, start, outcome, group, stream | 1)
            self.by_id[job_id] = job
            jobs.append(job)
        jobs.sort(key=lambda job: job.start)
        self.jobs = jobs  # oldest first
        self._starts = [_micros(job.start) for job in jobs]

    def now(self) -> datetime:
        """The emulator's present: EPOCH plus how far the clock moved since it started."""
        elapsed = max(self.config.clock() - self._clock_start, 0.0)
        return EPOCH + timedelta(seconds=elapsed)

    def window(self, created_from: datetime, created_to: datetime) -> list[Job]:
        """Jobs whose start is in ``[created_from, created_to)``, oldest first."""
        low = bisect.bisect_left(self._starts, _micros(created_from))
        high = bisect.bisect_left(self._starts, _micros(created_to))
        return self.jobs[low:high]

    def render(self, job: Job, now: datetime | None = None) -> bytes:
        """The job's JSON now; rendered once for jobs that no longer change."""
        if job.rendered is not None:
            return job.rendered
        body = dumps(job.view(now or self.now()))
        if job.settled:
            job.rendered = body
        return body
