"""psql's shortcuts beside the dot commands (``\\d``, ``\\dt``, ``\\dn``, ``\\x``, ``\\timing``,
``\\o``, ``\\i``, ``\\q``, ``\\?``), ``.schema``, and the display commands (``.nullvalue``,
``.headers``, ``.once``), typed at the prompt."""

from __future__ import annotations

import json
from pathlib import Path

from sqlprovider.session import Session
from tests.shell.kit import JOBS, completions, drive


def _tables(out: str) -> list[list[str]]:
    """The rows of the boxed tables in ``out``, as lists of cells (headers included)."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in out.splitlines()
        if line.startswith("│")
    ]


def test_backslash_dt_lists_provider_and_local_tables(session: Session) -> None:
    run = drive(
        session,
        "CREATE TABLE notes AS SELECT 1 AS id;\r",
        "\\dt\r",
        "\\dt genai*\r",
        "\\dt notes\r",
        "\\dt indexing\r",  # as in psql, plain text is the whole name (or its tail)
        ".quit\r",
    )
    every, genai, notes, indexing = _results(run.out)
    resources = sorted(
        r.qualified_name
        for name in session.registry.names()
        for r in session.registry.get(name).resources()
    )
    assert every[0] == ["name", "type", "description"]
    assert [r[:2] for r in every[1:]] == [
        *([name, "provider table"] for name in resources),
        ["notes", "local table"],
    ]
    assert [r[0] for r in genai[1:]] == [n for n in resources if ".genai." in n]
    assert notes[1:] == [["notes", "local table", ""]]
    assert indexing[1:] == []
    assert run.err == ""


def _results(out: str) -> list[list[list[str]]]:
    """Each boxed table in ``out``: its rows (the header first) as lists of cells."""
    found: list[list[list[str]]] = []
    for line in out.splitlines():
        if line.startswith("┌"):
            found.append([])
        elif line.startswith("│"):
            found[-1].append([cell.strip() for cell in line.strip("│").split("│")])
    return found


def test_backslash_dn_lists_provider_services_as_schemas(session: Session) -> None:
    run = drive(session, "\\dn\r", "\\dn digitalocean*\r", ".quit\r")
    rows = _tables(run.out)
    assert rows[0] == ["schema", "provider", "tables", "description"]
    schemas = [r[0] for r in rows if r[0] != "schema"]
    expected = [
        f"{name}.{service}"
        for name in session.registry.names()
        for service in session.registry.get(name).services
    ]
    assert schemas == [*expected, "digitalocean.genai"]
    assert rows[-1][:3] == ["digitalocean.genai", "DigitalOcean", "4"]


def test_backslash_d_describes_a_table(session: Session) -> None:
    run = drive(
        session,
        "CREATE TABLE notes (id INTEGER, body VARCHAR);\r",
        f"\\d {JOBS}\r",
        f"\\d+ {JOBS};\r",
        "\\d notes\r",
        "\\d not a name\r",
        ".quit\r",
    )
    rows = _tables(run.out)
    headers = [r for r in rows if r[0] in ("column", "column_name")]
    assert [h[:3] for h in headers[:2]] == [["column", "type", "description"]] * 2
    assert headers[1][3] == "filters"  # \d+ is DESCRIBE EXTENDED
    assert headers[2][:2] == ["column_name", "column_type"]  # DuckDB's own DESCRIBE
    assert next(r[:2] for r in rows if r[0] == "phase") == ["phase", "VARCHAR"]
    assert next(r[:2] for r in rows if r[0] == "body") == ["body", "VARCHAR"]
    assert run.err.startswith("error: not a name is not a table name")


def test_schema_prints_create_statements(session: Session) -> None:
    run = drive(
        session,
        "CREATE TABLE notes (id INTEGER, body VARCHAR);\r",
        ".schema openverse.ingestion.health\r",
        ".schema notes\r",
        ".schema nothing_like_it\r",
        ".quit\r",
    )
    assert run.out.splitlines()[1:] == [
        "CREATE TABLE openverse.ingestion.health (",
        "  status VARCHAR,",
        "  dependencies JSON,",
        "  check_deps BOOLEAN",
        ");",
        "CREATE TABLE notes(id INTEGER, body VARCHAR);",
    ]
    assert run.err == "no table matches nothing_like_it\n"


def test_timing_output_and_read_shortcuts(session: Session, tmp_path: Path) -> None:
    script = tmp_path / "two.sql"
    script.write_text("SELECT 1 AS one;\nSELECT 2 AS two;\n")
    target = tmp_path / "out.txt"
    run = drive(
        session,
        "\\timing\r",
        ".mode csv\r",
        f"\\o {target}\r",
        f"\\i {script}\r",
        "\\o\r",
        "\\timing\r",
        "SELECT 3 AS three;\r",
        "\\q\r",
    )
    assert target.read_text() == "one\n1\ntwo\n2\n"
    assert run.out.splitlines()[1:] == ["three", "3"]
    messages = run.err.splitlines()
    assert messages[0] == "timing is on"
    assert [m.startswith("time: ") for m in messages[1:3]] == [True, True]
    assert messages[3:] == ["timing is off"]


def test_help_lists_the_dot_commands_and_psql_shortcuts(session: Session) -> None:
    run = drive(session, ".help\r", "\\foo\r", ".quit\r")
    for usage in (".schema [PATTERN]", ".once FILE", ".watch [SECONDS]", "\\dt [PATTERN]"):
        assert usage in run.err
    for usage in ("\\x [on|off|auto]", "\\watch [SECONDS]", "\\e", "Ctrl-R", "Ctrl-X Ctrl-E"):
        assert usage in run.err
    assert run.err.splitlines()[-1] == "error: unknown command \\foo; type \\? to list the commands"


def test_commands_complete(session: Session) -> None:
    assert completions(session, "\\d") == ["\\d", "\\d+", "\\dt", "\\dn"]
    assert completions(session, "\\x ") == ["on", "off", "auto"]
    assert completions(session, ".he") == [".help", ".headers"]
    assert completions(session, ".headers o") == ["on", "off"]
    assert JOBS in completions(session, "\\d indexing_j")


# -- how results are shown -----------------------------------------------------------------


def test_mode_line_shows_one_line_per_column(session: Session) -> None:
    run = drive(session, ".mode line\r", "SELECT 1 AS id, 'a' AS name;\r", ".quit\r")
    assert [line.strip() for line in run.out.splitlines()[1:3]] == ["id = 1", "name = a"]


def test_once_sends_the_next_result_only_to_a_file(session: Session, tmp_path: Path) -> None:
    once = tmp_path / "once.json"
    run = drive(
        session,
        ".mode json\r",
        f".once {once}\r",
        "SELECT 1 AS a;\r",
        "SELECT 2 AS a;\r",
        ".once\r",
        ".quit\r",
    )
    assert json.loads(once.read_text()) == [{"a": 1}]
    assert json.loads(run.out.split("\n", 1)[1]) == [{"a": 2}]
    assert run.err == "error: write .once FILE\n"
