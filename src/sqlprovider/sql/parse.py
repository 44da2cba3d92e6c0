"""Turn SQL text into sqlglot trees, translating sqlglot's errors into ours."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from sqlprovider.errors import ParseError

DIALECT = "duckdb"


def parse_statements(text: str) -> list[exp.Expression]:
    """Parse one or more ``;``-separated statements (DuckDB dialect).

    Raises:
        ParseError: with the line and column of the first problem.
    """
    try:
        trees = sqlglot.parse(text, dialect=DIALECT)
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        description = str(first.get("description") or exc).split("\n")[0]
        near = str(first.get("highlight") or "").strip()
        if near:
            description += f" near {near!r}"
        raise ParseError(description, first.get("line"), first.get("col")) from None
    except sqlglot.errors.TokenError as exc:
        raise ParseError(str(exc).split("\n")[0]) from None
    return [tree for tree in trees if isinstance(tree, exp.Expression)]
