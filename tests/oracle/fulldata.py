"""The full data of every SELECT-able resource, read through the engine with conditions that
are inputs or exact ids only, in a plain DuckDB database.

The oracle database has one in-memory catalog per provider (``ATTACH ':memory:' AS
digitalocean``), one schema per service and one table per resource, so a statement written
for the engine runs unchanged in the oracle: ``digitalocean.genai.indexing_jobs`` names the
full-data table there, in any case, under any alias.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
from sqlglot import exp

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.model import Resource, SqlVerb, param_columns
from sqlprovider.providers import Registry
from tests.oracle.harness import (
    AMPERITY_FROM,
    AMPERITY_TO,
    UNKNOWN_CC_PAIR,
    UNKNOWN_NAME,
    UNKNOWN_UUID,
    column,
    do_list,
    in_list,
    literal,
    onyx_rows,
    openverse_names,
    rows_key,
    select_everything,
)

# -- full data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """How a statement binds a resource's required params.

    kind ``ids``: ``column = v`` / ``column IN (...)`` with ``known`` values (rows exist) or
    ``unknown`` ones (no rows; the API answers empty). ``window``: Amperity's range on
    ``started_at``. ``range``: Amperity's ``created_from``/``created_to`` equal to the loader's.
    """

    kind: str
    column: str
    known: tuple[Any, ...] = ()
    unknown: tuple[Any, ...] = ()


@dataclass(frozen=True)
class LoadSpec:
    """How the full data of one resource is read through the engine."""

    where: exp.Expr | None
    bindings: tuple[Binding, ...] = ()  # ways a generated statement binds required params
    identifying: tuple[str, ...] = ()  # required input columns that identify rows


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str  # DuckDB's
    samples: tuple[Any, ...]  # distinct non-NULL values of the full data, spread out

    @property
    def kind(self) -> str:
        return type_kind(self.type)


@dataclass(frozen=True)
class TableInfo:
    """One resource's full data in the oracle, and what generated statements may use."""

    name: str  # provider.service.resource
    resource: Resource
    columns: tuple[str, ...]  # every column, as the engine describes the resource
    types: tuple[str, ...]
    record: tuple[ColumnInfo, ...]  # columns statements may read (no free inputs)
    free_inputs: tuple[str, ...]  # input columns echoing the request: never referenced
    bindings: tuple[Binding, ...]  # empty: no required params
    rows: int
    echo_stable: bool  # free inputs are NULL in every answer: whole rows compare as they are

    def col(self, name: str) -> ColumnInfo:
        return next(c for c in self.record if c.name == name)

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.record)


def type_kind(duck_type: str) -> str:
    kinds = {
        "VARCHAR": "text",
        "BIGINT": "int",
        "INTEGER": "int",
        "UBIGINT": "int",
        "DOUBLE": "float",
        "BOOLEAN": "bool",
        "TIMESTAMP WITH TIME ZONE": "time",
        "JSON": "json",
    }
    if duck_type.endswith("[]"):
        return "list"
    return kinds[duck_type]


ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "UBIGINT": pa.uint64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
    "VARCHAR[]": pa.list_(pa.string()),
    "BIGINT[]": pa.list_(pa.int64()),
}

Loader = Callable[[Resource, dict[str, EmulatorServer]], LoadSpec]


def load_everything(resource: Resource, servers: dict[str, EmulatorServer]) -> LoadSpec:
    return LoadSpec(where=None)


def ids_loader(column_name: str, ids: Callable[[dict[str, EmulatorServer]], list[Any]]) -> Loader:
    """Load with ``column IN (every id, one unknown id)``; the ids come from the emulator."""

    def load(resource: Resource, servers: dict[str, EmulatorServer]) -> LoadSpec:
        known = ids(servers)
        unknown = UNKNOWN_UUID
        where = in_list(column(column_name), [*known, unknown])
        return LoadSpec(where, (Binding("ids", column_name, tuple(known), (unknown,)),))

    return load


