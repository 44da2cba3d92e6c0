"""docs/sql.md's table of SHOW and DESCRIBE statements names the columns each one returns,
in order (what a column holds may follow its name in parentheses)."""

from __future__ import annotations

import re

import pytest

import sqlprovider
from tests.docs.blocks import ROOT

STATEMENTS = {
    "`SHOW PROVIDERS [LIKE 'pattern']`": "SHOW PROVIDERS",
    "`SHOW SERVICES IN p [LIKE '...']`": "SHOW SERVICES IN digitalocean",
    "`SHOW METHODS IN p.s.r`": "SHOW METHODS IN digitalocean.genai.indexing_jobs",
}


def _documented(statement: str) -> list[str]:
    """The column names the table's row for ``statement`` lists."""
    text = (ROOT / "docs" / "sql.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith(f"| {statement} |"))
    described = row.split(" | ", 1)[1].rstrip(" |")
    plain = re.sub(r"\([^()]*(?:\([^()]*\)[^()]*)*\)", "", described)  # what each holds
    return [name.strip() for name in plain.split(",")]


@pytest.mark.parametrize("statement", STATEMENTS)
def test_the_table_names_the_columns_each_statement_returns(statement: str) -> None:
    with sqlprovider.connect(registry=[], environ={}) as conn:
        columns = [d[0] for d in conn.execute(STATEMENTS[statement]).description or ()]
    assert _documented(statement) == columns
