"""Write planning, as data: the method chosen and one values row per request (via DuckDB).

A write that reads its objects first (select, then write) is given what the read returns
as ``loaded`` (resource → rows), so the rows it would send are computed offline too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sqlprovider.errors import Error
from sqlprovider.model import param_columns
from sqlprovider.plan import Plan
from sqlprovider.planner import Planner
from sqlprovider.providers import Registry
from sqlprovider.sql import split_statements
from sqlprovider.store import Store, loaded_table
from tests.conftest import load_fixture

CASES = load_fixture("writes.yaml")


def _plan(planner: Planner, sql: str) -> Plan:
    [statement] = split_statements(sql)
    return planner.plan(statement)


def _load(store: Store, plan: Plan, loaded: dict[str, list[dict[str, Any]]]) -> None:
    """Stand in for the reads: each fetched table holds the rows given for its resource."""
    for fetch in plan.fetches:
        rows = [] if fetch.empty is not None else loaded.get(fetch.resource.qualified_name, [])
        columns = [*fetch.resource.columns, *param_columns(fetch.resource)]
        table = loaded_table(fetch.table).sql(dialect="duckdb")
        spec = ", ".join(f'"{c.name}" {c.duckdb_type}' for c in columns)
        store.run(f"CREATE TABLE {table} ({spec})")
        for row in rows:
            names = ", ".join(f'"{k}"' for k in row)
            store.connection.execute(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_write_planning(case: dict[str, Any]) -> None:
    planner = Planner(Registry())
    if "error" in case:
        with pytest.raises(Error) as raised:
            for s in split_statements(case["sql"]):
                planner.plan(s)
        assert case["error"] in str(raised.value)
        return
    plan = _plan(planner, case["sql"])
    mutate = plan.mutation
    assert mutate is not None
    assert mutate.method.name == case["method"]
    assert mutate.reason.startswith(case.get("how", ""))
    if "columns" in case:
        assert list(mutate.columns) == case["columns"]
    assert [f.resource.qualified_name for f in plan.fetches] == case.get("reads", [])
    assert [f.empty is not None for f in plan.fetches] == case.get(
        "nothing_read", [False] * len(plan.fetches)
    )
    store = Store()
    try:
        _load(store, plan, case.get("loaded", {}))
        rows = store.query_rows(mutate.values_sql)
    finally:
        store.close()
    assert [{k: r[k] for k in mutate.columns} for r in rows] == case["rows"]
    assert (mutate.returning is not None) == case.get("returning", False)
    assert mutate.wait == case.get("wait", False)


UNREADABLE = """
name: vault
server: {url: https://vault.test}
services:
  keys:
    resources:
      secrets:
        columns: {id: {type: string}}
        methods:
          - {name: drop_secret, sql_verb: delete, http_verb: DELETE, path: "/secrets/{id}",
             params: {id: {in: path}}}
"""


@pytest.mark.parametrize(
    ("where", "rows"),
    [
        ("id = 'a'", [{"id": "a"}]),
        ("id = 'A' AND id = 'B'", []),  # both cannot hold: nothing is sent
        ("id = 'A' AND id IN ('B', 'C')", []),
        ("id IN ('a', 'b') AND id IN ('b', 'c')", [{"id": "b"}]),
        ("id IN ('b', 'a', 'b')", [{"id": "b"}, {"id": "a"}]),
    ],
)
def test_a_table_that_cannot_be_read_is_written_by_id_and_ids_intersect(
    tmp_path: Path, where: str, rows: list[dict[str, str]]
) -> None:
    (tmp_path / "vault.yaml").write_text(UNREADABLE)
    planner = Planner(Registry([tmp_path]))
    plan = _plan(planner, f"DELETE FROM vault.keys.secrets WHERE {where}")
    assert plan.mutation is not None and plan.mutation.reason.startswith("by id")
    assert plan.fetches == ()
    store = Store()
    try:
        found = store.query_rows(plan.mutation.values_sql)
    finally:
        store.close()
    assert sorted(found, key=str) == sorted(rows, key=str)


def test_a_table_that_cannot_be_read_takes_only_ids_in_where(tmp_path: Path) -> None:
    (tmp_path / "vault.yaml").write_text(UNREADABLE)
    planner = Planner(Registry([tmp_path]))
    with pytest.raises(Error, match="cannot be read"):
        _plan(planner, "DELETE FROM vault.keys.secrets WHERE id = 'a' AND length(id) = 1")
