"""The shell itself: read what the user types, run it on a Session, show what came back.

Interactive when standard input is a terminal (prompt_toolkit: history, completion,
highlighting, multi-line statements); otherwise it reads statements from standard input
and prints only results and messages, like ``duckdb < script.sql``. Everything it talks
to (input, output, streams, terminal size, pager, config) can be injected, so tests drive
it through prompt_toolkit's pipe input without a terminal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output

from sqlprovider import __version__
from sqlprovider.errors import Error, WriteFailedError
from sqlprovider.options import ConnectOptions
from sqlprovider.output import StatusLine
from sqlprovider.plan import Plan
from sqlprovider.result import Result
from sqlprovider.session import Session
from sqlprovider.shell import commands, editor
from sqlprovider.shell import watch as watching
from sqlprovider.shell.commands import Commands
from sqlprovider.shell.completion import SqlCompleter
from sqlprovider.shell.config import Config, load_config
from sqlprovider.shell.confirmation import risk
from sqlprovider.shell.display import Display, Pager, TerminalSize, terminal_size, timing_line
from sqlprovider.shell.history import BoundedFileHistory
from sqlprovider.shell.listings import Listings
from sqlprovider.shell.pager import pager_of
from sqlprovider.shell.prompt import PROMPT, build_prompt
from sqlprovider.shell.scanner import command_line, is_quit, mask, submissions
from sqlprovider.shell.settings import Settings
from sqlprovider.shell.status import StatusGate
from sqlprovider.store import LocalTable

__all__ = ["PROMPT", "Shell", "default_history_path", "run_shell"]

YES = ("y", "yes")
# Statements that change the session's DuckDB and return nothing to show (as in DuckDB's CLI).
# Statements \watch runs again: those that only read.
READS = frozenset({"SELECT", "WITH", "FROM", "VALUES", "TABLE", "SHOW", "DESCRIBE", "EXPLAIN"})
QUIET = frozenset({"CREATE", "DROP", "ALTER", "ATTACH", "DETACH", "SET", "RESET", "USE"})
STDIN = "<stdin>"  # how errors name standard input, as psql and exec do


def default_history_path() -> Path:
    """``$XDG_STATE_HOME/sqlprovider/history``, i.e. ``~/.local/state/sqlprovider/history``."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "sqlprovider" / "history"


