"""Every Python and SQL block of docs/scale-out.md runs as written in the test SparkSession,
against the DigitalOcean emulator (its URL for the docs' ``http://127.0.0.1:8080``, a
temporary directory for ``/tmp/outcomes``), and what it gives is checked against the
engine. A block with no case here fails: tests/docs/test_doc_blocks.py lists these blocks
as kind ``spark-python`` and ``spark-sql``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.docs.blocks import Block, blocks_of
from tests.spark.conftest import Emulator
from tests.spark.test_spark_reads import JOBS, engine

BLOCKS = blocks_of("spark-python", "spark-sql")
DOCS_URL = "http://127.0.0.1:8080"
SOURCES = "digitalocean.genai.indexing_job_data_sources"


def shown(text: str) -> list[list[str]]:
    """The body rows of what ``DataFrame.show()`` printed."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in rows[1:]]


def cut(value: Any) -> str:
    """A value as ``show()`` prints it (cut to 20 characters)."""
    text = str(value)
    return text if len(text) <= 20 else text[:17] + "..."


def check_example(emulator: Emulator, out: str, spark: Any, path: Path) -> None:
    expected = engine(
        emulator,
        f"SELECT knowledge_base_uuid, count(*) FROM {JOBS} "
        "WHERE status = 'INDEX_JOB_STATUS_FAILED' GROUP BY 1",
    )
    rows = shown(out)
    assert expected and len(rows) == min(20, len(expected))
    assert {(k, int(n)) for k, n in rows} <= {(cut(k), n) for k, n in expected}


def check_sql(emulator: Emulator, out: str, spark: Any, path: Path) -> None:
    raise AssertionError("the SQL block is checked by test_the_sql_block")  # pragma: no cover


def check_switch(emulator: Emulator, out: str, spark: Any, path: Path) -> None:
    assert spark.conf.get("spark.sql.python.filterPushdown.enabled") == "true"


def check_dependent(emulator: Emulator, out: str, spark: Any, path: Path) -> None:
    expected = engine(
        emulator,
        f"SELECT status, count(*) FROM {SOURCES} WHERE indexing_job_uuid IN (SELECT uuid "
        f"FROM {JOBS} WHERE status = 'INDEX_JOB_STATUS_FAILED') GROUP BY 1",
    )
    assert expected and {(s, int(n)) for s, n in shown(out)} == {(cut(s), n) for s, n in expected}


def check_write(emulator: Emulator, out: str, spark: Any, path: Path) -> None:
    posts = [e for e in emulator.server.log.entries() if e.method == "POST"]
    assert len(posts) == 2
    rows = shown(out)
    assert [r[1] for r in rows] == ["ok", "ok"]  # row, status, id
    assert len({p.json["knowledge_base_uuid"] for p in posts}) == 2


CASES: dict[str, Callable[[Emulator, str, Any, Path], None]] = {
    'groupBy("knowledge_base_uuid")': check_example,
    "CREATE OR REPLACE TEMPORARY VIEW jobs": check_sql,
    "spark.conf.set(": check_switch,
    '.option("where"': check_dependent,
    '.mode("append")': check_write,
}


def case_of(block: Block) -> Callable[[Emulator, str, Any, Path], None]:
    found = [check for marker, check in CASES.items() if marker in block.text]
    assert len(found) == 1, f"{block.where}: no case (or several) for this block"
    return found[0]


def adapted(block: Block, emulator: Emulator, path: Path) -> str:
    text = block.text.replace(DOCS_URL, emulator.url)
    return text.replace("/tmp/outcomes", str(path / "outcomes"))


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "python"], ids=lambda b: b.where)
def test_each_python_block_runs(
    block: Block,
    spark: Any,
    digitalocean: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    check = case_of(block)
    capsys.readouterr()
    digitalocean.server.log.clear()
    exec(compile(adapted(block, digitalocean, tmp_path), block.where, "exec"), {"spark": spark})
    check(digitalocean, capsys.readouterr().out, spark, tmp_path)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "sql"], ids=lambda b: b.where)
def test_the_sql_block(block: Block, spark: Any, digitalocean: Emulator, tmp_path: Path) -> None:
    assert case_of(block) is check_sql
    statements = [s for s in adapted(block, digitalocean, tmp_path).split(";") if s.strip()]
    *setup, query = statements
    for statement in setup:
        spark.sql(statement)
    rows = [tuple(r) for r in spark.sql(query).collect()]
    sql = re.sub(r"\bFROM jobs\b", f"FROM {JOBS}", query)
    assert rows == engine(digitalocean, sql) and rows
