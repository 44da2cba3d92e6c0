"""The Openverse ingestion server's task API, emulated.

Faithful to the upstream source (``ingestion_server/api.py``, ``tasks.py``, ``indexer.py``):
no auth, ``POST /task`` validated by the real JSON Schema (falcon's 400 bodies), 202 with a
``status_check`` URL, an in-memory task tracker (``GET /task`` sorted by
``finish_timestamp``), ``GET /stat/{name}`` over emulated Elasticsearch indices and aliases,
and tasks that run for ``task_seconds`` before they create, alias or delete indices, with
the real server's checks (nothing is deleted through an alias without ``force_delete``,
and an index an alias points at is not deleted by its own name).
"""

from sqlprovider.emulators.openverse.app import create_app
from sqlprovider.emulators.openverse.state import (
    DEFAULT_BASE_URL,
    OpenverseConfig,
    OpenverseState,
)

__all__ = ["DEFAULT_BASE_URL", "OpenverseConfig", "OpenverseState", "create_app"]
