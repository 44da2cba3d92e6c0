"""One formatter for the shell and ``exec``: the same result prints the same bytes in every
mode whichever of them prints it, whether Python or DuckDB's COPY writes it; NULL, ``''``
and ``'NULL'`` never print alike in csv, json and jsonl; and the layouts for people (tables,
expanded records, column types, EXPLAIN) behave as psql and the DuckDB CLI do.

Results are made by DuckDB from random typed values (hypothesis), so the oracle for each
value is DuckDB itself.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlprovider.cli import script
from sqlprovider.options import ConnectOptions
from sqlprovider.output import FORMATS, OutputOptions, Rendered, render, rendered, shown
from sqlprovider.result import Result
from sqlprovider.session import Session
from sqlprovider.shell.app import Shell
from sqlprovider.shell.display import Display
from sqlprovider.sql import split_statements
from sqlprovider.store import Store

DATA_MODES = ("csv", "json", "jsonl")

# -- random results, as SQL DuckDB evaluates ---------------------------------------------------

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12
) | st.sampled_from(["", "NULL", "null", "a,b", 'say "hi"', "two\nlines", "#x", " pad ", "日本"])


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _json_values() -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | _TEXT
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
        max_leaves=6,
    )


def _float_sql(value: float) -> str:
    return f"CAST('{value!r}' AS DOUBLE)"


@dataclass(frozen=True)
class Column:
    """A DuckDB type, its random values and how to write one of them in SQL."""

    kind: str
    values: st.SearchStrategy[Any]

    def sql(self, value: Any) -> str:
        if value is None:
            return f"CAST(NULL AS {self.kind})"
        if self.kind.endswith("[]"):
            inner = COLUMNS[self.kind[:-2]]
            return f"CAST([{', '.join(inner.sql(v) for v in value)}] AS {self.kind})"
        if self.kind == "DOUBLE":
            return _float_sql(value)
        if self.kind == "JSON":
            return f"CAST({_string(json.dumps(value, ensure_ascii=False))} AS JSON)"
        return f"CAST({_string(str(value))} AS {self.kind})"


_MOMENTS = st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59))
COLUMNS = {
    column.kind: column
    for column in (
        Column("VARCHAR", _TEXT),
        Column("BIGINT", st.integers(-(2**63), 2**63 - 1)),
        Column("UBIGINT", st.integers(0, 2**64 - 1)),
        Column("HUGEINT", st.integers(-(2**127) + 1, 2**127 - 1)),
        Column("DOUBLE", st.floats() | st.sampled_from([1e20, 1e21, 1e-7, -0.0, 0.1])),
        Column(
            "DECIMAL(18,3)",
            st.decimals(-(10**14), 10**14, places=3, allow_nan=False, allow_infinity=False),
        ),
        Column("BOOLEAN", st.booleans()),
        Column("DATE", st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
        Column("TIMESTAMP", _MOMENTS),
        Column("TIMESTAMPTZ", _MOMENTS.map(lambda m: f"{m}+00")),
        Column("JSON", _json_values()),
        Column("UUID", st.uuids()),
    )
}
COLUMNS["VARCHAR[]"] = Column("VARCHAR[]", st.lists(st.none() | _TEXT, max_size=3))
COLUMNS["BIGINT[]"] = Column("BIGINT[]", st.lists(st.none() | st.integers(-99, 99), max_size=3))
COLUMNS["DOUBLE[]"] = Column("DOUBLE[]", st.lists(st.none() | st.floats(), max_size=3))
_NAMES = st.sampled_from(["a", "b", "A", "name", "x,y", 'q"q', "é", "#n", "two words"])


@st.composite
def queries(draw: st.DrawFn, min_rows: int = 0) -> tuple[str, list[str]]:
    """A query of random typed columns (names may repeat) and rows; and its columns' SQL."""
    kinds = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=4))
    columns = [COLUMNS[k] for k in kinds]
    names = [draw(_NAMES) for _ in columns]
    cells = st.tuples(*(c.values.map(c.sql) | st.just(c.sql(None)) for c in columns))
    rows = draw(st.lists(cells, min_size=min_rows, max_size=4))
    return _select(names, rows, columns), names


