"""The SQL front end: parse statements, find provider tables and the quals on them, rewrite.

Knows nothing of YAML or HTTP: it works on sqlglot trees and plain names.
"""

from __future__ import annotations

from sqlprovider.sql.parse import Statement, parse_statements, split_statements
from sqlprovider.sql.quals import (
    ColumnRef,
    Qual,
    TableOccurrence,
    conjuncts,
    find_occurrences,
    is_constant_expression,
    quals_for,
)
from sqlprovider.sql.rewrite import rewrite_tables
from sqlprovider.sql.statements import ExecCall, MetaCall, MetaKind, has_await_hint

__all__ = [
    "ColumnRef",
    "ExecCall",
    "MetaCall",
    "MetaKind",
    "Qual",
    "Statement",
    "TableOccurrence",
    "conjuncts",
    "find_occurrences",
    "has_await_hint",
    "is_constant_expression",
    "parse_statements",
    "quals_for",
    "rewrite_tables",
    "split_statements",
]
