"""Quals extraction, as data: each fixture is SQL in, conjuncts for one table out."""

from __future__ import annotations

from typing import Any

import pytest

from sqlprovider.sql import Qual, TableOccurrence, find_occurrences, parse_statements, quals_for
from tests.conftest import load_fixture

CASES = load_fixture("quals.yaml")


def _owns(occ: TableOccurrence, column: str) -> bool:
    # A stand-in for the provider model: data source tables own indexing_job_uuid.
    return column == "indexing_job_uuid" and occ.resource == "indexing_job_data_sources"


def _describe(qual: Qual) -> str:
    if qual.ref is not None:
        return f"{qual.column} {qual.op} {qual.ref.alias}.{qual.ref.column}"
    if qual.subquery is not None:
        return f"{qual.column} {qual.op} (subquery)"
    if qual.constant is not None:
        return f"{qual.column} {qual.op} computed {qual.constant.sql(dialect='duckdb')}"
    return f"{qual.column} {qual.op} {qual.values!r}"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_quals(case: dict[str, Any]) -> None:
    statement = parse_statements(str(case["sql"]))[0]
    occurrences = {o.alias: o for o in find_occurrences(statement, lambda t: True)}
    found = [_describe(q) for q in quals_for(occurrences[str(case["table"])], _owns)]
    assert found == case["quals"]
