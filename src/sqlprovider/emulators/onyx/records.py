"""What an Onyx tenant holds: connector-credential pairs and their index attempts, the enums
the server defines for them, and how the API renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

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


class ApiError(Exception):
    """An error the API answers with ``{"detail": ...}`` (FastAPI's HTTPException body)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


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

    @property
    def failing_repeatedly(self) -> bool:
        """Whether its consecutive failures are enough for ``in_repeated_error_state``
        (one is, for a pair indexed only once)."""
        return self.failures >= (_REPEATED_ERRORS if self.refresh_freq else 1)


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

    @classmethod
    def queued(
        cls,
        cc_pair_id: int,
        t0: float,
        created: datetime,
        from_beginning: bool,
        poll_start: datetime | None,
        queue: float,
        duration: float,
    ) -> Attempt:
        """A new attempt, ``not_started`` (its id is given when it is numbered)."""
        return cls(
            id=0,
            cc_pair_id=cc_pair_id,
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
            poll_start=poll_start,
            poll_end=created,
            t0=t0,
            queue=queue,
            duration=duration,
        )


def emulated_time(start_time: datetime, clock0: float, moment: float) -> datetime:
    """The emulated wall-clock time at a clock reading: ``start_time`` at ``clock0``."""
    return start_time + timedelta(seconds=moment - clock0)


def iso(moment: datetime) -> str:
    """``datetime.isoformat()``, as the API renders IndexAttemptSnapshot's string times."""
    return moment.isoformat()


def zulu(moment: datetime | None) -> str | None:
    """A datetime field as pydantic renders it (UTC as ``Z``)."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def trace(source: str, error: tuple[str, str]) -> str:
    """The ``full_exception_trace`` of an attempt that failed with ``error``."""
    return (
        "Traceback (most recent call last):\n"
        '  File "/app/onyx/background/indexing/run_docfetching.py", in run_docfetching\n'
        "    for document_batch in connector_runner.run(checkpoint):\n"
        f'  File "/app/onyx/connectors/{source}/connector.py", in load_from_checkpoint\n'
        f"    raise {error[0]}(...)\n"
        f"{error[0]}: {error[1]}\n"
    )


def snapshot(attempt: Attempt) -> dict[str, Any]:
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
