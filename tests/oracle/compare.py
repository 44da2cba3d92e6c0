"""The comparison: the engine's answer against DuckDB's answer over the full data."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

import sqlprovider
from tests.oracle.fulldata import FullData
from tests.oracle.harness import literal, normal, rows_key, sql_text

# -- answers -----------------------------------------------------------------------------------


@dataclass
class Answer:
    """What a statement gave: its columns, types and rows, or the error it raised."""

    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    error: BaseException | None = None

    def summary(self) -> str:
        if self.error is not None:
            return f"error {type(self.error).__module__}.{type(self.error).__name__}: {self.error}"
        shown = sorted(self.rows, key=repr)[:5]
        return (
            f"{len(self.rows)} rows {self.columns}: {shown}{' ...' if len(self.rows) > 5 else ''}"
        )


def engine_answer(conn: sqlprovider.Connection, sql: str) -> Answer:
    try:
        cur = conn.execute(sql)
        rows = cur.fetchall()
    except Exception as error:  # every kind: the check is which kind
        return Answer(error=error)
    description = cur.description or []
    return Answer([d[0] for d in description], [str(d[1]) for d in description], rows)


def oracle_answer(db: duckdb.DuckDBPyConnection, sql: str) -> Answer:
    try:
        cur = db.execute(sql)
        rows = cur.fetchall()
    except duckdb.Error as error:
        return Answer(error=error)
    description = cur.description or []
    return Answer([d[0] for d in description], [str(d[1]) for d in description], rows)


def assert_same_answer(
    sql: str,
    engine: Answer,
    oracle: Answer,
    *,
    unlimited: Answer | None = None,
    ordered: bool = False,
) -> None:
    """The promise: DuckDB's error means a ``sqlprovider.Error``; DuckDB's rows mean the same
    rows (a multiset; in order when ``ordered``). With ``unlimited`` (a LIMIT without a total
    ORDER BY), the same number of rows, all from the answer without the LIMIT."""
    where = f"\n  statement: {sql}\n  engine: {engine.summary()}\n  oracle: {oracle.summary()}"
    if oracle.error is not None:
        assert isinstance(engine.error, sqlprovider.Error), (
            "DuckDB fails over the full data; the engine must raise a sqlprovider.Error" + where
        )
        return
    assert engine.error is None, "DuckDB answers over the full data; the engine failed" + where
    assert engine.columns == oracle.columns, "the columns differ" + where
    assert engine.types == oracle.types, "the column types differ" + where
    if unlimited is not None:
        assert len(engine.rows) == len(oracle.rows), "LIMIT gave another row count" + where
        if unlimited.error is not None:
            return  # DuckDB skips evaluating under LIMIT 0: without it, the WHERE fails
        extra = rows_key(engine.rows) - rows_key(unlimited.rows)
        assert not extra, f"rows that are not in the answer without LIMIT: {extra}" + where
        return
    if ordered:
        got = [tuple(normal(v) for v in r) for r in engine.rows]
        want = [tuple(normal(v) for v in r) for r in oracle.rows]
        assert got == want, "the ordered rows differ" + where
        return
    got_rows, want_rows = rows_key(engine.rows), rows_key(oracle.rows)
    missing, extra = want_rows - got_rows, got_rows - want_rows
    assert not missing and not extra, (
        f"the rows differ: missing {list(missing.elements())[:3]}, "
        f"extra {list(extra.elements())[:3]}" + where
    )


def orders_totally(tree: exp.Select) -> bool:
    """``ORDER BY ALL``: ties only between equal rows, so the order is the answer's own."""
    order = tree.args.get("order")
    return order is not None and any(
        isinstance(o.this, exp.Var | exp.Column) and o.this.name.upper() == "ALL"
        for o in order.expressions
    )


def check_statement(
    conn: sqlprovider.Connection, data: FullData, statement: exp.Expr | str
) -> None:
    """Run a statement (a tree, or text sent as it is) through the engine and over the full
    data, and compare. A LIMIT without ``ORDER BY ALL`` is checked against the answer
    without it."""
    if isinstance(statement, str):
        sql, tree = statement, sqlglot.parse_one(statement, dialect="duckdb")
    else:
        sql, tree = sql_text(statement), statement
    engine, oracle = engine_answer(conn, sql), oracle_answer(data.db, sql)
    unlimited = None
    ordered = False
    if isinstance(tree, exp.Select) and tree.args.get("limit") is not None:
        if orders_totally(tree):
            ordered = True
        else:
            bare = tree.copy()
            bare.set("limit", None)
            bare.set("offset", None)
            unlimited = oracle_answer(data.db, sql_text(bare))
    assert_same_answer(sql, engine, oracle, unlimited=unlimited, ordered=ordered)


@contextlib.contextmanager
def time_zone(
    conn: sqlprovider.Connection, db: duckdb.DuckDBPyConnection, zone: str
) -> Iterator[None]:
    """Both sessions in ``zone``, back to UTC afterwards."""
    statement = f"SET TimeZone = {sql_text(literal(zone))}"
    conn.execute(statement)
    db.execute(statement)
    try:
        yield
    finally:
        conn.execute("SET TimeZone = 'UTC'")
        db.execute("SET TimeZone = 'UTC'")
