"""The seeded Onyx tenant: connector-credential pairs over a mix of sources, each with a
profile (healthy, failing, paused, ...) and the index-attempt history that goes with it,
drawn from one random generator so that a seed fixes every byte."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlprovider.emulators.onyx.records import (
    ACCESS_TYPES,
    SUCCESSFUL,
    Attempt,
    CCPair,
    emulated_time,
    trace,
)


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


class Seeder:
    """Draws the tenant's pairs and their histories; seeded times end at ``start_time``, and
    attempts under way at start began before ``clock0`` on the emulator's clock."""

    def __init__(self, rng: random.Random, start_time: datetime, clock0: float) -> None:
        self.rng = rng
        self.start_time = start_time
        self.clock0 = clock0
        self._names: dict[str, int] = {}  # pair names given so far, to number repeats

    def tenant(self, connectors: int) -> tuple[dict[int, CCPair], dict[int, Attempt]]:
        """``connectors`` pairs (every 25th connector has two) and every attempt, by id."""
        rng = self.rng
        pairs: dict[int, CCPair] = {}
        unnumbered: list[Attempt] = []
        connector_id = 0
        while len(pairs) < connectors:
            connector_id += 1
            source = rng.choices(_SOURCES, [s.weight for s in _SOURCES])[0]
            left = connectors - len(pairs)
            for _ in range(2 if connector_id % 25 == 0 and left > 1 else 1):
                cc = self._pair(len(pairs) + 1, connector_id, source)
                pairs[cc.id] = cc
                unnumbered.extend(self._history(cc, source))
        # Ids follow creation time across the tenant, as a database sequence does.
        unnumbered.sort(key=lambda a: (a.time_created, a.cc_pair_id))
        attempts: dict[int, Attempt] = {}
        for number, attempt in enumerate(unnumbered, 1):
            attempt.id = number
            attempts[number] = attempt
            pairs[attempt.cc_pair_id].attempts.append(number)
        return pairs, attempts

    def _pair(self, number: int, connector_id: int, source: _Source) -> CCPair:
        rng = self.rng
        team = rng.choice(_TEAMS)
        base = f"{team} {rng.choice(source.things)}"
        self._names[base] = self._names.get(base, 0) + 1
        name = base if self._names[base] == 1 else f"{base} {self._names[base]}"
        access = rng.choices(ACCESS_TYPES, (55, 30, 15 if source.name in _SYNCABLE else 0))
        # Credentials are their own sequence: 1 is the tenant's first, pair-less one.
        return CCPair(
            number, connector_id, number + 1, name, source.name, access[0], "ACTIVE",
            refresh_freq=source.refresh_freq, docs_indexed=0,
        )  # fmt: skip

    def _history(self, cc: CCPair, source: _Source) -> list[Attempt]:
        """The pair's status, docs and attempts for a profile (healthy, failing, paused...)."""
        statuses, live = self._profile(cc)
        rng = self.rng
        if any(s in SUCCESSFUL for s in statuses):
            cc.docs_indexed = rng.randrange(source.docs // 10, source.docs * 2)
        elif live is not None:
            cc.docs_indexed = rng.randrange(0, source.docs // 5 + 1)
        for status in reversed(statuses):
            if status != "failed":
                break
            cc.failures += 1
        cc.in_repeated_error_state = cc.failing_repeatedly
        return self._attempts(cc, source, statuses, live)

    def _past(self, count: int) -> list[str]:
        """The statuses of ``count`` past attempts, the last one successful."""
        rng = self.rng
        past = rng.choices([p[0] for p in _PAST], [p[1] for p in _PAST], k=count - 1)
        return [*past, "completed_with_errors" if rng.random() < 0.1 else "success"]

    def _profile(self, cc: CCPair) -> tuple[list[str], str | None]:
        """Sets the pair's status (and the error its attempts fail with) for a profile;
        the statuses of its finished attempts, oldest first, and of the one under way."""
        rng = self.rng
        profile = rng.choices([p[0] for p in _PROFILES], [p[1] for p in _PROFILES])[0]
        statuses: list[str] = []
        live: str | None = None
        if profile == "scheduled":
            cc.status = "SCHEDULED"
        elif profile == "initial":
            cc.status, live = "INITIAL_INDEXING", "in_progress"
        elif profile == "failing":
            ok = rng.randrange(0, 6)
            statuses = (self._past(ok) if ok else []) + ["failed"] * rng.randint(1, 7)
            cc.status = "ACTIVE" if ok else "INITIAL_INDEXING"
            cc.error = rng.choice(_FAILURES)
        else:
            statuses = self._past(rng.randint(2, 10))
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
        return statuses, live

    def _attempts(
        self, cc: CCPair, source: _Source, statuses: list[str], live: str | None
    ) -> list[Attempt]:
        """The attempts, one refresh apart, ending a little before ``start_time`` (or before
        the one under way)."""
        rng = self.rng
        spacing = float(cc.refresh_freq or 3 * 86400)
        newest = self.start_time - timedelta(seconds=rng.uniform(300, 6 * 3600))
        attempts: list[Attempt] = []
        if live is not None:
            attempts.append(self._live(cc, live, source))
            newest = attempts[0].time_created - timedelta(seconds=spacing * rng.uniform(0.5, 1))
        created_times = [
            newest - timedelta(seconds=spacing * step * rng.uniform(0.9, 1.1))
            for step in range(len(statuses))
        ]
        poll_end: datetime | None = None
        for index, (status, created) in enumerate(
            zip(statuses, reversed(created_times), strict=True)
        ):
            attempt = self._finished(cc, status, created, index == 0, poll_end)
            poll_end = attempt.poll_end
            attempts.append(attempt)
        return attempts

    def _finished(
        self,
        cc: CCPair,
        status: str,
        created: datetime,
        first: bool,
        poll_start: datetime | None,
    ) -> Attempt:
        rng = self.rng
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
            attempt.trace = trace(cc.source, error)
            attempt.error_count = rng.randint(0, 3)
        elif status == "canceled" and rng.random() < 0.5:
            attempt.time_started = None  # cancelled before a worker picked it up
            attempt.time_updated = created + timedelta(seconds=ran)
        return attempt

    def _live(self, cc: CCPair, status: str, source: _Source) -> Attempt:
        """An attempt under way at start; it finishes (much) later on the clock."""
        rng = self.rng
        if status == "in_progress":
            queue = rng.uniform(2, 30)
            elapsed = queue + rng.uniform(60, 1800)
            duration = elapsed - queue + rng.uniform(600, 7200)
        else:
            elapsed = rng.uniform(5, 60)
            queue = elapsed + rng.uniform(60, 900)
            duration = rng.uniform(300, 3600)
        t0 = self.clock0 - elapsed
        created = emulated_time(self.start_time, self.clock0, t0)
        from_beginning = cc.status == "INITIAL_INDEXING"
        attempt = Attempt.queued(cc.id, t0, created, from_beginning, None, queue, duration)
        attempt.target_new = rng.randrange(10, source.docs // 2 + 20)
        attempt.target_total = attempt.target_new + rng.randrange(0, 500)
        return attempt
