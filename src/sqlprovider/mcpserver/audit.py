"""The audit log: one JSON line per tool call, saying what the assistant did.

A record holds when the call started, the tool, the statement it ran (or the names it was
asked about), the server's mode, the outcome, and how many requests went to the APIs and
how many were answered from the result cache. It holds no rows and no credential: every
value passes through the same redaction as the tools' answers before it is written.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from sqlprovider.errors import InterfaceError

log = logging.getLogger(__name__)


class AuditLog:
    """Appends one JSON object per line to a file (created readable by its owner only), or
    to standard error.

    Args:
        target: a file path, or ``"-"`` for standard error.
        redact: applied to every string of a record before it is written.

    Raises:
        InterfaceError: the file cannot be opened for appending; the message names the
            options that change it.
    """

    def __init__(self, target: str, redact: Callable[[Any], Any]) -> None:
        self.target = target
        self._redact = redact
        self._lock = threading.Lock()
        self._stream: TextIO
        if target == "-":
            self._stream = sys.stderr
            self._owned = False
            return
        path = Path(target).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise InterfaceError(
                f"cannot write the audit log {path}: {exc.strerror}; name another file with "
                "--audit-log FILE (or - for standard error), or turn it off with --no-audit-log"
            ) from None
        self._stream = os.fdopen(fd, "a", encoding="utf-8")
        self._owned = True

    @property
    def where(self) -> str:
        """The file written, or ``"-"`` for standard error."""
        return self.target

    def write(self, record: dict[str, Any]) -> None:
        """Append one record. A failed write is reported on standard error; the tool call
        it describes has already happened, so it is not failed after the fact."""
        line = json.dumps(self._redact(record), ensure_ascii=False, default=str)
        with self._lock:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (OSError, ValueError) as exc:
                log.warning("could not write the audit log %s: %s", self.target, exc)

    def close(self) -> None:
        """Close the file (standard error stays open)."""
        with self._lock:
            if self._owned and not self._stream.closed:
                self._stream.close()
