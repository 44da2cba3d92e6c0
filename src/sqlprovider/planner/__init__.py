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
from sqlprovider.planner.names import BODY_PREFIX, param_for
from sqlprovider.planner.pushdown import Evaluator
from sqlprovider.planner.reads import ReadPlanner
from sqlprovider.planner.wire import Unsendable, to_wire
from sqlprovider.planner.writes import RAW_BODY, WritePlanner
from sqlprovider.sql import (
    Statement,
    find_occurrences,
    has_await_hint,
    rewrite_tables,
    split_statements,
)

DIALECT = "duckdb"


class Planner(ReadPlanner):
    """Plans any statement: reads, writes, EXEC, and plain DuckDB SQL."""

    def plan(self, statement: Statement, wait: bool = False) -> Plan:
        """The plan of one statement, as ``split_statements`` parsed it (the one entry point).

        Args:
            statement: the parsed statement, its text, and its form (REPLACE, EXEC, SHOW...).
            wait: wait for started jobs even without ``/*+ AWAIT */``.

        Raises:
            UnknownNameError, MissingParamsError, DataError, NotSupportedError,
            ProgrammingError.
        """
        tree, text = statement.tree, statement.text
        if statement.meta is not None:
            return answer(
                statement.meta, self.registry, lambda inner: self.plan_text(inner, wait), text
            )
        writes = WritePlanner(self)
        if statement.exec_call is not None:
            return writes.plan_exec(statement.exec_call, text)
        wait = wait or has_await_hint(tree)
        target = _write_target(tree)
        if target is not None and target.catalog and self.is_provider_table(target):
            if isinstance(tree, exp.Insert):
                return writes.plan_insert(tree, text, wait)
            if isinstance(tree, exp.Update):
                verb = SqlVerb.REPLACE if statement.replace else SqlVerb.UPDATE
                return writes.plan_update(tree, text, verb, wait)
            if isinstance(tree, exp.Delete):
                return writes.plan_delete(tree, text, wait)
        if isinstance(tree, exp.Query):
            return self.plan_query(tree, text)
        loading = self._plan_local_load(tree, text)
        if loading is not None:
            return loading
        if find_occurrences(tree, self.is_provider_table):
            kind = type(tree).__name__.upper()
            raise NotSupportedError(
                f"{kind} statements cannot read provider tables; "
                "load them with CREATE TABLE t AS SELECT ... first"
            )
        return Plan(statement=text, fetches=(), query=text, returns_rows=False)

    def _plan_local_load(self, statement: exp.Expression, text: str) -> Plan | None:
        """``CREATE TABLE t AS SELECT ... FROM provider.table`` and ``INSERT INTO local_table
        SELECT ... FROM provider.table``: fetch the provider tables as a SELECT does, then
        DuckDB runs the statement over what was loaded. None for anything else."""
        if isinstance(statement, exp.Create):
            if str(statement.args.get("kind") or "").upper() != "TABLE":
                return None
        elif not isinstance(statement, exp.Insert):
            return None  # a provider write was planned before this is reached
        source = statement.expression
        if not isinstance(source, exp.Query) or not isinstance(source, exp.Expression):
            return None
        # The query alone, so a LIMIT is pushed down as in a SELECT; the whole statement
        # when a WITH of its own may name provider tables too.
        root = source if statement.args.get("with_") is None else statement
        reads = self.plan_reads(root)
        if not reads.fetches:
            return None
        return Plan(
            statement=text,
            fetches=tuple(reads.fetches),
            query=rewrite_tables(statement, reads.loaded).sql(dialect=DIALECT),
            warnings=tuple(reads.warnings),
            returns_rows=False,
        )

    def plan_text(self, sql: str, wait: bool = False) -> list[Plan]:
        """The plans of every statement in ``sql``."""
        return [self.plan(s, wait) for s in split_statements(sql)]


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
    "Evaluator",
    "Planner",
    "Unsendable",
    "coerce_param",
    "param_for",
    "product_of_bindings",
    "to_wire",
]
