"""The exit codes of the ``sqlprovider`` command (documented in docs/cli.md)."""

from __future__ import annotations

EXIT_OK = 0  # every statement worked
EXIT_ERROR = 1  # a statement failed, or the command was used wrongly
EXIT_INTERNAL = 2  # a bug, or a missing extra
EXIT_INTERRUPTED = 130  # Ctrl-C
