"""The interactive shell, driven as a user drives it: keys through prompt_toolkit's pipe
input, a real terminal (a pty) for Ctrl-C, and standard input for scripts. Every request
goes to an emulator or a silent socket on loopback."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from sqlprovider.emulators.digitalocean import DigitalOceanConfig, create_app
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.output import StatusLine
from sqlprovider.session import Session
from sqlprovider.shell import Shell
from sqlprovider.shell.config import Config
from sqlprovider.shell.confirmation import risk
from sqlprovider.shell.display import system_pager
from sqlprovider.shell.scanner import is_complete, submissions
from tests.shell.kit import (
    JOBS,
    TOKEN,
    Silent,
    Terminal,
    all_jobs,
    api,
    buffer_text,
    child_env,
    completions,
    drive,
    menu,
    start_emulator,
    wait_for,
)

TABLES = Config(expanded="off")  # wide rows stay tables (cut), not records

# -- completion ----------------------------------------------------------------------------


def test_completion_offers_the_columns_and_params_of_the_resources_in_the_statement(
    session: Session,
) -> None:
    text = f"SELECT  FROM {JOBS} WHERE "
    after_select = completions(session, text, len("SELECT "))
    after_where = completions(session, text)
    for offered in (after_select, after_where):
        assert {"uuid", "phase", "status", "created_at", "knowledge_base_uuid"} <= set(offered)
        assert "per_page" in offered  # a param, not a column
        assert offered.index("uuid") < offered.index("SELECT")  # names before keywords
    assert completions(session, f"SELECT * FROM {JOBS} WHERE kno") == ["knowledge_base_uuid"]
    assert completions(session, f"SELECT j.ph FROM {JOBS} AS j", len("SELECT j.ph")) == ["phase"]
    assert "uuid" not in completions(session, "SELECT  FROM local_table", len("SELECT "))


def test_completion_walks_provider_service_resource_and_dot_commands(session: Session) -> None:
    assert completions(session, "SELECT * FROM dig") == ["digitalocean"]
    assert completions(session, "SELECT * FROM digitalocean.") == ["genai"]
    assert set(completions(session, "SELECT * FROM digitalocean.genai.")) == {
        "indexing_jobs",
        "indexing_job_data_sources",
        "knowledge_bases",
        "knowledge_base_data_sources",
    }
    assert JOBS in completions(session, "SELECT * FROM indexing_j")
    assert completions(session, "sel") == ["select"]  # keywords in the case typed
    assert completions(session, "SEL") == ["SELECT"]
    assert completions(session, "SELECT 'digitalocean.") == []  # inside a string
    assert completions(session, ".ti") == [".timing"]
    assert completions(session, ".mode js") == ["json", "jsonl"]
    exec_call = "EXEC digitalocean.genai.indexing_jobs.genai_create_indexing_job @"
    assert "@knowledge_base_uuid" in completions(session, exec_call)


def test_tab_completes_a_column_at_the_prompt(session: Session, server: EmulatorServer) -> None:
    out, err = io.StringIO(), io.StringIO()
    with create_pipe_input() as typed:
        shell = Shell(session, input=typed, output=DummyOutput(), stdout=out, stderr=err)

        def type_keys() -> None:  # type, wait for the menu, Tab, wait for the word, go on
            typed.send_text(f"SELECT count(*) AS n FROM {JOBS} WHERE pha")
            wait_for(lambda: menu(shell) == ["phase"])
            typed.send_text("\t")
            wait_for(lambda: buffer_text(shell).endswith("WHERE phase"))
            typed.send_text(" = 'BATCH_JOB_PHASE_SUCCEEDED';\r.quit\r")

        feeder = threading.Thread(target=type_keys, daemon=True)
        feeder.start()
        shell.interact()
        feeder.join(5)
    succeeded = [j for j in all_jobs(server) if j["phase"] == "BATCH_JOB_PHASE_SUCCEEDED"]
    assert err.getvalue() == ""
    assert f"│ {len(succeeded)} │" in out.getvalue().replace("  ", " ")


# -- running statements --------------------------------------------------------------------


def test_a_query_prints_a_table(session: Session, server: EmulatorServer) -> None:
    run = drive(session, f"SELECT uuid, phase\nFROM {JOBS}\nORDER BY uuid\nLIMIT 3;\r.quit\r")
    expected = sorted(all_jobs(server), key=lambda j: j["uuid"])[:3]
    lines = run.out.splitlines()
    assert lines[0].startswith("sqlprovider ") and ".help" in lines[0]  # the banner
    assert lines[1].startswith("┌") and "│ uuid" in lines[2] and "phase" in lines[2]
    body = [line for line in lines if line.startswith("│ ") and "uuid" not in line]
    assert [line.split("│")[1].strip() for line in body] == [j["uuid"] for j in expected]
    assert [line.split("│")[2].strip() for line in body] == [j["phase"] for j in expected]
    assert "3 rows" in run.out
    assert run.err == "" and run.code == 0


def test_mode_json_prints_the_rows_as_json(session: Session, server: EmulatorServer) -> None:
    query = f"SELECT uuid, phase, total_tokens FROM {JOBS} ORDER BY uuid LIMIT 5;\r"
    run = drive(session, ".mode json\r" + query + ".quit\r")
    _banner, body = run.out.split("\n", 1)
    rows = json.loads(body)
    expected = sorted(all_jobs(server), key=lambda j: j["uuid"])[:5]
    assert [r["uuid"] for r in rows] == [j["uuid"] for j in expected]
    assert [r["phase"] for r in rows] == [j["phase"] for j in expected]
    assert [r["total_tokens"] for r in rows] == [int(j["total_tokens"]) for j in expected]


def test_timing_on_prints_the_cost_of_each_statement(session: Session) -> None:
    run = drive(session, f".timing on\rSELECT count(*) AS n FROM {JOBS};\r.quit\r")
    [line] = [line for line in run.err.splitlines() if line.startswith("time:")]
    fields = dict(part.split(": ") for part in line.split("  "))
    assert float(fields["time"].removesuffix(" s")) > 0
    assert int(fields["requests"]) == 1 and int(fields["pages"]) == 1
    assert int(fields["rows"]) == 40 and int(fields["retries"]) == 0
    assert fields["bytes"].endswith("KB")


def test_an_error_prints_one_line_and_the_shell_goes_on(session: Session) -> None:
    keys = (
        "SELEC 1;\r"
        "SELECT * FROM digitalocean.genai.indexing_jobz;\r"
        ".nonsense\r"
        ".mode yaml\r"
        "SELECT 42 AS answer;\r.quit\r"
    )
    run = drive(session, keys)
    errors = run.err.splitlines()
    assert len(errors) == 4 and all(e.startswith("error: ") for e in errors)
    assert "syntax error" in errors[0]
    assert "indexing_jobz" in errors[1] and "did you mean" in errors[1]
    assert ".help" in errors[2]
    assert "markdown" in errors[3]  # the modes there are
    assert "Traceback" not in run.err
    assert "│     42 │" in run.out


def test_tables_and_providers_list_what_there_is(session: Session) -> None:
    run = drive(session, ".tables genai*\r.tables %knowledge_base%\r.providers\r.quit\r")
    listed = run.out.splitlines()[1:]
    genai = [
        "digitalocean.genai.indexing_job_data_sources",
        "digitalocean.genai.indexing_jobs",
        "digitalocean.genai.knowledge_base_data_sources",
        "digitalocean.genai.knowledge_bases",
    ]
    assert listed[:4] == genai
    assert listed[4:6] == genai[2:]
    assert {line.split()[0] for line in listed[6:]} == set(session.registry.names())


def test_ctrl_c_clears_the_line_and_ctrl_d_ends_the_shell(session: Session) -> None:
    run = drive(session, "SELECT 1 AS one\r", "\x03", "SELECT 2 AS two;\r", "\x04")
    assert run.code == 0 and run.err == ""
    assert "two" in run.out and "one" not in run.out


def test_a_statement_is_sent_once_it_ends_with_a_semicolon(session: Session) -> None:
    keys = "SELECT ';' AS s, -- a ; in a comment\r'x' AS t\r/* ; */\r;\r.quit\r"
    run = drive(session, ".mode jsonl\r" + keys)
    assert json.loads(run.out.splitlines()[1]) == {"s": ";", "t": "x"}


def test_history_is_kept_in_a_file(session: Session, tmp_path: Path) -> None:
    history = tmp_path / "state" / "sqlprovider" / "history"
    drive(session, "SELECT 7 AS seven;\r.quit\r", history=str(history))
    assert "+SELECT 7 AS seven;" in history.read_text()


# -- output --------------------------------------------------------------------------------


def test_output_sends_results_to_a_file_and_read_runs_one(session: Session, tmp_path: Path) -> None:
    script = tmp_path / "script.sql"
    script.write_text(".mode csv\nSELECT 1 AS a,\n  2 AS b;\n-- done\nSELECT 3 AS a, 4 AS b;\n")
    target = tmp_path / "out.csv"
    keys = f".output {target}\r.read {script}\r.output\rSELECT 5 AS c;\r.read {tmp_path}/no.sql\r"
    run = drive(session, keys + ".quit\r")
    assert target.read_text() == "a,b\n1,2\na,b\n3,4\n"
    assert run.out.splitlines()[1:] == ["c", "5"]
    assert run.err.startswith("error: cannot read ") and run.err.count("\n") == 1


def test_wide_tables_are_cut_and_tall_ones_paged(session: Session) -> None:
    paged: list[str] = []
    keys = "SELECT repeat('x', 80) AS wide;\rSELECT * FROM range(30) AS t(n);\r.quit\r"
    terminal = lambda: (40, 20)  # noqa: E731
    run = drive(session, keys, terminal=terminal, pager=paged.append, config=TABLES)
    table = run.out.splitlines()[1:]
    assert table and all(len(line) <= 40 for line in table)
    assert table[3].endswith("…")
    assert "note: wide table cut" in run.err
    assert len(paged) == 1 and "30 rows" in paged[0]


def test_waits_show_on_a_status_line_that_is_cleared_after() -> None:
    config = DigitalOceanConfig(token=TOKEN, jobs=5, rate_limited=False, burst_429=1)
    server = EmulatorServer(create_app(config)).start()  # one 429 asking to wait 1 s
    terminal = io.StringIO()
    status = StatusLine(terminal)
    auth = {"digitalocean": {"token": TOKEN}}
    session = Session(servers={"digitalocean": server.url}, auth=auth, progress=status)
    try:
        run = drive(session, f"SELECT count(*) AS n FROM {JOBS};\r.quit\r", status=status)
    finally:
        session.close()
        server.stop()
    shown = terminal.getvalue()
    assert f"\r\033[K{JOBS}: HTTP 429, retry 1 of" in shown
    assert shown.endswith("\r\033[K") and not status.shown  # gone before the result
    assert "│ 5 │" in run.out and run.err == ""


def test_the_pager_is_dollar_pager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paged = tmp_path / "paged.txt"
    monkeypatch.setenv("PAGER", f"cat > '{paged}'")
    system_pager("a long result\n" * 100)
    assert paged.read_text() == "a long result\n" * 100


# -- confirmation --------------------------------------------------------------------------


def test_delete_asks_first_and_n_sends_nothing(tmp_path: Path) -> None:
    server = start_emulator()
    try:
        session = Session(
            servers={"digitalocean": server.url}, auth={"digitalocean": {"token": TOKEN}}
        )
        try:
            base = api(server, "/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"]
            uuid = base[0]["uuid"]
            delete = f"DELETE FROM digitalocean.genai.knowledge_bases WHERE uuid = '{uuid}';\r"
            server.log.clear()
            path = f"/v2/gen-ai/knowledge_bases/{uuid}"
            refused = drive(session, delete, "n\r", ".quit\r")
            assert "genai_delete_knowledge_base" in refused.err
            assert f"DELETE {server.url}{path}" in refused.err  # the question shows it
            assert refused.err.rstrip().endswith("not sent")
            assert [(e.method, e.path) for e in server.log.entries()] == [("GET", path)]
            server.log.clear()
            drive(session, delete, "y\r", ".quit\r")
            writes = [(e.method, e.path) for e in server.log.entries() if e.method != "GET"]
            assert writes == [("DELETE", path)]
            server.log.clear()
            # An id that does not exist is read, found missing, and nothing is deleted.
            drive(session, delete.replace(uuid, "kb-gone"), ".quit\r", yes=True)
            assert [e.method for e in server.log.entries()] == ["GET"]
        finally:
            session.close()
    finally:
        server.stop()


def test_the_question_lists_the_objects_a_select_then_write_would_delete() -> None:
    server = start_emulator()
    try:
        session = Session(
            servers={"digitalocean": server.url}, auth={"digitalocean": {"token": TOKEN}}
        )
        try:
            base = api(server, "/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"]
            chosen = base[2]
            delete = (
                f"DELETE FROM digitalocean.genai.knowledge_bases WHERE name = '{chosen['name']}';\r"
            )
            server.log.clear()
            refused = drive(session, delete, "n\r", ".quit\r")
            # It read the knowledge bases to find the one named so, and wrote nothing.
            assert f"DELETE {server.url}/v2/gen-ai/knowledge_bases/{chosen['uuid']}" in refused.err
            assert refused.err.count("DELETE http") == 1
            assert {e.method for e in server.log.entries()} == {"GET"}
        finally:
            session.close()
    finally:
        server.stop()


def test_a_write_is_destructive_for_some_values_only() -> None:
    session = Session()
    try:
        tasks = "openverse.ingestion.tasks"

        def why(sql: str) -> str | None:
            [plan] = session.plans(sql)
            return risk(session, plan)

        assert why(f"INSERT INTO {tasks} (model, action) VALUES ('image', 'REINDEX')") is None
        deleting = f"INSERT INTO {tasks} (data__model, data__action, alias) VALUES "
        reason = why(deleting + "('image', 'REINDEX', 'a'), ('audio', 'DELETE_INDEX', 'b')")
        assert reason is not None and "action = DELETE_INDEX" in reason
        # names as the planner reads them: any case, either spelling of a body field
        upper = why(f"INSERT INTO {tasks} (DATA__MODEL, Action) VALUES ('audio', 'DELETE_INDEX')")
        assert upper is not None and "action = DELETE_INDEX" in upper
        call = f"EXEC {tasks}.create_task @model = 'image', @action = 'DELETE_INDEX', @alias = 'a'"
        assert why(call) is not None
        unknown = why(f"INSERT INTO {tasks} (model, action) SELECT 'image', action FROM {tasks}")
        assert unknown is not None and "not known" in unknown
        assert why("SELECT 1") is None
        session.execute("CREATE TABLE t AS SELECT 1 AS a")
        assert why("DELETE FROM t WHERE a = 1") == "deletes rows"
    finally:
        session.close()


# -- cancelling ----------------------------------------------------------------------------


def test_ctrl_c_cancels_a_running_query(silent_server: Silent, tmp_path: Path) -> None:
    main = threading.main_thread().ident
    assert main is not None and threading.current_thread().ident == main

    done = threading.Event()  # the shell has ended: no more presses

    def press_ctrl_c() -> None:  # what the terminal does on Ctrl-C: SIGINT
        if not silent_server.accepted.wait(10):
            return
        # Pressed again until the request is cancelled, as a user would: on a loaded
        # machine one press can land before the statement waits for its answer.
        for _ in range(20):
            time.sleep(0.1)
            if done.is_set():
                return
            signal.pthread_kill(main, signal.SIGINT)
            if silent_server.hung_up.wait(0.4):
                return

    auth = {"digitalocean": {"token": TOKEN}}
    session = Session(servers={"digitalocean": silent_server.url}, auth=auth)
    # SIGINT raises KeyboardInterrupt here even if this run inherited it ignored (a
    # background job does), as the interactive shell itself ensures.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        presser = threading.Thread(target=press_ctrl_c, daemon=True)
        presser.start()
        started = time.monotonic()
        script = tmp_path / "slow.sql"  # Ctrl-C stops the whole script, not one statement
        script.write_text(f"SELECT * FROM {JOBS};\nSELECT 'not reached' AS after;\n")
        run = drive(session, f".read {script}\rSELECT 42 AS answer;\r.quit\r")
        took = time.monotonic() - started
        done.set()  # a late press must not land in the closing below
        presser.join(5)
        # the request in flight was cancelled (its connection closed), not left to time out
        assert silent_server.hung_up.wait(5)
    finally:
        signal.signal(signal.SIGINT, previous)
        session.close()
    assert silent_server.accepted.is_set()
    assert run.err == "cancelled\n"
    assert "│     42 │" in run.out and "not reached" not in run.out
    assert took < 5  # the request itself would have waited 30 s


def test_ctrl_c_in_a_real_terminal(silent_server: Silent, tmp_path: Path) -> None:
    url = silent_server.url
    terminal = Terminal(["shell", "--server", f"digitalocean={url}"], home=tmp_path)
    try:
        terminal.expect("Type .help")
        terminal.expect("sqlprovider> ")
        terminal.type(f"SELECT * FROM {JOBS};\r")
        assert silent_server.accepted.wait(10)
        time.sleep(0.2)
        pressed = time.monotonic()
        terminal.type("\x03")
        terminal.expect("cancelled")
        terminal.expect("sqlprovider> ")
        assert time.monotonic() - pressed < 3
        terminal.type("SELECT 6 * 7 AS answer;\r")
        terminal.expect("42")
        terminal.type(".quit\r")
        assert terminal.wait() == 0
    finally:
        terminal.close()
    history = tmp_path / ".local" / "state" / "sqlprovider" / "history"
    assert f"+SELECT * FROM {JOBS};" in history.read_text()


# -- scripts on standard input -------------------------------------------------------------


def test_a_script_on_standard_input_prints_results_without_prompts(
    server: EmulatorServer,
) -> None:
    script = (
        ".mode json\n"
        f"SELECT uuid FROM {JOBS}\n  ORDER BY uuid LIMIT 2;\n"
        "SELECT nope;\n"
        "DELETE FROM digitalocean.genai.knowledge_bases WHERE uuid = 'x';\n"
    )
    server.log.clear()
    done = subprocess.run(
        [sys.executable, "-m", "sqlprovider", "shell", "--server", f"digitalocean={server.url}"],
        input=script,
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=30,
    )
    sent = [e.method for e in server.log.entries()]
    expected = sorted(j["uuid"] for j in all_jobs(server))[:2]
    assert done.stdout.startswith("["), done.stderr
    assert json.loads(done.stdout) == [{"uuid": u} for u in expected]  # no banner, no prompt
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2, done.stderr
    assert "nope" in errors[0] and "--yes" in errors[1]
    assert done.returncode == 1
    assert sent == ["GET"], done.stderr  # the DELETE was not sent


def test_scripts_split_into_what_a_user_would_type() -> None:
    lines = [".mode csv\n", "SELECT 1;\n", "SELECT ';\n", "' AS s; -- ;\n", "SELECT 2\n"]
    assert list(submissions(lines)) == [
        (1, ".mode csv"),
        (2, "SELECT 1;\n"),
        (3, "SELECT ';\n' AS s; -- ;\n"),
        (5, "SELECT 2\n"),
    ]
    assert is_complete("SELECT $$ ; $$;") and not is_complete("SELECT $$ ; $$")
    assert not is_complete("SELECT 1 /* ; */") and not is_complete("SELECT 'a;")
    assert is_complete(".tables") and is_complete("") and is_complete("quit")