def _select(names: list[str], rows: list[tuple[str, ...]], columns: list[Column]) -> str:
    outputs = ", ".join(
        f'v.c{i} AS "{name.replace(chr(34), chr(34) * 2)}"' for i, name in enumerate(names)
    )
    if not rows:
        nulls = ", ".join(c.sql(None) for c in columns)
        return f"SELECT {outputs} FROM (SELECT {nulls}) v({_aliases(columns)}) WHERE false"
    values = ", ".join("(" + ", ".join(row) + ")" for row in rows)
    return f"SELECT {outputs} FROM (VALUES {values}) v({_aliases(columns)})"


def _aliases(columns: list[Column]) -> str:
    return ", ".join(f"c{i}" for i in range(len(columns)))


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    kept = Store()
    yield kept
    kept.close()


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    kept = Session(ConnectOptions())
    yield kept
    kept.close()


def _exported(store: Store, sql: str, fmt: str) -> str:
    stream = io.BytesIO()
    store.export(sql, fmt=fmt, stream=stream)
    return stream.getvalue().decode()


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- the same bytes, whoever writes them ---------------------------------------------------------


@FUZZ
@given(query=queries())
def test_duckdb_and_python_write_the_same_bytes(store: Store, query: tuple[str, list[str]]) -> None:
    """exec has DuckDB write csv, json and jsonl (COPY); rows already in Python (the shell,
    write outcomes) are printed by the formatter: the bytes are the same."""
    sql, _ = query
    result = store.run(sql)
    for fmt in DATA_MODES:
        assert render(result, fmt) == _exported(store, sql, fmt), fmt


def _shell_output(session: Session, mode: str, sql: str) -> str:
    """What the shell prints for ``sql`` after ``.mode MODE``, its other settings left as
    they start."""
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(session, stdout=out, stderr=err)
    assert shell.run_lines([f".mode {mode}\n", sql + ";\n"]) == 0, err.getvalue()
    return out.getvalue()


def _exec_options(mode: str) -> OutputOptions:
    """The options ``sqlprovider exec -o MODE`` runs with, its other options left out."""
    from sqlprovider.cli.main import build_parser

    args = build_parser().parse_args(["exec", "-o", mode, "SELECT 1"])
    return script.output_options(args, io.StringIO())


def _exec_output(session: Session, options: OutputOptions, sql: str) -> str:
    """What ``sqlprovider exec`` writes to a pipe (its statement runner, on ``session``)."""
    out = io.StringIO()
    sink = script._Sink.stdout(out)
    [statement] = split_statements(sql)
    script._run_statement(session, statement, options, False, sink)
    sink.close()
    return out.getvalue()


@FUZZ
@given(query=queries(), mode=st.sampled_from(FORMATS))
def test_the_shell_and_exec_print_the_same_bytes(
    session: Session, query: tuple[str, list[str]], mode: str
) -> None:
    """Each with the settings it starts with: the defaults agree too."""
    sql, _ = query
    assert _exec_output(session, _exec_options(mode), sql) == _shell_output(session, mode, sql)


def test_the_shell_and_exec_agree_on_a_result_of_every_kind_of_value(session: Session) -> None:
    """A fixed result with the values the issue names: timestamps, lists, NULL and ''."""
    sql = (
        "SELECT * FROM (VALUES "
        "(TIMESTAMPTZ '2024-01-02 03:04:05+02', ['a', 'b'], NULL, '{\"k\": [1, 2]}'::JSON), "
        "(NULL, [], '', NULL), "
        "(TIMESTAMPTZ '2024-01-02 03:04:05.5+00', ['', NULL], 'NULL', 'null'::JSON)"
        ") t(moment, tags, s, doc)"
    )
    for mode in FORMATS:
        assert _exec_output(session, _exec_options(mode), sql) == _shell_output(session, mode, sql)
    csv_text = _shell_output(session, "csv", sql)
    assert csv_text.splitlines() == [
        "moment,tags,s,doc",
        '2024-01-02T01:04:05Z,"[""a"",""b""]",,"{""k"": [1, 2]}"',  # JSON text as stored
        ',[],"",',
        '2024-01-02T03:04:05.500000Z,"["""",null]",NULL,null',
    ]


