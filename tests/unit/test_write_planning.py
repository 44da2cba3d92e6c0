"""Write planning, as data: the method chosen and one values row per request (via DuckDB)."""

from __future__ import annotations

from typing import Any

import pytest

from sqlprovider.errors import Error
from sqlprovider.planner import Planner
from sqlprovider.providers import Registry
from sqlprovider.sql import split_statements
from sqlprovider.store import Store
from tests.conftest import load_fixture

CASES = load_fixture("writes.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_write_planning(case: dict[str, Any]) -> None:
    planner = Planner(Registry())
    if "error" in case:
        with pytest.raises(Error) as raised:
            for s in split_statements(case["sql"]):
                planner.plan(s.tree, s.text, replace=s.replace, exec_call=s.exec_call)
        assert case["error"] in str(raised.value)
        return
    [statement] = split_statements(case["sql"])
    plan = planner.plan(
        statement.tree, statement.text, replace=statement.replace, exec_call=statement.exec_call
    )
    mutate = plan.mutation
    assert mutate is not None
    assert mutate.method.name == case["method"]
    assert mutate.reason.startswith(case.get("how", ""))
    if "columns" in case:
        assert list(mutate.columns) == case["columns"]
    if "reads" in case:  # the values come from what is read: nothing to compute offline
        assert [f.resource.qualified_name for f in plan.fetches] == case["reads"]
        return
    store = Store()
    try:
        rows = store.query_rows(mutate.values_sql)
    finally:
        store.close()
    assert [{k: r[k] for k in mutate.columns} for r in rows] == case["rows"]
    assert (mutate.returning is not None) == case.get("returning", False)
    assert mutate.wait == case.get("wait", False)
