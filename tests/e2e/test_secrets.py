"""A canary token must never show: not in errors, warnings, trace logs, EXPLAIN, dry runs,
reprs or tracebacks — whichever way a user reaches the engine."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest

import sqlprovider
from sqlprovider.cli.main import main
from tests.e2e.conftest import Emulator

CANARY = "canary-7f3e9b21-token"
JOBS = "digitalocean.genai.indexing_jobs"


def test_the_canary_never_shows(
    make_emulator: Callable[..., Emulator],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = make_emulator(jobs=5)  # accepts another token: the canary is refused
    seen: list[str] = []
    caplog.set_level(logging.DEBUG, logger="sqlprovider")
    with sqlprovider.connect(
        servers={"digitalocean": emulator.url}, auth={"digitalocean": {"token": CANARY}}
    ) as conn:
        seen.append(repr(conn))
        seen.append(repr(conn.session.credentials(conn.session.registry.get("digitalocean"))))
        seen.append(conn.explain(f"SELECT * FROM {JOBS} WHERE uuid = 'x'"))
        seen.extend(conn.dry_run(f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('k')"))
        with pytest.raises(sqlprovider.AuthError) as refused:
            conn.execute(f"SELECT * FROM {JOBS}")
        seen.append(str(refused.value))
        seen.append("".join(traceback.format_exception(refused.value)))
        plans = conn.session.plans(f"SELECT uuid FROM {JOBS} WHERE page = 1")
        seen.extend(warning for plan in plans for warning in plan.warnings)
    seen.extend(record.getMessage() for record in caplog.records)
    assert [e for e in emulator.server.log.entries() if CANARY in repr(e)] == []

    monkeypatch.setenv("DIGITALOCEAN_TOKEN", CANARY)
    monkeypatch.setenv("SQLPROVIDER_DIGITALOCEAN_URL", emulator.url)
    for argv in (
        ["--trace", "exec", f"SELECT * FROM {JOBS}"],
        ["exec", "--dry-run", f"SELECT * FROM {JOBS} WHERE uuid = 'x'"],
        ["exec", f"EXPLAIN SELECT * FROM {JOBS}"],
    ):
        main(argv)
        captured = capsys.readouterr()
        seen.extend([captured.out, captured.err])

    text = "\n".join(seen)
    assert "was refused" in text and "Authorization: Bearer ***" in text  # the places ran
    assert CANARY not in text
    assert CANARY[:12] not in text  # not even a prefix of it


def test_turning_tls_checks_off_warns() -> None:
    with (
        pytest.warns(UserWarning, match="TLS certificate verification is off"),
        sqlprovider.connect(verify_tls=False) as conn,
    ):
        assert conn.session.verify_tls is False
    with sqlprovider.connect() as conn:
        assert conn.session.verify_tls is True  # on unless turned off
