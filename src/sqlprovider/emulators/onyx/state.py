"""The emulated Onyx tenant and the state machines the API drives: attempts NOT_STARTED →
IN_PROGRESS → SUCCESS or FAILED as the clock moves; cc pairs ACTIVE ⇄ PAUSED; SCHEDULED →
INITIAL_INDEXING → ACTIVE. Its records are in ``records.py``, its seeded history in
``seed.py``."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlprovider.emulators.onyx.records import (
    ACTIVE_STATUSES,
    SUCCESSFUL,
    UNFINISHED,
    ApiError,
    Attempt,
    CCPair,
    emulated_time,
    snapshot,
    trace,
    zulu,
)
from sqlprovider.emulators.onyx.seed import Seeder

DEFAULT_API_KEY = "on_sandbox-onyx-key"
START_TIME = datetime(2026, 8, 22, 9, 0, 0, 250113, tzinfo=UTC)


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


class OnyxState:
    """The emulated tenant. Every method takes the lock and settles live attempts first."""

    def __init__(self, config: OnyxConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.clock0 = config.clock()
        self.federated: list[dict[str, Any]] = [
            {"id": n, "source": "federated_slack", "name": "Federated Slack"}
            for n in range(1, config.federated_connectors + 1)
        ]
        seeder = Seeder(random.Random(config.seed), config.start_time, self.clock0)
        self.cc_pairs, self.attempts = seeder.tenant(config.connectors)
        self.by_connector: dict[int, list[CCPair]] = {}
        for cc in self.cc_pairs.values():
            self.by_connector.setdefault(cc.connector_id, []).append(cc)
        self.live = {a.id for a in self.attempts.values() if a.t0 is not None}  # unfinished
        self.next_attempt_id = len(self.attempts)

    # -- live attempts -----------------------------------------------------------------------

    def wall(self, moment: float) -> datetime:
        """The emulated wall-clock time at a clock reading."""
        return emulated_time(self.config.start_time, self.clock0, moment)

    def _start(self, cc: CCPair, from_beginning: bool, now: float) -> None:
        """A run-once attempt for the pair, queued now; it picks up where the last ended."""
        previous = self.attempts.get(cc.attempts[-1]) if cc.attempts else None
        poll_start = None if from_beginning or previous is None else previous.poll_end
        queue, duration = self.config.queue_seconds, self.config.attempt_seconds
        attempt = Attempt.queued(
            cc.id, now, self.wall(now), from_beginning, poll_start, queue, duration
        )
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
            attempt.trace = trace(cc.source, cc.error)
            attempt.error_count = 1
            cc.failures += 1
            if cc.failing_repeatedly:
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
            items = [snapshot(self.attempts[a]) for a in newest_first]
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
