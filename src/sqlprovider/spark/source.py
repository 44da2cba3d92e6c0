"""The ``sqlprovider`` Python data source of PySpark: reads split into the plan's requests,
writes sent one INSERT per row.

Spark calls ``schema``, ``reader``, ``pushFilters`` and ``partitions`` on the driver and
``read``/``write`` in tasks; every object here is pickled between them, so each holds plain
settings and the SQL conditions, and opens its own session where it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pyspark.sql.datasource import (
    DataSource,
    DataSourceReader,
    DataSourceWriter,
    Filter,
    InputPartition,
    WriterCommitMessage,
)
from pyspark.sql.types import StructType

from sqlprovider.errors import InterfaceError
from sqlprovider.spark.filters import condition_of
from sqlprovider.spark.settings import Settings, settings_of, spark_schema
from sqlprovider.spark.shares import Share, exact_conditions, plan_shares, read_share
from sqlprovider.spark.writes import Committed, commit_summary, write_rows


class SqlproviderDataSource(DataSource):
    """``spark.read.format("sqlprovider").load("provider.service.resource")``.

    Options: ``table`` (or the path given to ``load``/``save``), ``server.<provider>``,
    ``auth.<provider>.<setting>`` (``token``, ``type``, ...), ``numPartitions``,
    ``rate_limit``, ``outcomes`` (writes), ``providers_path``, ``pushdown``, ``where``
    (a dependent read: ``param IN (SELECT ... FROM another table)``).
    """

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.settings = settings_of(options)

    @classmethod
    def name(cls) -> str:
        """The format name: ``sqlprovider``."""
        return "sqlprovider"

    def schema(self) -> str:
        """The resource's columns as Spark DDL."""
        session = self.settings.session()
        try:
            return spark_schema(self.settings.resource(session))
        finally:
            session.close()

    def reader(self, schema: StructType) -> DataSourceReader:
        """A reader that hands filters to the planner when Spark offers them, else one that
        leaves every filter to Spark.

        Spark offers filters only when ``spark.sql.python.filterPushdown.enabled`` is true,
        and then asks for the reader in its filter-pushdown step; with the switch off it asks
        in its plain planning step and refuses a reader that takes filters. The worker does
        not hand the switch to ``reader``, so the step that asks tells which reader fits:
        the issue's ``spark.read...load(...)`` works either way, with the same rows.
        """
        if self.settings.pushdown and offered_filters():
            return PushdownReader(self.settings)
        return PlainReader(self.settings)

    def writer(self, schema: StructType, overwrite: bool) -> DataSourceWriter:
        """One INSERT per row (mode ``append`` only: an API has no table to overwrite)."""
        if overwrite:
            raise InterfaceError(
                f"{self.settings.table}: only mode('append') writes (one INSERT per row); "
                "an API has no table to overwrite"
            )
        return RowWriter(self.settings, tuple(schema.fieldNames()))


# The module of PySpark's worker that creates a reader, then hands it Spark's filters.
_PUSHDOWN_WORKER = "pyspark.sql.worker.data_source_pushdown_filters"


def offered_filters() -> bool:
    """Whether ``reader`` was called by Spark's filter-pushdown step (so ``pushFilters``
    follows), found by the calling worker's module.

    Should a later PySpark rename that module, reads lose their pushdown, never a row:
    every filter then stays with Spark.
    """
    frame = sys._getframe(1)
    while frame is not None:
        spec = frame.f_globals.get("__spec__")
        name = spec.name if spec is not None else frame.f_globals.get("__name__")
        if name == _PUSHDOWN_WORKER:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class Part(InputPartition):
    """One task's share of a read."""

    def __init__(self, share: Share) -> None:
        super().__init__(share.index)
        self.share = share

    def __repr__(self) -> str:
        return f"Part({self.share.index}: {len(self.share.requests)} requests)"


class PlainReader(DataSourceReader):
    """Reads the whole table; Spark applies every filter."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conditions: tuple[str, ...] = ()

    def partitions(self) -> Sequence[InputPartition]:
        """The read's shares (page 1 of a numbered list is fetched here, once)."""
        session = self.settings.session()
        try:
            return [Part(s) for s in plan_shares(session, self.settings, self.conditions)]
        finally:
            session.close()

    def read(self, partition: InputPartition) -> Iterator[Any]:
        """The share's rows as Arrow record batches."""
        if not isinstance(partition, Part):
            return iter(())  # the read has no request at all (its WHERE selects nothing)
        return read_share(self.settings, self.conditions, partition.share)


class PushdownReader(PlainReader):
    """Hands Spark's filters to the engine's planner; keeps only what it answers exactly."""

    def pushFilters(self, filters: list[Filter]) -> Iterable[Filter]:
        """Send what the planner can send; return to Spark every filter the requests do not
        answer exactly, so the answer never changes."""
        written = [(f, condition_of(f)) for f in filters]
        self.conditions = tuple(dict.fromkeys(c for _, c in written if c is not None))
        session = self.settings.session()
        try:
            exact = exact_conditions(session, self.settings, self.conditions)
        finally:
            session.close()
        return [f for f, condition in written if condition is None or condition not in exact]


class RowWriter(DataSourceWriter):
    """Sends one INSERT per row; a failed row fails the job once every row was tried."""

    def __init__(self, settings: Settings, columns: tuple[str, ...]) -> None:
        self.settings = settings
        self.columns = columns

    def write(self, iterator: Iterator[Any]) -> WriterCommitMessage:
        """Insert this task's rows (never twice: a retried task sends nothing)."""
        return write_rows(self.settings, self.columns, iterator)

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:
        """Fail the job with a summary when any row failed."""
        commit_summary(self.settings, [m for m in messages if isinstance(m, Committed)])


__all__ = ["SqlproviderDataSource"]