def onyx_attempts_loader(resource: Resource, servers: dict[str, EmulatorServer]) -> LoadSpec:
    # Every cc pair; an unknown id is not in the load because the API answers it 400 (see
    # the regression cases): generated statements still use it.
    known = sorted(r["cc_pair_id"] for r in onyx_rows(servers["onyx"]) if "cc_pair_id" in r)
    where = in_list(column("cc_pair_id"), known)
    return LoadSpec(where, (Binding("ids", "cc_pair_id", tuple(known), (UNKNOWN_CC_PAIR,)),))


def index_stats_loader(resource: Resource, servers: dict[str, EmulatorServer]) -> LoadSpec:
    # Every name has a row (an unknown one says exists = false), so the full data is the
    # names the emulator holds plus one unknown name, and statements bind only those.
    names = [*openverse_names(servers["openverse"]), UNKNOWN_NAME]
    where = in_list(column("name"), names)
    return LoadSpec(where, (Binding("ids", "name", tuple(names)),), identifying=("name",))


def amperity_loader(resource: Resource, servers: dict[str, EmulatorServer]) -> LoadSpec:
    where = exp.and_(
        exp.EQ(this=column("created_from"), expression=literal(AMPERITY_FROM)),
        exp.EQ(this=column("created_to"), expression=literal(AMPERITY_TO)),
    )
    jobs = tuple(job.id for job in servers["amperity"].app.state.amperity.jobs)
    key = "id" if resource.name == "jobs" else "job_id"
    bindings = [Binding("ids", key, jobs, ("isj-20250101-00000-oracle",))]
    if resource.name != "jobs":
        bindings.append(Binding("window", "started_at"))
    bindings.append(Binding("range", "created_from"))  # the loader's own range: slow, rare
    return LoadSpec(where, tuple(bindings))


def _do_job_ids(servers: dict[str, EmulatorServer]) -> list[Any]:
    return [j["uuid"] for j in do_list(servers["digitalocean"], "/v2/gen-ai/indexing_jobs", "jobs")]


def _do_kb_ids(servers: dict[str, EmulatorServer]) -> list[Any]:
    kbs = do_list(servers["digitalocean"], "/v2/gen-ai/knowledge_bases", "knowledge_bases")
    return [kb["uuid"] for kb in kbs]


# Resources whose every SELECT method has a required param need a loader of their own.
LOADERS: dict[str, Loader] = {
    "digitalocean.genai.indexing_job_data_sources": ids_loader("indexing_job_uuid", _do_job_ids),
    "digitalocean.genai.knowledge_base_data_sources": ids_loader("knowledge_base_uuid", _do_kb_ids),
    "onyx.connector.index_attempts": onyx_attempts_loader,
    "openverse.ingestion.index_stats": index_stats_loader,
    "amperity.ingest.jobs": amperity_loader,
    "amperity.ingest.job_tables": amperity_loader,
    "amperity.ingest.job_files": amperity_loader,
}


def selectable_resources(registry: Registry | None = None) -> list[Resource]:
    """Every resource of every bundled provider that SELECT can read."""
    registry = registry or Registry()
    found = []
    for name in registry.names():
        for resource in registry.get(name).resources():
            if resource.methods_for(SqlVerb.SELECT):
                found.append(resource)
    return found


def needs_loader(resource: Resource) -> bool:
    """Whether no SELECT method runs without a required param (an env fallback counts)."""
    return all(
        any(p.required and not p.env for p in m.params)
        for m in resource.methods_for(SqlVerb.SELECT)
    )


def loader_for(resource: Resource) -> Loader | None:
    if resource.qualified_name in LOADERS:
        return LOADERS[resource.qualified_name]
    return None if needs_loader(resource) else load_everything


class FullData:
    """The oracle database and what it holds. (A plain class with a short repr: hypothesis
    prints the arguments of a failing test, and a dataclass would be printed field by field,
    every sample of every table, which breaks its replay of the failing example.)"""

    def __init__(self, db: duckdb.DuckDBPyConnection) -> None:
        self.db = db
        self.tables: dict[str, TableInfo] = {}
        self.missing: list[str] = []  # resources with no loader
        self.memo: dict[str, Any] = {}  # what strategies compute once

    def __repr__(self) -> str:
        return f"<FullData: {len(self.tables)} resources>"

    def info(self, name: str) -> TableInfo:
        return self.tables[name]

    def values(self, sql: str) -> list[Any]:
        return [r[0] for r in self.db.execute(sql).fetchall()]


