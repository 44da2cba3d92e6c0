"""The shell's commands: dot commands (``.mode``, ``.tables``, ...), as in sqlite3 and the
DuckDB CLI, and psql's backslash shortcuts (``\\dt``, ``\\x``, ...) beside them.

They change the shell's settings or list what the providers and the session's DuckDB hold;
SQL never reaches them. Like sqlite3 and DuckDB, listings go to the current output (a
``.output`` file included), and messages go to the console.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from sqlprovider import output
from sqlprovider.result import Result
from sqlprovider.shell.config import MODES
from sqlprovider.shell.listings import Listings, aligned
from sqlprovider.shell.settings import Settings

if TYPE_CHECKING:
    from sqlprovider.session import Session

HELP: tuple[tuple[str, str], ...] = (
    (".help", "show this help (also \\?, help)"),
    (".mode [MODE]", "output format: " + "|".join(MODES)),
    (".timing on|off", "after each statement: time, requests, pages, rows, retries, bytes"),
    (".output [FILE]", "write results to FILE; alone, back to the terminal"),
    (".once FILE", "write the next statement's results only to FILE"),
    (".read FILE", "run the SQL (and commands) in FILE"),
    (".providers", "list the providers"),
    (".tables [PATTERN]", "list the tables: provider.service.resource, then local ones"),
    (".schema [PATTERN]", "the CREATE TABLE statement of each table"),
    (".nullvalue TEXT", "show NULL as TEXT"),
    (".headers on|off", "print the column names or not"),
    (".cache [on|off|clear]", "the result cache: on (on SECONDS: its TTL), off, emptied"),
    (".watch [SECONDS]", "run the last statement again every SECONDS (2) until Ctrl-C"),
    (".quit", "leave the shell (also .exit, \\q, quit, Ctrl-D)"),
)
PSQL: tuple[tuple[str, str], ...] = (
    ("\\d [NAME]", "describe a table (DESCRIBE NAME); alone, list the tables"),
    ("\\d+ NAME", "describe a table with its filters (DESCRIBE EXTENDED NAME)"),
    ("\\dt [PATTERN]", "list the tables (provider and local)"),
    ("\\dn [PATTERN]", "list the schemas: each provider.service"),
    ("\\x [on|off|auto]", "expanded display: one line per column; alone, toggles"),
    ("\\timing [on|off]", "as .timing; alone, toggles"),
    ("\\o [FILE]", "as .output"),
    ("\\i FILE", "as .read"),
    ("\\watch [SECONDS]", "as .watch"),
    ("\\e", "edit the last statement in $EDITOR, then back to the prompt"),
    ("\\?", "show this help"),
    ("\\q", "leave the shell"),
)
KEYS = (
    "Statements end with ';' (Enter on a line ending in ';' runs them; Alt-Enter runs any text).",
    "Tab completes; Ctrl-R searches the history; Ctrl-X Ctrl-E edits the statement in $EDITOR.",
    "Ctrl-C clears the line or cancels a running statement; Ctrl-D exits.",
)
SWITCH = {"on": True, "off": False}
CACHE_TTL = 300.0  # .cache on, when the shell started with the cache off (--cache-ttl 0)
_IDENT = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_TABLE_NAME = re.compile(rf"{_IDENT}(?:\s*\.\s*{_IDENT}){{0,2}}")


class Host(Protocol):
    """What the commands need of the shell."""

    session: Session
    settings: Settings
    listings: Listings

    def run_file(self, path: Path) -> bool:
        """Run a script; False when it asked to quit."""
        ...

    def run_sql(self, sql: str) -> None:
        """Run SQL as if it had been typed."""
        ...

    def show(self, result: Result) -> None:
        """Show a result as query results are shown."""
        ...

    def write(self, text: str) -> None:
        """Write text to the current output."""
        ...

    def watch(self, argument: str) -> bool:
        """Run the last statement again and again (``\\watch``)."""
        ...

    def edit(self, argument: str) -> bool:
        """Edit the last statement in ``$EDITOR`` (``\\e``)."""
        ...

    def message(self, text: str) -> None:
        """Write a line to the console."""
        ...

    def error(self, text: str) -> None:
        """Write an ``error: ...`` line to the console."""
        ...


def available_modes() -> tuple[str, ...]:
    """The modes the installed renderer supports, in the shell's order."""
    formats = getattr(output, "FORMATS", MODES)
    return tuple(m for m in MODES if m in formats) + tuple(f for f in formats if f not in MODES)


