"""Fixtures for ``sqlprovider serve``: the DigitalOcean emulator on loopback, and the real
command started as a process against it (``--port 0``), which clients then connect to."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sqlprovider.emulators.digitalocean import DigitalOceanConfig, create_app
from sqlprovider.emulators.kit import EmulatorServer

TOKEN = "serve-digitalocean-token-7d2e41"


class Served:
    """A running ``sqlprovider serve`` process and how to reach it."""

    def __init__(self, process: subprocess.Popen[str], host: str, port: int) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.stderr: list[str] = []
        self.reader: threading.Thread | None = None

    def dsn(self, **extra: str) -> str:
        """A libpq connection string for psycopg and psql."""
        parts = {"host": self.host, "port": str(self.port), "user": "tester",
                 "dbname": "sqlprovider", "connect_timeout": "10", **extra}  # fmt: skip
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def url(self) -> str:
        """A SQLAlchemy URL (psycopg 3)."""
        return f"postgresql+psycopg://tester@{self.host}:{self.port}/sqlprovider"

    def psql(
        self, *commands: str, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``psql -X -c ... -c ...`` (each command in turn, in one session)."""
        argv = ["psql", "-X", "-v", "ON_ERROR_STOP=0", self.dsn(**(extra or {}))]
        for command in commands:
            argv += ["-c", command]
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)

    def stop(self) -> str:
        """Stop the server (as Ctrl-C does); everything it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(2)  # SIGINT
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.reader is not None:
            self.reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return "".join(self.stderr)


def start_serve(*args: str, env: dict[str, str] | None = None) -> Served:
    """Start ``sqlprovider serve --port 0 ARGS...`` and wait for its listening line."""
    command = [sys.executable, "-m", "sqlprovider", "serve", "--port", "0", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=Path(__file__).resolve().parents[2],
    )
    lines: queue.Queue[str | None] = queue.Queue()
    collected: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            collected.append(line)
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while True:
        try:
            line = lines.get(timeout=60)
        except queue.Empty:
            process.kill()
            raise RuntimeError("sqlprovider serve did not start within 60 s") from None
        if line is None:
            process.wait(timeout=10)
            if process.stderr is not None:
                process.stderr.close()
            raise RuntimeError(f"sqlprovider serve exited {process.returncode}: {collected}")
        if "listening" in line:
            address = line.split(" on ", 1)[1].split()[0]
            host, _, port = address.rpartition(":")
            served = Served(process, host, int(port))
            served.stderr = collected
            served.reader = reader
            return served


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """The DigitalOcean emulator with 1,000 seeded jobs, for the whole run."""
    app = create_app(DigitalOceanConfig(token=TOKEN, jobs=1000, rate_limited=False))
    server = EmulatorServer(app, name="digitalocean", token=TOKEN).start()
    yield server
    server.stop()


def serve_env() -> dict[str, str]:
    """The environment the server reads its credential from."""
    return {"DIGITALOCEAN_TOKEN": TOKEN}


@pytest.fixture(scope="session")
def served(emulator: EmulatorServer) -> Iterator[Served]:
    """One server for the read-only tests of the run (cache off: every test sees the API)."""
    server = start_serve(
        "--server", f"digitalocean={emulator.url}", "--cache-ttl", "0", env=serve_env()
    )
    yield server
    server.stop()


@pytest.fixture
def make_served() -> Iterator[Callable[..., Served]]:
    """Start servers with other options; stopped after the test."""
    started: list[Served] = []

    def make(*args: str, env: dict[str, str] | None = None) -> Served:
        server = start_serve(*args, env=env)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def embedded(emulator: EmulatorServer) -> Any:
    """The embedded API on the same emulator: the oracle serve's answers are compared with."""
    import sqlprovider

    return sqlprovider.connect(
        servers={"digitalocean": emulator.url}, auth={"digitalocean": {"token": TOKEN}}
    )
