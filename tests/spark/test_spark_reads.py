"""Reads through Spark (``local[2]``) against the emulators: the same rows as the engine,
filters sent only when the API answers them exactly, pages split among tasks."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import sqlprovider
from tests.spark.conftest import TOKEN, Emulator

JOBS = "digitalocean.genai.indexing_jobs"
LIST = "/v2/gen-ai/indexing_jobs"


def read(spark: Any, emulator: Emulator, table: str = JOBS, **options: str) -> Any:
    reader = spark.read.format("sqlprovider").option("server.digitalocean", emulator.url)
    reader = reader.option("auth.digitalocean.token", TOKEN)
    for key, value in options.items():
        reader = reader.option(key, value)
    return reader.load(table)


def engine(emulator: Emulator, sql: str) -> list[tuple[Any, ...]]:
    with sqlprovider.connect(
        servers={"digitalocean": emulator.url}, auth={"digitalocean": {"token": TOKEN}}
    ) as conn:
        return conn.execute(sql).fetchall()


def test_counts_and_sums_equal_the_engines(spark: Any, digitalocean: Emulator) -> None:
    jobs = read(spark, digitalocean, numPartitions="3")
    row = jobs.selectExpr("count(*)", "sum(total_datasources)", "sum(total_tokens)").first()
    expected = engine(
        digitalocean, f"SELECT count(*), sum(total_datasources), sum(total_tokens) FROM {JOBS}"
    )[0]
    assert tuple(row) == expected
    assert expected[0] == 1000


def test_a_known_total_is_split_and_each_page_fetched_once(
    spark: Any, digitalocean: Emulator
) -> None:
    from pyspark.sql.functions import spark_partition_id

    jobs = read(spark, digitalocean, numPartitions="3")
    digitalocean.server.log.clear()
    per_task = jobs.groupBy(spark_partition_id().alias("part")).count().collect()
    assert len(per_task) == 3
    assert sum(r["count"] for r in per_task) == 1000
    pages = [parse_qs(q) for q in digitalocean.gets(LIST)]
    # page 1 (on the driver, to learn the total) and pages 2..5 (in the tasks), once each
    assert sorted(int(p["page"][0]) for p in pages) == [1, 2, 3, 4, 5]
    assert all(p["per_page"] == ["200"] for p in pages)


def test_a_filter_on_the_id_sends_only_its_get(spark: Any, digitalocean: Emulator) -> None:
    uuid = engine(digitalocean, f"SELECT uuid FROM {JOBS} LIMIT 1")[0][0]
    digitalocean.server.log.clear()
    found = read(spark, digitalocean).where(f"uuid = '{uuid}'").collect()
    assert [r["uuid"] for r in found] == [uuid]
    sent = [(e.method, e.path) for e in digitalocean.server.log.entries()]
    assert sent == [("GET", f"{LIST}/{uuid}")]


def test_in_fans_out_one_get_per_value(spark: Any, digitalocean: Emulator) -> None:
    uuids = [r[0] for r in engine(digitalocean, f"SELECT uuid FROM {JOBS} LIMIT 4")]
    digitalocean.server.log.clear()
    jobs = read(spark, digitalocean, numPartitions="2").where(
        "uuid IN (" + ", ".join(f"'{u}'" for u in uuids) + ")"
    )
    assert sorted(r["uuid"] for r in jobs.collect()) == sorted(uuids)
    sent = sorted(e.path for e in digitalocean.server.log.entries())
    assert sent == sorted(f"{LIST}/{u}" for u in uuids)


def test_a_filter_the_api_cannot_answer_is_left_to_spark(
    spark: Any, digitalocean: Emulator
) -> None:
    status = "INDEX_JOB_STATUS_FAILED"
    jobs = read(spark, digitalocean).where(f"status = '{status}' AND total_datasources > 1")
    counted = jobs.groupBy("knowledge_base_uuid").count().collect()
    expected = engine(
        digitalocean,
        f"SELECT knowledge_base_uuid, count(*) FROM {JOBS} WHERE status = '{status}' "
        "AND total_datasources > 1 GROUP BY 1",
    )
    assert sorted((r[0], r[1]) for r in counted) == sorted(expected)
    assert expected


def test_the_sql_form_and_no_credential_in_the_plan(spark: Any, digitalocean: Emulator) -> None:
    spark.sql(
        "CREATE OR REPLACE TEMPORARY VIEW do_jobs USING sqlprovider OPTIONS ("
        f"table '{JOBS}', `server.digitalocean` '{digitalocean.url}', "
        f"`auth.digitalocean.token` '{TOKEN}')"
    )
    plan = spark.sql("EXPLAIN EXTENDED SELECT count(*) FROM do_jobs WHERE phase > 'B'")
    text = plan.collect()[0][0]
    assert "do_jobs" in text or "sqlprovider" in text.lower()
    assert TOKEN not in text
    counted = spark.sql("SELECT count(*) FROM do_jobs WHERE phase > 'B'").first()[0]
    assert counted == engine(digitalocean, f"SELECT count(*) FROM {JOBS} WHERE phase > 'B'")[0][0]