# -- NULL is not '' and not 'NULL' -----------------------------------------------------------


@FUZZ
@given(query=queries(min_rows=1))
def test_null_empty_and_the_word_null_never_print_alike(
    store: Store, query: tuple[str, list[str]]
) -> None:
    """The same row but for one field that is NULL, '' or 'NULL': three different outputs,
    in every data format and from both hands."""
    sql, _ = query
    probes = ("NULL", "''", "'NULL'")
    for fmt in DATA_MODES:
        python = {render(store.run(_with_probe(sql, p)), fmt) for p in probes}
        duckdb = {_exported(store, _with_probe(sql, p), fmt) for p in probes}
        assert len(python) == len(duckdb) == 3, fmt


def _with_probe(sql: str, probe: str) -> str:
    return f"SELECT q.*, CAST({probe} AS VARCHAR) AS probe FROM ({sql}) q"


# In the layouts for people: any value, any null display. The cell of NULL is the null
# display; a value's cell never looks like it (trailing blanks are invisible: padding), and no
# control character but a layout's line break is printed; a value written as a SQL string
# reads back as itself in DuckDB (the oracle).

_ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8) | (
    st.sampled_from(["", " ", "NULL", "NULL ", "null", "''", "E'\\n'", "a\nb", "\x1b[2J", "\x85"])
)
_NULL_DISPLAYS = st.sampled_from(["", "NULL", "(null)", " ", "''", "∅"]) | st.text(
    st.characters(exclude_categories=("Cc", "Cs")), max_size=4
)
READABLE = ("table", "records", "line", "markdown")


@settings(max_examples=300, deadline=None)
@given(value=_ANY_TEXT, null=_NULL_DISPLAYS, mode=st.sampled_from(READABLE))
def test_no_value_prints_as_null_and_no_control_character_is_printed(
    value: str, null: str, mode: str
) -> None:
    result = Result(["s"], ["VARCHAR"], [(None,), (value,)])
    expanded = "on" if mode == "records" else "off"
    options = OutputOptions("table" if mode == "records" else mode, null, expanded=expanded)
    text = render(result, options)
    null_cell, value_cell = _cells(text, mode)
    shown_null = null.replace("\\", "\\\\").replace("|", "\\|") if mode == "markdown" else null
    assert null_cell.rstrip() == shown_null.rstrip()
    assert value_cell.rstrip() != null_cell.rstrip(), (mode, text)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", text), text
    if mode in ("table", "markdown"):  # one line per row
        assert text.count("\n") == (7 if mode == "table" else 4)


def _cells(text: str, mode: str) -> list[str]:
    """The two cells of a one-column result, as printed (line breaks kept)."""
    lines = text.rstrip("\n").split("\n")  # not splitlines: U+2028 is a value's own
    if mode == "table":
        return [line[2:-2] for line in lines[3:5]]
    if mode == "markdown":
        return [line[2:-2] for line in lines[2:4]]
    if mode == "line":
        blocks = text.split("\n\n", 1)  # NULL's block has no line break in it
        return [block.rstrip("\n").split(" =", 1)[1].removeprefix(" ") for block in blocks]
    blocks = "\n".join(lines[:-1]).split("\n-[ RECORD 2 ]")
    return [
        "\n".join(part.split(" |", 1)[1].removeprefix(" ") for part in block.split("\n")[1:])
        for block in blocks
    ]


@settings(max_examples=200, deadline=None)
@given(value=_ANY_TEXT, null=_NULL_DISPLAYS, breaks=st.booleans())
def test_a_value_written_as_a_sql_string_reads_back_as_itself(
    store: Store, value: str, null: str, breaks: bool
) -> None:
    cell = shown(value, null, breaks)
    if cell == value:
        return
    assert cell.rstrip() != null.rstrip()
    if cell.startswith("'E''"):
        return  # the escape string is the null display itself: quoted once more, as text
    assert store.run(f"SELECT {cell} AS v").rows == [(value,)], cell


