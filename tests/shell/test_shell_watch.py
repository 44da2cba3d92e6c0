"""``\\watch`` (the last statement again every N seconds until Ctrl-C) and ``\\e`` / Ctrl-X
Ctrl-E (the statement in ``$EDITOR``), driven through pipe input and a real terminal."""

from __future__ import annotations

import io
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from prompt_toolkit.input import PipeInput

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.session import Session
from sqlprovider.shell import Shell
from tests.shell.kit import JOBS, Terminal, buffer_text, drive, drive_with, run_script, wait_for

COUNT = f"SELECT count(*) AS n FROM {JOBS};"


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as the interactive shell makes sure it does."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def press_ctrl_c() -> None:
    """What the terminal does on Ctrl-C: SIGINT to the shell (its main thread)."""
    main = threading.main_thread().ident
    assert main is not None
    signal.pthread_kill(main, signal.SIGINT)


def _out(shell: Shell) -> str:
    return cast(io.StringIO, shell.stdout).getvalue()


def _count_requests(server: EmulatorServer) -> int:
    return sum(e.path == "/v2/gen-ai/indexing_jobs" for e in server.log.entries())


def test_watch_runs_the_last_statement_until_ctrl_c(
    session: Session, server: EmulatorServer, ctrl_c: None
) -> None:
    server.log.clear()

    def typing(typed: PipeInput, shell: Shell) -> None:
        typed.send_text(COUNT + "\r")
        assert wait_for(lambda: _count_requests(server) == 1)
        typed.send_text("\\watch 0.5\r")
        # After the third run, while it waits for the fourth (a run takes milliseconds).
        assert wait_for(lambda: _out(shell).count("│ 40 │") == 4)
        press_ctrl_c()
        time.sleep(0.3)
        typed.send_text("SELECT 42 AS answer;\r.quit\r")

    run = drive_with(session, typing)
    headers = [line for line in run.err.splitlines() if line.startswith("every 0.5 s, ")]
    assert len(headers) == 3
    assert all(line.endswith(f"(Ctrl-C stops): {COUNT[:-1]}") for line in headers), headers
    assert run.out.count("│ 40 │") == _count_requests(server) == len(headers) + 1
    assert "│     42 │" in run.out  # the prompt came back
    assert "cancelled" not in run.err  # Ctrl-C came between two runs: nothing to cancel


def test_watch_needs_a_query_and_a_number(session: Session) -> None:
    run = drive(
        session,
        "\\watch\r",
        "CREATE TABLE t (a INTEGER);\r",
        "INSERT INTO t VALUES (1);\r",
        ".watch 2\r",
        "SELECT 1 AS one;\r",
        "\\watch soon\r",
        "\\watch 0\r",
        ".quit\r",
    )
    assert run.err.splitlines() == [
        "error: no statement to watch yet: run one first, then \\watch",
        "error: \\watch runs only queries (SELECT, SHOW, ...); the last statement writes",
        "error: write \\watch SECONDS (a number above 0), not \\watch soon",
        "error: write \\watch SECONDS (a number above 0), not \\watch 0",
    ]


def test_an_error_ends_the_watch(session: Session) -> None:
    run = drive(session, "SELECT error('boom') AS x;\r", "\\watch 0.1\r", ".quit\r")
    errors = [line for line in run.err.splitlines() if line.startswith("error: ")]
    assert errors == ["error: boom", "error: boom"]  # typed, then watched once


def test_watch_in_a_terminal_clears_the_screen_and_ctrl_c_cancels_a_fetch(
    server: EmulatorServer, tmp_path: Path
) -> None:
    terminal = Terminal(["shell", "--server", f"digitalocean={server.url}"], home=tmp_path)
    try:
        terminal.expect("sqlprovider> ")
        terminal.type(COUNT + "\r")
        terminal.expect("│ 40 │")
        terminal.type("\\watch 0.3\r")
        terminal.expect("\033[H\033[2J")  # a cleared screen for each run
        terminal.expect("│ 40 │")
        terminal.expect("\033[H\033[2J")
        terminal.expect("│ 40 │")
        terminal.type("\x03")  # between two runs
        terminal.expect("sqlprovider> ")
        # The next runs wait for an answer that is slow to come: Ctrl-C cancels the fetch.
        server.faults.delay("GET", "/v2/gen-ai/indexing_jobs", seconds=30, times=None)
        terminal.type("\\watch 1\r")
        terminal.expect("every 1 s")
        time.sleep(0.5)
        pressed = time.monotonic()
        terminal.type("\x03")
        terminal.expect("cancelled")
        terminal.expect("sqlprovider> ")
        assert time.monotonic() - pressed < 3
        server.faults.clear()
        terminal.type("SELECT 6 * 7 AS answer;\r")
        terminal.expect("42")
        terminal.type("\\q\r")
        assert terminal.wait() == 0
    finally:
        server.faults.clear()
        terminal.close()


# -- the editor ----------------------------------------------------------------------------


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``$EDITOR`` that turns 7 into 8 in the file it is given, and logs what it saw."""
    script = tmp_path / "edit.sh"
    script.write_text(f'#!/bin/sh\ncat "$1" >> {tmp_path}/seen\nsed -i "s/7/8/" "$1"\n')
    script.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script))
    return tmp_path / "seen"


def test_backslash_e_edits_the_last_statement(session: Session, editor: Path) -> None:
    waiting: list[str] = []

    def typing(typed: PipeInput, shell: Shell) -> None:
        typed.send_text("SELECT 7 AS n;\r")
        typed.send_text("\\e\r")
        assert wait_for(lambda: buffer_text(shell) == "SELECT 8 AS n;")
        waiting.append(buffer_text(shell))  # back at the prompt, not run yet
        typed.send_text("\r.quit\r")

    run = drive_with(session, typing)
    assert editor.read_text() == "SELECT 7 AS n;\n"
    assert waiting == ["SELECT 8 AS n;"]
    answers = [line for line in run.out.splitlines() if line in ("│ 7 │", "│ 8 │")]
    assert answers == ["│ 7 │", "│ 8 │"]
    assert run.err == ""


def test_ctrl_x_ctrl_e_edits_what_is_typed(session: Session, editor: Path) -> None:
    def typing(typed: PipeInput, shell: Shell) -> None:
        typed.send_text("SELECT 7 AS n")
        assert wait_for(lambda: buffer_text(shell) == "SELECT 7 AS n")
        typed.send_text("\x18\x05")  # Ctrl-X Ctrl-E
        assert wait_for(lambda: buffer_text(shell) == "SELECT 8 AS n")
        typed.send_text(";\r.quit\r")

    run = drive_with(session, typing)
    assert editor.read_text().rstrip("\n") == "SELECT 7 AS n"
    assert "│ 8 │" in run.out and "│ 7 │" not in run.out


def test_an_editor_that_fails_changes_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISUAL", "false")
    run = drive(session, "SELECT 7 AS n;\r", "\\e\r", ".quit\r")
    assert run.err == "error: the editor false failed (exit code 1); nothing changed\n"
    assert run.out.count("│ 7 │") == 1


def test_backslash_e_in_a_script_is_an_error() -> None:
    done = run_script("SELECT 1 AS a;\n\\e\n")
    assert done.stderr == "error: <stdin>:2: \\e needs a terminal: it opens an editor\n"
