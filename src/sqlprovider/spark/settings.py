"""The data source's options, the session they open, and the Spark types of columns.

Spark hands a data source its options as strings (``.option(key, value)``, ``OPTIONS (...)``);
this module reads them into one ``Settings`` value that is pickled to every task. Nothing
here imports PySpark: schemas are DDL strings, which Spark parses itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from sqlprovider.errors import InterfaceError
from sqlprovider.model import Column, Resource, param_columns
from sqlprovider.session import Session

# sqlprovider column type → (Spark SQL type, the DuckDB type rows are cast to for Arrow).
# Spark has no unsigned integers: uint64 is DECIMAL(20,0), which holds every value exactly.
# JSON columns are JSON text, as Spark's own JSON functions (from_json) read it.
SPARK_TYPES: dict[str, tuple[str, str]] = {
    "string": ("STRING", "VARCHAR"),
    "integer": ("BIGINT", "BIGINT"),
    "uint64": ("DECIMAL(20,0)", "DECIMAL(20,0)"),
    "number": ("DOUBLE", "DOUBLE"),
    "boolean": ("BOOLEAN", "BOOLEAN"),
    "timestamp": ("TIMESTAMP", "TIMESTAMPTZ"),
    "date": ("DATE", "DATE"),
    "json": ("STRING", "VARCHAR"),
    "array": ("STRING", "VARCHAR"),
    "object": ("STRING", "VARCHAR"),
    "string[]": ("ARRAY<STRING>", "VARCHAR[]"),
    "integer[]": ("ARRAY<BIGINT>", "BIGINT[]"),
}

_KNOWN = (
    "table",
    "path",
    "numpartitions",
    "rate_limit",
    "outcomes",
    "providers_path",
    "pushdown",
    "where",
)


@dataclass(frozen=True)
class Settings:
    """What a read or a write was asked to do, from its options.

    Attributes:
        table: ``provider.service.resource``.
        servers: provider → base URL (``server.<provider>``, like ``--server``).
        auth: provider → auth settings (``auth.<provider>.token``, ``auth.<provider>.type``...).
        partitions: the most partitions (tasks at once) a read is split into
            (``numPartitions``; default: the provider's concurrency).
        rate_limit: requests a second for the whole cluster (``rate_limit``; default: the
            provider's declared limit).
        outcomes: a directory each write task writes its rows' outcomes to (Parquet).
        providers_path: directories of provider YAML searched before the bundled ones.
        pushdown: whether filters are handed to the planner (``pushdown``, default true).
        where: a condition in sqlprovider's SQL the requests themselves must answer: an
            exact filter, or ``param IN (SELECT ... FROM another table)``, which makes the
            read a dependent one, one request per value of the other table (``where``).
    """

    table: str
    servers: tuple[tuple[str, str], ...] = ()
    auth: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = field(default=(), repr=False)
    partitions: int | None = None
    rate_limit: float | None = None
    outcomes: str | None = None
    providers_path: tuple[str, ...] = ()
    pushdown: bool = True
    where: str | None = None

    def session(self) -> Session:
        """A session with these servers, credentials and providers."""
        return Session(
            servers=dict(self.servers),
            auth={name: dict(values) for name, values in self.auth},
            providers_path=list(self.providers_path),
        )

    def resource(self, session: Session) -> Resource:
        """The resource ``table`` names."""
        parts = self.table.split(".")
        if len(parts) != 3 or not all(parts):
            raise InterfaceError(
                f"the table {self.table!r} is not provider.service.resource; give it with "
                ".load('digitalocean.genai.indexing_jobs') or .option('table', ...)"
            )
        return session.registry.resource(*parts)

    def table_node(self) -> exp.Table:
        """The table as sqlglot writes it (each part quoted)."""
        provider, service, name = self.table.split(".")
        return exp.table_(name, db=service, catalog=provider, quoted=True)


def settings_of(options: Mapping[str, str]) -> Settings:
    """Read a data source's options (keys in any case).

    Raises:
        InterfaceError: for an unknown option or a value of the wrong kind, naming it.
    """
    servers: dict[str, str] = {}
    auth: dict[str, dict[str, str]] = {}
    plain: dict[str, str] = {}
    for key, value in options.items():
        folded = key.lower()
        if folded.startswith("server."):
            servers[folded.removeprefix("server.")] = value
        elif folded.startswith("auth.") and folded.count(".") == 2:
            _, provider, setting = folded.split(".")
            auth.setdefault(provider, {})[setting] = value
        elif folded in _KNOWN:
            plain[folded] = value
        else:
            raise InterfaceError(
                f"unknown option {key!r}; the options are table, server.<provider>, "
                "auth.<provider>.<setting>, numPartitions, rate_limit, outcomes, "
                "providers_path, pushdown and where"
            )
    table = plain.get("table") or plain.get("path")
    if not table:
        raise InterfaceError(
            "no table: give it with .load('provider.service.resource') or .option('table', ...)"
        )
    return Settings(
        table=table,
        servers=tuple(sorted(servers.items())),
        auth=tuple((p, tuple(sorted(v.items()))) for p, v in sorted(auth.items())),
        partitions=_count(plain, "numpartitions", "numPartitions"),
        rate_limit=_rate(plain),
        outcomes=plain.get("outcomes") or None,
        providers_path=tuple(p for p in plain.get("providers_path", "").split(",") if p),
        pushdown=plain.get("pushdown", "true").strip().lower() != "false",
        where=plain.get("where", "").strip() or None,
    )


def _count(plain: Mapping[str, str], key: str, shown: str) -> int | None:
    text = plain.get(key)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InterfaceError(f"option {shown} must be a whole number, 1 or more, not {text!r}")
    return value


def _rate(plain: Mapping[str, str]) -> float | None:
    text = plain.get("rate_limit")
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not math.isfinite(value) or value <= 0:
        raise InterfaceError(
            f"option rate_limit must be requests a second, more than 0, not {text!r}"
        )
    return value


def columns_of(resource: Resource) -> tuple[Column, ...]:
    """The columns a read returns, as ``SELECT *`` of the table does: the record's, then
    the params that are not record fields."""
    return (*resource.columns, *param_columns(resource))


def spark_schema(resource: Resource) -> str:
    """The resource's schema as Spark DDL (```uuid` STRING, `created_at` TIMESTAMP, ...``)."""
    return ", ".join(
        f"`{c.name.replace('`', '``')}` {SPARK_TYPES[c.type][0]}" for c in columns_of(resource)
    )


def spark_select(resource: Resource, table: exp.Table) -> str:
    """DuckDB SQL that reads a loaded table with each column cast to what its Spark type
    is made from in Arrow."""
    outputs = [
        exp.alias_(
            exp.cast(exp.column(c.name, quoted=True), SPARK_TYPES[c.type][1], dialect="duckdb"),
            c.name,
            quoted=True,
        )
        for c in columns_of(resource)
    ]
    return exp.select(*outputs).from_(table).sql(dialect="duckdb")


def task_rate(settings: Settings, declared: Any, parts: int) -> tuple[float, int] | None:
    """The rate one task keeps to, ``(per second, burst)``: the cluster's rate divided by
    the tasks that can run at once (never more than ``parts``, the partitions of the read).

    ``declared`` is the provider's RateLimit, or None when it declares none.
    """
    total = settings.rate_limit if settings.rate_limit is not None else None
    burst = 1
    if total is None and declared is not None:
        total, burst = declared.per_second, declared.burst
    if total is None:
        return None
    parts = max(parts, 1)
    return total / parts, max(1, burst // parts)
