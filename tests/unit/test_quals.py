"""Quals extraction, as data: each fixture is SQL in, conjuncts for one table out."""

from __future__ import annotations

from typing import Any

import pytest

from sqlprovider.planner import Planner
from sqlprovider.providers import Registry
from sqlprovider.sql import Qual, find_occurrences, parse_statements, quals_for
from tests.conftest import load_fixture

CASES = load_fixture("quals.yaml")
PLANNER = Planner(Registry())


def _describe(qual: Qual) -> str:
    if qual.ref is not None:
        return f"{qual.column} {qual.op} {qual.ref.alias}.{qual.ref.column}"
    if qual.subquery is not None:
        return f"{qual.column} {qual.op} (subquery)"
    text = f"{qual.column} {qual.op} " + ", ".join(v.sql(dialect="duckdb") for v in qual.values)
    return text if qual.bindable else text + " (not sent)"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_quals(case: dict[str, Any]) -> None:
    statement = parse_statements(str(case["sql"]))[0]
    occurrences = {o.alias: o for o in find_occurrences(statement, lambda t: bool(t.catalog))}
    found = [_describe(q) for q in quals_for(occurrences[str(case["table"])], PLANNER.owns)]
    assert found == case["quals"]
