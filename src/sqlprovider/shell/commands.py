"""Dot commands: ``.mode``, ``.timing``, ``.output``, ``.read``, ``.tables`` and friends.

They change the shell's settings or list what the providers offer; SQL never reaches them.
Like sqlite3 and DuckDB, listings go to the current output (a ``.output`` file included),
and messages go to the console.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from sqlprovider import output
from sqlprovider.errors import Error
from sqlprovider.providers import Registry

MODES = ("table", "json", "jsonl", "csv", "markdown", "line")

HELP: tuple[tuple[str, str], ...] = (
    (".help", "show this help"),
    (".mode [MODE]", "output format: " + "|".join(MODES)),
    (".timing on|off", "after each statement: time, requests, pages, rows, retries, bytes"),
    (".output [FILE]", "write results to FILE; alone, back to the terminal"),
    (".read FILE", "run the SQL (and dot commands) in FILE"),
    (".providers", "list the providers"),
    (".tables [PATTERN]", "list provider.service.resource names (glob * ? or LIKE % _)"),
    (".quit", "leave the shell (also .exit, quit, Ctrl-D)"),
)
KEYS = (
    "Statements end with ';' (Enter on a line ending in ';' runs them; Alt-Enter runs any text).",
    "Tab completes; Ctrl-C clears the line or cancels a running statement; Ctrl-D exits.",
)


class Host(Protocol):
    """What the commands need of the shell."""

    settings: Settings
    registry: Registry

    def run_file(self, path: Path) -> bool:
        """Run a script; False when it asked to quit."""
        ...

    def message(self, text: str) -> None:
        """Write a line to the console."""
        ...

    def error(self, text: str) -> None:
        """Write an ``error: ...`` line to the console."""
        ...


@dataclass
class Settings:
    """The shell's state that dot commands change.

    Attributes:
        mode: the output format results are rendered in.
        timing: print a timing line after each statement.
        sink: where results go; None is the terminal (standard output).
        sink_path: the file ``sink`` writes to.
        reading: files being read (``.read`` inside ``.read``), to stop loops.
    """

    mode: str = "table"
    timing: bool = False
    sink: TextIO | None = None
    sink_path: str | None = None
    reading: list[Path] = field(default_factory=list)

    def close_sink(self) -> None:
        """Close the ``.output`` file, if any; results go to the terminal again."""
        if self.sink is not None:
            self.sink.close()
        self.sink, self.sink_path = None, None


def available_modes() -> tuple[str, ...]:
    """The modes the installed renderer supports, in the shell's order."""
    formats = getattr(output, "FORMATS", MODES)
    return tuple(m for m in MODES if m in formats) + tuple(f for f in formats if f not in MODES)


def names() -> list[tuple[str, str]]:
    """Every command name and what it does, for completion."""
    found = [(usage.split()[0], summary) for usage, summary in HELP]
    found.append((".exit", "leave the shell"))
    return found


class Commands:
    """Runs one dot command line against a Host."""

    def __init__(self, host: Host, write: Callable[[str], None]) -> None:
        self.host = host
        self.write = write  # to the current output
        self.table: dict[str, Callable[[str], bool]] = {
            ".help": self.help,
            ".mode": self.mode,
            ".timing": self.timing,
            ".output": self.output,
            ".read": self.read,
            ".providers": self.providers,
            ".tables": self.tables,
            ".quit": self.quit,
            ".exit": self.quit,
        }

    def run(self, line: str) -> bool:
        """Run ``line`` (``.mode json``); False when the shell should end."""
        name, _, argument = line.strip().partition(" ")
        command = self.table.get(name.lower())
        if command is None:
            self.host.error(f"unknown command {name}; type .help to list the commands")
            return True
        return command(argument.strip())

    def help(self, argument: str) -> bool:
        """List the commands and keys."""
        width = max(len(usage) for usage, _ in HELP)
        lines = [f"{usage.ljust(width)}  {summary}" for usage, summary in HELP]
        self.host.message("\n".join([*lines, "", *KEYS]))
        return True

    def mode(self, argument: str) -> bool:
        """Show or set the output mode."""
        modes = available_modes()
        if not argument:
            self.host.message(f"mode: {self.host.settings.mode} (one of {', '.join(modes)})")
        elif argument.lower() in modes:
            self.host.settings.mode = argument.lower()
        else:
            self.host.error(f"unknown mode {argument!r}; use one of {', '.join(modes)}")
        return True

    def timing(self, argument: str) -> bool:
        """Turn the timing line on or off."""
        if argument.lower() in ("on", "off"):
            self.host.settings.timing = argument.lower() == "on"
        elif not argument:
            self.host.message(f"timing: {'on' if self.host.settings.timing else 'off'}")
        else:
            self.host.error(f"write .timing on or .timing off, not .timing {argument}")
        return True

    def output(self, argument: str) -> bool:
        """Send results to a file, or back to the terminal."""
        settings = self.host.settings
        if not argument or argument == "stdout":
            settings.close_sink()
            return True
        path = Path(_unquote(argument)).expanduser()
        try:
            sink = path.open("w", encoding="utf-8")
        except OSError as exc:
            self.host.error(f"cannot write {path}: {exc.strerror}")
            return True
        settings.close_sink()
        settings.sink, settings.sink_path = sink, str(path)
        return True

    def read(self, argument: str) -> bool:
        """Run a SQL file."""
        if not argument:
            self.host.error("write .read FILE")
            return True
        path = Path(_unquote(argument)).expanduser()
        if path.resolve() in self.host.settings.reading:
            self.host.error(f"{path} is already being read (a .read loop)")
            return True
        return self.host.run_file(path)

    def providers(self, argument: str) -> bool:
        """List the providers with their titles."""
        registry = self.host.registry
        lines = []
        for name in registry.names():
            try:
                title = registry.get(name).title
            except Error as exc:
                title = f"(cannot be loaded: {exc})"
            lines.append(f"{name}  {title}".rstrip())
        self.write("\n".join(lines) + "\n" if lines else "")
        return True

    def tables(self, argument: str) -> bool:
        """List resources, optionally those matching a pattern."""
        registry = self.host.registry
        found: list[str] = []
        for name in registry.names():
            try:
                provider = registry.get(name)
            except Error as exc:
                self.host.error(str(exc))
                continue
            found.extend(r.qualified_name for r in provider.resources())
        if argument:
            found = [n for n in found if matches(n, _unquote(argument))]
        self.write("".join(n + "\n" for n in sorted(found)))
        if argument and not found:
            self.host.message(f"no resource matches {argument}")
        return True

    def quit(self, argument: str) -> bool:
        """Leave the shell."""
        return False


def matches(name: str, pattern: str) -> bool:
    """Whether ``provider.service.resource`` matches ``pattern``.

    A glob (``*``, ``?``) or LIKE pattern (``%``, ``_``) may match the whole name or its
    ``service.resource`` or ``resource`` tail (``genai*``); plain text matches anywhere.
    Case is ignored.
    """
    pattern = pattern.lower()
    if any(c in pattern for c in "*?["):
        glob = pattern
    elif "%" in pattern:
        glob = pattern.replace("%", "*").replace("_", "?")
    else:
        return pattern in name.lower()
    parts = name.lower().split(".")
    return any(fnmatch.fnmatchcase(".".join(parts[i:]), glob) for i in range(len(parts)))


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
