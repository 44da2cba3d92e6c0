"""Fixtures for the Spark data source: one SparkSession (``local[2]``) for the whole run,
and the DigitalOcean and Amperity emulators on loopback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from sqlprovider.emulators.digitalocean import DigitalOceanConfig
from sqlprovider.emulators.digitalocean import create_app as digitalocean_app
from sqlprovider.emulators.kit import EmulatorServer
from tests.conftest import PROVIDER_ENV

TOKEN = "spark-digitalocean-token-3b8e57"


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local SparkSession with two cores, the data source registered, filter pushdown on.

    Spark's Python workers inherit the environment it starts in: it is cleared of the
    developer's credentials and settings first, as every test's is, and holds the
    DigitalOcean emulator's token, as a cluster's environment would (reads that give no
    ``auth.digitalocean.token`` option, as the issue's example and the docs', use it)."""
    from pyspark.sql import SparkSession

    from sqlprovider.spark import SqlproviderDataSource

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("SQLPROVIDER_") or name in PROVIDER_ENV:
                patch.delenv(name)
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("spark-config")))
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("spark-data")))
        patch.setenv("DIGITALOCEAN_TOKEN", TOKEN)
        patch.setenv("PYSPARK_PYTHON", sys.executable)
        patch.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("sqlprovider-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.python.filterPushdown.enabled", "true")
            .config("spark.python.worker.reuse", "true")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        session.dataSource.register(SqlproviderDataSource)
        try:
            yield session
        finally:
            session.stop()


class Emulator:
    """A running emulator and its URL."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.url = server.url

    def gets(self, path: str) -> list[str]:
        """The query strings of the GETs of ``path`` received so far."""
        return [e.query for e in self.server.log.entries() if e.method == "GET" and e.path == path]


@pytest.fixture(scope="module")
def digitalocean() -> Iterator[Emulator]:
    """The DigitalOcean emulator with 1,000 jobs (5 pages of 200), no rate limit, and its
    clock stopped: a job a test creates stays in its first phase, so Spark and the engine,
    reading one after the other, see the same data."""
    config = DigitalOceanConfig(token=TOKEN, jobs=1000, rate_limited=False, clock=lambda: 0.0)
    server = EmulatorServer(digitalocean_app(config))
    server.start()
    yield Emulator(server)
    server.stop()
