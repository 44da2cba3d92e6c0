"""Golden EXPLAIN texts: each case of ``fixtures/explain.yaml`` is planned offline and its
``Plan.explain()`` must equal the recorded text exactly, so any change to what EXPLAIN prints
(wording, order, the SQL shown) is visible in review.

To record today's text after an intended change, rewrite the fixture and read its diff::

    .venv/bin/python -m tests.unit.test_explain_golden
    git diff tests/unit/fixtures/explain.yaml

That rewrites every case's ``explain`` (names, SQL, order and the file's leading comment are
kept). A new case needs only ``name`` and ``sql``; its ``explain`` is filled in the same way.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sqlprovider.planner import Planner
from sqlprovider.providers import Registry
from sqlprovider.sql import split_statements
from tests.conftest import FIXTURES, load_fixture

FIXTURE = "explain.yaml"
CASES = load_fixture(FIXTURE)
ENVIRON = {"AMPERITY_TENANT": "acme"}  # the tenant header comes from the environment


def explained(sql: str) -> str:
    """The EXPLAIN text of every statement in ``sql``, planned offline, one after another."""
    planner = Planner(Registry(), environ=ENVIRON)
    return "\n".join(planner.plan(s).explain() for s in split_statements(sql))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_explain_golden(case: dict[str, Any]) -> None:
    assert explained(case["sql"]) == case.get("explain"), (
        "EXPLAIN changed; if on purpose, run python -m tests.unit.test_explain_golden "
        "and review the diff"
    )


def rewrite_goldens() -> None:
    """Record today's EXPLAIN text of every case in the fixture."""
    path = FIXTURES / FIXTURE
    lines = path.read_text().splitlines(keepends=True)
    header = "".join(line for line in lines[: _header_length(lines)])
    cases = [{**case, "explain": explained(case["sql"])} for case in CASES]
    path.write_text(header + "".join(_dump(case) for case in cases))


def _header_length(lines: list[str]) -> int:
    """How many leading lines are comments (kept when the file is rewritten)."""
    count = 0
    while count < len(lines) and lines[count].startswith("#"):
        count += 1
    return count


class _Literal(str):
    """A string written as a YAML literal block (``|``), so a golden reads as printed."""


def _literal(dumper: yaml.SafeDumper, text: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(text), style="|")


yaml.SafeDumper.add_representer(_Literal, _literal)


def _dump(case: dict[str, Any]) -> str:
    shown = {k: _Literal(v) if isinstance(v, str) and "\n" in v else v for k, v in case.items()}
    return yaml.safe_dump([shown], sort_keys=False, allow_unicode=True, width=1000)


if __name__ == "__main__":
    rewrite_goldens()
