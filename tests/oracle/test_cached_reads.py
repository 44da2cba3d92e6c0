"""Generated reads answered from the result cache: a repeat within the TTL must give exactly
what the same statement gives without a cache (its columns, types and rows, or its error),
and send no request. The statements are the oracle's own families over every resource of
the four emulators; the uncached engine is the oracle here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlglot
from hypothesis import given, note, settings
from hypothesis import strategies as st
from sqlglot import exp

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from tests.oracle.compare import Answer, assert_same_answer, orders_totally
from tests.oracle.conftest import COMMON, examples
from tests.oracle.fulldata import FullData
from tests.oracle.harness import AUTH, base_url, engine_environment, sql_text
from tests.oracle.shapes import (
    dependent_statement,
    join_statement,
    limited,
    one_resource,
    whole_row_statement,
)

FAMILIES: dict[str, Callable[[FullData], st.SearchStrategy[Any]]] = {
    "one_resource": one_resource,
    "limited": limited,
    "join": join_statement,
    "whole_row": whole_row_statement,
    "dependent": dependent_statement,
}


@pytest.fixture(scope="module")
def cached(servers: dict[str, EmulatorServer]) -> Iterator[sqlprovider.Connection]:
    """A connection to the same emulators with the result cache on (a TTL no run outlives)."""
    with engine_environment():
        conn = sqlprovider.connect(
            servers={name: base_url(s) for name, s in servers.items()},
            auth={name: AUTH[name] for name in servers if name in AUTH},
            max_attempts=1,
            timeout=60,
            cache_ttl=3600,
        )
    with conn:
        yield conn


def _answer(conn: sqlprovider.Connection, sql: str) -> tuple[Answer, dict[str, float]]:
    try:
        cursor = conn.execute(sql)
        rows = cursor.fetchall()
    except Exception as error:  # every kind: the check is that both fail alike
        return Answer(error=error), {}
    description = cursor.description or []
    columns, types = [d[0] for d in description], [str(d[1]) for d in description]
    return Answer(columns, types, rows), dict(cursor.stats)


def check_repeat(engine: sqlprovider.Connection, cached: sqlprovider.Connection, sql: str) -> None:
    """``sql`` asked twice with the cache on: the second answer is the uncached one's."""
    note(sql)
    fresh, _ = _answer(engine, sql)
    _answer(cached, sql)  # fills the cache (or is answered by an earlier example's)
    hit, stats = _answer(cached, sql)
    if fresh.error is not None:
        assert hit.error is not None, f"{sql}: fails uncached, answered from the cache"
        assert (type(hit.error), str(hit.error)) == (type(fresh.error), str(fresh.error))
        return
    assert hit.error is None, f"{sql}: answered uncached, failed from the cache: {hit.error}"
    assert stats["requests"] == 0, f"{sql}: the repeat sent {stats['requests']} requests"
    tree = sqlglot.parse_one(sql, dialect="duckdb")
    unlimited = None
    ordered = isinstance(tree, exp.Select) and orders_totally(tree)
    if isinstance(tree, exp.Select) and tree.args.get("limit") is not None and not ordered:
        bare = tree.copy()
        bare.set("limit", None)
        bare.set("offset", None)
        unlimited, _ = _answer(engine, sql_text(bare))
    assert_same_answer(sql, hit, fresh, unlimited=unlimited, ordered=ordered)
    plain = isinstance(tree, exp.Select) and not any(
        tree.args.get(k) for k in ("group", "joins", "with", "order", "limit", "distinct")
    )
    if plain:  # loaded rows are kept in the API's order: an unordered scan keeps it too
        assert hit.rows == fresh.rows, f"{sql}: the rows come back in another order"


@settings(max_examples=examples(12), **COMMON)
@given(data=st.data())
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_cached_repeat_answers_as_the_api_does(
    family: str,
    engine: sqlprovider.Connection,
    cached: sqlprovider.Connection,
    full: FullData,
    data: st.DataObject,
) -> None:
    statement = data.draw(FAMILIES[family](full))
    check_repeat(engine, cached, sql_text(statement))
