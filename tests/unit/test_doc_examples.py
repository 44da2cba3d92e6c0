"""Every SQL example in the docs plans: names, columns and the write rules it shows hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlprovider.planner import Planner
from sqlprovider.providers import Registry
from sqlprovider.sql import split_statements
from sqlprovider.store import Store

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"```sql\n(.*?)```", re.S)
PAGES = ["sql.md", "providers.md", "python-api.md", "shell.md", "scripts.md"]


def _examples() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = (DOCS / page).read_text()
        for number, block in enumerate(BLOCK.findall(text), 1):
            found.append((f"{page} block {number}", block))
    return found


EXAMPLES = _examples()


@pytest.fixture(scope="module")
def planner() -> Planner:
    store = Store()
    store.run("CREATE TABLE owners AS SELECT 'kb' AS kb, 'me' AS owner")
    return Planner(Registry(), local_catalogs=store.catalogs, evaluator=store)


@pytest.mark.parametrize(("where", "block"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_every_sql_example_plans(planner: Planner, where: str, block: str) -> None:
    statements = split_statements(block.replace("read_csv('owners.csv')", "owners"))
    assert statements, f"{where} holds no statement"
    for statement in statements:
        plan = planner.plan_statement(statement)
        assert plan.fetches or plan.mutation or plan.answer or plan.query
