"""The emulated Onyx tenant: seeded connector-credential pairs with their index-attempt history,
and the state machines the API drives (attempts NOT_STARTED → IN_PROGRESS → SUCCESS or FAILED
as the clock moves; cc pairs ACTIVE ⇄ PAUSED; SCHEDULED → INITIAL_INDEXING → ACTIVE)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_API_KEY = "on_sandbox-onyx-key"
START_TIME = datetime(2026, 8, 22, 9, 0, 0, 250113, tzinfo=UTC)

# Enums as the server (onyx main) defines them; requests are validated against these.
DOCUMENT_SOURCES = (
    "ingestion_api", "slack", "web", "google_drive", "gmail", "github", "gitbook", "gitlab",
    "guru", "bookstack", "outline", "confluence", "jira", "slab", "productboard", "file", "coda",
    "canvas", "notion", "zulip", "linear", "hubspot", "document360", "gong", "google_sites",
    "zendesk", "loopio", "box", "dropbox", "sharepoint", "teams", "salesforce", "discourse",
    "axero", "clickup", "mediawiki", "wikipedia", "asana", "s3", "r2", "google_cloud_storage",
    "oci_storage", "xenforo", "not_applicable", "discord", "freshdesk", "fireflies", "egnyte",
    "airtable", "highspot", "drupal_wiki", "imap", "bitbucket", "testrail", "braintrust",
    "lumapps", "mock_connector", "user_file", "craft_file",
)  # fmt: skip
ACCESS_TYPES = ("public", "private", "sync")
INDEXING_STATUSES = (
    "not_started", "in_progress", "success", "canceled", "failed", "completed_with_errors",
    "interrupted",
)  # fmt: skip
CC_PAIR_STATUSES = ("SCHEDULED", "INITIAL_INDEXING", "ACTIVE", "PAUSED", "DELETING", "INVALID")
DOCS_COUNT_OPERATORS = (">", "<", "=")

ACTIVE_STATUSES = frozenset({"ACTIVE", "SCHEDULED", "INITIAL_INDEXING"})  # these get indexed
UNFINISHED = frozenset({"not_started", "in_progress"})
SUCCESSFUL = frozenset({"success", "completed_with_errors"})
_REPEATED_ERRORS = 5  # consecutive failures that set in_repeated_error_state (1 without refresh)


@dataclass(frozen=True)
class _Source:
    name: str
    weight: int
    things: tuple[str, ...]
    refresh_freq: int | None  # seconds; None: indexed once (file connectors)
    docs: int  # typical document count


_SOURCES = (
    _Source("web", 20, ("docs site", "help center", "blog"), 86400, 3000),
    _Source("confluence", 14, ("wiki", "runbooks", "design space"), 3600, 5000),
    _Source("google_drive", 14, ("shared drive", "team folder", "meeting notes"), 1800, 8000),
    _Source("slack", 10, ("channels", "announcements", "support channels"), 600, 40000),
    _Source("github", 10, ("repos", "issues", "pull requests"), 3600, 4000),
    _Source("file", 10, ("uploads", "PDF manuals", "policies"), None, 300),
    _Source("jira", 7, ("project", "service desk"), 1800, 6000),
    _Source("notion", 6, ("workspace", "handbook"), 3600, 2000),
    _Source("zendesk", 4, ("tickets", "help articles"), 1800, 9000),
    _Source("sharepoint", 3, ("site", "document library"), 3600, 7000),
    _Source("gmail", 2, ("inbox",), 600, 12000),
)
_SYNCABLE = {"confluence", "google_drive", "slack", "github", "jira", "sharepoint", "gmail"}
_TEAMS = (
    "Engineering", "Sales", "Support", "Marketing", "Finance", "People", "Legal", "Product",
    "Design", "Security", "Data", "Operations",
)  # fmt: skip
_PROFILES = (
    ("healthy", 63), ("indexing", 5), ("queued", 2), ("failing", 9), ("paused", 8),
    ("scheduled", 3), ("initial", 3), ("invalid", 4), ("deleting", 3),
)  # fmt: skip
_PAST = (
    ("success", 78), ("completed_with_errors", 7), ("failed", 7), ("canceled", 4),
    ("interrupted", 4),
)  # fmt: skip
_FAILURES = (
    ("ConnectorValidationError", "Connector validation error: the credential cannot read it"),
    ("HTTPError", "429 Client Error: Too Many Requests"),
    ("TimeoutError", "Timed out after 3600 seconds waiting for a document batch"),
    ("ConnectionError", "Connection reset by peer while fetching documents"),
    ("RuntimeError", "Unexpected error while converting documents: unsupported encoding"),
)
_EXPIRED = ("CredentialExpiredError", "401 Unauthorized: the credential has expired or was revoked")


class ApiError(Exception):
    """An error the API answers with ``{"detail": ...}`` (FastAPI's HTTPException body)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class OnyxConfig:
    """What the emulator serves and how it behaves.

    Attributes:
        api_key: the admin API key it accepts, with or without ``Bearer ``.
        connectors: seeded connector-credential pairs (every 25th connector has two).
        federated_connectors: seeded federated Slack connectors (listed under ``slack``).
        seed: the same seed gives byte-identical responses.
        start_time: the emulated wall-clock time at start; the seeded history ends just before
            it, and later timestamps follow ``clock`` from there.
        queue_seconds: how long an attempt started by run-once stays ``not_started``.
        attempt_seconds: how long it then stays ``in_progress`` before it finishes.
        clock: seconds, monotonic; tests inject one to move time.
    """

    api_key: str = DEFAULT_API_KEY
    connectors: int = 1000
    federated_connectors: int = 1
    seed: int = 42
    start_time: datetime = START_TIME
    queue_seconds: float = 1.0
    attempt_seconds: float = 5.0
    clock: Callable[[], float] = field(default=time.monotonic)


@dataclass
class CCPair:
    """A connector-credential pair: what the indexing-status rows describe."""

    id: int
    connector_id: int
    credential_id: int
    name: str
    source: str
    access_type: str
    status: str
    refresh_freq: int | None
    docs_indexed: int
    attempts: list[int] = field(default_factory=list)  # attempt ids, oldest first
    failures: int = 0  # consecutive failed attempts at the end
    in_repeated_error_state: bool = False
    error: tuple[str, str] | None = None  # set: attempts for it fail with this exception
    pending: bool | None = None  # a run-once trigger (from_beginning) awaiting reactivation


@dataclass
class Attempt:
    """An index attempt; a live one (``t0`` set) moves on with the clock."""

    id: int
    cc_pair_id: int
    status: str
    from_beginning: bool
    new_docs: int
    total_docs: int
    error_msg: str | None
    error_count: int
    trace: str | None
    time_created: datetime
    time_started: datetime | None
    time_updated: datetime
    poll_start: datetime | None
    poll_end: datetime | None
    t0: float | None = None  # clock when created
    queue: float = 0.0
    duration: float = 0.0
    target_new: int = 0
    target_total: int = 0


def iso(moment: datetime) -> str:
    """``datetime.isoformat()``, as the API renders IndexAttemptSnapshot's string times."""
    return moment.isoformat()


def zulu(moment: datetime | None) -> str | None:
    """A datetime field as pydantic renders it (UTC as ``Z``)."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _trace(source: str, error: tuple[str, str]) -> str:
    return (
        "Traceback (most recent call last):\n"
        '  File "/app/onyx/background/indexing/run_docfetching.py", in run_docfetching\n'
        "    for document_batch in connector_runner.run(checkpoint):\n"
        f'  File "/app/onyx/connectors/{source}/connector.py", in load_from_checkpoint\n'
        f"    raise {error[0]}(...)\n"
        f"{error[0]}: {error[1]}\n"
    )


class OnyxState:
    """The emulated tenant. Every method takes the lock and settles live attempts first."""

    def __init__(self, config: OnyxConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.clock0 = config.clock()
        self.cc_pairs: dict[int, CCPair] = {}
        self.by_connector: dict[int, list[CCPair]] = {}
        self.attempts: dict[int, Attempt] = {}
        self.live: set[int] = set()  # ids of unfinished attempts
        self.next_attempt_id = 0
        self.federated: list[dict[str, Any]] = [
            {"id": n, "source": "federated_slack", "name": "Federated Slack"}
            for n in range(1, config.federated_connectors + 1)
        ]
        self._seed(random.Random(config.seed))

    # -- seeding -----------------------------------------------------------------------------

    def _seed(self, rng: random.Random) -> None:
        names: dict[str, int] = {}
        unnumbered: list[Attempt] = []
        connector_id = 0
        while len(self.cc_pairs) < self.config.connectors:
            connector_id += 1
            source = rng.choices(_SOURCES, [s.weight for s in _SOURCES])[0]
            left = self.config.connectors - len(self.cc_pairs)
            for _ in range(2 if connector_id % 25 == 0 and left > 1 else 1):
                number = len(self.cc_pairs) + 1
                team = rng.choice(_TEAMS)
                base = f"{team} {rng.choice(source.things)}"
                names[base] = names.get(base, 0) + 1
                name = base if names[base] == 1 else f"{base} {names[base]}"
                access = rng.choices(ACCESS_TYPES, (55, 30, 15 if source.name in _SYNCABLE else 0))
                # Credentials are their own sequence: 1 is the tenant's first, pair-less one.
                cc = CCPair(
                    number, connector_id, number + 1, name, source.name, access[0], "ACTIVE",
                    refresh_freq=source.refresh_freq, docs_indexed=0,
                )  # fmt: skip
                self.cc_pairs[number] = cc
                self.by_connector.setdefault(connector_id, []).append(cc)
                unnumbered.extend(self._seed_history(rng, cc, source))
        # Ids follow creation time across the tenant, as a database sequence does.
        unnumbered.sort(key=lambda a: (a.time_created, a.cc_pair_id))
        for number, attempt in enumerate(unnumbered, 1):
            attempt.id = number
            self.attempts[number] = attempt
            self.cc_pairs[attempt.cc_pair_id].attempts.append(number)
            if attempt.t0 is not None:
                self.live.add(number)
        self.next_attempt_id = len(unnumbered)

    def _seed_history(self, rng: random.Random, cc: CCPair, source: _Source) -> list[Attempt]:
        """The pair's status, docs and attempts for a profile (healthy, failing, paused...)."""
        profile = rng.choices([p[0] for p in _PROFILES], [p[1] for p in _PROFILES])[0]

        def history(count: int) -> list[str]:
            past = rng.choices([p[0] for p in _PAST], [p[1] for p in _PAST], k=count - 1)
            return [*past, "completed_with_errors" if rng.random() < 0.1 else "success"]

        statuses: list[str] = []
        live: str | None = None
        if profile == "scheduled":
            cc.status = "SCHEDULED"
        elif profile == "initial":
            cc.status, live = "INITIAL_INDEXING", "in_progress"
        elif profile == "failing":
            ok = rng.randrange(0, 6)
            statuses = (history(ok) if ok else []) + ["failed"] * rng.randint(1, 7)
            cc.status = "ACTIVE" if ok else "INITIAL_INDEXING"
            cc.error = rng.choice(_FAILURES)
        else:
            statuses = history(rng.randint(2, 10))
            if profile == "indexing":
                live = "in_progress"
            elif profile == "queued":
                live = "not_started"
            elif profile == "paused":
                cc.status = "PAUSED"
                statuses[-1] = rng.choices(("success", "failed", "canceled"), (6, 2, 2))[0]
            elif profile == "invalid":
                cc.status, cc.error = "INVALID", _EXPIRED
                statuses += ["failed"] * rng.randint(1, 2)
            elif profile == "deleting":
                cc.status = "DELETING"
        if any(s in SUCCESSFUL for s in statuses):
            cc.docs_indexed = rng.randrange(source.docs // 10, source.docs * 2)
        elif live is not None:
            cc.docs_indexed = rng.randrange(0, source.docs // 5 + 1)
        for status in reversed(statuses):
            if status != "failed":
                break
            cc.failures += 1
        threshold = _REPEATED_ERRORS if cc.refresh_freq else 1
        cc.in_repeated_error_state = cc.failures >= threshold

        spacing = float(cc.refresh_freq or 3 * 86400)
        newest = self.config.start_time - timedelta(seconds=rng.uniform(300, 6 * 3600))
        attempts: list[Attempt] = []
        if live is not None:
            attempts.append(self._seeded_live(rng, cc, live, source))
            newest = attempts[0].time_created - timedelta(seconds=spacing * rng.uniform(0.5, 1))
        created_times = [
            newest - timedelta(seconds=spacing * step * rng.uniform(0.9, 1.1))
            for step in range(len(statuses))
        ]
        poll_end: datetime | None = None
        for index, (status, created) in enumerate(
            zip(statuses, reversed(created_times), strict=True)
        ):
            attempt = self._seeded_finished(rng, cc, status, created, index == 0, poll_end)
            poll_end = attempt.poll_end
            attempts.append(attempt)
        return attempts

    def _seeded_finished(
        self,
        rng: random.Random,
        cc: CCPair,
        status: str,
        created: datetime,
        first: bool,
        poll_start: datetime | None,
    ) -> Attempt:
        created = created.replace(microsecond=rng.randrange(100001, 999999, 2))
        from_beginning = first or rng.random() < 0.05
        started = created + timedelta(seconds=rng.uniform(1, 30))
        ran = rng.uniform(20, 1800) if status in SUCCESSFUL else rng.uniform(5, 600)
        new = rng.randrange(0, 120) if status in SUCCESSFUL else 0
        attempt = Attempt(
            id=0,
            cc_pair_id=cc.id,
            status=status,
            from_beginning=from_beginning,
            new_docs=new,
            total_docs=new + rng.randrange(0, 400) if status in SUCCESSFUL else 0,
            error_msg=None,
            error_count=rng.randint(1, 25) if status == "completed_with_errors" else 0,
            trace=None,
            time_created=created,
            time_started=started,
            time_updated=started + timedelta(seconds=ran),
            poll_start=None if from_beginning else poll_start,
            poll_end=created,
        )
        if status == "failed":
            error = cc.error or rng.choice(_FAILURES)
            attempt.error_msg = error[1]
            attempt.trace = _trace(cc.source, error)
            attempt.error_count = rng.randint(0, 3)
        elif status == "canceled" and rng.random() < 0.5:
            attempt.time_started = None  # cancelled before a worker picked it up
            attempt.time_updated = created + timedelta(seconds=ran)
        return attempt

    def _seeded_live(self, rng: random.Random, cc: CCPair, status: str, source: _Source) -> Attempt:
        """A seeded attempt under way at start; it finishes (much) later on the clock."""
        if status == "in_progress":
            queue = rng.uniform(2, 30)
            elapsed = queue + rng.uniform(60, 1800)
            duration = elapsed - queue + rng.uniform(600, 7200)
        else:
            elapsed = rng.uniform(5, 60)
            queue = elapsed + rng.uniform(60, 900)
            duration = rng.uniform(300, 3600)
        attempt = self._new_attempt(cc, self.clock0 - elapsed, cc.status == "INITIAL_INDEXING")
        attempt.queue, attempt.duration = queue, duration
        attempt.target_new = rng.randrange(10, source.docs // 2 + 20)
        attempt.target_total = attempt.target_new + rng.randrange(0, 500)
        return attempt

    # -- live attempts -----------------------------------------------------------------------

    def wall(self, moment: float) -> datetime:
        """The emulated wall-clock time at a clock reading."""
        return self.config.start_time + timedelta(seconds=moment - self.clock0)

    def _new_attempt(self, cc: CCPair, t0: float, from_beginning: bool) -> Attempt:
        created = self.wall(t0)
        previous = self.attempts.get(cc.attempts[-1]) if cc.attempts else None
        return Attempt(
            id=0,
            cc_pair_id=cc.id,
            status="not_started",
            from_beginning=from_beginning,
            new_docs=0,
            total_docs=0,
            error_msg=None,
            error_count=0,
            trace=None,
            time_created=created,
            time_started=None,
            time_updated=created,
            poll_start=None if from_beginning or previous is None else previous.poll_end,
            poll_end=created,
            t0=t0,
            queue=self.config.queue_seconds,
            duration=self.config.attempt_seconds,
        )

    def _start(self, cc: CCPair, from_beginning: bool, now: float) -> None:
        attempt = self._new_attempt(cc, now, from_beginning)
        self.next_attempt_id += 1
        attempt.id = self.next_attempt_id
        if cc.error is None:
            attempt.target_new = 5 + attempt.id * 7 % 40
            attempt.target_total = attempt.target_new + attempt.id * 13 % 60
            if from_beginning:
                attempt.target_total = cc.docs_indexed + attempt.target_new
        self.attempts[attempt.id] = attempt
        cc.attempts.append(attempt.id)
        self.live.add(attempt.id)

    def settle(self) -> float:
        """Move live attempts to where the clock says they are; returns the clock reading."""
        now = self.config.clock()
        for attempt_id in sorted(self.live):
            attempt = self.attempts[attempt_id]
            cc = self.cc_pairs[attempt.cc_pair_id]
            assert attempt.t0 is not None
            elapsed = now - attempt.t0
            if elapsed < attempt.queue:
                continue
            if attempt.status == "not_started":
                attempt.status = "in_progress"
                attempt.time_started = self.wall(attempt.t0 + attempt.queue)
                if cc.status == "SCHEDULED":
                    cc.status = "INITIAL_INDEXING"
            if elapsed < attempt.queue + attempt.duration:
                done = (elapsed - attempt.queue) / attempt.duration
                attempt.new_docs = int(attempt.target_new * done)
                attempt.total_docs = int(attempt.target_total * done)
                attempt.time_updated = self.wall(now)
                continue
            self._finish(attempt, cc, self.wall(attempt.t0 + attempt.queue + attempt.duration))
        return now

    def _finish(self, attempt: Attempt, cc: CCPair, at: datetime) -> None:
        self.live.discard(attempt.id)
        attempt.t0 = None
        attempt.time_updated = at
        if cc.error is not None:
            attempt.status = "failed"
            attempt.error_msg = cc.error[1]
            attempt.trace = _trace(cc.source, cc.error)
            attempt.error_count = 1
            cc.failures += 1
            if cc.failures >= (_REPEATED_ERRORS if cc.refresh_freq else 1):
                cc.in_repeated_error_state = True
            return
        attempt.status = "success"
        attempt.new_docs, attempt.total_docs = attempt.target_new, attempt.target_total
        cc.docs_indexed += attempt.target_new
        cc.failures = 0
        cc.in_repeated_error_state = False
        if cc.status in ("SCHEDULED", "INITIAL_INDEXING"):
            cc.status = "ACTIVE"

    # -- reads -------------------------------------------------------------------------------

    def _row(self, cc: CCPair, secondary: bool) -> dict[str, Any]:
        latest: Attempt | None = None
        finished: Attempt | None = None
        success: datetime | None = None
        # No secondary (migrating) search settings exist here, so those have no attempts.
        for attempt_id in [] if secondary else reversed(cc.attempts):
            attempt = self.attempts[attempt_id]
            latest = latest or attempt
            if finished is None and attempt.status not in UNFINISHED:
                finished = attempt
            if attempt.status in SUCCESSFUL:
                success = attempt.time_started
                break
        return {
            "cc_pair_id": cc.id,
            "name": cc.name,
            "source": cc.source,
            "access_type": cc.access_type,
            "cc_pair_status": cc.status,
            "in_progress": latest is not None and latest.status == "in_progress",
            "in_repeated_error_state": cc.in_repeated_error_state,
            "last_finished_status": finished.status if finished else None,
            "last_status": latest.status if latest else None,
            "last_success": zulu(success),
            "is_editable": True,  # the API key is an admin's: every pair is editable
            "permissions": {"edit": True, "delete": True, "publish": True},
            "docs_indexed": cc.docs_indexed,
            "latest_index_attempt_docs_indexed": latest.total_docs if latest else None,
        }

    def rows(self, source: str | None, secondary: bool) -> list[dict[str, Any]]:
        """The indexing-status row of every pair (of ``source``), newest pair first, as the
        server lists editable pairs."""
        with self.lock:
            self.settle()
            pairs = [cc for cc in self.cc_pairs.values() if source in (None, cc.source)]
            return [self._row(cc, secondary) for cc in reversed(pairs)]

    def failed_indexing_status(self, secondary: bool) -> list[dict[str, Any]]:
        """Pairs whose latest failed attempt has no later successful one."""
        if secondary:
            return []
        out = []
        with self.lock:
            self.settle()
            for cc in self.cc_pairs.values():
                failed = succeeded = None
                for attempt_id in reversed(cc.attempts):
                    attempt = self.attempts[attempt_id]
                    if attempt.status == "failed" and failed is None:
                        failed = attempt
                    elif attempt.status == "success" and succeeded is None:
                        succeeded = attempt
                if failed is None or (
                    succeeded is not None and succeeded.time_updated > failed.time_updated
                ):
                    continue
                running = any(self.attempts[a].status == "in_progress" for a in cc.attempts[-1:])
                out.append(
                    {
                        "cc_pair_id": cc.id,
                        "name": cc.name,
                        "error_msg": failed.error_msg,
                        "is_deletable": cc.status not in ACTIVE_STATUSES and not running,
                        "connector_id": cc.connector_id,
                        "credential_id": cc.credential_id,
                    }
                )
        return out

    def basic_status(self) -> list[dict[str, Any]]:
        """GET connector-status: whether each pair ever indexed successfully."""
        with self.lock:
            self.settle()
            return [
                {
                    "has_successful_run": any(
                        self.attempts[a].status in SUCCESSFUL for a in cc.attempts
                    ),
                    "source": cc.source,
                    "status": cc.status,
                }
                for cc in self.cc_pairs.values()
                if cc.source != "ingestion_api"
            ]

    def index_attempts(self, cc_pair_id: int, page: int, size: int) -> dict[str, Any]:
        """One 0-based page of a pair's attempts, newest first, and how many there are."""
        with self.lock:
            self.settle()
            cc = self.cc_pairs.get(cc_pair_id)
            if cc is None:
                raise ApiError(400, "CC Pair not found for current user permissions")
            newest_first = cc.attempts[::-1][page * size : (page + 1) * size]
            items = [_snapshot(self.attempts[a]) for a in newest_first]
            return {"items": items, "total_items": len(cc.attempts)}

    # -- writes ------------------------------------------------------------------------------

    def set_status(self, cc_pair_id: int, status: str) -> None:
        """PUT cc-pair status: pausing cancels the pair's unfinished attempts."""
        with self.lock:
            now = self.settle()
            cc = self.cc_pairs.get(cc_pair_id)
            if cc is None:
                raise ApiError(400, "Connection not found for current user's permissions")
            if status == "PAUSED":
                for attempt_id in [a for a in cc.attempts if a in self.live]:
                    attempt = self.attempts[attempt_id]
                    self.live.discard(attempt_id)
                    attempt.t0 = None
                    attempt.status = "canceled"
                    attempt.time_updated = self.wall(now)
            cc.status = status
            if status in ACTIVE_STATUSES and cc.pending is not None:
                self._start(cc, cc.pending, now)
                cc.pending = None

    def run_once(
        self, connector_id: int, credential_ids: list[int] | None, from_beginning: bool
    ) -> int:
        """POST run-once: trigger indexing for the connector's pairs; how many were marked.

        Pairs with an unfinished attempt are skipped; an inactive (paused, invalid...) pair
        keeps the trigger and starts its attempt when it is made active again."""
        with self.lock:
            now = self.settle()
            pairs = self.by_connector.get(connector_id)
            if pairs is None:
                raise ApiError(404, f"Connector by id {connector_id} does not exist.")
            by_credential = {cc.credential_id: cc for cc in pairs}
            chosen = credential_ids or list(by_credential)
            if not set(chosen) <= set(by_credential):
                raise ApiError(400, "Not all specified credentials are associated with connector")
            busy = {c for c in chosen if any(a in self.live for a in by_credential[c].attempts)}
            marked = 0
            for credential_id in chosen:
                if credential_id in busy:
                    continue
                marked += 1
                cc = by_credential[credential_id]
                if cc.status not in ACTIVE_STATUSES:
                    cc.pending = from_beginning
                elif not (cc.attempts and cc.attempts[-1] in self.live):
                    self._start(cc, from_beginning, now)
            return marked


def _snapshot(attempt: Attempt) -> dict[str, Any]:
    """IndexAttemptSnapshot: string times via isoformat(), datetime fields via pydantic."""
    return {
        "id": attempt.id,
        "status": attempt.status,
        "from_beginning": attempt.from_beginning,
        "new_docs_indexed": attempt.new_docs,
        "total_docs_indexed": attempt.total_docs,
        "docs_removed_from_index": 0,
        "error_msg": attempt.error_msg,
        "error_count": attempt.error_count,
        "full_exception_trace": attempt.trace,
        "time_started": iso(attempt.time_started) if attempt.time_started else None,
        "time_updated": iso(attempt.time_updated),
        "poll_range_start": zulu(attempt.poll_start),
        "poll_range_end": zulu(attempt.poll_end),
    }
