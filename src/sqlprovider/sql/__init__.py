"""The SQL front end: parse statements, find provider tables and the quals on them, rewrite.

Knows nothing of YAML or HTTP: it works on sqlglot trees and plain names.
"""

from __future__ import annotations

from sqlprovider.sql.parse import Statement, parse_statements, split_statements
from sqlprovider.sql.quals import (
    ColumnRef,
    Qual,
    TableOccurrence,
    find_occurrences,
    quals_for,
)
from sqlprovider.sql.rewrite import rewrite_tables

__all__ = [
    "ColumnRef",
    "Qual",
    "Statement",
    "TableOccurrence",
    "find_occurrences",
    "parse_statements",
    "quals_for",
    "rewrite_tables",
    "split_statements",
]
