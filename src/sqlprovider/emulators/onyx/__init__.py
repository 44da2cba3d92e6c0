"""The Onyx (formerly Danswer) connector indexing-status API, emulated.

Faithful to the server's source: routes under ``/api/manage`` (the cloud base URL is
``https://cloud.onyx.app/api``), API keys with or without ``Bearer `` (``X-Onyx-Authorization``
read first), 403 ``{"detail": ...}`` for missing or wrong credentials, pydantic-style 422s in
Onyx's ``{"status_code", "message", "data"}`` body, indexing status as one page of 10 rows per
source with a summary over every filtered row, and index attempts that move NOT_STARTED →
IN_PROGRESS → SUCCESS (or FAILED) as time passes after a run-once.
"""

from sqlprovider.emulators.onyx.app import create_app
from sqlprovider.emulators.onyx.state import DEFAULT_API_KEY, OnyxConfig, OnyxState

__all__ = ["DEFAULT_API_KEY", "OnyxConfig", "OnyxState", "create_app"]
