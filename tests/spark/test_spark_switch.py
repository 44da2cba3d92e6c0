"""Spark's filter-pushdown switch (``spark.sql.python.filterPushdown.enabled``, off by
default in Spark 4) only decides whether filters reach the API; the rows are the same.
The issue's example, in a fresh Spark with the switch at its default, runs in
test_spark_driver.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.spark.conftest import Emulator
from tests.spark.test_spark_reads import JOBS, LIST, engine

SWITCH = "spark.sql.python.filterPushdown.enabled"


@pytest.fixture(params=["false", "true"], ids=["switch-off", "switch-on"])
def session(request: pytest.FixtureRequest, spark: Any) -> Iterator[Any]:
    """The test session with the switch as given (Spark's default: off), then on again."""
    spark.conf.set(SWITCH, request.param)
    try:
        yield spark
    finally:
        spark.conf.set(SWITCH, "true")


def test_the_switch_decides_whether_a_filter_reaches_the_api(
    session: Any, digitalocean: Emulator
) -> None:
    uuid = engine(digitalocean, f"SELECT uuid FROM {JOBS} LIMIT 1")[0][0]
    jobs = (
        session.read.format("sqlprovider")
        .option("server.digitalocean", digitalocean.url)
        .load(JOBS)
        .where(f"uuid = '{uuid}'")
    )
    digitalocean.server.log.clear()
    assert [r["uuid"] for r in jobs.collect()] == [uuid]
    sent = [e.path for e in digitalocean.server.log.entries()]
    if session.conf.get(SWITCH) == "true":
        assert sent == [f"{LIST}/{uuid}"]  # the filter went to the API: one GET
    else:
        assert sent == [LIST] * 5  # every page of the list; Spark kept the one row
