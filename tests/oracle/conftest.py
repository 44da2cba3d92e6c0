"""Fixtures of the differential oracle: the four emulators on a frozen clock, one engine
connection to them, and the full data of every resource in a plain DuckDB database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from tests.oracle.fulldata import FullData, load_full_data
from tests.oracle.harness import (
    AMPERITY_TENANT,
    connect,
    engine_environment,
    start_amperity,
    start_digitalocean,
    start_onyx,
    start_openverse,
)

# Examples per generated family; ORACLE_EXAMPLES=N runs N of each (thousands, nightly).
EXAMPLES = int(os.environ.get("ORACLE_EXAMPLES", "0")) or None


def examples(default: int) -> int:
    """The examples a family runs: ``ORACLE_EXAMPLES`` when set, else its CI default."""
    return EXAMPLES or default


# derandomize=True keeps CI reproducible; ORACLE_RANDOM=1 explores new examples.
DERANDOMIZE = os.environ.get("ORACLE_RANDOM", "") != "1"

# Settings every generated family shares (each adds max_examples=examples(default)).
COMMON: dict[str, Any] = {
    "deadline": None,
    "derandomize": DERANDOMIZE,
    "database": None,
    "phases": (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, EmulatorServer]]:
    """DigitalOcean (450 jobs: 3 pages of 200; 25 knowledge bases), Onyx (1,000 cc pairs),
    Amperity (300 jobs) and Openverse (its seeded history), read-only."""
    started = {
        "digitalocean": start_digitalocean(),
        "onyx": start_onyx(),
        "amperity": start_amperity(),
        "openverse": start_openverse(),
    }
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture(scope="session")
def engine(servers: dict[str, EmulatorServer]) -> Iterator[sqlprovider.Connection]:
    with engine_environment():
        conn = connect(servers)
    with conn:
        yield conn


@pytest.fixture(scope="session")
def full(servers: dict[str, EmulatorServer], engine: sqlprovider.Connection) -> FullData:
    """Every SELECT-able resource's full data, loaded once."""
    with engine_environment():
        return load_full_data(engine, servers)


@pytest.fixture(autouse=True)
def _amperity_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tenant header the Amperity emulator expects (the engine reads AMPERITY_TENANT)."""
    monkeypatch.setenv("AMPERITY_TENANT", AMPERITY_TENANT)
