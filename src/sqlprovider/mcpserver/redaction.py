"""Keeping credentials out of everything the server says: tool answers, errors and the
audit log.

The engine already keeps credentials out of its messages and dry runs; but an assistant
can also ask DuckDB for text that holds one (``SELECT 'the token'``, a local file that holds
the environment). So every answer passes through here last, and every credential the
session knows of (every provider's, resolved when the server starts) is replaced by ``***``.
"""

from __future__ import annotations

from typing import Any

from sqlprovider.errors import Error
from sqlprovider.secret import REDACTED
from sqlprovider.session import Session


class Redactor:
    """Replaces the session's credentials with ``***`` in strings, lists and dicts.

    Args:
        session: whose credentials to hide; every provider's are resolved now, so a token
            in the environment is hidden even before its provider is first used.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        for name in session.registry.names():
            try:
                session.credentials(session.registry.get(name))
            except Error:
                continue  # a provider without usable credentials has none to hide

    def secrets(self) -> list[str]:
        """The strings to hide, longest first (so a token inside a longer one goes too)."""
        return sorted(self.session.secrets(), key=len, reverse=True)

    def __call__(self, value: Any) -> Any:
        """``value`` with every credential replaced, strings found at any depth."""
        return self._redact(value, self.secrets())

    def _redact(self, value: Any, secrets: list[str]) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {self._redact(k, secrets): self._redact(v, secrets) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._redact(v, secrets) for v in value]
        return value
