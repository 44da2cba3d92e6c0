"""A statement's result: column names and types, rows, warnings and what it cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    """Rows a statement returned.

    Attributes:
        columns: column names, in order.
        types: the DuckDB type of each column.
        rows: the rows, as tuples.
        warnings: things the user should know (a page limit that cut results, ...).
        stats: requests, pages, rows loaded, retries, bytes, seconds.
    """

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    exported_rows: int | None = None  # rows written straight to a file instead of ``rows``
    encoded: list[bytes] | None = None  # each row encoded whole by DuckDB instead of ``rows``

    @property
    def row_count(self) -> int:
        """How many rows the statement returned."""
        if self.encoded is not None:
            return len(self.encoded)
        return len(self.rows) if self.exported_rows is None else self.exported_rows

    def as_dicts(self) -> list[dict[str, Any]]:
        """Each row as a column → value dict."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]
