"""Defects of the shell found by using it as psql and pgcli users do (issue 14), each driven
as a person drives it: keys through prompt_toolkit's pipe input, a real terminal (a pty),
or a script on standard input."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prompt_toolkit.input import PipeInput

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.session import Session
from sqlprovider.shell import Shell
from sqlprovider.shell.config import Config
from sqlprovider.shell.scanner import is_complete, submissions
from tests.shell.kit import (
    JOBS,
    Terminal,
    buffer_text,
    child_env,
    completions,
    drive,
    drive_with,
    menu,
    run_script,
    start_emulator,
    wait_for,
)

# -- Ctrl-R --------------------------------------------------------------------------------


@pytest.mark.parametrize("keys", ["emacs", "vi"])
def test_ctrl_r_recalls_a_statement_and_ctrl_c_or_escape_leave_the_search_quietly(
    session: Session, capfd: pytest.CaptureFixture[str], keys: str
) -> None:
    """In both key binding modes (the config file's key_bindings); in vi's, Enter and
    Escape leave the search in navigation mode, as in vi, and Enter still runs."""
    recalled: list[str] = []

    def typing(typed: PipeInput, shell: Shell) -> None:
        def search(text: str) -> None:
            typed.send_text("\x12")  # Ctrl-R
            assert wait_for(lambda: _searching(shell))
            typed.send_text(text)
            assert wait_for(lambda: _search_text(shell) == text)

        typed.send_text("SELECT 7 AS seven;\r")
        typed.send_text("SELECT 8 AS eight;\r")
        assert wait_for(lambda: len(_history(shell)) == 2)
        search("seven")
        typed.send_text("\r")  # Enter takes what was found; it waits at the prompt
        assert wait_for(lambda: not _searching(shell))
        recalled.append(buffer_text(shell))
        typed.send_text("\r")  # and Enter runs it
        search("eig")
        typed.send_text("\x03")  # Ctrl-C: back to an empty prompt, nothing run
        assert wait_for(lambda: not _searching(shell))
        recalled.append(buffer_text(shell))
        search("eig")
        typed.send_text("\x1b")  # Escape: as in readline, what was found stays, not run
        assert wait_for(lambda: not _searching(shell), timeout=3)
        recalled.append(buffer_text(shell))
        typed.send_text("\r")
        assert wait_for(lambda: buffer_text(shell) == "" and not _searching(shell))
        typed.send_text(".quit\r")

    run = drive_with(session, typing, timeout=10, config=Config(key_bindings=keys))
    printed = capfd.readouterr()
    assert recalled == ["SELECT 7 AS seven;", "", "SELECT 8 AS eight;"]
    assert [line.strip("│ ") for line in run.out.splitlines() if line.startswith("│ ")] == [
        "seven",
        "7",
        "eight",
        "8",
        "seven",
        "7",
        "eight",
        "8",
    ]
    assert run.err == ""
    assert "Unhandled exception" not in printed.out + printed.err
    assert "Traceback" not in printed.out + printed.err


@pytest.mark.parametrize("keys", ["emacs", "vi"])
def test_alt_enter_runs_an_unfinished_statement(session: Session, keys: str) -> None:
    def typing(typed: PipeInput, shell: Shell) -> None:
        typed.send_text("SELECT 5 AS five\rUNION ALL SELECT 6")
        assert wait_for(lambda: buffer_text(shell).endswith("SELECT 6"))  # Enter: a new line
        typed.send_text("\x1b\r")  # Alt-Enter (Escape, Enter)
        assert wait_for(lambda: "6 │" in _printed(shell))
        typed.send_text(".quit\r")

    run = drive_with(session, typing, timeout=10, config=Config(key_bindings=keys))
    assert [line.strip("│ ") for line in run.out.splitlines() if line.startswith("│ ")] == [
        "five",
        "5",
        "6",
    ]
    assert run.err == "" and run.code == 0


def _printed(shell: Shell) -> str:
    assert isinstance(shell.stdout, io.StringIO)
    return shell.stdout.getvalue()


def _searching(shell: Shell) -> bool:
    prompt = shell._prompt
    return prompt is not None and bool(prompt.app.layout.search_links)


def _search_text(shell: Shell) -> str:
    prompt = shell._prompt
    if prompt is None:
        return ""
    return str(prompt.app.current_buffer.text) if _searching(shell) else ""


def _history(shell: Shell) -> list[str]:
    prompt = shell._prompt
    return [] if prompt is None else list(prompt.history.get_strings())


# -- comments before commands; errors that name the file and line --------------------------


def test_a_comment_before_a_dot_command_on_standard_input() -> None:
    done = run_script("-- c\n.mode json\nSELECT 1 AS a;\n")
    assert done.stderr == "" and done.returncode == 0
    assert json.loads(done.stdout) == [{"a": 1}]


def test_a_comment_before_a_dot_command_at_the_prompt(session: Session) -> None:
    run = drive(session, "-- the rows as JSON\r", ".mode json\r", "SELECT 1 AS a;\r", ".quit\r")
    assert run.err == ""
    assert json.loads(run.out.split("\n", 1)[1]) == [{"a": 1}]


def test_errors_of_a_script_name_stdin_and_the_line() -> None:
    script = (
        "-- a report\n"  # 1
        ".mode csv\n"  # 2
        "SELECT 1 AS a;\n"  # 3
        "\n"  # 4
        "/* the next one fails */\n"  # 5
        "SELECT nope\n"  # 6
        "  FROM (SELECT 1);\n"  # 7
        ".mode yaml\n"  # 8
        "SELECT 2 AS b;\n"  # 9
    )
    done = run_script(script)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2, done.stderr
    assert errors[0].startswith("error: <stdin>:6: ") and "nope" in errors[0]
    assert errors[1].startswith("error: <stdin>:8: unknown mode 'yaml'")
    assert done.stdout == "a\n1\nb\n2\n"
    assert done.returncode == 1


def test_errors_of_a_read_file_name_the_file_and_the_line(session: Session, tmp_path: Path) -> None:
    inner = tmp_path / "inner.sql"
    inner.write_text("-- inner\n.mode csv\nSELECT 1 AS a;\nSELECT * FROM nowhere;\n")
    outer = tmp_path / "outer.sql"
    outer.write_text(f"-- outer\n.read {inner}\n.nonsense\n")
    run = drive(session, f".read {outer}\r", "SELEC 1;\r", ".quit\r")
    errors = [line for line in run.err.splitlines() if line.startswith("error: ")]
    assert errors[0].startswith(f"error: {inner}:4: ") and "nowhere" in errors[0]
    assert errors[1].startswith(f"error: {outer}:3: unknown command .nonsense")
    assert errors[2].startswith("error: syntax error")  # typed: no place to name
    assert len(errors) == 3


def test_scripts_skip_comments_before_commands() -> None:
    lines = ["-- c\n", ".mode json\n", "/* b\n", ".mode csv */\n", "SELECT 1;\n", "-- d\n"]
    assert list(submissions(lines)) == [(2, ".mode json"), (5, "/* b\n.mode csv */\nSELECT 1;\n")]
    assert list(submissions(["-- c\n", "\n", "SELECT 1\n", ";\n"])) == [
        (3, "-- c\n\nSELECT 1\n;\n")
    ]


# -- the prompt after Ctrl-C during a wait -------------------------------------------------


def test_the_prompt_is_drawn_after_ctrl_c_during_a_429_wait(tmp_path: Path) -> None:
    """The cancelled wait used to clear its status line after the prompt was drawn, which
    erased the prompt (about 4 times in 13): the prompt must be the last thing shown."""
    server = start_emulator()
    server.faults.fail("GET", "/v2/gen-ai/indexing_jobs", status=429, retry_after=60, times=None)
    terminal = Terminal(["shell", "--server", f"digitalocean={server.url}"], home=tmp_path)
    try:
        terminal.expect("sqlprovider> ")
        for attempt in range(3):  # the old failure was a race: try it a few times
            terminal.type(f"SELECT count(*) AS n FROM {JOBS};\r")
            terminal.expect("retry 1 of")
            terminal.type("\x03")
            terminal.expect("cancelled")
            shown = terminal.read_for(1.0)
            after_erase = shown.rsplit(b"\x1b[K", 1)[-1]
            assert b"sqlprovider> " in after_erase, f"try {attempt + 1}: {shown!r}"
            terminal.expect("sqlprovider> ")
        terminal.type("SELECT 6 * 7 AS answer;\r")
        terminal.expect("42")
        terminal.type(".quit\r")
        assert terminal.wait() == 0
    finally:
        terminal.close()
        server.stop()


# -- completion after ';', commands that run at once, local tables, .providers -------------


def test_no_completion_menu_after_a_semicolon(session: Session) -> None:
    statement = f"SELECT count(*) AS n FROM {JOBS};"
    assert completions(session, statement, tab=False) == []
    assert completions(session, statement + " ", tab=False) == []
    assert completions(session, "", tab=False) == []
    assert "SELECT" in completions(session, statement + " ")  # Tab still offers
    assert completions(session, "SELECT * FROM dig", tab=False) == ["digitalocean"]

    seen: list[list[str]] = []

    def typing(typed: PipeInput, shell: Shell) -> None:
        typed.send_text(statement)
        assert wait_for(lambda: buffer_text(shell) == statement)
        wait_for(lambda: bool(menu(shell)), timeout=0.5)  # a menu would open by now
        seen.append(menu(shell))
        typed.send_text("\r.quit\r")

    run = drive_with(session, typing)
    assert seen == [[]]
    assert "│ 40 │" in run.out and run.err == ""


def test_help_and_backslash_commands_run_at_once(session: Session) -> None:
    for typed in ("help", "HELP;", "\\?", "\\d x", "\\dt", "-- c\n\\q"):
        assert is_complete(typed), typed
    run = drive(
        session,
        "help\r",
        "\\?\r",
        "\\d digitalocean.genai.knowledge_bases\r",
        "\\q\r",
    )
    assert run.code == 0
    assert run.err.count(".tables [PATTERN]") == 2  # the help, twice
    assert "│ column " in run.out and "│ last_indexing_job_phase " in run.out


def test_local_tables_are_listed_and_completed(session: Session) -> None:
    keys = (
        "CREATE TABLE runs AS SELECT 1 AS run_id, 'done' AS outcome;\r",
        "CREATE VIEW recent AS SELECT run_id FROM runs;\r",
        ".tables\r",
        ".tables run*\r",
        ".quit\r",
    )
    run = drive(session, *keys)
    listed = run.out.splitlines()[1:]
    assert "digitalocean.genai.indexing_jobs" in listed  # provider tables first
    width = max(len(line.split()[0]) for line in listed[:-1])
    assert listed[-3:] == [
        "recent".ljust(width) + "  (local view)",
        "runs".ljust(width) + "  (local table)",
        "runs  (local table)",  # .tables run*
    ]
    assert completions(session, "SELECT * FROM ru") == ["runs"]
    assert {"run_id", "outcome"} <= set(completions(session, "SELECT  FROM runs", 7))
    assert completions(session, "SELECT r.o FROM runs AS r", len("SELECT r.o")) == ["outcome"]
    assert completions(session, "SELECT  FROM recent", 7)[0] == "run_id"


def test_providers_are_listed_in_aligned_columns(session: Session) -> None:
    run = drive(session, ".providers\r.quit\r")
    lines = run.out.splitlines()[1:]
    names = session.registry.names()
    assert [line.split()[0] for line in lines] == names
    width = max(len(n) for n in names) + 2
    titles = [session.registry.get(n).title for n in names]
    assert [line[width:] for line in lines] == titles


def test_dot_commands_of_a_script_after_a_failed_statement(server: EmulatorServer) -> None:
    done = run_script(
        f"SELECT * FROM {JOBS}z;\n-- then\n.mode json\nSELECT 3 AS c;\n",
        "--server",
        f"digitalocean={server.url}",
    )
    assert json.loads(done.stdout) == [{"c": 3}]
    assert done.stderr.startswith("error: <stdin>:1: ") and done.returncode == 1


# -- messages for people, as the shell and exec print them ---------------------------------


def test_messages_name_the_fix_in_the_users_words(tmp_path: Path) -> None:
    """What psql users type by habit, without a token: one line each, naming the fix; no
    DuckDB catalog, no sqlglot class, no Python call, no Jinja's ``dict object``."""
    script = (
        "SELECT * FROM indexing_jobs;\n"
        "SELECT * FROM digitalocean.genai.indexing_jobs WHERE uuid = 'x' AND;\n"
        f"SELECT uuid FROM {JOBS};\n"
    )
    no_token = child_env(HOME=str(tmp_path), XDG_CONFIG_HOME="")
    for name in ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"):
        no_token.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "sqlprovider", "shell"],
        input=script,
        capture_output=True,
        text=True,
        env=no_token,
        timeout=30,
    )
    errors = done.stderr.splitlines()
    assert len(errors) == 3 and done.returncode == 1, done.stderr
    assert errors[0].startswith("error: <stdin>:1: unknown table 'indexing_jobs'")
    assert f"did you mean '{JOBS}'?" in errors[0] and "pg_" not in errors[0]
    assert errors[1].startswith("error: <stdin>:2: syntax error")
    assert "AND is not finished" in errors[1]
    assert "digitalocean needs credentials: set DIGITALOCEAN_TOKEN" in errors[2]
    assert "auth.yaml" in errors[2] and "connect(" not in errors[2]
    assert not re.search(r"\b[A-Z][a-z]+(Error|Expression|Exception)\b|exp\.", done.stderr)

    template = subprocess.run(
        [sys.executable, "-m", "sqlprovider", "exec", "SELECT '{{ env.NOPE }}' AS x"],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=30,
    )
    assert template.returncode == 1 and template.stdout == ""
    assert template.stderr == (
        "error: <command line>: the SQL uses {{ env.NOPE }} but the environment variable "
        "NOPE is not set; set it (export NOPE=...)\n"
    )
