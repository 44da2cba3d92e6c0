"""Errors a person can act on, through the real emulator, and no credential in any of them."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from tests.e2e.conftest import TOKEN, Emulator

JOBS = "digitalocean.genai.indexing_jobs"


def test_missing_param_names_the_param_and_the_fix(conn: sqlprovider.Connection) -> None:
    with pytest.raises(sqlprovider.MissingParamsError) as raised:
        conn.execute("SELECT * FROM digitalocean.genai.indexing_job_data_sources")
    message = str(raised.value)
    assert "digitalocean.genai.indexing_job_data_sources needs indexing_job_uuid" in message
    assert "WHERE indexing_job_uuid = '...'" in message
    assert raised.value.missing == {"genai_list_indexing_job_data_sources": ("indexing_job_uuid",)}


def test_broken_definition_names_file_and_key(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / "acme.yaml").write_text(
        "name: acme\nserver: {url: 'http://127.0.0.1:1'}\nservices:\n  jobs:\n    resources:\n"
        "      runs:\n        columns: {id: {type: string}}\n        methods:\n"
        "          - {name: list, sql_verb: select, http_verb: GET, path: /runs, pagnation: {}}\n"
    )
    with (
        emulator.connect(providers_path=[tmp_path]) as conn,
        pytest.raises(sqlprovider.ProviderError) as raised,
    ):
        conn.execute("SELECT * FROM acme.jobs.runs")
    message = str(raised.value)
    assert "acme.yaml" in message
    assert "services.jobs.resources.runs.methods[0]" in message
    assert "pagnation" in message


def test_wrong_token_is_a_clear_401(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "wrong-token-0123456789abcdef"
    caplog.set_level(logging.DEBUG, logger="sqlprovider")
    with (
        emulator.connect(auth={"digitalocean": {"token": wrong}}) as conn,
        pytest.raises(sqlprovider.AuthError) as raised,
    ):
        conn.execute(f"SELECT * FROM {JOBS}")
    message = str(raised.value)
    assert "401" in message and "unauthorized" in message
    assert "DIGITALOCEAN_TOKEN" in message
    assert wrong not in message and wrong not in caplog.text and wrong not in repr(raised.value)


def test_missing_token_says_which_variable_to_set(emulator: Emulator) -> None:
    with (
        sqlprovider.connect(servers={"digitalocean": emulator.url}) as conn,
        pytest.raises(
            sqlprovider.AuthError, match="set DIGITALOCEAN_TOKEN \\(or DIGITALOCEAN_ACCESS_TOKEN\\)"
        ),
    ):
        conn.execute(f"SELECT * FROM {JOBS}")


def test_404_on_a_list_is_an_error_with_the_api_message(emulator: Emulator) -> None:
    with (
        sqlprovider.connect(
            servers={"digitalocean": emulator.url + "/wrong-prefix"},
            auth={"digitalocean": {"token": TOKEN}},
        ) as conn,
        pytest.raises(sqlprovider.HTTPStatusError) as raised,
    ):
        conn.execute(f"SELECT * FROM {JOBS}")
    error = raised.value
    assert error.status_code == 404
    assert error.api_message == "The resource you requested could not be found."
    assert error.request_id
    assert "not_found" in str(error) and error.request_id in str(error)


def test_429_then_success(make_emulator: Callable[..., Emulator]) -> None:
    emulator = make_emulator(jobs=50, burst_429=2, retry_after=0)
    with emulator.connect() as conn:
        cur = conn.execute(f"SELECT count(*) FROM {JOBS}")
        assert cur.fetchall() == [(50,)]
        assert cur.stats["retries"] == 2


def test_used_up_hourly_limit_fails_at_once_with_the_time_to_come_back(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=1000, rate_limited=True, hourly_limit=2)
    progress: list[str] = []
    with (
        emulator.connect(progress=progress.append) as conn,
        pytest.raises(sqlprovider.RetriesExhaustedError) as caught,
    ):
        conn.execute(f"SELECT count(*) FROM {JOBS}")
    message = str(caught.value)
    assert "HTTP 429" in message and "API rate limit exceeded" in message
    assert re.search(r"asks to wait (59|60) min \(until \d\d:\d\d:\d\d UTC\)", message)
    assert "run the statement again" in message
    assert caught.value.retry_after == pytest.approx(3600, abs=60)
    pages = [e.query for e in emulator.server.log.entries()]
    assert len(pages) == len(set(pages))  # nothing was sent twice: no retry was attempted
    assert progress == []  # and nothing slept


def test_connection_refused_names_the_server_setting() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        sqlprovider.connect(
            servers={"digitalocean": f"http://127.0.0.1:{port}"},
            auth={"digitalocean": {"token": TOKEN}},
            max_attempts=2,
        ) as conn,
        pytest.raises(sqlprovider.TransportError, match="SQLPROVIDER_DIGITALOCEAN_URL"),
    ):
        conn.execute(f"SELECT * FROM {JOBS} WHERE uuid = 'x'")


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with (
            sqlprovider.connect(
                servers={"digitalocean": f"http://127.0.0.1:{port}"},
                auth={"digitalocean": {"token": TOKEN}},
                timeout=0.3,
                max_attempts=2,
            ) as conn,
            pytest.raises(sqlprovider.TransportError, match="timed out after 2 attempts") as caught,
        ):
            conn.execute(f"SELECT * FROM {JOBS} WHERE uuid = 'x'")
        elapsed = time.monotonic() - started
    assert "raise the timeout" in str(caught.value)
    assert elapsed < 10  # two 0.3 s attempts and a backoff, never a hang


def test_syntax_error_has_line_and_column(conn: sqlprovider.Connection) -> None:
    with pytest.raises(sqlprovider.ParseError) as raised:
        conn.execute("SELECT 1;\nSELECT uuid FROM\n  WHERE")
    assert raised.value.line is not None and raised.value.line >= 2


def test_unknown_names_suggest_the_nearest(conn: sqlprovider.Connection) -> None:
    with pytest.raises(
        sqlprovider.UnknownNameError,
        match=re.escape("did you mean 'digitalocean.genai.indexing_jobs'"),
    ):
        conn.execute("SELECT * FROM digitalocean.genai.indexing_job")
    with pytest.raises(sqlprovider.UnknownNameError, match="did you mean 'phase'"):
        conn.execute(f"SELECT j.phse FROM {JOBS} j")


def test_cli_errors_are_one_line_without_traceback_or_token(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = "canary-token-9f8e7d6c5b4a"
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", canary)
    code = main(
        ["--trace", "exec", f"SELECT * FROM {JOBS}", "--server", f"digitalocean={emulator.url}"]
    )
    captured = capsys.readouterr()
    assert code == 1
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "401" in errors[0]
    assert "Traceback" not in captured.err
    assert canary not in captured.err + captured.out


def test_dry_run_shows_requests_with_the_secret_redacted(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", TOKEN)
    before = len(emulator.server.log.entries())
    code = main(
        [
            "exec",
            "--dry-run",
            f"SELECT * FROM {JOBS} WHERE uuid IN ('a', 'b')",
            "--server",
            f"digitalocean={emulator.url}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"GET {emulator.url}/v2/gen-ai/indexing_jobs/a" in out
    assert f"GET {emulator.url}/v2/gen-ai/indexing_jobs/b" in out
    assert "Authorization: Bearer ***" in out and TOKEN not in out
    assert len(emulator.server.log.entries()) == before  # nothing was sent


def test_demo_command_runs_real_queries(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--jobs", "200"]) == 0
    out = capsys.readouterr().out
    for name in ("digitalocean", "onyx", "amperity", "openverse"):
        assert f"emulator {name} listening on http://127.0.0.1:" in out
        assert f"│ {name}" in out  # every platform shows up in the cross-platform query
    assert out.count("requests,") == 4  # four queries ran, each reporting what it cost
