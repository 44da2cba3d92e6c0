"""Statement + providers → Plan.

SELECT (and every source a write reads) is planned in ``reads``: a method per provider
table, params bound from WHERE and joins. Writes are planned in ``writes``. ``methods`` holds
what both share: choosing a method, converting values, ordering dependent steps.
"""

from __future__ import annotations

from sqlglot import exp

from sqlprovider.errors import NotSupportedError
from sqlprovider.model import SqlVerb
from sqlprovider.plan import Plan
from sqlprovider.planner.metadata import answer
from sqlprovider.planner.methods import coerce_param, product_of_bindings
from sqlprovider.planner.reads import ReadPlanner
from sqlprovider.planner.writes import BODY_PREFIX, RAW_BODY, WritePlanner, param_for
from sqlprovider.sql import (
    ExecCall,
    MetaCall,
    find_occurrences,
    has_await_hint,
    split_statements,
)

DIALECT = "duckdb"


class Planner(ReadPlanner):
    """Plans any statement: reads, writes, EXEC, and plain DuckDB SQL."""

    def plan(
        self,
        statement: exp.Expression,
        text: str | None = None,
        *,
        replace: bool = False,
        exec_call: ExecCall | None = None,
        wait: bool = False,
        meta: MetaCall | None = None,
    ) -> Plan:
        """The plan of one parsed statement.

        Args:
            statement: the parsed statement.
            text: the statement as written; run unchanged when it touches no provider table.
            replace: it was written ``REPLACE t SET ...`` (parsed as an UPDATE).
            exec_call: it is an EXEC.
            wait: wait for started jobs even without ``/*+ AWAIT */``.
            meta: it is SHOW, DESCRIBE or EXPLAIN.

        Raises:
            UnknownNameError, MissingParamsError, DataError, NotSupportedError,
            ProgrammingError.
        """
        if text is None:
            text = statement.sql(dialect=DIALECT)
        if meta is not None:
            return answer(meta, self.registry, lambda inner: self.plan_text(inner, wait), text)
        writes = WritePlanner(self)
        if exec_call is not None:
            return writes.plan_exec(exec_call, text)
        wait = wait or has_await_hint(statement)
        target = _write_target(statement)
        if target is not None and target.catalog and self._is_provider_table(target):
            if isinstance(statement, exp.Insert):
                return writes.plan_insert(statement, text, wait)
            if isinstance(statement, exp.Update):
                verb = SqlVerb.REPLACE if replace else SqlVerb.UPDATE
                return writes.plan_update(statement, text, verb, wait)
            if isinstance(statement, exp.Delete):
                return writes.plan_delete(statement, text, wait)
        if isinstance(statement, exp.Query):
            return self.plan_query(statement, text)
        if find_occurrences(statement, self._is_provider_table):
            kind = type(statement).__name__.upper()
            raise NotSupportedError(
                f"{kind} statements cannot read provider tables; "
                "load them with CREATE TABLE t AS SELECT ... first"
            )
        return Plan(statement=text, fetches=(), query=text, returns_rows=False)

    def plan_text(self, sql: str, wait: bool = False) -> list[Plan]:
        """The plans of every statement in ``sql``."""
        return [
            self.plan(
                s.tree, s.text, replace=s.replace, exec_call=s.exec_call, wait=wait, meta=s.meta
            )
            for s in split_statements(sql)
        ]


def _write_target(statement: exp.Expression) -> exp.Table | None:
    if isinstance(statement, exp.Insert):
        target = statement.this
        target = target.this if isinstance(target, exp.Schema) else target
        return target if isinstance(target, exp.Table) else None
    if isinstance(statement, exp.Update | exp.Delete):
        return statement.this if isinstance(statement.this, exp.Table) else None
    return None


__all__ = [
    "BODY_PREFIX",
    "RAW_BODY",
    "Planner",
    "coerce_param",
    "param_for",
    "product_of_bindings",
]
