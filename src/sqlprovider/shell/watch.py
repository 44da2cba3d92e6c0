"""``\\watch [SECONDS]`` (and ``.watch``): the last statement again every few seconds, on a
cleared screen, until Ctrl-C — as psql's ``\\watch`` does, to follow a job as it runs."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

DEFAULT_SECONDS = 2.0
CLEAR_SCREEN = "\033[H\033[2J"


class WatchHost(Protocol):
    """What a watch needs of the shell."""

    interactive: bool

    def watchable(self) -> list[str] | None:
        """The statements to run again (they only read), or None (the error is said)."""
        ...

    def run_watched(self, statements: list[str]) -> bool:
        """Run the statements once and show their results; False when one failed."""
        ...

    def clear_screen(self) -> None:
        """Clear the terminal, when results are shown on one."""
        ...

    def message(self, text: str) -> None:
        """Write a line to the console."""
        ...

    def error(self, text: str) -> None:
        """Write an ``error: ...`` line to the console."""
        ...


def seconds_of(argument: str) -> float | None:
    """The interval ``\\watch`` was given (psql's ``i=N`` too), or None when it is not a
    positive number."""
    text = argument.strip().removeprefix("i=").removeprefix("interval=").removesuffix("s")
    if not text:
        return DEFAULT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def watch(host: WatchHost, argument: str) -> bool:
    """Run the last statement every N seconds until Ctrl-C or an error; always True (the
    shell goes on). In a script, Ctrl-C stops the script as it would anyway."""
    seconds = seconds_of(argument)
    if seconds is None:
        host.error(f"write \\watch SECONDS (a number above 0), not \\watch {argument}")
        return True
    statements = host.watchable()
    if statements is None:
        return True
    shown = "; ".join(" ".join(s.split()) for s in statements)
    running = False
    try:
        while True:
            started = time.monotonic()
            host.clear_screen()
            now = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            host.message(f"every {seconds:g} s, {now} (Ctrl-C stops): {shown}")
            running = True
            if not host.run_watched(statements):
                return True  # an error ends the watch, as in psql
            running = False
            time.sleep(max(seconds - (time.monotonic() - started), 0))
    except KeyboardInterrupt:
        if not host.interactive:
            raise
        if running:  # a fetch was under way: it is cancelled
            host.message("cancelled")
    return True