def test_by_default_null_is_empty_and_empty_text_is_two_quotes() -> None:
    """psql's default NULL (nothing), but the empty string and 'NULL' both stand apart."""
    result = Result(["s"], ["VARCHAR"], [(None,), ("",), ("NULL",), (" ",)])
    assert render(result, "table").splitlines()[3:7] == [
        "│      │",
        "│ ''   │",
        "│ NULL │",
        "│ ' '  │",
    ]
    assert render(result, "csv") == 's\n\n""\nNULL\n \n'  # as DuckDB's COPY
    assert render(result, "jsonl") == '{"s":null}\n{"s":""}\n{"s":"NULL"}\n{"s":" "}\n'
    shown_as_null = render(result, OutputOptions(mode="line", null_display="NULL"))
    assert shown_as_null.split("\n\n") == ["s = NULL", "s =", "s = 'NULL'", "s =  \n"]


def test_control_characters_are_escaped_and_line_breaks_kept_where_the_layout_shows_them() -> None:
    result = Result(
        ["note", "tags"],
        ["VARCHAR", "VARCHAR[]"],
        [("bell\x07 it's", ["\x1b[31m", "NULL", None]), ("two\nlines", ["x"])],
    )
    assert render(result, "table").splitlines()[3:5] == [
        "│ E'bell\\x07 it''s' │ [E'\\x1b[31m', 'NULL', NULL] │",
        "│ E'two\\nlines'     │ [x]                         │",
    ]
    assert render(result, OutputOptions(expanded="on")).splitlines()[4:6] == [
        "note | two",
        "     | lines",
    ]
    assert render(result, "markdown").splitlines()[3] == "| two<br>lines | [x] |"
    csv_row = render(result, "csv").split("\n")[1]  # data: the value itself, as COPY writes it
    assert csv_row == 'bell\x07 it\'s,"[""\\u001B[31m"",""NULL"",null]"'
    escaped_name = Result(["a\tb"], ["BIGINT"], [(1,)])
    assert render(escaped_name, "table").splitlines()[1] == "│ E'a\\tb' │"


# -- the layouts for people ---------------------------------------------------------------------

WIDE = Result(
    ["uuid", "name", "status"],
    ["VARCHAR", "VARCHAR", "VARCHAR"],
    [("9f2c-" + "0" * 30, "nightly index", "INDEX_JOB_STATUS_COMPLETED"), ("e1", None, "")],
)


def test_expanded_on_shows_one_record_per_row_as_psql_does() -> None:
    text = render(WIDE, OutputOptions(expanded="on", null_display="(null)"))
    assert text.splitlines() == [
        "-[ RECORD 1 ]------------------------------------",
        "uuid   | 9f2c-000000000000000000000000000000",
        "name   | nightly index",
        "status | INDEX_JOB_STATUS_COMPLETED",
        "-[ RECORD 2 ]------------------------------------",
        "uuid   | e1",
        "name   | (null)",
        "status |",
        "2 rows",
    ]
    assert not rendered(WIDE, OutputOptions(expanded="on")).cuttable


def test_expanded_auto_switches_to_records_only_when_a_row_is_wider_than_the_screen() -> None:
    table = render(WIDE, OutputOptions(expanded="off"))
    width = max(len(line) for line in table.splitlines())
    assert render(WIDE, OutputOptions(expanded="auto", width=width)) == table
    narrow = rendered(WIDE, OutputOptions(expanded="auto", width=width - 1))
    assert narrow.text.startswith("-[ RECORD 1 ]") and not narrow.cuttable
    # not on a terminal (no width): auto never switches
    assert render(WIDE, OutputOptions(expanded="auto")) == table


