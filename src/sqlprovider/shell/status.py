"""The Session's status line, let through only while the shell runs a statement.

The Session writes its status line (``retry 1 of 4 in 60 s``) from its I/O thread. When
Ctrl-C cancels a statement, the cancelled work ends on that thread a moment later, and the
last thing it does is clear the line (``\\r`` and erase-line). Arriving after the shell has
drawn its next prompt, that erased the prompt: typing worked, but no prompt was shown. The
gate drops whatever the I/O thread writes once the shell has taken the terminal back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlprovider.output import StatusLine


class StatusGate:
    """A StatusLine that writes only between ``open()`` and ``close()`` (thread-safe).

    Give it to the Session as ``progress=`` and to the Shell as ``status=``.
    """

    def __init__(self, line: StatusLine) -> None:
        self.line = line
        self._lock = threading.Lock()
        self._open = False

    @property
    def shown(self) -> bool:
        """Whether a status line is on the screen."""
        return self.line.shown

    def __call__(self, text: str) -> None:
        with self._lock:
            if self._open:
                self.line(text)

    def clear(self) -> None:
        """Remove the line, if one is shown."""
        with self._lock:
            self.line.clear()

    @contextmanager
    def running(self) -> Iterator[None]:
        """Let status lines through while the block runs; then remove any and stop them."""
        with self._lock:
            self._open = True
        try:
            yield
        finally:
            with self._lock:
                self._open = False
                self.line.clear()
