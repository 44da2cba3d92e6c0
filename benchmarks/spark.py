"""The 100,000-job scan through Spark ``local[2]`` against the engine alone, on one machine.

Usage: python -m benchmarks.spark [--jobs N] [--runs N], or
``python -m benchmarks --only spark`` (on the sandbox the other benchmarks use).

Both read every page of ``digitalocean.genai.indexing_jobs`` from the DigitalOcean emulator
(200 jobs a page, its rate limit off) and answer ``count(*), sum(total_datasources)``. The
Spark side is timed per query, its session already started (its start is shown apart), for
the default partitions (the provider's concurrency, 8) and for 2; each task's request count
follows from the pages each partition holds (pages 2..N dealt in order; page 1 on the
driver), which tests/spark checks against the emulator's log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import statistics
import sys
import time
from typing import Any

import sqlprovider
from sqlprovider.emulators.digitalocean import DigitalOceanConfig, create_app
from sqlprovider.emulators.kit import EmulatorServer

TOKEN = "bench-digitalocean-token"
JOBS = "digitalocean.genai.indexing_jobs"
QUERY = f"SELECT count(*), sum(total_datasources) FROM {JOBS}"


def engine_run(url: str, token: str = TOKEN) -> tuple[float, tuple[Any, ...]]:
    started = time.perf_counter()
    with sqlprovider.connect(
        servers={"digitalocean": url}, auth={"digitalocean": {"token": token}}
    ) as conn:
        row = conn.execute(QUERY).fetchone()
    assert row is not None
    return time.perf_counter() - started, tuple(row)


def spark_run(
    spark: Any, url: str, partitions: int | None, token: str = TOKEN
) -> tuple[float, tuple[Any, ...]]:
    from pyspark.sql.functions import count, lit
    from pyspark.sql.functions import sum as total

    reader = spark.read.format("sqlprovider").option("server.digitalocean", url)
    reader = reader.option("auth.digitalocean.token", token)
    if partitions is not None:
        reader = reader.option("numPartitions", str(partitions))
    started = time.perf_counter()
    row = reader.load(JOBS).agg(count(lit(1)), total("total_datasources")).first()
    return time.perf_counter() - started, (row[0], int(row[1]))


def start_spark() -> Any:
    """A ``local[2]`` session with the data source registered and filter pushdown on."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    from sqlprovider.spark import SqlproviderDataSource

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.python.filterPushdown.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.dataSource.register(SqlproviderDataSource)
    return spark


def per_task(pages: int, parts: int) -> str:
    """How many requests each task sends: pages 2..N dealt among ``parts`` tasks."""
    rest = pages - 1  # page 1 is fetched on the driver
    shares = [rest // parts + (1 if i < rest % parts else 0) for i in range(parts)]
    return f"{min(shares)}-{max(shares)}, + page 1 on the driver"


def measure(url: str, runs: int, pages: int, token: str = TOKEN) -> list[tuple[str, float, str]]:
    """(contender, median seconds, requests per task) for the engine and Spark."""
    engine_run(url, token)  # warms the emulator's rendered pages
    engine_times = []
    for _ in range(runs):
        seconds, expected = engine_run(url, token)
        engine_times.append(seconds)
    found = [("the engine alone (`sqlprovider.connect`)", statistics.median(engine_times), "")]
    began = time.perf_counter()
    spark = start_spark()
    found.append(("Spark session start (once)", time.perf_counter() - began, ""))
    try:
        for partitions in (None, 2):
            spark_run(spark, url, partitions, token)  # warm: Python workers started
            times = []
            for _ in range(runs):
                seconds, got = spark_run(spark, url, partitions, token)
                assert got == expected, (got, expected)
                times.append(seconds)
            parts = partitions or 8
            name = (
                "Spark `local[2]`, 8 partitions (default: the provider's concurrency)"
                if partitions is None
                else f"Spark `local[2]`, `numPartitions` {partitions}"
            )
            found.append((name, statistics.median(times), per_task(pages, parts)))
    finally:
        spark.stop()
    return found


def bench_spark(ctx: Any) -> tuple[list[str], list[Any]]:
    """``python -m benchmarks --only spark``: the scan through Spark against the engine,
    on the sandbox the other benchmarks use."""
    title = f"### Spark `local[2]` and the engine ({len(ctx.jobs):,} jobs)"
    if importlib.util.find_spec("pyspark") is None:
        return [title, "", "Not measured: `pip install 'sqlprovider[spark]'` first.", ""], []
    pages = -(-len(ctx.jobs) // 200)
    rows = measure(ctx.base, ctx.args.runs, pages, ctx.env["DIGITALOCEAN_TOKEN"])
    lines = [
        f"{title}, {pages} pages",
        "",
        "| contender | median s | requests per task |",
        "|---|---:|---|",
        *(f"| {name} | {seconds:.2f} | {tasks} |" for name, seconds, tasks in rows),
        "",
    ]
    return lines, []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = EmulatorServer(
        create_app(DigitalOceanConfig(token=TOKEN, jobs=args.jobs, rate_limited=False))
    )
    server.start()
    try:
        pages = -(-args.jobs // 200)
        for name, seconds, tasks in measure(server.url, args.runs, pages):
            print(f"{name}: {seconds:.2f} s" + (f"; requests per task {tasks}" if tasks else ""))
    finally:
        server.stop()
    print(f"measured {dt.date.today().isoformat()}")


if __name__ == "__main__":
    main()