def test_a_multi_line_value_takes_as_many_lines_in_a_record() -> None:
    result = Result(["id", "note"], ["BIGINT", "VARCHAR"], [(1, "first\nsecond")])
    assert render(result, OutputOptions(expanded="on")).splitlines()[1:4] == [
        "id   | 1",
        "note | first",
        "     | second",
    ]


def test_types_under_the_names_and_no_headers() -> None:
    result = Result(["n", "tags"], ["BIGINT", "VARCHAR[]"], [(7, ["a", "b"])])
    assert render(result, OutputOptions(show_types=True)).splitlines() == [
        "┌────────┬───────────┐",
        "│ n      │ tags      │",
        "│ bigint │ varchar[] │",
        "├────────┼───────────┤",
        "│      7 │ [a, b]    │",
        "└────────┴───────────┘",
        "1 row",
    ]
    assert render(result, OutputOptions(headers=False)).splitlines()[:2] == [
        "┌───┬────────┐",
        "│ 7 │ [a, b] │",
    ]
    assert render(result, OutputOptions(mode="csv", headers=False)) == '7,"[""a"",""b""]"\n'


def test_east_asian_wide_characters_keep_the_columns_straight() -> None:
    result = Result(["名前", "n"], ["VARCHAR", "BIGINT"], [("日本語", 1), ("ab", 22)])
    lines = render(result, "table").splitlines()
    from sqlprovider.output import width

    assert len({width(line) for line in lines[:-1]}) == 1


def test_explain_is_plain_text_and_never_cut() -> None:
    long_line = "1. digitalocean.genai.indexing_jobs via list_indexing_jobs: " + "x" * 200
    plan = Result(["plan"], ["VARCHAR"], [(long_line,), ("   requests: 5",)])
    shown = rendered(plan, OutputOptions(expanded="auto", width=40))
    assert shown.text == long_line + "\n   requests: 5\n"
    assert not shown.cuttable
    out = io.StringIO()
    Display(out, terminal=lambda: (40, 100)).show_result(plan, OutputOptions(), None)
    assert out.getvalue() == shown.text


def test_a_wide_table_is_cut_on_a_terminal_and_whole_in_a_file() -> None:
    options = OutputOptions(expanded="off")
    screen = io.StringIO()
    shown = Display(screen, terminal=lambda: (30, 100)).show_result(WIDE, options, None)
    assert shown.cut
    assert all(len(line) <= 30 for line in screen.getvalue().splitlines())
    assert "…" in screen.getvalue()
    file = io.StringIO()
    Display(screen, terminal=lambda: (30, 100)).show_result(WIDE, options, file)
    assert file.getvalue() == render(WIDE, options)


def test_a_result_without_columns_prints_nothing_and_an_empty_one_prints_its_shape() -> None:
    for mode in FORMATS:
        assert render(Result([], [], []), mode) == ""
    empty = Result(["a"], ["BIGINT"], [])
    assert render(empty, "json") == "[]\n"
    assert render(empty, "jsonl") == ""
    assert render(empty, "csv") == "a\n"
    assert render(empty, "table").endswith("0 rows\n")


def test_unknown_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render(WIDE, "xml")
    with pytest.raises(ValueError, match="expanded is one of off, on, auto"):
        render(WIDE, OutputOptions(expanded="yes"))


def test_decimal_and_time_values_print_as_duckdb_casts_them() -> None:
    result = Result(
        ["d", "t"],
        ["DECIMAL(10,3)", "TIMESTAMP WITH TIME ZONE"],
        [(decimal.Decimal("1.500"), dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC))],
    )
    assert render(result, "csv") == "d,t\n1.500,2024-01-02T03:04:05Z\n"
    assert render(result, "jsonl") == '{"d":1.5,"t":"2024-01-02T03:04:05Z"}\n'


def test_a_rendered_plan_in_a_sink_is_written_whole() -> None:
    out = io.StringIO()
    sink = script._Sink.stdout(out)
    sink.write_result(Rendered("line one\n"), "table")
    sink.write_result(Rendered("line two\n"), "table")
    assert out.getvalue() == "line one\n\nline two\n"
