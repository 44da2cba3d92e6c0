"""The result cache in the shell (docs/cache.md): on by default, and ``.cache on|off|clear``,
proven by the emulator's request log (a repeat within the TTL sends nothing)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from prompt_toolkit.input import PipeInput

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.session import Session
from sqlprovider.shell import Shell
from tests.shell.kit import (
    JOBS,
    completions,
    connect,
    drive_with,
    run_script,
    start_emulator,
    wait_for,
)

STATEMENT = f"SELECT count(*) AS n FROM {JOBS};"


@pytest.fixture
def fresh() -> Iterator[EmulatorServer]:
    """An emulator of its own: no other test's answer can be in the cache for its URL."""
    emulator = start_emulator()
    yield emulator
    emulator.stop()


def _sent(server: EmulatorServer) -> int:
    return sum(1 for e in server.log.entries() if e.path == "/v2/gen-ai/indexing_jobs")


def test_cache_on_off_and_clear_against_the_request_log(fresh: EmulatorServer) -> None:
    sent: list[int] = []  # requests the emulator had after each statement

    def typing(typed: PipeInput, shell: Shell) -> None:
        def answers() -> int:  # the count, printed once per statement
            assert isinstance(shell.stdout, io.StringIO)
            return shell.stdout.getvalue().count("│ 40 │")

        def run(*lines: str) -> None:
            before = answers()
            typed.send_text("".join(line + "\r" for line in lines))
            assert wait_for(lambda: answers() > before, timeout=10)
            sent.append(_sent(fresh))

        run(STATEMENT)  # asked: sent
        run(".cache", STATEMENT)  # again within the TTL: nothing sent
        run(".cache off", ".cache", STATEMENT)  # off: sent again
        run(STATEMENT)  # and again
        run(".cache on", STATEMENT)  # on: the first answer is still young
        run(".cache clear", STATEMENT)  # cleared: sent
        run(".cache on 60", ".cache", STATEMENT)  # kept when it was sent after the clear
        typed.send_text(".quit\r")

    session = connect(fresh, cache_ttl=300)  # as sqlprovider shell starts it
    try:
        run = drive_with(session, typing)
    finally:
        session.close()
    one = sent[0]
    assert one >= 1
    assert sent == [one, one, 2 * one, 3 * one, 3 * one, 4 * one, 4 * one]
    states = [line for line in run.err.splitlines() if line.startswith("cache:")]
    assert states == ["cache: on (300 s)", "cache: off", "cache: on (60 s)"]
    assert "error" not in run.err


def test_cache_refuses_what_it_does_not_know(fresh: EmulatorServer) -> None:
    session = connect(fresh)
    out, err = io.StringIO(), io.StringIO()
    try:
        lines = [".cache\n", ".cache maybe\n", ".cache on -5\n"]
        assert Shell(session, stdout=out, stderr=err).run_lines(lines) == 1
        assert session.cache_ttl == 0
    finally:
        session.close()
    err_lines = err.getvalue().splitlines()
    assert err_lines[0] == "cache: off"
    assert [e.split(": ", 2)[1] for e in err_lines[1:]] == ["<stdin>:2", "<stdin>:3"]
    assert all("write .cache on, .cache on SECONDS" in e for e in err_lines[1:])
    assert out.getvalue() == ""


def test_cache_completes(session: Session) -> None:
    assert completions(session, ".cache ") == ["on", "off", "clear"]
    assert ".cache" in completions(session, ".ca")


def test_the_cache_is_on_by_default_in_the_shell(fresh: EmulatorServer) -> None:
    """The command itself: a script that asks twice sends once; --cache-ttl 0 sends twice."""
    server = ["--server", f"digitalocean={fresh.url}"]
    done = run_script(STATEMENT + "\n" + STATEMENT + "\n", *server)
    assert done.returncode == 0, done.stderr
    once = _sent(fresh)
    assert done.stdout.count("│ 40 │") == 2 and once >= 1
    done = run_script(STATEMENT + "\n" + STATEMENT + "\n", *server, "--cache-ttl", "0")
    assert done.returncode == 0, done.stderr
    assert _sent(fresh) == 3 * once
