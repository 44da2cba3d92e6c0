"""Writes from Spark: one INSERT per row, each as the engine runs it (validation, ``data__``
body fields, no retry of a POST), outcomes gathered for the driver and optionally written
as a Parquet table beside the job.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark import TaskContext
from pyspark.sql.datasource import WriterCommitMessage
from sqlglot import exp

from sqlprovider.errors import Error, InterfaceError, OperationalError
from sqlprovider.executor import Executor
from sqlprovider.http import ApiClient
from sqlprovider.model import Provider
from sqlprovider.session import Session
from sqlprovider.spark.settings import Settings
from sqlprovider.spark.shares import task_client

# How many failed rows the job's error names (the outcome table has all of them).
SHOWN_FAILURES = 10
OUTCOME_COLUMNS = ("partition", "row", "status", "id", "error", "response", "values")


@dataclass
class Committed(WriterCommitMessage):
    """What one write task did."""

    partition: int
    rows: int = 0
    failed_count: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (row, why), first ones


def write_rows(settings: Settings, columns: Sequence[str], rows: Iterator[Any]) -> Committed:
    """Send one INSERT per row of this task; never raise for a row (a raised task would be
    retried by Spark, sending its rows' POSTs again).

    Raises:
        InterfaceError: when this is a retried attempt: it sends nothing.
    """
    context = TaskContext.get()
    partition = context.partitionId() if context is not None else 0
    if context is not None and context.attemptNumber() > 0:
        raise InterfaceError(
            f"{settings.table}: write task {partition} was retried; a retry would send its "
            "rows' inserts again, so it sent nothing. Read the outcomes, then write the "
            "rows that were not created"
        )
    done = Committed(partition)
    session = settings.session()
    try:
        outcomes = asyncio.run(_insert_all(session, settings, columns, rows, done))
    finally:
        session.close()
    if settings.outcomes:
        _write_outcomes(settings.outcomes, partition, context, outcomes)
    return done


async def _insert_all(
    session: Session,
    settings: Settings,
    columns: Sequence[str],
    rows: Iterator[Any],
    done: Committed,
) -> list[dict[str, Any]]:
    """Each row's INSERT in turn, through clients that keep to this task's share of each
    provider's rate (the same share as a read's task: docs/scale-out.md)."""
    clients: dict[str, ApiClient] = {}

    def client_for(provider: Provider) -> ApiClient:
        if provider.name not in clients:
            parts = settings.partitions or provider.concurrency
            clients[provider.name] = task_client(session, settings, provider, parts)
        return clients[provider.name]

    executor = Executor(session.store, client_for, session.base_url, session.registry.get)
    outcomes: list[dict[str, Any]] = []
    try:
        for number, row in enumerate(rows):
            values = {c: v for c, v in zip(columns, row, strict=True) if v is not None}
            outcome = await _insert(session, executor, settings, values)
            done.rows += 1
            error = outcome.get("error")
            if error is not None:
                done.failed_count += 1
                if len(done.failed) < SHOWN_FAILURES:
                    done.failed.append((number, error))
            outcomes.append({"partition": done.partition, "row": number, **outcome})
    finally:
        for client in clients.values():
            await client.aclose()
    return outcomes


async def _insert(
    session: Session, executor: Executor, settings: Settings, values: dict[str, Any]
) -> dict[str, Any]:
    """One row's INSERT and its outcome."""
    shown = json.dumps(values, default=_json_value, sort_keys=True)
    if not values:
        return {
            "status": "failed",
            "error": "the row has no value",
            "response": None,
            "values": shown,
        }
    insert = exp.insert(
        exp.values([tuple(exp.Placeholder() for _ in values)]),
        settings.table_node(),
        columns=[exp.to_identifier(c, quoted=True) for c in values],
    )
    try:
        (plan,) = session.plans(insert.sql(dialect="duckdb"), parameters=list(values.values()))
        result = await executor.run(plan)
    except Error as exc:
        return {"status": "failed", "id": None, "error": _redacted(session, exc),
                "response": None, "values": shown}  # fmt: skip
    records = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    record = records[0] if len(records) == 1 else {}
    created = record.get("id")
    response = json.dumps(record or records, default=_json_value)
    return {"status": "ok", "id": None if created is None else str(created), "error": None,
            "response": response, "values": shown}  # fmt: skip


def _redacted(session: Session, exc: Error) -> str:
    """The error's message with every credential of the session as ``***``."""
    text = str(exc)
    for secret in session.secrets():
        text = text.replace(secret, "***")
    return text


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if hasattr(value, "asDict"):
        return value.asDict(recursive=True)
    return str(value)


def _write_outcomes(
    folder: str, partition: int, context: TaskContext | None, outcomes: list[dict[str, Any]]
) -> None:
    """This task's outcomes as one Parquet file in ``folder`` (``spark.read.parquet``)."""
    pa = importlib.import_module("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")

    schema = pa.schema(
        [
            ("partition", pa.int32()),
            ("row", pa.int64()),
            ("status", pa.string()),
            ("id", pa.string()),
            ("error", pa.string()),
            ("response", pa.string()),
            ("values", pa.string()),
        ]
    )
    table = pa.Table.from_pylist(outcomes, schema=schema)
    os.makedirs(folder, exist_ok=True)
    stage = context.stageId() if context is not None else 0
    pq.write_table(table, os.path.join(folder, f"part-{partition:05d}-stage-{stage}.parquet"))


def commit_summary(settings: Settings, messages: list[Committed]) -> None:
    """Raise one error naming the failed rows (which task, which row, why), if any."""
    rows = sum(m.rows for m in messages)
    failed = sum(m.failed_count for m in messages)
    if not failed:
        return
    named = [
        f"partition {m.partition} row {row}: {why}"
        for m in sorted(messages, key=lambda m: m.partition)
        for row, why in m.failed
    ][:SHOWN_FAILURES]
    more = failed - len(named)
    where = (
        f"; every row's outcome is in {settings.outcomes}"
        if settings.outcomes
        else "; .option('outcomes', path) writes every row's outcome"
    )
    raise OperationalError(
        f"{settings.table}: {failed} of {rows} rows failed, the others were created "
        f"(no insert was sent twice). "
        + "; ".join(named)
        + (f"; and {more} more" if more > 0 else "")
        + where
    )


__all__ = ["OUTCOME_COLUMNS", "Committed", "commit_summary", "write_rows"]
