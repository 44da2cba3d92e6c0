"""Commands whose libraries are an extra: one line that says how to install it."""

from __future__ import annotations

import sys


def say_missing_extra(
    exc: ModuleNotFoundError, command: str, extra: str, install: str, why: str | None = None
) -> None:
    """Print why ``sqlprovider COMMAND`` cannot run without ``extra`` and how to install it.

    Our own module missing is a broken install, not the extra: ``exc`` is raised again.
    """
    missing = (exc.name or "").partition(".")[0]
    if missing == "sqlprovider":
        raise exc
    reason = why or f"no module named {missing!r}"
    print(
        f"error: sqlprovider {command} needs the {extra} extra ({reason}); "
        f"install it with: {install}",
        file=sys.stderr,
    )
