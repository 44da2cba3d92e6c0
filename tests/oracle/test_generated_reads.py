"""Generated reads: every statement must give what DuckDB gives over the full data (pushdown
never changes an answer). One hypothesis test per family, so a failure names its family;
``ORACLE_EXAMPLES=N`` runs N examples of each, ``ORACLE_RANDOM=1`` new ones."""

from __future__ import annotations

from hypothesis import given, note, settings
from hypothesis import strategies as st
from sqlglot import exp

import sqlprovider
from tests.oracle.compare import check_statement, time_zone
from tests.oracle.conftest import COMMON, examples
from tests.oracle.fulldata import FullData
from tests.oracle.grammar import ZONES, anchors, binding, projection, q_col, window
from tests.oracle.harness import sql_text, table
from tests.oracle.shapes import (
    conjoin,
    dependent_statement,
    join_statement,
    limited,
    one_resource,
    select,
    whole_row_statement,
)


def run(engine: sqlprovider.Connection, full: FullData, statement: exp.Expr) -> None:
    note(sql_text(statement))
    check_statement(engine, full, statement)


@settings(max_examples=examples(60), **COMMON)
@given(data=st.data())
def test_conditions_on_one_resource(
    engine: sqlprovider.Connection, full: FullData, data: st.DataObject
) -> None:
    run(engine, full, data.draw(one_resource(full)))


@settings(max_examples=examples(30), **COMMON)
@given(data=st.data())
def test_time_windows_in_session_time_zones(
    engine: sqlprovider.Connection, full: FullData, data: st.DataObject
) -> None:
    names = sorted(n for n, i in full.tables.items() if any(c.kind == "time" for c in i.record))
    info = full.info(data.draw(st.sampled_from(names)))
    times = [c.name for c in info.record if c.kind == "time" and c.samples]
    target = info.col(data.draw(st.sampled_from(times)))
    is_window = any(b.kind == "window" for b in info.bindings)
    if is_window:
        target = info.col("started_at")
    moments = anchors(full) if is_window else target.samples
    condition = data.draw(window(q_col(target.name, "t"), moments))
    bound = None if is_window else data.draw(binding(info, "t", full))
    columns = [q_col(target.name, "t"), *data.draw(projection(info, "t"))]
    statement = select(columns, table(info.name, "t"), conjoin(bound, condition))
    zone = data.draw(st.sampled_from(ZONES))
    note(f"SET TimeZone = '{zone}'")
    with time_zone(engine, full.db, zone):
        run(engine, full, statement)


@settings(max_examples=examples(30), **COMMON)
@given(data=st.data())
def test_limits_and_offsets(
    engine: sqlprovider.Connection, full: FullData, data: st.DataObject
) -> None:
    run(engine, full, data.draw(limited(full)))


@settings(max_examples=examples(40), **COMMON)
@given(data=st.data())
def test_joins_of_every_kind(
    engine: sqlprovider.Connection, full: FullData, data: st.DataObject
) -> None:
    run(engine, full, data.draw(join_statement(full)))


@settings(max_examples=examples(30), **COMMON)
@given(data=st.data())
def test_names_case_and_whole_rows(
    engine: sqlprovider.Connection, full: FullData, data: st.DataObject
) -> None:
    run(engine, full, data.draw(whole_row_statement(full)))


@settings(max_examples=examples(30), **COMMON)
@given(data=st.data())
def test_dependent_partners(
    engine: sqlprovider.Connection, full: FullData, data: st.DataObject
) -> None:
    run(engine, full, data.draw(dependent_statement(full)))
