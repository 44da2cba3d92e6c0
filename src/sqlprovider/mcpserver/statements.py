"""Which tool runs a statement: reads go to ``run_select_query``, anything that changes
something (an API write, or a DuckDB statement that changes the database or a file) to
``run_mutation_query``, which the server's mode governs.

A statement is a read only when that is certain: provider reads and answers known from the
provider definitions, and DuckDB statements whose parsed form is a query, ``VALUES``,
``SHOW``, ``DESCRIBE``, ``SUMMARIZE`` or ``PIVOT``, and ``EXPLAIN`` (but ``EXPLAIN ANALYZE``
of a DuckDB write runs the write, so there the explained statement is what counts).
"""

from __future__ import annotations

import re
from enum import StrEnum

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from sqlprovider.plan import Plan

# DuckDB statements that only read.
_READ_FORMS: tuple[type, ...] = (
    exp.Query,
    exp.Values,
    exp.Show,
    exp.Describe,
    exp.Summarize,
    exp.Pivot,
)
_EXPLAIN = re.compile(r"\s*EXPLAIN(\s+ANALY[SZ]E)?\s+", re.IGNORECASE)


class Kind(StrEnum):
    """What a statement does, as the tools see it."""

    READ = "read"  # reads APIs or DuckDB, changes nothing
    WRITE = "write"  # sends writes (POST, PUT, PATCH, DELETE) to an API
    LOCAL_CHANGE = "local change"  # changes DuckDB's tables or settings, or writes a file


def kind_of(plan: Plan) -> Kind:
    """What ``plan``'s statement does."""
    if plan.mutation is not None:
        return Kind.WRITE
    if plan.answer is not None or plan.analyze:
        return Kind.READ  # known rows (SHOW, DESCRIBE, EXPLAIN), or a provider query analyzed
    if plan.fetches:
        return Kind.READ if plan.returns_rows else Kind.LOCAL_CHANGE  # a query, or a load
    return Kind.READ if _duckdb_reads_only(plan.statement) else Kind.LOCAL_CHANGE


def _duckdb_reads_only(statement: str) -> bool:
    text = statement
    while (explain := _EXPLAIN.match(text)) is not None:
        if explain.group(1) is None:
            return True  # EXPLAIN alone plans; only EXPLAIN ANALYZE runs what it explains
        text = text[explain.end() :]
    try:
        tree = sqlglot.parse_one(text, dialect="duckdb")
    except SqlglotError:
        return False  # not understood: not known to be a read
    return isinstance(tree, _READ_FORMS)
