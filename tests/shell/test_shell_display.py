"""How results are shown, as the shell's commands and config file set it: NULL's text,
column names, column types and expanded records (psql's ``\\x``), rendered by the one
formatter (``sqlprovider.output``)."""

from __future__ import annotations

from sqlprovider.session import Session
from sqlprovider.shell.config import Config
from tests.shell.kit import drive


def _tables(out: str) -> list[list[str]]:
    """The rows of the boxed tables in ``out``, as lists of cells (headers included)."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in out.splitlines()
        if line.startswith("│")
    ]


def test_nullvalue_and_headers(session: Session) -> None:
    query = "SELECT NULL AS missing, '' AS empty, 'x' AS given;\r"
    run = drive(
        session, ".nullvalue '∅'\r", query, ".headers off\r", query, ".nullvalue\r", ".quit\r"
    )
    first, second = run.out.split("row\n")[:2]
    assert _tables(first) == [["missing", "empty", "given"], ["∅", "", "x"]]
    assert _tables(second) == [["∅", "", "x"]]  # no header row
    assert run.err == "nullvalue: '∅'\n"


def test_expanded_display_on_off_and_auto(session: Session) -> None:
    wide = "SELECT 1 AS id, repeat('x', 60) AS long_text;\r"
    run = drive(
        session,
        "\\x\r",  # toggles: on
        "SELECT 1 AS id;\r",
        "\\x\r",  # off
        "SELECT 2 AS id;\r",
        "\\x auto\r",
        "SELECT 3 AS id;\r",  # narrow enough: a table
        wide,  # wider than the terminal: records
        "\\x sideways\r",
        ".quit\r",
        terminal=lambda: (50, 100),
    )
    messages = run.err.splitlines()
    assert messages[:3] == [
        "expanded display is on",
        "expanded display is off",
        "expanded display is auto",
    ]
    assert messages[3].startswith("error: write \\x on, \\x off or \\x auto")
    out = run.out
    assert out.count("RECORD 1") == 2  # the first query, and the wide one
    assert "│  2 │" in out and "│  3 │" in out
    assert "long_text" in out and "┬" not in out.split("│  3 │")[1]


def test_mode_timing_null_display_and_types_from_the_file(session: Session) -> None:
    config = Config(mode="table", timing=True, null_display="(null)", show_types=True)
    run = drive(session, "SELECT 1 AS a, NULL::INTEGER AS b;\r", ".quit\r", config=config)
    rows = [line for line in run.out.splitlines() if line.startswith("│")]
    assert [cell.strip() for cell in rows[1].strip("│").split("│")] == ["integer", "integer"]
    assert "(null)" in rows[2]
    assert run.err.startswith("time: ")


def test_expanded_on_from_the_file(session: Session) -> None:
    run = drive(session, "SELECT 1 AS a;\r", ".quit\r", config=Config(expanded="on"))
    assert "RECORD 1" in run.out
