"""The DigitalOcean GenAI API (knowledge bases and indexing jobs), emulated.

Faithful to the public reference: bearer auth (401 ``unauthorized``), error bodies
``{id, message, request_id}``, ``ratelimit-*`` headers on every response, ``page`` /
``per_page`` (default 20, at most 200) with ``links.pages`` as absolute URLs and ``meta``,
uint64 counters as JSON strings, and indexing jobs that move PENDING → RUNNING → SUCCEEDED
(or FAILED) as time passes, or CANCELLED when cancelled.
"""

from sqlprovider.emulators.digitalocean.app import create_app
from sqlprovider.emulators.digitalocean.state import (
    DEFAULT_TOKEN,
    DigitalOceanConfig,
    DigitalOceanState,
)

__all__ = ["DEFAULT_TOKEN", "DigitalOceanConfig", "DigitalOceanState", "create_app"]
