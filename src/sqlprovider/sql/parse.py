"""Turn SQL text into sqlglot trees, translating sqlglot's errors into ours.

Parameters are bound here (see ``split_statements``): each placeholder node of the parsed
tree is replaced by a literal node made from the Python value, so a value is never pasted
into SQL text and cannot change what a statement means.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import logging
import math
import numbers
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import TokenType, exp

from sqlprovider.errors import ParseError, ProgrammingError
from sqlprovider.sql.statements import (
    ExecCall,
    MetaCall,
    MetaKind,
    parse_exec,
    parse_meta,
    rewrite_replace,
)

Parameters = Sequence[Any] | Mapping[str, Any]

DIALECT = "duckdb"
# sqlglot logs a warning when it keeps a statement it cannot parse fully as a command; that
# is advice for sqlglot's own users, and the statement's outcome reaches ours anyway.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


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


def split_statements(text: str, parameters: Parameters | None = None) -> list[Statement]:
    """Parse one or more ``;``-separated statements (DuckDB dialect), keeping each one's text.

    The text as written is kept so a statement that touches no provider table runs in DuckDB
    exactly as the user wrote it, not as sqlglot would print it again.

    Args:
        text: the statements.
        parameters: values for the placeholders: a sequence for ``?`` (numbered across all
            statements in the order written; DuckDB's ``$1`` also works), a mapping for
            ``:name`` (or ``$name``). ``None`` binds nothing. A statement that had
            placeholders gets the bound tree's SQL as its text.

    Raises:
        ParseError: with the line and column of the first problem.
        ProgrammingError: parameters that do not fit the placeholders (which are missing,
            which are extra) or a value that cannot be bound.
    """
    if parameters is None:
        return _split(text)
    binder = _Binder(parameters)
    statements = [binder.bind(s) for s in _split(binder.number_qmarks(text))]
    binder.finish()
    return statements


def _split(text: str) -> list[Statement]:
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


# sqlglot says what its tree lacks ("Required keyword: 'expression' missing for <class
# 'sqlglot.expressions.core.And'>"); people need to hear what their SQL lacks.
_MISSING = re.compile(r"Required keyword: '\w+' missing for <class '[\w.]+'>")


def _in_words(description: str) -> str:
    """sqlglot's description of a syntax error, without its class names."""
    return re.sub(r"<class '(?:[\w]+\.)*(\w+)'>", r"\1", description)


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
        if _MISSING.search(description):
            description = (
                f"{near or 'the statement'} is not finished: something is missing after it"
            )
        else:
            description = _in_words(description) + (f" near {near!r}" if near else "")
        line = first.get("line")
        raise ParseError(
            description, None if line is None else line + first_line - 1, first.get("col")
        ) from None
    except sqlglot.errors.TokenError as exc:
        raise ParseError(str(exc).split("\n")[0]) from None
    return [tree for tree in trees if isinstance(tree, exp.Expression)]


# -- parameters -------------------------------------------------------------------------------

# ``?`` placeholders are renamed ``$_sp_q<n>`` (n = 1, 2, ... in the order written) before
# parsing: sqlglot's tree order is not the order of the text (a WITH or a LIMIT can come
# first), and the tokens are. Only placeholder tokens are renamed; no value is in the text.
_QMARK_PREFIX = "_sp_q"


class _Binder:
    """Gives each placeholder of a statement its value as a literal node, and checks that
    the parameters and the placeholders fit each other."""

    def __init__(self, parameters: Parameters) -> None:
        if isinstance(parameters, str | bytes | bytearray):
            raise ProgrammingError(
                "parameters must be a sequence (for ?) or a mapping (for :name), not "
                f"{type(parameters).__name__}; wrap a single value in a list: [value]"
            )
        self.named: Mapping[str, Any] | None = None
        self.positional: Sequence[Any] | None = None
        if isinstance(parameters, Mapping):
            self.named = parameters
        elif isinstance(parameters, Sequence):
            self.positional = parameters
        else:
            raise ProgrammingError(
                "parameters must be a sequence (for ?) or a mapping (for :name), not "
                f"{type(parameters).__name__}"
            )
        self.qmarks = 0
        self.used_positions: set[int] = set()
        self.used_names: set[str] = set()
        self.missing: list[str] = []
        self.styles: set[str] = set()

    def number_qmarks(self, text: str) -> str:
        """``text`` with each ``?`` placeholder renamed ``$_sp_q<n>``, and a ``:name`` right
        after SELECT written ``$name`` (sqlglot would read it as DuckDB's ``alias: expr``)."""
        edits = _placeholder_edits(text, 0)
        self.qmarks = sum(1 for _, _, kind in edits if kind == "?")
        pieces = []
        last = 0
        number = 0
        for start, end, kind in edits:
            pieces.append(text[last:start])
            if kind == "?":
                number += 1
                pieces.append(f"${_QMARK_PREFIX}{number}")
            else:
                pieces.append("$")
            last = end
        pieces.append(text[last:])
        return "".join(pieces)

    # -- statements ---------------------------------------------------------------------

    def bind(self, statement: Statement) -> Statement:
        """``statement`` with its placeholders replaced by literals."""
        if statement.meta is not None:
            if statement.meta.kind is not MetaKind.EXPLAIN:
                return statement  # SHOW/DESCRIBE take no parameters; finish() says so
            inner = [self.bind(s) for s in _split(statement.meta.inner)]
            text = ";\n".join(s.text for s in inner)
            if text == statement.meta.inner:
                return statement
            meta = dataclasses.replace(statement.meta, inner=text)
            keyword = "EXPLAIN ANALYZE" if statement.meta.analyze else "EXPLAIN"
            return dataclasses.replace(statement, text=f"{keyword} {text}", meta=meta)
        call = statement.exec_call
        if call is not None:
            args = {name: self._bound(value) for name, value in call.args.items()}
            raw = self._bound(call.raw_json) if call.raw_json is not None else None
            returning = self._bound(call.returning) if call.returning is not None else None
            bound = dataclasses.replace(call, args=args, raw_json=raw, returning=returning)
            if bound == call:
                return statement
            return dataclasses.replace(statement, text=bound.sql(), exec_call=bound)
        if statement.tree.find(exp.Placeholder) is None:
            return statement
        tree = self._bound(statement.tree)
        return dataclasses.replace(statement, tree=tree, text=tree.sql(dialect=DIALECT))

    def _bound(self, node: exp.Expr) -> Any:
        """A copy of ``node`` (an expression) with its placeholders bound."""
        if node.find(exp.Placeholder) is None:
            return node
        tree = node.copy()
        for placeholder in list(tree.find_all(exp.Placeholder)):
            found, value, label = self._value(placeholder)
            if not found:
                continue
            parent = placeholder.parent
            if (
                isinstance(parent, exp.In)
                and placeholder.arg_key in ("expressions", "field")
                and isinstance(value, list | tuple)
            ):
                _expand_in(parent, placeholder, value, label)
            elif placeholder is tree:
                tree = literal(value, label)
            else:
                placeholder.replace(literal(value, label))
        return tree

    def _value(self, placeholder: exp.Placeholder) -> tuple[bool, Any, str]:
        """(found, value, label) for one placeholder; a missing value is remembered."""
        name = str(placeholder.this or "")
        if not name:
            # ``?`` where the whole text could not be tokenized with it (never expected)
            raise ProgrammingError("a ? placeholder could not be numbered; use :name instead")
        if name.startswith(_QMARK_PREFIX) and name[len(_QMARK_PREFIX) :].isdigit():
            self.styles.add("?")
            return self._positional(int(name[len(_QMARK_PREFIX) :]), "?")
        if name.isdigit():
            self.styles.add("$n")
            return self._positional(int(name), f"${name}")
        self.styles.add(":name")
        label = f":{name}"
        if self.named is None:
            return False, None, label
        self.used_names.add(name)
        if name not in self.named:
            if label not in self.missing:
                self.missing.append(label)
            return False, None, label
        return True, self.named[name], label

    def _positional(self, number: int, written: str) -> tuple[bool, Any, str]:
        label = f"parameter {number} ({written})"
        if self.positional is None:
            return False, None, label
        self.used_positions.add(number)
        if number > len(self.positional):
            return False, None, label
        return True, self.positional[number - 1], label

    def finish(self) -> None:
        """Raise ProgrammingError when the parameters and placeholders do not fit."""
        styles = self.styles
        if "?" in styles and "$n" in styles:
            raise ProgrammingError("use either ? or $1, $2, ... placeholders, not both")
        positional = styles & {"?", "$n"}
        if positional and ":name" in styles:
            raise ProgrammingError(
                "use either ? placeholders (with a sequence of parameters) or :name "
                "placeholders (with a mapping), not both in one execute()"
            )
        if self.named is not None:
            if positional:
                raise ProgrammingError(
                    "the SQL uses ? placeholders, so pass the parameters as a sequence "
                    "(a list or tuple), not a mapping"
                )
            extra = sorted(set(self.named) - self.used_names)
            problems = []
            if self.missing:
                problems.append("missing values for " + ", ".join(self.missing))
            if extra:
                problems.append(
                    "parameters not used by the SQL: " + ", ".join(f":{n}" for n in extra)
                )
            if problems:
                raise ProgrammingError("; ".join(problems))
            return
        assert self.positional is not None
        if ":name" in styles:
            raise ProgrammingError(
                "the SQL uses :name placeholders, so pass the parameters as a mapping "
                "(a dict of name → value), not a sequence"
            )
        unplaced = sorted(set(range(1, self.qmarks + 1)) - self.used_positions)
        if unplaced:
            raise ProgrammingError(
                f"? number {unplaced[0]} sits where no value can be bound; parameters fit "
                "expressions in SELECT, INSERT, UPDATE, DELETE, EXEC and EXPLAIN, not SHOW "
                "or DESCRIBE"
            )
        given = len(self.positional)
        missing = sorted(n for n in self.used_positions if n > given)
        unused = sorted(set(range(1, given + 1)) - self.used_positions)
        if not missing and not unused:
            return
        count = max(self.used_positions, default=0)
        noun = "placeholder" if count == 1 else "placeholders"
        message = f"the SQL has {count or 'no'} {noun} but {given} parameters were given"
        if missing:
            message += "; missing a value for parameter " + ", ".join(str(n) for n in missing)
        if unused:
            message += "; parameter " + ", ".join(str(n) for n in unused) + " would not be used"
        raise ProgrammingError(message)


def _placeholder_edits(text: str, offset: int) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each ``?`` (kind ``?``) and of each ``:`` to write as ``$``
    (kind ``:``), in the order written. The text of a command (``EXPLAIN ...``), which the
    tokenizer keeps whole, is searched too."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text)
    except sqlglot.errors.TokenError as exc:
        raise ParseError(str(exc).split("\n")[0]) from None
    edits: list[tuple[int, int, str]] = []
    for index, token in enumerate(tokens):
        kind = token.token_type
        if kind in (TokenType.PLACEHOLDER, TokenType.QDCOLON) and text[token.start] == "?":
            edits.append((offset + token.start, offset + token.start + 1, "?"))
        elif kind == TokenType.COLON and index > 0 and index + 1 < len(tokens):
            after = tokens[index + 1]
            if (
                tokens[index - 1].token_type == TokenType.SELECT
                and after.start == token.end + 1
                and _NAME.match(after.text)
            ):
                edits.append((offset + token.start, offset + token.end + 1, ":"))
        elif kind == TokenType.COMMAND:
            end = next(
                (t.start for t in tokens[index + 1 :] if t.token_type == TokenType.SEMICOLON),
                len(text),
            )
            edits.extend(_placeholder_edits(text[token.end + 1 : end], offset + token.end + 1))
    return edits


_NAME = re.compile(r"^[A-Za-z_]\w*$")


def _expand_in(
    node: exp.In, placeholder: exp.Placeholder, values: Sequence[Any], label: str
) -> None:
    """``x IN ?`` / ``x IN (?)`` with a list: one literal per item."""
    if not values:
        raise ProgrammingError(f"{label} is an empty list; IN needs at least one value")
    items = [literal(v, label) for v in values]
    if node.args.get("field") is placeholder:
        node.set("field", None)
        node.set("expressions", items)
        return
    expressions = list(node.expressions)
    index = next(i for i, e in enumerate(expressions) if e is placeholder)
    node.set("expressions", [*expressions[:index], *items, *expressions[index + 1 :]])


def literal(value: Any, label: str = "parameter") -> exp.Expr:
    """The SQL literal node for a Python value.

    ``str`` → string, ``int``/``Decimal`` → number, ``float`` → DOUBLE, ``bool`` → boolean,
    ``None`` → NULL, ``datetime`` → TIMESTAMP (TIMESTAMPTZ when it has a zone), ``date`` → DATE,
    ``time`` → TIME, ``timedelta`` → INTERVAL, ``bytes`` → BLOB, ``uuid.UUID`` → string,
    ``list``/``tuple`` → a list ``[...]``, ``dict`` → its JSON text.

    Raises:
        ProgrammingError: for any other type (``label`` says which parameter).
    """
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, numbers.Integral):
        return exp.Literal.number(int(value))
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return exp.cast(exp.Literal.string(str(value)), "DOUBLE")
        return exp.Literal.number(str(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            return exp.cast(exp.Literal.string(str(number)), "DOUBLE")
        # DuckDB reads 2.5 as DECIMAL; a Python float is a DOUBLE.
        return exp.cast(exp.Literal.number(repr(number)), "DOUBLE")
    if isinstance(value, datetime.datetime):
        kind = "TIMESTAMP" if value.tzinfo is None else "TIMESTAMPTZ"
        return exp.cast(exp.Literal.string(value.isoformat()), kind)
    if isinstance(value, datetime.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, datetime.time):
        return exp.cast(exp.Literal.string(value.isoformat()), "TIME")
    if isinstance(value, datetime.timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        return exp.cast(exp.Literal.string(f"{micros} microseconds"), "INTERVAL")
    if isinstance(value, uuid.UUID):
        return exp.Literal.string(str(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return exp.func("from_hex", exp.Literal.string(bytes(value).hex()))
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[literal(item, label) for item in value])
    if isinstance(value, dict):
        try:
            text = json.dumps(value, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise ProgrammingError(f"{label}: cannot write the dict as JSON: {exc}") from None
        return exp.Literal.string(text)
    raise ProgrammingError(
        f"{label}: cannot bind a value of type {type(value).__name__}; use str, int, float, "
        "Decimal, bool, None, datetime, date, time, timedelta, bytes, UUID, list, tuple or dict"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
