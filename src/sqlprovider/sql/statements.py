"""Statement forms beyond what sqlglot parses: ``REPLACE t SET ...``, ``EXEC ...``, hints.

``REPLACE provider.service.resource SET ... WHERE ...`` (StackQL's PUT-like statement) is
parsed as an UPDATE and marked as a replace. ``EXEC p.s.r.method @param = value, ...`` (and
``@@json = '{...}'`` for a raw body) becomes an ExecCall. ``/*+ AWAIT */`` after the first
keyword asks to wait for an asynchronous job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from sqlprovider.errors import ParseError

DIALECT = "duckdb"

_REPLACE = re.compile(r"^\s*REPLACE(\s+(?:/\*.*?\*/\s*)?[A-Za-z_\"][\w.\"]*\s+SET\b)", re.I | re.S)
_EXEC = re.compile(
    r"^\s*EXEC(?:UTE)?\s+(?P<hint>/\*.*?\*/\s*)?(?P<name>[\w.\"]+)\s*(?P<args>.*)$", re.I | re.S
)
_ARG = re.compile(r"^\s*(?P<at>@@?)(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<value>.+?)\s*$", re.S)
_AWAIT = re.compile(r"^\+\s*AWAIT\b", re.I)
_NAME = r"[A-Za-z_\"][\w\"]*"
_SHOW = re.compile(
    r"^\s*SHOW\s+(?P<what>PROVIDERS|SERVICES|RESOURCES|METHODS)"
    rf"(?:\s+(?:IN|FROM)\s+(?P<target>{_NAME}(?:\.{_NAME})*))?"
    r"(?:\s+LIKE\s+'(?P<like>(?:[^']|'')*)')?\s*$",
    re.I | re.S,
)
_DESCRIBE = re.compile(
    rf"^\s*(?:DESCRIBE|DESC)\s+(?P<extended>EXTENDED\s+)?(?P<target>{_NAME}\.{_NAME}\.{_NAME})\s*$",
    re.I | re.S,
)
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?P<analyze>ANALY[SZ]E\s+)?(?P<inner>.+)$", re.I | re.S)


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


@dataclass(frozen=True)
class MetaCall:
    """``SHOW ...``, ``DESCRIBE [EXTENDED] p.s.r`` or ``EXPLAIN <statement>``.

    Attributes:
        kind: ``providers``, ``services``, ``resources``, ``methods``, ``describe`` or
            ``explain``.
        target: the dotted name it is about, split (empty for SHOW PROVIDERS).
        like: the ``LIKE`` pattern, if any.
        extended: DESCRIBE EXTENDED.
        inner: for EXPLAIN, the statement explained.
        analyze: EXPLAIN ANALYZE: run the statement and report what it cost.
    """

    kind: str
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
    match = _SHOW.match(text)
    if match is not None:
        kind = match.group("what").lower()
        target = _split_name(match.group("target") or "")
        needed = {"providers": 0, "services": 1, "resources": 2, "methods": 3}[kind]
        if len(target) != needed:
            example = {1: "p", 2: "p.service", 3: "p.service.resource"}.get(needed, "")
            if needed == 0:
                raise ParseError("SHOW PROVIDERS takes no name; use LIKE '...' to filter")
            raise ParseError(f"write SHOW {kind.upper()} IN {example}")
        like = match.group("like")
        return MetaCall(kind, target, like.replace("''", "'") if like is not None else None)
    match = _DESCRIBE.match(text)
    if match is not None:
        return MetaCall(
            "describe", _split_name(match.group("target")), extended=bool(match.group("extended"))
        )
    match = _EXPLAIN.match(text)
    if match is not None:
        analyze = bool(match.group("analyze"))
        return MetaCall("explain", inner=match.group("inner").strip(), analyze=analyze)
    return None


def _split_name(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip('"') for part in dotted.split(".")) if dotted else ()


def rewrite_replace(text: str) -> str | None:
    """``REPLACE t SET ...`` as ``UPDATE t SET ...``, or None when it is no such statement."""
    match = _REPLACE.match(text)
    if match is None:
        return None
    return "UPDATE" + match.group(1) + text[match.end() :]


def has_await_hint(tree: exp.Expression) -> bool:
    """Whether the statement carries ``/*+ AWAIT */``."""
    return any(_AWAIT.match(comment.strip()) for comment in tree.comments or [])


def parse_exec(text: str) -> ExecCall | None:
    """The EXEC call in ``text``, or None when it is not an EXEC statement.

    Raises:
        ParseError: for a malformed EXEC (what is wrong and how it should look).
    """
    match = _EXEC.match(text)
    if match is None:
        return None
    usage = "write EXEC provider.service.resource.method @param = 'value', ..."
    parts = [p.strip('"') for p in match.group("name").split(".")]
    if len(parts) != 4 or not all(parts):
        raise ParseError(f"EXEC needs a four-part method name; {usage}")
    hint = match.group("hint") or ""
    wait = bool(_AWAIT.match(hint.strip("/* \n\t")))
    provider, service, resource, method = parts
    args: dict[str, exp.Expr] = {}
    raw_json: exp.Expr | None = None
    args_text, returning_text = _split_returning(match.group("args").strip())
    returning = None
    if returning_text is not None:
        try:
            select = sqlglot.parse_one(f"SELECT {returning_text}", dialect=DIALECT)
        except sqlglot.errors.ParseError as exc:
            raise ParseError(f"EXEC ... RETURNING: {exc.errors[0]['description']}") from None
        except sqlglot.errors.TokenError as exc:
            raise ParseError(f"EXEC ... RETURNING: {str(exc).splitlines()[0]}") from None
        returning = exp.Returning(expressions=[e.copy() for e in select.expressions])
    for piece in _split_top_level(args_text) if args_text else []:
        arg = _ARG.match(piece)
        if arg is None:
            raise ParseError(f"EXEC argument {piece.strip()!r} is not @name = value; {usage}")
        try:
            value = sqlglot.parse_one(arg.group("value"), dialect=DIALECT)
        except sqlglot.errors.ParseError as exc:
            raise ParseError(
                f"EXEC argument @{arg.group('name')}: {exc.errors[0]['description']}"
            ) from None
        except sqlglot.errors.TokenError as exc:
            raise ParseError(
                f"EXEC argument @{arg.group('name')}: {str(exc).splitlines()[0]}"
            ) from None
        if arg.group("at") == "@@":
            if arg.group("name").lower() != "json":
                raise ParseError(
                    f"@@{arg.group('name')} is unknown; only @@json (a raw body) exists"
                )
            raw_json = value
        else:
            args[arg.group("name")] = value
    return ExecCall(provider, service, resource, method, args, raw_json, wait, returning)


def _outside_quotes(text: str) -> Iterator[tuple[int, str]]:
    """The characters of ``text`` that are not inside a quoted string, with their index."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        else:
            yield index, char


def _split_returning(text: str) -> tuple[str, str | None]:
    """The arguments and the RETURNING list of an EXEC (the keyword outside quotes)."""
    for index, char in _outside_quotes(text):
        if (
            char in "rR"
            and text[index : index + 9].upper() == "RETURNING"
            and (index == 0 or not (text[index - 1].isalnum() or text[index - 1] in "_@"))
            and (index + 9 == len(text) or not text[index + 9].isalnum())
        ):
            return text[:index].strip(), text[index + 9 :].strip().rstrip(";")
    return text, None


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside quotes and brackets."""
    pieces: list[str] = []
    depth, start = 0, 0
    for index, char in _outside_quotes(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    pieces.append(text[start:])
    return [p for p in pieces if p.strip()]
