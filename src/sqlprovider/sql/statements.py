"""Statement forms beyond what sqlglot parses: ``REPLACE t SET ...``, ``EXEC ...``, hints.

``REPLACE provider.service.resource SET ... WHERE ...`` (StackQL's PUT-like statement) is
parsed as an UPDATE and marked as a replace. ``EXEC p.s.r.method @param = value, ...`` (and
``@@json = '{...}'`` for a raw body) becomes an ExecCall. ``SHOW ...``, ``DESCRIBE p.s.r`` and
``EXPLAIN ...`` become a MetaCall. ``/*+ AWAIT */`` after the first keyword asks to wait for an
asynchronous job.

All of them are read on the tokens of DuckDB's sqlglot tokenizer, the one ``parse`` splits
statements with, so quotes and comments mean the same here as in any other statement: a
``-- RETURNING x`` is a comment, ``'it''s, here'`` and ``$$a, b$$`` are one value each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

import sqlglot
from sqlglot import Token, TokenType, exp

from sqlprovider.errors import ParseError

DIALECT = "duckdb"

_AWAIT = re.compile(r"^\+\s*AWAIT\b", re.I)
_WORD = re.compile(r"[A-Za-z_]\w*")
_OPENING = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSING = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}
# The tokenizer keeps the rest of a command (EXPLAIN ..., EXECUTE ...) as one string.
_COMMANDS = {TokenType.COMMAND, TokenType.EXECUTE}
_SHOWN = {"PROVIDERS": 0, "SERVICES": 1, "RESOURCES": 2, "METHODS": 3}
_EXEC_USAGE = "write EXEC provider.service.resource.method @param = 'value', ..."


@dataclass(frozen=True)
class ExecCall:
    """``EXEC provider.service.resource.method @a = 1, @@json = '{...}'``."""

    provider: str
    service: str
    resource: str
    method: str
    args: dict[str, exp.Expr] = field(default_factory=dict)
    raw_json: exp.Expr | None = None
    wait: bool = False
    returning: exp.Returning | None = None

    @property
    def table(self) -> str:
        """``provider.service.resource``."""
        return f"{self.provider}.{self.service}.{self.resource}"

    def sql(self) -> str:
        """The call as EXEC text again (with its values as they are now, e.g. bound)."""
        parts = (self.provider, self.service, self.resource, self.method)
        name = ".".join(exp.to_identifier(p).sql(dialect=DIALECT) for p in parts)
        args = [f"@{k} = {v.sql(dialect=DIALECT)}" for k, v in self.args.items()]
        if self.raw_json is not None:
            args.append(f"@@json = {self.raw_json.sql(dialect=DIALECT)}")
        text = "EXEC " + ("/*+ AWAIT */ " if self.wait else "") + name
        if args:
            text += " " + ", ".join(args)
        if self.returning is not None:
            shown = ", ".join(e.sql(dialect=DIALECT) for e in self.returning.expressions)
            text += f" RETURNING {shown}"
        return text


class MetaKind(StrEnum):
    """The metadata statements."""

    PROVIDERS = "providers"  # SHOW PROVIDERS
    SERVICES = "services"  # SHOW SERVICES IN p
    RESOURCES = "resources"  # SHOW RESOURCES IN p.s
    METHODS = "methods"  # SHOW METHODS IN p.s.r
    DESCRIBE = "describe"
    EXPLAIN = "explain"


@dataclass(frozen=True)
class MetaCall:
    """``SHOW ...``, ``DESCRIBE [EXTENDED] p.s.r`` or ``EXPLAIN <statement>``.

    Attributes:
        kind: a MetaKind.
        target: the dotted name it is about, split (empty for SHOW PROVIDERS).
        like: the ``LIKE`` pattern, if any.
        extended: DESCRIBE EXTENDED.
        inner: for EXPLAIN, the statement explained.
        analyze: EXPLAIN ANALYZE: run the statement and report what it cost.
    """

    kind: MetaKind
    target: tuple[str, ...] = ()
    like: str | None = None
    extended: bool = False
    inner: str = ""
    analyze: bool = False


def parse_meta(text: str) -> MetaCall | None:
    """The metadata statement in ``text``, or None when it is none.

    Raises:
        ParseError: for SHOW SERVICES/RESOURCES/METHODS without the name they need.
    """
    if not _may_start_with(text, {"SHOW", "DESCRIBE", "DESC", "EXPLAIN"}):
        return None
    tokens = _tokens(text)
    if len(tokens) < 2 or not _apart(tokens[0], tokens[1]):
        return None
    head = _word(text, tokens[0])
    if head == "SHOW":
        return _show(text, tokens)
    if head in ("DESCRIBE", "DESC"):
        return _describe(text, tokens)
    if head == "EXPLAIN":
        # a lone ANALYZE is the statement explained (and fails as one)
        analyze = (
            len(tokens) > 2
            and _word(text, tokens[1]) in ("ANALYZE", "ANALYSE")
            and _apart(tokens[1], tokens[2])
        )
        inner = tokens[2 if analyze else 1]
        return MetaCall(MetaKind.EXPLAIN, inner=text[inner.start :].strip(), analyze=analyze)
    return None


def _show(text: str, tokens: list[Token]) -> MetaCall | None:
    """``SHOW PROVIDERS|SERVICES|RESOURCES|METHODS [IN|FROM name] [LIKE 'pattern']``."""
    kind = _word(text, tokens[1])
    if kind not in _SHOWN:
        return None
    index = 2
    target: tuple[str, ...] = ()
    if index < len(tokens) and _word(text, tokens[index]) in ("IN", "FROM"):
        parts, index = _dotted_name(text, tokens, index + 1)
        target = _whole(parts) or ()
        if not target:
            return None
    like = None
    if (
        index + 1 < len(tokens)
        and _word(text, tokens[index]) == "LIKE"
        and tokens[index + 1].token_type == TokenType.STRING
    ):
        like = tokens[index + 1].text  # the tokenizer has read '' as '
        index += 2
    if index != len(tokens):
        return None
    needed = _SHOWN[kind]
    if len(target) != needed:
        if needed == 0:
            raise ParseError("SHOW PROVIDERS takes no name; use LIKE '...' to filter")
        example = {1: "p", 2: "p.service", 3: "p.service.resource"}[needed]
        raise ParseError(f"write SHOW {kind} IN {example}")
    return MetaCall(MetaKind(kind.lower()), target, like)


def _describe(text: str, tokens: list[Token]) -> MetaCall | None:
    """``DESCRIBE [EXTENDED] p.s.r`` (``DESC`` too); None for any other DESCRIBE."""
    extended = _word(text, tokens[1]) == "EXTENDED"
    # EXTENDED may also be the name of a provider: DESCRIBE extended.s.r
    for start, flag in ((2, True), (1, False)) if extended else ((1, False),):
        parts, end = _dotted_name(text, tokens, start)
        target = _whole(parts)
        if target is not None and len(target) == 3 and end == len(tokens):
            return MetaCall(MetaKind.DESCRIBE, target, extended=flag)
    return None


def rewrite_replace(text: str) -> str | None:
    """``REPLACE t SET ...`` as ``UPDATE t SET ...``, or None when it is no such statement."""
    if not _may_start_with(text, {"REPLACE"}):
        return None
    tokens = _tokens(text)
    if len(tokens) < 2 or _word(text, tokens[0]) != "REPLACE" or not _apart(*tokens[:2]):
        return None
    parts, index = _dotted_name(text, tokens, 1)
    if not _whole(parts) or index >= len(tokens) or _word(text, tokens[index]) != "SET":
        return None
    return "UPDATE" + text[tokens[0].end + 1 :]


def has_await_hint(tree: exp.Expression) -> bool:
    """Whether the statement carries ``/*+ AWAIT */``."""
    return _is_await_hint(tree.comments or [])


def _is_await_hint(comments: list[str]) -> bool:
    return any(_AWAIT.match(comment.strip()) for comment in comments)


def parse_exec(text: str) -> ExecCall | None:
    """The EXEC call in ``text``, or None when it is not an EXEC statement.

    The arguments are split and RETURNING is found on DuckDB's tokens, so quotes (``''``
    inside a string, ``$$...$$``) and comments (``-- RETURNING x``, ``/* , */``) are read
    as they are everywhere else.

    Raises:
        ParseError: for a malformed EXEC (what is wrong and how it should look).
    """
    if not _may_start_with(text, {"EXEC", "EXECUTE"}):
        return None
    tokens = _tokens(text)
    if len(tokens) < 2 or _word(text, tokens[0]) not in ("EXEC", "EXECUTE"):
        return None
    parts, index = _dotted_name(text, tokens, 1)
    if not parts or not _apart(tokens[0], tokens[1]):
        return None
    dotted = _whole(parts)
    if dotted is None or len(dotted) != 4 or not all(dotted):
        raise ParseError(f"EXEC needs a four-part method name; {_EXEC_USAGE}")
    provider, service, resource, method = dotted
    wait = _is_await_hint(_comments_between(text, tokens[0], tokens[1]))
    arguments, returning_tokens = _split_returning(tokens[index:])
    returning = None
    if returning_tokens is not None:
        listed = _source(text, returning_tokens)
        select = _parse_expression(f"SELECT {listed}", "EXEC ... RETURNING")
        returning = exp.Returning(expressions=[e.copy() for e in select.expressions])
    args: dict[str, exp.Expr] = {}
    raw_json: exp.Expr | None = None
    for piece in _split_top_level(arguments):
        at, name, value = _argument(text, piece)
        if at == "@@":
            if name.lower() != "json":
                raise ParseError(f"@@{name} is unknown; only @@json (a raw body) exists")
            raw_json = value
        elif any(given.lower() == name.lower() for given in args):
            # Which of two values to send would be a guess (names fold case, as params do).
            raise ParseError(f"EXEC gives @{name} twice; give it once")
        else:
            args[name] = value
    return ExecCall(provider, service, resource, method, args, raw_json, wait, returning)


def _argument(text: str, piece: list[Token]) -> tuple[str, str, exp.Expr]:
    """(``@`` or ``@@``, name, value) of one ``@name = value`` argument of an EXEC."""
    at = 0
    while (
        at < min(2, len(piece))
        and piece[at].token_type == TokenType.PARAMETER
        and (at == 0 or not _apart(piece[at - 1], piece[at]))
    ):
        at += 1
    if (
        at == 0
        or len(piece) < at + 3
        or _apart(piece[at - 1], piece[at])  # @name is written in one piece
        or not _WORD.fullmatch(_source(text, [piece[at]]))
        or piece[at + 1].token_type != TokenType.EQ
    ):
        raise ParseError(
            f"EXEC argument {_source(text, piece)!r} is not @name = value; {_EXEC_USAGE}"
        )
    name = piece[at].text
    value = _parse_expression(_source(text, piece[at + 2 :]), f"EXEC argument @{name}")
    return "@" * at, name, value


def _parse_expression(sql: str, what: str) -> exp.Expr:
    """``sql`` parsed, its errors ours and prefixed with ``what``."""
    try:
        return sqlglot.parse_one(sql, dialect=DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise ParseError(f"{what}: {exc.errors[0]['description']}") from None
    except sqlglot.errors.TokenError as exc:
        raise ParseError(f"{what}: {str(exc).splitlines()[0]}") from None


def _split_returning(tokens: list[Token]) -> tuple[list[Token], list[Token] | None]:
    """The argument tokens of an EXEC and those of its RETURNING list (None without one)."""
    depth = 0
    for index, token in enumerate(tokens):
        if token.token_type in _OPENING:
            depth += 1
        elif token.token_type in _CLOSING:
            depth -= 1
        elif token.token_type == TokenType.RETURNING and depth == 0:
            return tokens[:index], tokens[index + 1 :]
    return tokens, None


def _split_top_level(tokens: list[Token]) -> list[list[Token]]:
    """The tokens split on commas outside brackets, empty pieces dropped."""
    pieces: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.token_type in _OPENING:
            depth += 1
        elif token.token_type in _CLOSING:
            depth -= 1
        elif token.token_type == TokenType.COMMA and depth == 0:
            pieces.append([])
            continue
        pieces[-1].append(token)
    return [piece for piece in pieces if piece]


# -- tokens -----------------------------------------------------------------------------------


# Checking the first word before tokenizing spares every SELECT a second tokenization; a
# statement that opens with a comment is tokenized, as the comment may hide nothing.
def _may_start_with(text: str, keywords: set[str]) -> bool:
    """Whether ``text`` may begin with one of ``keywords`` (upper case)."""
    opening = text.lstrip()
    if opening.startswith(("--", "/*")):
        return True
    word = _WORD.match(opening)
    return word is not None and word.group().upper() in keywords


def _tokens(text: str) -> list[Token]:
    """``text`` as DuckDB's tokenizer reads it: the one reading of quotes and comments.

    Comments ride on the tokens (they are never tokens themselves) and a quoted string is
    one token. The body of a leading command (``EXPLAIN ...``, ``EXECUTE ...``), which the
    tokenizer keeps as one string, is tokenized too. Trailing semicolons are dropped.

    Raises:
        ParseError: for text the tokenizer cannot read (an unterminated string).
    """
    dialect = sqlglot.Dialect.get_or_raise(DIALECT)
    try:
        tokens = dialect.tokenize(text)
        if tokens and tokens[0].token_type in _COMMANDS:
            offset = tokens[0].end + 1
            tokens = [tokens[0], *(_shifted(t, offset) for t in dialect.tokenize(text[offset:]))]
    except sqlglot.errors.TokenError as exc:
        raise ParseError(str(exc).split("\n")[0]) from None
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens.pop()
    return tokens


def _shifted(token: Token, offset: int) -> Token:
    return Token(
        token.token_type,
        token.text,
        token.line,
        token.col,
        token.start + offset,
        token.end + offset,
        token.comments,
    )


def _comments_between(text: str, before: Token, after: Token) -> list[str]:
    """The comments between two adjacent tokens (the tokenizer gives a comment on a line of
    its own to the token after it, and one on the same line to the token before)."""
    gap = text[before.end + 1 : after.start]
    # The gap holds only blanks and comments: all of them lead a token placed after it.
    return list(sqlglot.Dialect.get_or_raise(DIALECT).tokenize(gap + "\n_")[-1].comments)


def _source(text: str, tokens: list[Token]) -> str:
    """The text the tokens were read from, comments between them included."""
    return text[tokens[0].start : tokens[-1].end + 1] if tokens else ""


def _word(text: str, token: Token) -> str:
    """The token as an upper-case bare word (a keyword or a name), or "" when it is a quoted
    name, a string or a symbol."""
    written = text[token.start : token.end + 1]
    return written.upper() if _WORD.fullmatch(written) else ""


def _dotted_name(text: str, tokens: list[Token], index: int) -> tuple[list[str | None], int]:
    """The dotted name at ``tokens[index]`` (parts and dots with no blank between them, as
    in ``p.s."my resource"``) split at its dots, and the index after it.

    ``[]`` when no name starts there; a part missing between dots (``p..r``) is None.
    """
    parts: list[str | None] = []
    part: str | None = None
    end = index
    while end < len(tokens) and (end == index or not _apart(tokens[end - 1], tokens[end])):
        if tokens[end].token_type == TokenType.DOT:
            parts.append(part)
            part = None
        elif part is None and _name_part(text, tokens[end]) is not None:
            part = _name_part(text, tokens[end])
        else:
            break
        end += 1
    if end == index:
        return [], index
    parts.append(part)
    return parts, end


def _whole(parts: list[str | None]) -> tuple[str, ...] | None:
    """The parts of a dotted name, or None when one is missing."""
    present = tuple(part for part in parts if part is not None)
    return present if len(present) == len(parts) else None


def _name_part(text: str, token: Token) -> str | None:
    """A part of a dotted name: a bare word or a quoted name."""
    if token.token_type == TokenType.IDENTIFIER or _word(text, token):
        return token.text
    return None


def _apart(before: Token, after: Token) -> bool:
    """Whether blanks or comments stand between two tokens."""
    return after.start > before.end + 1
