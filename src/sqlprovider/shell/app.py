"""The shell itself: read what the user types, run it on a Session, show what came back.

Interactive when standard input is a terminal (prompt_toolkit: history, completion,
highlighting, multi-line statements); otherwise it reads statements from standard input
and prints only results and messages, like ``duckdb < script.sql``. Everything it talks
to (input, output, streams, terminal size, pager) can be injected, so tests drive it
through prompt_toolkit's pipe input without a terminal.
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import AnyFormattedText
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output

from sqlprovider import __version__
from sqlprovider.errors import Error, WriteFailedError
from sqlprovider.options import ConnectOptions
from sqlprovider.output import StatusLine, render
from sqlprovider.plan import Plan
from sqlprovider.result import Result
from sqlprovider.session import Session
from sqlprovider.shell import commands
from sqlprovider.shell.commands import Commands, Settings
from sqlprovider.shell.completion import SqlCompleter
from sqlprovider.shell.confirmation import risk
from sqlprovider.shell.display import (
    Display,
    Pager,
    TerminalSize,
    system_pager,
    timing_line,
)
from sqlprovider.shell.scanner import is_complete, is_dot_command, is_quit, submissions

PROMPT = "sqlprovider> "
YES = ("y", "yes")


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
        status: the Session's progress line, cleared before anything else is printed.
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
        status: StatusLine | None = None,
    ) -> None:
        self.session = session
        self.registry = session.registry
        self.yes = yes
        self.debug = debug
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.status = status
        self.settings = Settings()
        self.display = Display(self.stdout, terminal, pager)
        self.commands = Commands(self, self._write_result_text)
        self.errors = 0
        self.interactive = False  # whether a user is there to answer questions
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
                    text = prompt.prompt()
                except KeyboardInterrupt:  # Ctrl-C while typing: start over
                    continue
                except EOFError:  # Ctrl-D
                    break
                try:
                    if not self.submit(text):
                        break
                except KeyboardInterrupt:  # Ctrl-C while a statement (or .read) runs
                    self.message("cancelled")
        finally:
            self.settings.close_sink()
        return 0

    def run_lines(self, lines: Iterable[str]) -> int:
        """Run a script (standard input that is not a terminal); 1 if anything failed.

        Ctrl-C stops the whole script: the KeyboardInterrupt goes to the caller.
        """
        try:
            for _, text in submissions(lines):
                if not self.submit(text):
                    break
        finally:
            self.settings.close_sink()
        return 1 if self.errors else 0

    def run_file(self, path: Path) -> bool:
        """Run the statements and dot commands of ``path`` (``.read``)."""
        try:
            handle = path.open(encoding="utf-8")
        except OSError as exc:
            self.error(f"cannot read {path}: {exc.strerror}")
            return True
        self.settings.reading.append(path.resolve())
        try:
            with handle:
                return all(self.submit(text) for _, text in submissions(handle))
        finally:
            self.settings.reading.pop()

    def _prompt_session(self) -> PromptSession[str]:
        if self._prompt is None:
            self._prompt = PromptSession(
                PROMPT,
                multiline=Condition(lambda: not is_complete(get_app().current_buffer.text)),
                prompt_continuation=_continuation,
                lexer=_sql_lexer(),
                completer=SqlCompleter(self.registry, commands.names, commands.available_modes),
                complete_while_typing=True,
                auto_suggest=AutoSuggestFromHistory(),
                history=self._history(),
                enable_history_search=False,
                input=self._input,
                output=self._output,
            )
        return self._prompt

    def _history(self) -> History:
        if self._history_path is None:
            return InMemoryHistory()
        path = Path(self._history_path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(exist_ok=True)
        except OSError as exc:
            self.message(f"warning: history is not kept: cannot write {path}: {exc.strerror}")
            return InMemoryHistory()
        return FileHistory(str(path))

    # -- running ---------------------------------------------------------------------------

    def submit(self, text: str) -> bool:
        """Run one submission (a dot command or SQL); False when the shell should end.

        Raises:
            KeyboardInterrupt: Ctrl-C; the requests in flight have been cancelled.
        """
        if not text.strip():
            return True
        if is_dot_command(text):
            return self.commands.run(text.strip().splitlines()[0])
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
        risky = [(p, reason) for p in plans if (reason := risk(self.session, p))]
        if risky and not self.yes and not self._confirm(risky):
            return
        for plan in plans:
            if not self._run_statement(plan.statement):
                return

    def _run_statement(self, statement: str) -> bool:
        started = time.perf_counter()
        try:
            results = self.session.execute(statement)
        except WriteFailedError as exc:
            if isinstance(exc.result, Result) and exc.result.rows:
                self._show(exc.result)  # what did succeed is shown before the error
            self._report(exc)
            return False
        except Exception as exc:
            self._report(exc)
            return False
        finally:
            self._clear_status()
        elapsed = time.perf_counter() - started
        for result in results:
            self._show(result)
            for warning in result.warnings:
                self.message(f"warning: {warning}")
            if self.settings.timing:
                self.message(timing_line(elapsed, result))
        return True

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

    # -- writing ---------------------------------------------------------------------------

    def _show(self, result: Result) -> None:
        if not result.columns:  # DDL and the like: nothing to show
            return
        mode = self.settings.mode
        try:
            text = render(result, mode)
        except ValueError as exc:
            self.error(f"cannot show results in mode {mode}: {exc}; try .mode table")
            return
        shown = self.display.show(text, mode, self.settings.sink)
        if shown.cut:
            self.message(
                "note: wide table cut to the terminal width; "
                ".mode line or .output FILE shows every column"
            )

    def _write_result_text(self, text: str) -> None:
        target = self.settings.sink or self.stdout
        target.write(text)
        target.flush()

    def message(self, text: str) -> None:
        """A line for the user (on stderr, so results piped elsewhere stay clean)."""
        self._clear_status()
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def error(self, text: str) -> None:
        """An ``error: ...`` line."""
        self.errors += 1
        self.message(f"error: {text}")

    def _report(self, exc: BaseException) -> None:
        if self.debug:
            traceback.print_exception(exc, file=self.stderr)
        if isinstance(exc, Error):
            self.error(str(exc))
        else:
            self.errors += 1
            hint = "" if self.debug else " (run with --debug for the traceback)"
            self.message(f"internal error: {type(exc).__name__}: {exc}{hint}")

    def _clear_status(self) -> None:
        if self.status is not None:
            self.status.clear()


def _sql_lexer() -> PygmentsLexer:
    """Pygments' ANSI SQL lexer (pygments has no type stubs, hence the indirect import)."""
    return PygmentsLexer(importlib.import_module("pygments.lexers.sql").SqlLexer)


def _continuation(width: int, line_number: int, wrap_count: int) -> AnyFormattedText:
    return "-> ".rjust(width)


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
    status = StatusLine(sys.stderr) if sys.stderr.isatty() else None
    options = ConnectOptions.of(options, progress=status)
    if not options.verify_tls:
        print("warning: TLS certificate verification is off (--insecure)", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said once, above
        session = Session(options)
    terminal: TerminalSize | None = None
    if sys.stdout.isatty():
        terminal = _terminal_size
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
            pager=system_pager if terminal is not None else None,
            status=status,
        )
        return shell.interact() if interactive else shell.run_lines(sys.stdin)
    finally:
        session.close()


def _terminal_size() -> tuple[int, int]:
    size = shutil.get_terminal_size()
    return size.columns, size.lines
