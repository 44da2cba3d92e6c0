"""Every SQL example in README.md and docs/*.md plans: names, columns and the write rules it
shows hold. (tests/docs/test_doc_sql.py also runs each statement against the emulators.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sqlprovider.session import Session
from sqlprovider.sql import split_statements
from tests.docs.blocks import blocks_of

EXAMPLES = [(block.where, block.text) for block in blocks_of("sql")]


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    opened = Session()
    opened.execute("CREATE TABLE owners AS SELECT 'kb' AS kb, 'me' AS owner")
    yield opened
    opened.close()


@pytest.mark.parametrize(("where", "block"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_every_sql_example_plans(session: Session, where: str, block: str) -> None:
    statements = split_statements(block)
    assert statements, f"{where} holds no statement"
    for statement in statements:
        [plan] = session.plans(statement.text.replace("read_csv('owners.csv')", "owners"))
        assert plan.fetches or plan.mutation or plan.answer or plan.query, statement.text