# The write requests listed before asking for a yes (the rest are counted).
SHOWN_REQUESTS = 10
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Shell:
    """An interactive (or scripted) SQL shell over one Session.

    Args:
        session: runs the statements; the caller closes it.
        yes: run destructive statements without asking.
        debug: print tracebacks with errors.
        history: the history file (None: history lasts as long as the shell).
        input: prompt_toolkit input (tests pass ``create_pipe_input()``).
        output: prompt_toolkit output (tests pass ``DummyOutput()``).
        stdout: where results go; stderr: where messages, errors and timing go.
        terminal: the terminal's size, when results are shown on one (cutting, paging).
        pager: shows results taller than the terminal.
        status: the Session's progress line (a StatusGate, so that nothing the Session
            writes after a cancel reaches the screen), cleared before anything is printed.
        config: what the config file sets (its defaults when not given).
    """

    def __init__(
        self,
        session: Session,
        *,
        yes: bool = False,
        debug: bool = False,
        history: str | Path | None = None,
        input: Input | None = None,
        output: Output | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        terminal: TerminalSize | None = None,
        pager: Pager | None = None,
        status: StatusGate | StatusLine | None = None,
        config: Config | None = None,
    ) -> None:
        self.session = session
        self.registry = session.registry
        self.yes = yes
        self.debug = debug
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.status = status
        self.config = config or Config()
        self.settings = Settings.of(self.config)
        self.display = Display(self.stdout, terminal, pager)
        self.listings = Listings(self.registry, self.local_tables, self.error)
        self.commands = Commands(self)
        self.errors = 0
        self.interactive = False  # whether a user is there to answer questions
        self.last_sql: str | None = None  # what \watch and \e take
        self._next_text = ""  # what the next prompt starts with (after \e)
        self._locations: list[str] = []  # file:line of the script line being run
        self._local: list[LocalTable] | None = None  # cached for completion
        self._history_path = history
        self._input = input
        self._output = output
        self._prompt: PromptSession[str] | None = None

    # -- reading ---------------------------------------------------------------------------

    def interact(self) -> int:
        """Prompt for statements until ``.quit`` or Ctrl-D; the exit code."""
        prompt = self._prompt_session()
        self.interactive = True
        self.stdout.write(f"sqlprovider {__version__}: SQL over REST APIs. Type .help for help.\n")
        self.stdout.flush()
        try:
            while True:
                try:
                    text = prompt.prompt(default=self._next_text)
                except KeyboardInterrupt:  # Ctrl-C while typing: start over
                    continue
                except EOFError:  # Ctrl-D
                    break
                finally:
                    self._next_text = ""
                try:
                    if not self.submit(text):
                        break
                except KeyboardInterrupt:  # Ctrl-C while a statement (or .read) runs
                    self.message("cancelled")
        finally:
            self.settings.close()
        return 0

    def run_lines(self, lines: Iterable[str], source: str = STDIN) -> int:
        """Run a script (standard input that is not a terminal); 1 if anything failed.

        Errors name ``source`` and the line. Ctrl-C stops the whole script: the
        KeyboardInterrupt goes to the caller.
        """
        try:
            self._run_script(lines, source)
        finally:
            self.settings.close()
        return 1 if self.errors else 0

    def run_file(self, path: Path) -> bool:
        """Run the statements and commands of ``path`` (``.read``); False to quit."""
        try:
            handle = path.open(encoding="utf-8")
        except OSError as exc:
            self.error(f"cannot read {path}: {exc.strerror}")
            return True
        self.settings.reading.append(path.resolve())
        try:
            with handle:
                return self._run_script(handle, str(path))
        finally:
            self.settings.reading.pop()

    def _run_script(self, lines: Iterable[str], source: str) -> bool:
        self._locations.append(source)
        try:
            for number, text in submissions(lines):
                self._locations[-1] = f"{source}:{number}"
                if not self.submit(text):
                    return False
            return True
        finally:
            self._locations.pop()

    def _prompt_session(self) -> PromptSession[str]:
        if self._prompt is None:
            completer = SqlCompleter(
                self.registry, commands.names, commands.available_modes, self.local_tables
            )
            self._prompt = build_prompt(
                completer,
                self._history(),
                multi_line=self.config.multi_line,
                vi=self.config.key_bindings == "vi",
                input=self._input,
                output=self._output,
            )
        return self._prompt

    def _history(self) -> History:
        if self._history_path is None or self.config.history_size == 0:
            return InMemoryHistory()
        path = Path(self._history_path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(exist_ok=True)
        except OSError as exc:
            self.message(f"warning: history is not kept: cannot write {path}: {exc.strerror}")
            return InMemoryHistory()
        return BoundedFileHistory(path, self.config.history_size)

    def local_tables(self) -> Sequence[LocalTable]:
        """The session's own DuckDB tables and views (read again after each statement)."""
        if self._local is None:
            try:
                self._local = self.session.store.local_tables()
            except Error:
                self._local = []
        return self._local

    # -- running ---------------------------------------------------------------------------

    def submit(self, text: str) -> bool:
        """Run one submission (a command or SQL); False when the shell should end.

        Raises:
            KeyboardInterrupt: Ctrl-C; the requests in flight have been cancelled.
        """
        if not text.strip():
            return True
        command = command_line(text)
        if command is not None:
            return self.commands.run(command)
        if is_quit(text):
            return False
        self.run_sql(text)
        return True

    def run_sql(self, sql: str) -> None:
        """Plan every statement, confirm the risky ones, then run them one by one."""
        try:
            plans = self.session.plans(sql)
        except Exception as exc:
            self._report(exc)
            return
        self.last_sql = sql
        try:
            risky = [(p, reason) for p in plans if (reason := risk(self.session, p))]
            if risky and not self.yes and not self._confirm(risky):
                return
            for plan in plans:
                if not self._run_statement(plan.statement):
                    return
        finally:
            self.settings.close_once()  # .once is for this statement's results only
            self._local = None  # it may have made or dropped a local table

    def _run_statement(self, statement: str) -> bool:
        started = time.perf_counter()
        try:
            with self._running():
                results = self.session.execute(statement)
        except WriteFailedError as exc:
            if isinstance(exc.result, Result) and exc.result.rows:
                self.show(exc.result)  # what did succeed is shown before the error
            self._report(exc)
            return False
        except Exception as exc:
            self._report(exc)
            return False
        elapsed = time.perf_counter() - started
        quiet = _first_word(statement) in QUIET  # DuckDB answers them with a Count
        for result in results:
            if not (quiet and result.columns == ["Count"]):
                self.show(result)
            for warning in result.warnings:
                self.message(f"warning: {warning}")
            if self.settings.timing:
                self.message(timing_line(elapsed, result))
        return True

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        """While the Session works: its status line shows; after, it is gone for good."""
        if isinstance(self.status, StatusGate):
            with self.status.running():
                yield
        else:
            try:
                yield
            finally:
                self._clear_status()

    def _confirm(self, risky: list[tuple[Plan, str]]) -> bool:
        for plan, reason in risky:
            self.message(f"{_brief(plan.statement)}\n  {reason}")
            # Listing the requests may read the objects; only worth it when someone answers.
            if self.interactive and not self._show_requests(plan):
                return False
        if not self.interactive:
            self.error("not sent: destructive statements need a yes; run the shell with --yes")
            return False
        question = "Send it? [y/N] " if len(risky) == 1 else "Send them? [y/N] "
        try:
            answer = PromptSession[str](input=self._input, output=self._output).prompt(question)
        except (KeyboardInterrupt, EOFError):
            answer = ""
        if answer.strip().lower() in YES:
            return True
        self.message("not sent")
        return False

    def _show_requests(self, plan: Plan) -> bool:
        """Show the requests a write would send (reading the objects it selects, if it
        selects by reading); False when even that failed, so nothing is sent."""
        try:
            with self._running():
                requests = [line for line in self.session.describe(plan) if line]
        except Exception as exc:
            self._report(exc)
            return False
        writes = [r for r in requests if r.split(" ", 1)[0] in WRITE_VERBS or r.startswith("(no ")]
        for line in writes[:SHOWN_REQUESTS]:
            self.message("  " + line.replace("\n", "\n  "))
        if len(writes) > SHOWN_REQUESTS:
            self.message(f"  ... and {len(writes) - SHOWN_REQUESTS} more requests")
        return True

    # -- \watch and \e ---------------------------------------------------------------------

    def watch(self, argument: str) -> bool:
        """``\\watch [SECONDS]``: the last statement again every SECONDS until Ctrl-C."""
        pager, ttl = self.display.pager, self.session.cache_ttl
        self.display.pager = None  # a pager would stop the watch at each run
        self.session.set_cache_ttl(0)  # each run reads afresh: the point is to see changes
        try:
            return watching.watch(self, argument)
        finally:
            self.display.pager = pager
            self.session.set_cache_ttl(ttl)

    def watchable(self) -> list[str] | None:
        """The last statement's parts, when none of them writes; else None (said why)."""
        if self.last_sql is None:
            self.error("no statement to watch yet: run one first, then \\watch")
            return None
        try:
            plans = self.session.plans(self.last_sql)
        except Exception as exc:
            self._report(exc)
            return None
        if not all(p.mutation is None and _first_word(p.statement) in READS for p in plans):
            self.error("\\watch runs only queries (SELECT, SHOW, ...); the last statement writes")
            return None
        return [p.statement for p in plans]

    def run_watched(self, statements: list[str]) -> bool:
        """Run the watched statements once; False when one failed."""
        try:
            return all(self._run_statement(s) for s in statements)
        finally:
            self.settings.close_once()
            self._local = None

    def clear_screen(self) -> None:
        """Clear the terminal before each run of a watch (not a file, not a pipe)."""
        if self.display.terminal is not None and self.settings.target() is None:
            self.stdout.write(watching.CLEAR_SCREEN)
            self.stdout.flush()

    def edit(self, argument: str) -> bool:
        """``\\e``: the last statement in ``$EDITOR``; the result waits at the next prompt."""
        if argument:
            self.error(f"write \\e alone (it edits the last statement), not \\e {argument}")
            return True
        if not self.interactive:
            self.error("\\e needs a terminal: it opens an editor")
            return True
        try:
            self._next_text = editor.edit(self.last_sql or "")
        except OSError as exc:
            self.error(str(exc))
        return True

    # -- writing ---------------------------------------------------------------------------

    def show(self, result: Result) -> None:
        """Show ``result`` in the current mode, where results go now."""
        if not result.columns:  # DDL and the like: nothing to show
            return
        options = self.settings.output_options()
        try:
            shown = self.display.show_result(result, options, self.settings.target())
        except ValueError as exc:
            self.error(f"cannot show results in mode {options.mode}: {exc}; try .mode table")
            return
        if shown.cut:
            self.message(
                "note: wide table cut to the terminal width; "
                ".mode line or .output FILE shows every column"
            )

    def write(self, text: str) -> None:
        """Text for the current output (listings): the ``.output`` file, or the terminal."""
        target = self.settings.target() or self.stdout
        target.write(text)
        target.flush()

    def message(self, text: str) -> None:
        """A line for the user (on stderr, so results piped elsewhere stay clean)."""
        self._clear_status()
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def error(self, text: str) -> None:
        """An ``error: ...`` line; in a script, after the file and line it comes from."""
        self.errors += 1
        self.message(f"error: {self._where()}{text}")

    def _where(self) -> str:
        return f"{self._locations[-1]}: " if self._locations else ""

    def _report(self, exc: BaseException) -> None:
        if self.debug:
            traceback.print_exception(exc, file=self.stderr)
        if isinstance(exc, Error):
            self.error(str(exc))
        else:
            self.errors += 1
            hint = "" if self.debug else " (run with --debug for the traceback)"
            self.message(f"internal error: {self._where()}{type(exc).__name__}: {exc}{hint}")

    def _clear_status(self) -> None:
        if self.status is not None:
            self.status.clear()


def _first_word(statement: str) -> str:
    words = mask(statement).text.split(None, 1)
    return words[0].upper() if words else ""


def _brief(statement: str, width: int = 100) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def run_shell(
    options: ConnectOptions | None = None,
    yes: bool = False,
    history: str | None = None,
    debug: bool = False,
) -> int:
    """``sqlprovider shell``: the exit code (0, or 1 when a script had errors)."""
    loaded = load_config()
    for problem in loaded.problems:  # said once; the shell starts with the defaults
        print(f"error: {problem}", file=sys.stderr)
    status = StatusGate(StatusLine(sys.stderr)) if sys.stderr.isatty() else None
    options = ConnectOptions.of(options, progress=status)
    if not options.verify_tls:
        print("warning: TLS certificate verification is off (--insecure)", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said once, above
        session = Session(options)
    terminal: TerminalSize | None = terminal_size if sys.stdout.isatty() else None
    interactive = sys.stdin.isatty()
    if interactive:
        # Ctrl-C must cancel a statement even when the shell was started with SIGINT ignored
        # (as a background job is), which Python would otherwise keep.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        shell = Shell(
            session,
            yes=yes,
            debug=debug,
            history=(history or default_history_path()) if interactive else None,
            terminal=terminal,
            pager=pager_of(loaded.config.pager) if terminal is not None else None,
            status=status,
            config=loaded.config,
        )
        return shell.interact() if interactive else shell.run_lines(sys.stdin)
    finally:
        session.close()
