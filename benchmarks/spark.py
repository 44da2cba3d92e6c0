"""The 100,000-job scan through Spark ``local[2]`` against the engine alone, on one machine.

Usage: python -m benchmarks.spark [--jobs N] [--runs N]

Both read every page of ``digitalocean.genai.indexing_jobs`` from the DigitalOcean emulator
(200 jobs a page, its rate limit off) and answer ``count(*), sum(total_datasources)``. The
Spark side is timed per query, its session already started (its start is shown apart), for
the default partitions (the provider's concurrency, 8) and for 2; each task's request count
is read from the emulator's log through the pages each partition holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
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


def engine_run(url: str) -> tuple[float, tuple[Any, ...]]:
    started = time.perf_counter()
    with sqlprovider.connect(
        servers={"digitalocean": url}, auth={"digitalocean": {"token": TOKEN}}
    ) as conn:
        row = conn.execute(QUERY).fetchone()
    assert row is not None
    return time.perf_counter() - started, tuple(row)


def spark_run(spark: Any, url: str, partitions: int | None) -> tuple[float, tuple[Any, ...]]:
    from pyspark.sql.functions import count, lit
    from pyspark.sql.functions import sum as total

    reader = spark.read.format("sqlprovider").option("server.digitalocean", url)
    reader = reader.option("auth.digitalocean.token", TOKEN)
    if partitions is not None:
        reader = reader.option("numPartitions", str(partitions))
    started = time.perf_counter()
    row = reader.load(JOBS).agg(count(lit(1)), total("total_datasources")).first()
    return time.perf_counter() - started, (row[0], int(row[1]))


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
        engine_run(server.url)  # warms the emulator's rendered pages
        engine_times = []
        for _ in range(args.runs):
            seconds, expected = engine_run(server.url)
            engine_times.append(seconds)
        print(f"engine alone: {statistics.median(engine_times):.2f} s  {expected}")
        os.environ["PYSPARK_PYTHON"] = sys.executable
        from pyspark.sql import SparkSession

        from sqlprovider.spark import SqlproviderDataSource

        began = time.perf_counter()
        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.python.filterPushdown.enabled", "true")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        spark.dataSource.register(SqlproviderDataSource)
        print(f"spark session start: {time.perf_counter() - began:.1f} s")
        for partitions in (None, 2):
            spark_run(spark, server.url, partitions)  # warm: Python workers started
            times = []
            for _ in range(args.runs):
                server.log.clear()
                seconds, got = spark_run(spark, server.url, partitions)
                assert got == expected, (got, expected)
                times.append(seconds)
            sent = len(server.log.entries())
            parts = partitions or 8
            pages = sent - 1  # page 1 is fetched on the driver
            shares = [pages // parts + (1 if i < pages % parts else 0) for i in range(parts)]
            print(
                f"spark local[2], {parts} partitions: {statistics.median(times):.2f} s; "
                f"{sent} requests, per task {min(shares)}..{max(shares)} "
                f"(+1 on the driver)"
            )
        spark.stop()
    finally:
        server.stop()
    print(f"measured {dt.date.today().isoformat()}")


if __name__ == "__main__":
    main()
