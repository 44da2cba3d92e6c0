"""A Spark driver run as its own process by test_spark_driver.py: a fresh Spark with its
defaults (filter pushdown off), the driver's log at INFO in a file, and the UI on a free
loopback port.

It runs issue 15's example as written, then reads with a token given as an option and
prints, as one JSON line on stdout, every place Spark shows a plan: ``explain`` in each
mode, the query execution's strings and JSON, the SQL form's EXPLAIN, and what the UI's
REST API serves. ``python -m tests.spark.driver URL TOKEN LOG_FILE``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

# Issue 15's example, word for word but for the emulator's URL.
ISSUE_EXAMPLE = """\
from sqlprovider.spark import SqlproviderDataSource
spark.dataSource.register(SqlproviderDataSource)
jobs = (spark.read.format("sqlprovider").option("server.digitalocean", "http://127.0.0.1:8080").load("digitalocean.genai.indexing_jobs"))
jobs.where("status = 'INDEX_JOB_STATUS_FAILED'").groupBy("knowledge_base_uuid").count().show()
"""
JOBS = "digitalocean.genai.indexing_jobs"
MODES = ("simple", "extended", "codegen", "cost", "formatted")


def printed(call: Any) -> str:
    """What ``call()`` printed on stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        call()
    return out.getvalue()


def plan_strings(frame: Any) -> dict[str, str]:
    """Every string Spark makes of a DataFrame's plan."""
    shown = {f"explain {m}": printed(lambda m=m: frame.explain(mode=m)) for m in MODES}
    execution = frame._jdf.queryExecution()
    shown["queryExecution"] = execution.toString()
    shown["queryExecution.simpleString"] = execution.simpleString()
    for stage in ("logical", "analyzed", "optimizedPlan", "executedPlan"):
        plan = getattr(execution, stage)()
        shown[f"{stage}.toJSON"] = plan.toJSON()
        shown[f"{stage}.treeString"] = plan.treeString()
    shown["inputFiles"] = json.dumps(frame.inputFiles())
    return shown


def ui(url: str, path: str) -> Any:
    """One answer of the UI's REST API (loopback, bounded)."""
    with urllib.request.urlopen(f"{url}/api/v1/{path}", timeout=20) as answer:
        return json.loads(answer.read())


# The driver's log at INFO, in a file: PySpark filters what the console shows down to WARN,
# whatever the level, but not what a file appender writes.
LOG4J2 = """\
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{HH:mm:ss}} %p %c{{1}}: %m%n%ex
"""


def main(url: str, token: str, log: str) -> None:
    from pyspark.sql import SparkSession

    properties = Path(log).with_suffix(".properties")
    properties.write_text(LOG4J2.format(log=log), encoding="utf-8")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("sqlprovider-driver")
        .config("spark.ui.enabled", "true")
        .config("spark.ui.port", "0")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{properties}")
        .getOrCreate()
    )
    found: dict[str, Any] = {}
    code = ISSUE_EXAMPLE.replace("http://127.0.0.1:8080", url)
    found["example switch off"] = printed(lambda: exec(code, {"spark": spark}))
    spark.conf.set("spark.sql.python.filterPushdown.enabled", "true")
    last_lines = "\n".join(code.splitlines()[2:])  # registered already: not again
    found["example switch on"] = printed(lambda: exec(last_lines, {"spark": spark}))
    jobs = (
        spark.read.format("sqlprovider")
        .option("server.digitalocean", url)
        .option("auth.digitalocean.token", token)
        .load(JOBS)
        .where("phase > 'B'")
    )
    found["count"] = jobs.count()
    found["plans"] = plan_strings(jobs)
    spark.sql(
        "CREATE OR REPLACE TEMPORARY VIEW do_jobs USING sqlprovider OPTIONS ("
        f"table '{JOBS}', `server.digitalocean` '{url}', `auth.digitalocean.token` '{token}')"
    )
    found["sql count"] = spark.sql("SELECT count(*) FROM do_jobs WHERE phase > 'B'").collect()[0][0]
    found["sql explain"] = [
        spark.sql(f"EXPLAIN {m} SELECT count(*) FROM do_jobs").collect()[0][0]
        for m in ("EXTENDED", "FORMATTED", "CODEGEN", "COST")
    ]
    found["sql plans"] = plan_strings(spark.table("do_jobs"))
    web = spark.sparkContext.uiWebUrl
    assert web is not None
    web = "http://127.0.0.1:" + web.rsplit(":", 1)[1]
    (app,) = ui(web, "applications")
    app_id = app["id"]
    found["ui"] = {
        path: ui(web, f"applications/{app_id}/{path}")
        for path in (
            "sql?details=true&planDescription=true",
            "jobs",
            "stages?details=true",
            "environment",
        )
    }
    spark.stop()
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
