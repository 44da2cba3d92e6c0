"""What the write checks share: fresh emulators with the target's full data loaded just
before the write, the writes' targets (which request touches which object), generated WHERE
clauses, and the check that a write touched exactly the objects its WHERE selects."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import strategies as st
from sqlglot import exp

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer, LoggedRequest
from sqlprovider.providers import Registry, bundled_providers_dir
from tests.oracle.compare import Answer, engine_answer
from tests.oracle.fulldata import (
    FullData,
    load_resource,
    loader_for,
    oracle_database,
    selectable_resources,
)
from tests.oracle.grammar import some
from tests.oracle.harness import (
    column,
    connect,
    engine_environment,
    in_list,
    literal,
    sql_text,
    start_digitalocean,
    start_onyx,
    write_requests,
)

KB = "digitalocean.genai.knowledge_bases"
KB_SOURCES = "digitalocean.genai.knowledge_base_data_sources"
JOBS = "digitalocean.genai.indexing_jobs"
STATUS = "onyx.connector.indexing_status"
UNKNOWN_ID = "00000000-0000-4000-8000-0000000feed5"


@dataclass
class World:
    """A fresh emulator, an engine connection to it and the full data it holds now."""

    server: EmulatorServer
    conn: sqlprovider.Connection
    full: FullData

    def writes(self) -> list[LoggedRequest]:
        return write_requests(self.server)

    def run(self, sql: str) -> Answer:
        self.server.log.clear()
        return engine_answer(self.conn, sql)


@contextlib.contextmanager
def world(provider: str, tables: Sequence[str], registry: Sequence[Path] = ()) -> Iterator[World]:
    """A fresh DigitalOcean (120 jobs, 12 knowledge bases) or Onyx (150 cc pairs) emulator
    with ``tables`` loaded; ``knowledge_base_data_sources`` gets ``data_source_uuid`` (the
    delete's name for a data source's ``uuid``) so its WHERE runs in the oracle too.
    ``registry``: StackQL registry directories whose providers replace the bundled ones."""
    server = (
        start_digitalocean(jobs=120, knowledge_bases=12)
        if provider == "digitalocean"
        else start_onyx(150)
    )
    servers = {provider: server}
    try:
        with engine_environment():
            conn = connect(servers, registry)
        with conn:
            full = FullData(oracle_database())
            if registry:  # only the tables named: a registry lists services it does not ship
                found = Registry([bundled_providers_dir()], list(registry))
                resources = {n: found.resource(*n.split(".")) for n in tables}
            else:
                resources = {r.qualified_name: r for r in selectable_resources()}
            for name in tables:
                loader = loader_for(resources[name])
                assert loader is not None
                load_resource(conn, full, resources[name], servers, loader)
            if KB_SOURCES in tables:
                full.db.execute(f"ALTER TABLE {KB_SOURCES} ADD COLUMN data_source_uuid VARCHAR")
                full.db.execute(f"UPDATE {KB_SOURCES} SET data_source_uuid = uuid")
            yield World(server, conn, full)
    finally:
        server.stop()


@dataclass(frozen=True)
class Target:
    """A write: its statement's head, the columns that identify an object (as the WHERE
    names them), the request that acts on one (``(?P<name>...)`` groups for those columns)
    and the SET clauses it may take (SQL, and the body field each one sends)."""

    table: str
    provider: str
    head: str  # "UPDATE t SET ..." / "DELETE FROM t" / "REPLACE t SET ..."
    ids: tuple[str, ...]
    method: str
    path: re.Pattern[str]
    body: dict[str, Any]  # field -> value sent (None: the object's own id)
    other: tuple[str, ...]  # non-identifying columns conditions use
    loaded: tuple[str, ...]


TARGETS = {
    "update knowledge_bases": Target(
        KB,
        "digitalocean",
        f"UPDATE {KB} SET tags = ['oracle']",
        ("uuid",),
        "PUT",
        re.compile(r"^/v2/gen-ai/knowledge_bases/(?P<uuid>[^/]*)$"),
        {"tags": ["oracle"]},
        ("name", "region", "is_public", "created_at", "last_indexing_job_phase"),
        (KB,),
    ),
    "delete knowledge_bases": Target(
        KB,
        "digitalocean",
        f"DELETE FROM {KB}",
        ("uuid",),
        "DELETE",
        re.compile(r"^/v2/gen-ai/knowledge_bases/(?P<uuid>[^/]*)$"),
        {},
        ("name", "region", "is_public", "created_at", "last_indexing_job_phase"),
        (KB,),
    ),
    "delete knowledge_base_data_sources": Target(
        KB_SOURCES,
        "digitalocean",
        f"DELETE FROM {KB_SOURCES}",
        ("knowledge_base_uuid", "data_source_uuid"),
        "DELETE",
        re.compile(
            r"^/v2/gen-ai/knowledge_bases/(?P<knowledge_base_uuid>[^/]*)"
            r"/data_sources/(?P<data_source_uuid>[^/]*)$"
        ),
        {},
        ("chunking_algorithm", "created_at"),
        (KB, KB_SOURCES),
    ),
    "replace (cancel) indexing_jobs": Target(
        JOBS,
        "digitalocean",
        f"REPLACE {JOBS} SET data__uuid = uuid",
        ("uuid",),
        "PUT",
        re.compile(r"^/v2/gen-ai/indexing_jobs/(?P<uuid>[^/]*)/cancel$"),
        {"uuid": None},
        ("status", "phase", "created_at", "knowledge_base_uuid", "total_datasources"),
        (JOBS,),
    ),
    "update onyx cc pair status": Target(
        STATUS,
        "onyx",
        f"UPDATE {STATUS} SET data__status = 'PAUSED'",
        ("cc_pair_id",),
        "PUT",
        re.compile(r"^/api/manage/admin/cc-pair/(?P<cc_pair_id>[^/]*)/status$"),
        {"status": "PAUSED"},
        ("source", "cc_pair_status", "access_type", "last_status", "docs_indexed", "name"),
        (STATUS,),
    ),
}


def write_sql(target: Target, where: exp.Expr) -> str:
    return f"{target.head} WHERE {sql_text(where)}"


def expected_objects(w: World, target: Target, where: exp.Expr) -> Counter[tuple[str, ...]] | None:
    """The objects the WHERE selects in the full data (each once; NULL ids cannot be
    addressed and are left out); None when DuckDB cannot evaluate the WHERE."""
    ids = ", ".join(target.ids)
    not_null = " AND ".join(f"{i} IS NOT NULL" for i in target.ids)
    sql = f"SELECT DISTINCT {ids} FROM {target.table} WHERE ({sql_text(where)}) AND {not_null}"
    try:
        rows = w.full.db.execute(sql).fetchall()
    except duckdb.Error:
        return None
    return Counter(tuple(str(v) for v in row) for row in rows)


def touched(target: Target, entries: Sequence[LoggedRequest]) -> Counter[tuple[str, ...]]:
    """The objects the write requests acted on; a write request of another shape counts as
    touching ``('?', path)``."""
    found: Counter[tuple[str, ...]] = Counter()
    for entry in entries:
        match = target.path.match(entry.path)
        if entry.method == target.method and match:
            found[tuple(match.group(i) for i in target.ids)] += 1
        else:
            found[("?", f"{entry.method} {entry.path}")] += 1
    return found


def names_a_null_id(w: World, target: Target, where: exp.Expr) -> bool:
    """Whether an identifying condition gives NULL as an id: ``id = NULL``, a NULL in an
    ``id IN (...)`` list, or among the values of an ``id IN (SELECT ...)``."""
    for node in where.find_all(exp.EQ, exp.In):
        if not (isinstance(node.this, exp.Column) and node.this.name in target.ids):
            continue
        if isinstance(node, exp.EQ):
            if isinstance(node.expression, exp.Null):
                return True
            continue
        if any(isinstance(v, exp.Null) for v in node.expressions):
            return True
        query = node.args.get("query")
        if query is not None:
            inner = query.this if isinstance(query, exp.Subquery) else query
            if any(row[0] is None for row in w.full.db.execute(sql_text(inner)).fetchall()):
                return True
    return False


def selects_a_null_id(w: World, target: Target, where: exp.Expr) -> bool:
    """Whether the WHERE selects a row that has no id (Onyx's federated connector has no
    cc_pair_id): such a row cannot be written, so the statement may be refused whole."""
    no_id = " OR ".join(f"{i} IS NULL" for i in target.ids)
    sql = f"SELECT count(*) FROM {target.table} WHERE ({sql_text(where)}) AND ({no_id})"
    try:
        row = w.full.db.execute(sql).fetchone()
    except duckdb.Error:
        return False
    return bool(row and row[0])


def check_write(w: World, target: Target, where: exp.Expr) -> None:
    """The promise for writes. The write requests address exactly the objects the WHERE
    selects in the full data, once each (a request for an id that selects nothing counts as
    touching it), and each body is exactly what the SET gives, never a value of the WHERE.
    An error must be a sqlprovider.Error and does not change what must be touched (so a
    refusal passes only when nothing is selected, or when a NULL is among the identifying
    values; a NULL is never addressed). When DuckDB cannot evaluate the WHERE, the statement
    must be refused with no write."""
    expected = expected_objects(w, target, where)
    sql = write_sql(target, where)
    answer = w.run(sql)
    entries = w.writes()
    got = touched(target, entries)
    where_text = f"\n  statement: {sql}\n  engine: {answer.summary()}"
    if answer.error is not None:
        assert isinstance(answer.error, sqlprovider.Error), "not a sqlprovider.Error" + where_text
    if expected is None:  # DuckDB cannot evaluate the WHERE: refused, nothing sent
        assert answer.error is not None and not entries, (
            "DuckDB fails on this WHERE over the full data; the engine must refuse it "
            "and send nothing" + where_text
        )
        return
    if (
        (names_a_null_id(w, target, where) or selects_a_null_id(w, target, where))
        and answer.error is not None
        and not entries
    ):
        return  # a NULL among the identifying values may refuse the whole statement
    assert got == expected, (
        f"the write touched {dict(got)}, its WHERE selects {dict(expected)}" + where_text
    )
    for entry in entries:
        body = entry.json if isinstance(entry.json, dict) else {}
        wanted = {
            k: (v if v is not None else entry.path.split("/")[-2]) for k, v in target.body.items()
        }
        assert body == wanted or (not body and not wanted), (
            f"{entry.method} {entry.path} sent body {body}, the SET gives {wanted}" + where_text
        )


# -- WHERE clauses -------------------------------------------------------------------------


def id_values(w: World, target: Target, name: str) -> list[Any]:
    column_name = "uuid" if name == "data_source_uuid" else name
    return w.full.values(
        f"SELECT DISTINCT {column_name} FROM {target.table} WHERE {column_name} IS NOT NULL "
        f"ORDER BY 1"
    )


@st.composite
def identifying(
    draw: st.DrawFn, w: World, target: Target, name: str, scope: exp.Expr | None = None
) -> exp.Expr:
    """``id = A``, ``id IN (A, B)``, ``id = A AND id = B``, ``id = A AND id IN (B, C)`` or
    ``id IN (SELECT id FROM the table WHERE ...)`` (``scope`` binds that table's required
    params: a knowledge base's data sources are listed per knowledge base)."""
    known = id_values(w, target, name)
    unknown = 987654 if name == "cc_pair_id" else UNKNOWN_ID
    pool = [*known[:40], unknown]
    ref = column(name)
    shape = draw(st.sampled_from(["eq", "in", "eq_and_eq", "eq_and_in", "in_select"]))
    a, b, c = (draw(st.sampled_from(pool)) for _ in range(3))
    if shape == "eq":
        return exp.EQ(this=ref, expression=literal(a))
    if shape == "in":
        return in_list(ref, draw(some(pool, 3)))
    if shape == "eq_and_eq":
        return exp.and_(
            exp.EQ(this=ref, expression=literal(a)), exp.EQ(this=ref.copy(), expression=literal(b))
        )
    if shape == "eq_and_in":
        return exp.and_(exp.EQ(this=ref, expression=literal(a)), in_list(ref.copy(), [b, c]))
    source = "uuid" if name == "data_source_uuid" else name
    chosen = draw(other_condition(w, target))
    inner_where = exp.and_(scope.copy(), chosen) if scope is not None else chosen
    inner = exp.select(column(source)).from_(target.table).where(inner_where)
    return exp.In(this=ref, query=inner.subquery())


@st.composite
def other_condition(draw: st.DrawFn, w: World, target: Target) -> exp.Expr:
    """A condition on a column that identifies nothing: ``name = 'x'``, ``status = '...' AND
    created_at < now() - INTERVAL 1 DAY``, under NOT or OR."""
    name = draw(st.sampled_from(target.other))
    values = w.full.values(
        f"SELECT DISTINCT {name} FROM {target.table} WHERE {name} IS NOT NULL ORDER BY 1"
    )
    if w.full.info(target.table).col(name).kind == "text":
        values = [*values[:30], "x"]
    value = draw(st.sampled_from(values[:31]))
    atom: exp.Expr = exp.EQ(this=column(name), expression=literal(value))
    if name == "created_at":
        cutoff = exp.Sub(
            this=exp.func("now"), expression=exp.Interval(this=literal("1"), unit=exp.var("DAY"))
        )
        atom = exp.LT(this=column(name), expression=cutoff)
    if draw(st.booleans()) and "created_at" in target.other and name != "created_at":
        cutoff = exp.Sub(
            this=exp.func("now"), expression=exp.Interval(this=literal("1"), unit=exp.var("DAY"))
        )
        atom = exp.and_(atom, exp.LT(this=column("created_at"), expression=cutoff))
    form = draw(st.sampled_from(["plain", "plain", "not", "or"]))
    if form == "not":
        return exp.Not(this=exp.Paren(this=atom))
    if form == "or":
        return exp.Paren(this=exp.or_(atom, draw(other_condition(w, target))))
    return atom


@st.composite
def write_where(draw: st.DrawFn, w: World, target: Target) -> exp.Expr:
    """The identifying conditions (every id column), sometimes with other conditions joined
    by AND or OR; or other conditions alone (the objects are selected first)."""
    shapes = ["ids", "ids_and_other", "ids_or_other", "other"]
    if target.table == KB_SOURCES:  # listed per knowledge base: every arm must name one
        shapes = ["ids", "ids_and_other"]
    shape = draw(st.sampled_from(shapes))
    if shape == "other":
        return draw(other_condition(w, target))
    parts: list[exp.Expr] = []
    scope = None
    for name in target.ids:
        if name == "knowledge_base_uuid":
            kb = draw(st.sampled_from(id_values(w, target, name)))
            scope = exp.EQ(this=column(name), expression=literal(kb))
            parts.append(scope)
        else:
            parts.append(draw(identifying(w, target, name, scope)))
    ids = exp.and_(*parts) if len(parts) > 1 else parts[0]
    if shape == "ids_and_other":
        return exp.and_(ids, draw(other_condition(w, target)))
    if shape == "ids_or_other":
        return exp.Paren(this=exp.or_(ids, draw(other_condition(w, target))))
    return ids


# -- helpers of the write tests -----------------------------------------------------------


def ids(w: World, table: str, column: str, count: int = 3) -> list[Any]:
    found = w.full.values(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1")
    assert len(found) >= count, f"{table} has fewer than {count} rows"
    return found[:count]


def lit(value: Any) -> str:
    return sql_text(literal(value))


def refused_with_nothing_sent(w: World, sql: str, *, any_request: bool = False) -> None:
    answer = w.run(sql)
    sent = w.server.log.entries() if any_request else w.writes()
    assert isinstance(answer.error, sqlprovider.Error), (
        f"not refused with a sqlprovider.Error\n  statement: {sql}\n  engine: {answer.summary()}"
    )
    assert not sent, f"requests were sent: {[(e.method, e.path) for e in sent]}\n  {sql}"