def names() -> list[tuple[str, str]]:
    """Every command name and what it does, for completion."""
    found = [(usage.split()[0], summary) for usage, summary in (*HELP, *PSQL)]
    found.append((".exit", "leave the shell"))
    return list(dict(found).items())


Command = Callable[[str], bool]


class Commands:
    """Runs one command line (``.mode json``, ``\\dt genai*``, ``help``) against a Host."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.cache_ttl = host.session.cache_ttl or CACHE_TTL  # what .cache on turns on
        self.table: dict[str, Command] = {
            ".help": self.help,
            ".mode": self.mode,
            ".timing": self.timing,
            ".output": self.output,
            ".once": self.once,
            ".read": self.read,
            ".providers": self.providers,
            ".tables": self.tables,
            ".schema": self.schema,
            ".nullvalue": self.nullvalue,
            ".headers": self.headers,
            ".cache": self.cache,
            ".watch": host.watch,
            ".quit": self.quit,
            ".exit": self.quit,
            "help": self.help,
            "\\?": self.help,
            "\\q": self.quit,
            "\\timing": self.toggle_timing,
            "\\o": self.output,
            "\\i": self.read,
            "\\d": self.describe,
            "\\d+": self.describe_extended,
            "\\dt": self.list_tables,
            "\\dt+": self.list_tables,
            "\\dn": self.list_schemas,
            "\\x": self.expanded,
            "\\watch": host.watch,
            "\\e": host.edit,
        }

    def run(self, line: str) -> bool:
        """Run ``line``; False when the shell should end."""
        name, _, argument = line.strip().partition(" ")
        if name.lower().rstrip(";") == "help":
            name = "help"
        command = self.table.get(name if name.startswith("\\") else name.lower())
        if command is None:
            where = "\\?" if name.startswith("\\") else ".help"
            self.host.error(f"unknown command {name}; type {where} to list the commands")
            return True
        return command(argument.strip())

    # -- settings --------------------------------------------------------------------------

    def help(self, argument: str) -> bool:
        """List the commands and keys."""
        width = max(len(usage) for usage, _ in (*HELP, *PSQL))
        lines = [f"{usage.ljust(width)}  {summary}" for usage, summary in HELP]
        lines += ["", "psql's shortcuts:"]
        lines += [f"{usage.ljust(width)}  {summary}" for usage, summary in PSQL]
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
        if argument.lower() in SWITCH:
            self.host.settings.timing = SWITCH[argument.lower()]
        elif not argument:
            self.host.message(f"timing: {'on' if self.host.settings.timing else 'off'}")
        else:
            self.host.error(f"write .timing on or .timing off, not .timing {argument}")
        return True

    def toggle_timing(self, argument: str) -> bool:
        """``\\timing``: alone, it toggles (as in psql)."""
        if argument:
            return self.timing(argument)
        self.host.settings.timing = not self.host.settings.timing
        self.host.message(f"timing is {'on' if self.host.settings.timing else 'off'}")
        return True

    def headers(self, argument: str) -> bool:
        """Print column names or not."""
        if argument.lower() in SWITCH:
            self.host.settings.headers = SWITCH[argument.lower()]
        elif not argument:
            self.host.message(f"headers: {'on' if self.host.settings.headers else 'off'}")
        else:
            self.host.error(f"write .headers on or .headers off, not .headers {argument}")
        return True

    def nullvalue(self, argument: str) -> bool:
        """How NULL is shown (quotes keep spaces, and ``''`` is the empty string)."""
        if not argument:
            self.host.message(f"nullvalue: {self.host.settings.null_display!r}")
        else:
            self.host.settings.null_display = unquote(argument)
        return True

    def expanded(self, argument: str) -> bool:
        """``\\x``: expanded display on, off or auto; alone, it toggles on and off."""
        settings = self.host.settings
        value = argument.lower()
        if not value:
            value = "off" if settings.expanded == "on" else "on"
        if value not in ("on", "off", "auto"):
            self.host.error(f"write \\x on, \\x off or \\x auto, not \\x {argument}")
            return True
        settings.expanded = value
        self.host.message(f"expanded display is {value}")
        return True

    def cache(self, argument: str) -> bool:
        """``.cache on [SECONDS]|off|clear``: the result cache (docs/cache.md); alone, its
        state. Off, every read goes to the API; clear drops the answers kept so far."""
        session = self.host.session
        word, _, seconds = argument.lower().partition(" ")
        seconds = seconds.strip()
        if not word:
            ttl = session.cache_ttl
            self.host.message(f"cache: {f'on ({ttl:g} s)' if ttl > 0 else 'off'}")
        elif word == "on" and (not seconds or _seconds(seconds) is not None):
            self.cache_ttl = _seconds(seconds) or self.cache_ttl
            session.set_cache_ttl(self.cache_ttl)
        elif word == "off" and not seconds:
            session.set_cache_ttl(0)
        elif word == "clear" and not seconds:
            session.clear_cache()
        else:
            self.host.error(
                "write .cache on, .cache on SECONDS (more than 0), .cache off or .cache clear, "
                f"not .cache {argument}"
            )
        return True

    # -- where results go ------------------------------------------------------------------

    def output(self, argument: str) -> bool:
        """Send results to a file, or back to the terminal."""
        settings = self.host.settings
        if not argument or argument == "stdout":
            settings.close_sink()
            return True
        opened = self._open(argument)
        if opened is not None:
            settings.close_sink()
            settings.sink, settings.sink_path = opened
        return True

    def once(self, argument: str) -> bool:
        """Send the next statement's results to a file."""
        if not argument:
            self.host.error("write .once FILE")
            return True
        opened = self._open(argument)
        if opened is not None:
            self.host.settings.close_once()
            self.host.settings.once, self.host.settings.once_path = opened
        return True

    def _open(self, argument: str) -> tuple[TextIO, str] | None:
        path = Path(unquote(argument)).expanduser()
        try:
            return path.open("w", encoding="utf-8"), str(path)
        except OSError as exc:
            self.host.error(f"cannot write {path}: {exc.strerror}")
            return None

    def read(self, argument: str) -> bool:
        """Run a SQL file."""
        if not argument:
            self.host.error("write .read FILE")
            return True
        path = Path(unquote(argument)).expanduser()
        if path.resolve() in self.host.settings.reading:
            self.host.error(f"{path} is already being read (a .read loop)")
            return True
        return self.host.run_file(path)

    # -- listings --------------------------------------------------------------------------

    def providers(self, argument: str) -> bool:
        """List the providers with their titles."""
        lines = self.host.listings.provider_lines()
        self.host.write("".join(line + "\n" for line in lines))
        return True

    def tables(self, argument: str) -> bool:
        """List table names (provider ones, then local ones, marked so)."""
        found = self.host.listings.tables(argument)
        shown = aligned([(t.name, f"({t.kind})" if t.local else "") for t in found])
        self.host.write("".join(line + "\n" for line in shown))
        if argument and not found:
            self.host.message(f"no table matches {argument}")
        return True

    def schema(self, argument: str) -> bool:
        """The CREATE statements of the tables."""
        text = self.host.listings.schema_text(argument)
        self.host.write(text)
        if argument and not text:
            self.host.message(f"no table matches {argument}")
        return True

    def list_tables(self, argument: str) -> bool:
        """``\\dt``: the tables as a result (name, type, description)."""
        self.host.show(self.host.listings.table_result(argument))
        return True

    def list_schemas(self, argument: str) -> bool:
        """``\\dn``: each provider.service, as psql lists schemas."""
        self.host.show(self.host.listings.schemas(argument))
        return True

    def describe(self, argument: str, extended: bool = False) -> bool:
        """``\\d NAME``: DESCRIBE NAME; ``\\d`` alone lists the tables."""
        if not argument:
            return self.list_tables("")
        sql = describe_sql(argument.rstrip(";").strip(), extended)
        if sql is None:
            self.host.error(f"{argument} is not a table name; write \\d provider.service.resource")
        else:
            self.host.run_sql(sql)
        return True

    def describe_extended(self, argument: str) -> bool:
        """``\\d+ NAME``: DESCRIBE EXTENDED NAME."""
        return self.describe(argument, extended=True)

    def quit(self, argument: str) -> bool:
        """Leave the shell."""
        return False


def describe_sql(name: str, extended: bool = False) -> str | None:
    """``DESCRIBE name`` (built by sqlglot from the table name), or None for no table name."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    if not _TABLE_NAME.fullmatch(name):
        return None
    try:
        table = exp.to_table(name, dialect="duckdb")
    except SqlglotError:
        return None
    if not isinstance(table, exp.Table) or not table.name:
        return None
    describe = exp.Describe(this=table, style="EXTENDED" if extended else None)
    return describe.sql(dialect="duckdb") + ";"


def _seconds(text: str) -> float | None:
    """A positive number of seconds, or None."""
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if 0 < seconds < float("inf") else None


def unquote(text: str) -> str:
    """``'a b'`` or ``"a b"`` without its quotes."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
