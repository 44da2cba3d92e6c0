"""Turn SQL text into sqlglot trees, translating sqlglot's errors into ours."""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import TokenType, exp

from sqlprovider.errors import ParseError
from sqlprovider.sql.statements import ExecCall, MetaCall, parse_exec, parse_meta, rewrite_replace

DIALECT = "duckdb"


@dataclass(frozen=True)
class Statement:
    """One statement: its tree, its text as written, and the line it starts on (1-based).

    Attributes:
        replace: written as ``REPLACE t SET ...`` (the tree is the equivalent UPDATE).
        exec_call: for ``EXEC p.s.r.method @a = ...`` (the tree is a placeholder Command).
        meta: for SHOW, DESCRIBE of a three-part name, and EXPLAIN.
    """

    tree: exp.Expression
    text: str
    line: int
    replace: bool = False
    exec_call: ExecCall | None = None
    meta: MetaCall | None = None


def split_statements(text: str) -> list[Statement]:
    """Parse one or more ``;``-separated statements (DuckDB dialect), keeping each one's text.

    The text as written is kept so a statement that touches no provider table runs in DuckDB
    exactly as the user wrote it, not as sqlglot would print it again.

    Raises:
        ParseError: with the line and column of the first problem.
    """
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text)
    except sqlglot.errors.TokenError as exc:
        raise ParseError(str(exc).split("\n")[0]) from None
    pieces: list[tuple[int, int]] = []
    start = None
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if start is not None:
                pieces.append((start, token.start))
            start = None
        elif start is None:
            start = token.start
    if start is not None:
        pieces.append((start, len(text)))
    statements = []
    for begin, end in pieces:
        piece = text[begin:end].strip()
        line = text.count("\n", 0, begin) + 1
        meta = parse_meta(piece)
        if meta is not None:
            placeholder = exp.Command(this=meta.kind.upper(), expression=exp.Literal.string(piece))
            statements.append(Statement(placeholder, piece, line, meta=meta))
            continue
        call = parse_exec(piece)
        if call is not None:
            placeholder = exp.Command(this="EXEC", expression=exp.Literal.string(piece))
            statements.append(Statement(placeholder, piece, line, exec_call=call))
            continue
        as_update = rewrite_replace(piece)
        for tree in _parse(as_update or piece, line):
            statements.append(Statement(tree, piece, line, replace=as_update is not None))
    return statements


def parse_statements(text: str) -> list[exp.Expression]:
    """The trees of the statements in ``text``."""
    return [statement.tree for statement in split_statements(text)]


def _parse(text: str, first_line: int) -> list[exp.Expression]:
    try:
        trees = sqlglot.parse(text, dialect=DIALECT)
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        description = str(first.get("description") or exc).split("\n")[0]
        near = str(first.get("highlight") or "").strip()
        if near:
            description += f" near {near!r}"
        line = first.get("line")
        raise ParseError(
            description, None if line is None else line + first_line - 1, first.get("col")
        ) from None
    except sqlglot.errors.TokenError as exc:
        raise ParseError(str(exc).split("\n")[0]) from None
    return [tree for tree in trees if isinstance(tree, exp.Expression)]
