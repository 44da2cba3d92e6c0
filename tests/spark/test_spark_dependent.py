"""Dependent reads through Spark (``local[2]``): a table whose required param comes from
another table's rows (the ``where`` option's ``param IN (SELECT ...)``). The driver reads
the other table once; each of its values is one unit of work, sent once by one task."""

from __future__ import annotations

from typing import Any

import pytest

from tests.spark.conftest import Emulator
from tests.spark.test_spark_reads import JOBS, LIST, engine, read

SOURCES = "digitalocean.genai.indexing_job_data_sources"
FAILED_JOBS = f"SELECT uuid FROM {JOBS} WHERE status = 'INDEX_JOB_STATUS_FAILED'"


def test_each_parent_value_is_a_unit_sent_once(spark: Any, digitalocean: Emulator) -> None:
    from pyspark.sql.functions import spark_partition_id

    where = f"indexing_job_uuid IN ({FAILED_JOBS})"
    parents = [u for (u,) in engine(digitalocean, FAILED_JOBS)]
    assert len(parents) > 6  # enough values for three partitions of several units each
    expected = engine(
        digitalocean,
        "SELECT count(*), sum(total_file_count), sum(indexed_item_count), "
        f"count(DISTINCT indexing_job_uuid) FROM {SOURCES} WHERE {where}",
    )[0]
    sources = read(spark, digitalocean, SOURCES, numPartitions="3", where=where)
    digitalocean.server.log.clear()
    per_task = (
        sources.groupBy(spark_partition_id().alias("part"))
        .agg({"*": "count", "total_file_count": "sum", "indexed_item_count": "sum"})
        .collect()
    )
    distinct = set()  # the parent values whose requests each task sent
    children = [
        e.path for e in digitalocean.server.log.entries() if e.path.endswith("/data_sources")
    ]
    for path in children:
        distinct.add(path.removeprefix(LIST + "/").removesuffix("/data_sources"))
    # one request per parent value, each sent once, in the tasks
    assert sorted(children) == sorted(f"{LIST}/{u}/data_sources" for u in parents)
    assert distinct == set(parents)
    # the parent (the job list) was read once, on the driver: five pages of 200
    assert sorted(q for q in digitalocean.gets(LIST)) == sorted(set(digitalocean.gets(LIST)))
    assert len(digitalocean.gets(LIST)) == 5
    assert len(per_task) == 3
    counted = (
        sum(r["count(1)"] for r in per_task),
        sum(int(r["sum(total_file_count)"] or 0) for r in per_task),
        sum(int(r["sum(indexed_item_count)"] or 0) for r in per_task),
        len(parents),
    )
    assert counted == tuple(int(v) for v in expected)


def test_a_where_the_requests_do_not_answer_is_refused(spark: Any, digitalocean: Emulator) -> None:
    jobs = read(spark, digitalocean, where="status = 'INDEX_JOB_STATUS_FAILED'")
    digitalocean.server.log.clear()
    with pytest.raises(Exception, match=r"filter with DataFrame\.where\(\) instead"):
        jobs.count()
    assert digitalocean.server.log.entries() == []  # refused before any request


def test_a_missing_parent_names_the_where_option(spark: Any, digitalocean: Emulator) -> None:
    with pytest.raises(Exception, match=r"option\('where', \"indexing_job_uuid IN \(SELECT"):
        read(spark, digitalocean, SOURCES).count()
