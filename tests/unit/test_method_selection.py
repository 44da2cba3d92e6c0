"""Method selection and param binding, as data: SQL in, chosen methods (or the error) out."""

from __future__ import annotations

from typing import Any

import pytest

from sqlprovider.errors import Error
from sqlprovider.planner import Planner
from sqlprovider.providers import Registry
from sqlprovider.sql import split_statements
from tests.conftest import load_fixture

CASES = load_fixture("methods.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_method_selection(case: dict[str, Any]) -> None:
    planner = Planner(Registry())
    statement = split_statements(str(case["sql"]))[0]
    if "error" in case:
        with pytest.raises(Error) as raised:
            planner.plan(statement)
        assert str(case["error"]) in str(raised.value)
        return
    plan = planner.plan(statement)
    by_alias = {}
    for fetch in plan.fetches:
        alias = next(a for a in case["methods"] if fetch.table.endswith(_resource_of(case, a)))
        by_alias[alias] = fetch
    assert {a: f.method.name for a, f in by_alias.items()} == case["methods"]
    if "order" in case:
        assert [a for a in by_alias] == case["order"]
    for alias, count in dict(case.get("requests", {})).items():
        assert by_alias[alias].planned_requests().startswith(f"{count} requests")
    for alias, values in dict(case.get("values", {})).items():
        for name, expected in values.items():
            source = by_alias[alias].binding(name)
            assert source is not None and list(source.values) == expected


def _resource_of(case: dict[str, Any], alias: str) -> str:
    """The resource name an alias stands for in the case's SQL."""
    sql = str(case["sql"])
    for token_index, token in enumerate(sql.split()):
        if token == alias and token_index > 0:
            previous = sql.split()[token_index - 1]
            if previous.count(".") == 2:
                return previous.split(".")[2]
    return alias
