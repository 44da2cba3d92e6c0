"""Messages for people: what a pgcli or psql user types by habit gets an answer that names
the fix, without sqlglot's class names, Python calls in a CLI's advice, or futile retries."""

from __future__ import annotations

import socket

import pytest

import sqlprovider


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT 1 WHERE 1 = 1 AND", "AND is not finished: something is missing after it"),
        ("SELECT 1 +", "+ is not finished"),
        ("SELECT * FROM t WHERE", "WHERE is not finished"),
    ],
)
def test_an_unfinished_statement_says_what_is_missing_in_sql_words(sql: str, says: str) -> None:
    with sqlprovider.connect() as conn, pytest.raises(sqlprovider.ParseError) as raised:
        conn.execute(sql)
    assert says in str(raised.value)
    assert "class" not in str(raised.value) and "sqlglot" not in str(raised.value)


@pytest.mark.parametrize("name", ["indexing_jobs", "Knowledge_Bases"])
def test_a_resource_named_alone_suggests_its_provider_table(name: str) -> None:
    with sqlprovider.connect() as conn, pytest.raises(sqlprovider.UnknownNameError) as raised:
        conn.execute(f"SELECT * FROM {name}")
    assert raised.value.candidates and raised.value.candidates[0].startswith("digitalocean.genai.")
    assert "pg_" not in str(raised.value)  # DuckDB's own catalog is no help here


def test_a_local_table_that_does_not_exist_stays_duckdbs_error() -> None:
    with sqlprovider.connect() as conn, pytest.raises(sqlprovider.ProgrammingError) as raised:
        conn.execute("SELECT * FROM no_such_local_table")
    assert not isinstance(raised.value, sqlprovider.UnknownNameError)


def test_missing_credentials_name_the_variable_and_the_auth_file_not_a_python_call() -> None:
    with (
        sqlprovider.connect(environ={}) as conn,
        pytest.raises(sqlprovider.AuthError) as raised,
    ):
        conn.execute("SELECT * FROM digitalocean.genai.indexing_jobs")
    message = str(raised.value)
    assert "DIGITALOCEAN_TOKEN" in message and "auth.yaml" in message
    assert "connect(" not in message


def test_a_refused_connection_on_this_machine_fails_at_once() -> None:
    with socket.socket() as probe:  # a port nothing listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        sqlprovider.connect(servers={"openverse": f"http://127.0.0.1:{port}"}) as conn,
        pytest.raises(sqlprovider.TransportError) as raised,
    ):
        conn.execute("SELECT * FROM openverse.ingestion.tasks")
    assert "could not connect" in str(raised.value)
    assert "attempts" not in str(raised.value)  # tried once: nothing listens there
