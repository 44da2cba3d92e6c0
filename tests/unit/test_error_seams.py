"""DuckDB's, sqlglot's and Python's own failures reach people as sqlprovider errors: each is
translated at one boundary, into the right branch, in words without class names or the
engine's internal table names. (httpx and Jinja2: test_error_boundary.py.)"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

import sqlprovider
from sqlprovider.errors import DatabaseError, Error
from sqlprovider.store import translate_error

LIBRARY_WORDS = ("Exception", "duckdb", "sqlglot", "Traceback", "_sp_", '"_sp"')


def clean(exc: BaseException) -> str:
    """The message, checked for what a person must never see."""
    message = str(exc)
    for word in LIBRARY_WORDS:
        assert word not in message, f"{word!r} in {message!r}"
    return message


DUCKDB_ERRORS = sorted(
    (
        cls
        for cls in vars(duckdb).values()
        if inspect.isclass(cls) and issubclass(cls, duckdb.Error)
    ),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("kind", DUCKDB_ERRORS, ids=[c.__name__ for c in DUCKDB_ERRORS])
def test_every_duckdb_error_becomes_a_database_error(kind: type[Exception]) -> None:
    raised = kind(
        f'{kind.__name__.replace("Exception", " Error")}: Table "_sp"."main"."_sp_7_jobs" '
        "has a problem\n\nLINE 1: SELECT * FROM _sp_7_jobs__raw"
    )
    ours = translate_error(raised, {"_sp_7_jobs": "acme.ops.jobs"})
    assert isinstance(ours, DatabaseError)
    assert "acme.ops.jobs" in clean(ours)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlprovider.Connection]:
    with sqlprovider.connect(database=str(tmp_path / "local.duckdb")) as connection:
        yield connection


@pytest.mark.parametrize(
    ("sql", "branch", "says"),
    [
        ("SELEC 1", sqlprovider.ProgrammingError, "syntax error"),
        ("SELECT 'unterminated", sqlprovider.ProgrammingError, "syntax error"),
        ("SELECT (1", sqlprovider.ProgrammingError, "syntax error"),
        ("SELECT nope", sqlprovider.ProgrammingError, "nope"),
        ("SELECT * FROM no_such_table", sqlprovider.ProgrammingError, "no_such_table"),
        ("SELECT 'x'::INTEGER", sqlprovider.DataError, "x"),
        ("SELECT 9223372036854775807::BIGINT + 1", sqlprovider.DataError, "overflow"),
        ("SELECT '{'::JSON", sqlprovider.DataError, "JSON"),
        ("SELECT * FROM read_csv('/no/such/file.csv')", sqlprovider.OperationalError, "file"),
        ("COMMIT", sqlprovider.OperationalError, "transaction"),
    ],
)
def test_duckdb_failures_of_a_statement_are_ours(
    conn: sqlprovider.Connection, sql: str, branch: type[Error], says: str
) -> None:
    with pytest.raises(branch) as raised:
        conn.execute(sql)
    assert says.lower() in clean(raised.value).lower()


def test_a_broken_constraint_is_an_integrity_error(conn: sqlprovider.Connection) -> None:
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlprovider.IntegrityError) as raised:
        conn.execute("INSERT INTO t VALUES (1)")
    assert "1" in clean(raised.value)


@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), float("nan"), float("inf"), "\udc80", b"\xff\xfe"],
    ids=["huge", "-huge", "nan", "inf", "surrogate", "bytes"],
)
def test_python_values_that_sql_cannot_take_are_ours(
    conn: sqlprovider.Connection, value: Any
) -> None:
    try:
        rows = conn.execute("SELECT ? AS v", [value]).fetchall()
    except Error as exc:
        clean(exc)
    else:
        assert len(rows) == 1  # taken as DuckDB can (NaN, infinity, a BLOB)


JOBS = {"jobs": [{"uuid": "a", "phase": "P", "total_datasources": 1}], "meta": {"pages": 1}}


def _api(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(JOBS).encode())


@pytest.mark.parametrize(
    ("sql", "branch"),
    [
        (
            "SELECT uuid::INTEGER FROM digitalocean.genai.indexing_jobs",
            sqlprovider.DataError,
        ),
        (
            "SELECT j.uuid FROM digitalocean.genai.indexing_jobs j, "
            "digitalocean.genai.indexing_jobs k WHERE uuid = 'a'",
            sqlprovider.ProgrammingError,  # ambiguous: both tables have it
        ),
        (
            "SELECT (total_datasources + 300)::UTINYINT FROM digitalocean.genai.indexing_jobs",
            sqlprovider.DataError,
        ),
    ],
)
def test_duckdb_failures_over_provider_rows_name_the_resource(
    sql: str, branch: type[Error]
) -> None:
    with (
        sqlprovider.connect(
            transport=httpx.MockTransport(_api), auth={"digitalocean": {"token": "t-123456"}}
        ) as conn,
        pytest.raises(branch) as raised,
    ):
        conn.execute(sql)
    clean(raised.value)


@pytest.mark.parametrize(
    "where",
    [
        "total_datasources < 1e400",
        "total_datasources = 99999999999999999999999999999999999999",
        "created_at >= '0001-01-01' AND created_at < '9999-12-31'",
        "created_at >= DATE '0001-01-01' - INTERVAL 1 DAY",
    ],
)
def test_conditions_at_the_edges_of_the_types_are_answered_or_refused_cleanly(where: str) -> None:
    with sqlprovider.connect(
        transport=httpx.MockTransport(_api), auth={"digitalocean": {"token": "t-123456"}}
    ) as conn:
        try:
            conn.execute(f"SELECT uuid FROM digitalocean.genai.indexing_jobs WHERE {where}")
        except Error as exc:
            clean(exc)
