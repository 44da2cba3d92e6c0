"""The Amperity ingest jobs API (``GET /ingest/jobs``, ``GET /ingest/jobs/{job-id}``), emulated.

Faithful to the public reference: bearer auth plus the required ``amperity-tenant`` and
``api-version: 2024-04-01`` headers, error bodies ``{"status", "message"}``, a list that takes a
required ``created_from`` (inclusive) / ``created_to`` (exclusive) window of at most 7 days and
has no cursor, 10 requests a second (429 beyond, no rate-limit headers), and jobs whose tables
(feeds) carry the documented states, row counters, files and millisecond UTC times.
"""

from sqlprovider.emulators.amperity.app import create_app
from sqlprovider.emulators.amperity.state import (
    DEFAULT_FORBIDDEN_TOKEN,
    DEFAULT_TENANT,
    DEFAULT_TOKEN,
    EPOCH,
    AmperityConfig,
    AmperityState,
)

__all__ = [
    "DEFAULT_FORBIDDEN_TOKEN",
    "DEFAULT_TENANT",
    "DEFAULT_TOKEN",
    "EPOCH",
    "AmperityConfig",
    "AmperityState",
    "create_app",
]
