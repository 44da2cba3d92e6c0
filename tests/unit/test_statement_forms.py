"""Statement forms beyond sqlglot's (EXEC, SHOW, DESCRIBE, EXPLAIN, REPLACE), as data.

Each case of ``fixtures/statements.yaml`` is split by ``split_statements`` and compared with
what it must be read as, so a new case is one YAML entry.
"""

from __future__ import annotations

from typing import Any

import pytest

from sqlprovider.errors import ParseError
from sqlprovider.sql import ExecCall, MetaCall, split_statements
from tests.conftest import load_fixture

CASES = load_fixture("statements.yaml")
DIALECT = "duckdb"


def _exec_summary(call: ExecCall) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "method": ".".join((call.provider, call.service, call.resource, call.method))
    }
    if call.args:
        summary["args"] = {k: v.sql(dialect=DIALECT) for k, v in call.args.items()}
    if call.raw_json is not None:
        summary["json"] = call.raw_json.sql(dialect=DIALECT)
    if call.wait:
        summary["wait"] = True
    if call.returning is not None:
        summary["returning"] = [e.sql(dialect=DIALECT) for e in call.returning.expressions]
    return summary


def _meta_summary(meta: MetaCall) -> dict[str, Any]:
    summary: dict[str, Any] = {"kind": meta.kind}
    if meta.target:
        summary["target"] = list(meta.target)
    for key in ("like", "extended", "inner", "analyze"):
        if getattr(meta, key):
            summary[key] = getattr(meta, key)
    return summary


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_statement_form(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ParseError) as raised:
            split_statements(case["sql"])
        assert case["error"] in str(raised.value)
        return
    [statement] = split_statements(case["sql"])
    if "exec" in case:
        assert statement.exec_call is not None
        assert _exec_summary(statement.exec_call) == case["exec"]
    else:
        assert statement.exec_call is None
    if "meta" in case:
        assert statement.meta is not None
        assert _meta_summary(statement.meta) == case["meta"]
    else:
        assert statement.meta is None
    assert statement.replace == ("update" in case)
    if "update" in case:
        assert statement.tree.sql(dialect=DIALECT) == case["update"]
