"""End-to-end fixtures: the DigitalOcean emulator on loopback and connections to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import sqlprovider
from sqlprovider.emulators.digitalocean import DigitalOceanConfig, create_app
from sqlprovider.emulators.kit import EmulatorServer

TOKEN = "e2e-digitalocean-token-5f1c9a"


class Emulator:
    """A running DigitalOcean emulator and what tests need to reach it."""

    def __init__(self, server: EmulatorServer, config: DigitalOceanConfig) -> None:
        self.server = server
        self.config = config
        self.url = server.url

    def api(self, path: str, **params: Any) -> Any:
        """GET a path of the emulator directly (the ground truth tests compare with)."""
        response = httpx.get(
            self.url + path, params=params, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        response.raise_for_status()
        return response.json()

    def all_jobs(self) -> list[dict[str, Any]]:
        """Every job, read page by page without the engine."""
        jobs: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.api("/v2/gen-ai/indexing_jobs", page=page, per_page=200)
            jobs.extend(body["jobs"])
            if page >= body["meta"]["pages"]:
                return jobs
            page += 1

    def connect(self, **options: Any) -> sqlprovider.Connection:
        """A connection pointed at this emulator."""
        options.setdefault("auth", {"digitalocean": {"token": TOKEN}})
        return sqlprovider.connect(servers={"digitalocean": self.url}, **options)


def start(**config: Any) -> tuple[EmulatorServer, DigitalOceanConfig]:
    config.setdefault("rate_limited", False)  # many tests share one emulator; one test sets it
    settings = DigitalOceanConfig(token=TOKEN, **config)
    server = EmulatorServer(create_app(settings))
    server.start()
    return server, settings


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator with 1,000 seeded jobs for the whole run (read-only tests)."""
    server, settings = start(jobs=1000)
    yield Emulator(server, settings)
    server.stop()


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Start emulators with special settings (429 bursts, ...), stopped after the test."""
    servers: list[EmulatorServer] = []

    def make(**config: Any) -> Emulator:
        server, settings = start(**config)
        servers.append(server)
        return Emulator(server, settings)

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def conn(emulator: Emulator) -> Iterator[sqlprovider.Connection]:
    with emulator.connect() as connection:
        yield connection