def oracle_database() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")  # as the engine's sessions
    return db


def create_oracle_table(
    db: duckdb.DuckDBPyConnection,
    name: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """``CREATE TABLE provider.service.resource`` (catalogs and schemas made as needed) with
    these columns and types, holding these rows in this order."""
    catalog, schema, _ = name.split(".")
    attached = {r[0] for r in db.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    if catalog not in attached:
        db.execute(f"ATTACH ':memory:' AS {catalog}")
    db.execute(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}")
    ddl = ", ".join(f'"{c}" {t}' for c, t in zip(columns, types, strict=True))
    db.execute(f"CREATE TABLE {name} ({ddl})")
    arrays = [pa.array([row[i] for row in rows], type=ARROW_TYPES[t]) for i, t in enumerate(types)]
    incoming = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(columns))])
    db.register("oracle_incoming", incoming)
    try:
        db.execute(f"INSERT INTO {name} SELECT * FROM oracle_incoming")
    finally:
        db.unregister("oracle_incoming")


def spread(values: Sequence[Any], count: int = 24) -> tuple[Any, ...]:
    """Up to ``count`` values evenly spread over the sorted distinct ``values``."""
    try:
        distinct = sorted(set(values))
    except TypeError:
        distinct = sorted(set(values), key=repr)
    if len(distinct) <= count:
        return tuple(distinct)
    step = len(distinct) / count
    return tuple(distinct[int(i * step)] for i in range(count))


def load_resource(
    conn: sqlprovider.Connection,
    data: FullData,
    resource: Resource,
    servers: dict[str, EmulatorServer],
    loader: Loader,
) -> None:
    """Read one resource's full data through the engine into the oracle."""
    name = resource.qualified_name
    spec = loader(resource, servers)
    cur = conn.execute(select_everything(name, spec.where))
    rows = cur.fetchall()
    description = cur.description or []
    columns = [d[0] for d in description]
    types = [str(d[1]) for d in description]
    create_oracle_table(data.db, name, columns, types, rows)
    stored = data.db.execute(f"SELECT * FROM {name}").fetchall()
    assert rows_key(stored) == rows_key(rows), f"{name}: the oracle table differs from the load"
    inputs = [c.name for c in param_columns(resource) if c.name not in spec.identifying]
    record = []
    for col, kind in zip(columns, types, strict=True):
        if col in inputs:
            continue
        if type_kind(kind) in ("json", "list"):
            samples: tuple[Any, ...] = ()
        else:
            samples = spread(
                data.values(f'SELECT DISTINCT "{col}" FROM {name} WHERE "{col}" IS NOT NULL')
            )
        record.append(ColumnInfo(col, kind, samples))
    # A free input echoes a value only when a statement binds it: the loader (Amperity's
    # range) or the pushdown of a condition on a record column (Onyx's docs_count_value and
    # its operator, name_filter; Amperity's created_from from started_at).
    bound_inputs = spec.where is not None and any(
        c.name in inputs for c in spec.where.find_all(exp.Column)
    )
    pushed = {
        name
        for m in resource.methods_for(SqlVerb.SELECT)
        for p in m.params
        if p.column
        for name in (p.name, p.operator_param)
        if name
    }
    data.tables[name] = TableInfo(
        name=name,
        resource=resource,
        columns=tuple(columns),
        types=tuple(types),
        record=tuple(record),
        free_inputs=tuple(inputs),
        bindings=spec.bindings,
        rows=len(rows),
        echo_stable=not bound_inputs and not pushed & set(inputs),
    )


def load_full_data(conn: sqlprovider.Connection, servers: dict[str, EmulatorServer]) -> FullData:
    """The full data of every SELECT-able resource whose provider has an emulator here."""
    data = FullData(oracle_database())
    for resource in selectable_resources():
        loader = loader_for(resource)
        if loader is None:
            data.missing.append(resource.qualified_name)
            continue
        if resource.provider in servers:
            load_resource(conn, data, resource, servers, loader)
    return data
