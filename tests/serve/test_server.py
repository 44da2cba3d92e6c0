"""``sqlprovider serve`` as a server: concurrent clients, cancel requests, --read-only,
passwords, TLS, and what it says when the API refuses its credentials."""

from __future__ import annotations

import datetime
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from sqlprovider.emulators.kit import EmulatorServer
from tests.serve.conftest import Served, embedded, serve_env

JOBS = "digitalocean.genai.indexing_jobs"
LIST_PATH = "/v2/gen-ai/indexing_jobs"


def test_concurrent_clients_each_get_the_whole_answer(
    served: Served, emulator: EmulatorServer
) -> None:
    sql = f"SELECT count(*), count(DISTINCT uuid) FROM {JOBS} WHERE status = %s"
    statuses = ["INDEX_JOB_STATUS_FAILED", "INDEX_JOB_STATUS_COMPLETED"] * 8

    def one(status: str) -> tuple[int, int]:
        with psycopg.connect(served.dsn(), autocommit=True) as conn:
            row = conn.execute(sql, [status]).fetchone()
            assert row is not None
            return row[0], row[1]

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(one, statuses))
    with embedded(emulator) as conn:
        expected = {s: conn.execute(sql.replace("%s", "?"), [s]).fetchone() for s in set(statuses)}
    assert answers == [expected[s] for s in statuses]


def test_a_cancel_request_stops_the_statement_and_its_requests(
    served: Served, emulator: EmulatorServer
) -> None:
    emulator.faults.delay("GET", LIST_PATH, seconds=30, times=None, query="page=2")
    try:
        with psycopg.connect(served.dsn(), autocommit=True) as conn:
            failure: list[BaseException] = []

            def run() -> None:
                try:
                    conn.execute(f"SELECT count(*) FROM {JOBS}")
                except psycopg.Error as exc:
                    failure.append(exc)

            started = time.monotonic()
            worker = threading.Thread(target=run)
            worker.start()
            _wait_for(lambda: _requested(emulator, "page=2"), seconds=15)
            conn.cancel_safe()  # what psql sends on Ctrl-C
            worker.join(timeout=20)
            took = time.monotonic() - started
            assert not worker.is_alive() and took < 20  # not the 30 s the page is held
            assert failure and isinstance(failure[0], psycopg.errors.QueryCanceled)
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        emulator.faults.clear()


def _requested(emulator: EmulatorServer, query: str) -> bool:
    return any(e.path == LIST_PATH and query in e.query for e in emulator.log.entries())


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize(
    "write",
    [
        "INSERT INTO digitalocean.genai.indexing_jobs (data__knowledge_base_uuid) VALUES ('kb')",
        "UPDATE digitalocean.genai.knowledge_bases SET name = 'x' WHERE uuid = 'kb-1'",
        "REPLACE digitalocean.genai.indexing_jobs SET data__uuid = 'j' WHERE uuid = 'j'",
        "DELETE FROM digitalocean.genai.knowledge_bases WHERE uuid = 'kb-1'",
        "EXEC digitalocean.genai.indexing_jobs.genai_cancel_indexing_job @uuid = 'j'",
        "DELETE FROM digitalocean.genai_knowledge_bases WHERE uuid = 'kb-1'",
    ],
)
def test_read_only_refuses_writes_before_anything_is_sent(
    make_served: Callable[..., Served], emulator: EmulatorServer, write: str
) -> None:
    server = make_served("--read-only", "--server", f"digitalocean={emulator.url}", env=serve_env())
    emulator.log.clear()
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as refused:
            conn.execute(write)
        assert "read-only" in str(refused.value) and "nothing was sent" in str(refused.value)
        assert emulator.log.entries() == []
        conn.execute("CREATE TEMP TABLE t AS SELECT 1 AS a")  # its own tables are its own
        assert conn.execute("SELECT count(*) FROM digitalocean.genai.knowledge_bases").fetchone()
    assert all(e.method == "GET" for e in emulator.log.entries())


def test_refused_api_credentials_are_28000_and_never_shown(
    make_served: Callable[..., Served], emulator: EmulatorServer
) -> None:
    wrong = "wrong-token-3f9a7c51e2"
    server = make_served(
        "--server", f"digitalocean={emulator.url}", env={"DIGITALOCEAN_TOKEN": wrong}
    )
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as refused:
            conn.execute(f"SELECT count(*) FROM {JOBS}")
        assert refused.value.sqlstate == "28000"
        assert wrong not in str(refused.value) and "Traceback" not in str(refused.value)
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert wrong not in server.stop()


def test_a_password_is_asked_when_configured(
    make_served: Callable[..., Served], emulator: EmulatorServer
) -> None:
    server = make_served(
        "--password-env", "SERVE_PASSWORD", "--server", f"digitalocean={emulator.url}",
        env={**serve_env(), "SERVE_PASSWORD": "s3cret-pass"},
    )  # fmt: skip
    with psycopg.connect(server.dsn(password="s3cret-pass"), autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(server.dsn(password="wrong"))


def test_other_addresses_need_a_password(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sqlprovider", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "refusing to listen on 0.0.0.0 without a password" in done.stderr
    assert "--password-env" in done.stderr and "Traceback" not in done.stderr


def test_tls_is_used_and_required_when_configured(
    make_served: Callable[..., Served], emulator: EmulatorServer, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    server = make_served(
        "--tls-cert", str(cert), "--tls-key", str(key),
        "--server", f"digitalocean={emulator.url}", env=serve_env(),
    )  # fmt: skip
    with psycopg.connect(server.dsn(sslmode="require"), autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute(f"SELECT count(*) FROM {JOBS}").fetchone() is not None
    with pytest.raises(psycopg.OperationalError, match="requires TLS"):
        psycopg.connect(server.dsn(sslmode="disable"))


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_the_cache_is_on_and_shared_by_connections_and_explain_says_so(
    make_served: Callable[..., Served], emulator: EmulatorServer
) -> None:
    server = make_served("--server", f"digitalocean={emulator.url}", env=serve_env())
    count = "SELECT count(*) FROM digitalocean.genai_indexing_jobs"
    emulator.log.clear()
    with psycopg.connect(server.dsn(), autocommit=True) as first:
        fresh = first.execute(count).fetchone()
    pages = len([e for e in emulator.log.entries() if e.path == LIST_PATH])
    with psycopg.connect(server.dsn(), autocommit=True) as second:  # another connection
        again = second.execute(count).fetchone()
        plan = [r[0] for r in second.execute(f"EXPLAIN ANALYZE {count}").fetchall()]
    assert fresh == again and pages > 1
    assert len([e for e in emulator.log.entries() if e.path == LIST_PATH]) == pages
    actual = next(line for line in plan if line.strip().startswith("actual 1."))
    assert "0 requests sent, 1 answered from the cache (" in actual and " s old)" in actual
