"""Tab completion that knows the providers: names, services, resources, columns, params.

What is offered depends on where the cursor is: after ``FROM`` come providers, after
``provider.`` its services, after ``provider.service.`` its resources; elsewhere the columns
and params of the resources the statement names, then SQL keywords. A line starting with
``.`` completes dot commands and their arguments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from sqlprovider.errors import Error
from sqlprovider.model import Location, Provider, Resource, SqlVerb
from sqlprovider.providers import Registry
from sqlprovider.shell.scanner import mask, statement_bounds

KEYWORDS = (
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE",
    "BETWEEN", "EXISTS", "AS", "DISTINCT", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "FULL",
    "CROSS", "ON", "USING", "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "ASC", "DESC",
    "UNION", "ALL", "EXCEPT", "INTERSECT", "WITH", "CASE", "WHEN", "THEN", "ELSE", "END",
    "CAST", "TRUE", "FALSE", "INSERT INTO", "VALUES", "UPDATE", "SET", "DELETE FROM",
    "REPLACE", "RETURNING", "EXEC", "CREATE TABLE", "DROP TABLE", "DESCRIBE", "SHOW",
    "EXPLAIN", "COPY", "TO", "QUALIFY", "FILTER", "OVER", "PARTITION BY",
)  # fmt: skip
FUNCTIONS = (
    "count", "sum", "avg", "min", "max", "coalesce", "lower", "upper", "length", "trim",
    "substr", "replace", "concat", "strftime", "date_trunc", "now",
    "json_extract", "json_extract_string", "unnest", "list_contains", "string_agg",
    "regexp_matches", "round", "abs",
)  # fmt: skip
# After these, a table name comes next.
_TABLE_WORDS = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "DESCRIBE", "REPLACE", "EXEC", "EXECUTE"}
_CLAUSES = {"SELECT", "FROM", "WHERE", "JOIN", "ON", "SET", "BY", "HAVING", "VALUES", "INTO"}
_NOT_ALIAS = {word.split()[0] for word in KEYWORDS} | {"NATURAL", "LATERAL", "WINDOW"}
_IDENT = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_TABLE = re.compile(
    rf"(?<![\w.\"])({_IDENT})\s*\.\s*({_IDENT})\s*\.\s*({_IDENT})(?![\w\"]|\s*\.)"
    rf"(?:\s+(?:AS\s+)?({_IDENT}))?",
    re.I,
)
_EXEC = re.compile(rf"^\s*EXEC(?:UTE)?\s+({_IDENT}(?:\s*\.\s*{_IDENT}){{3}})", re.I)
_TOKEN = re.compile(r"[A-Za-z_][\w$]*|[(),=<>!*+\-/;]")
_WORD = re.compile(r'[\w."@$]*$')
_WRITE_VERBS = {
    "INSERT": SqlVerb.INSERT,
    "UPDATE": SqlVerb.UPDATE,
    "REPLACE": SqlVerb.REPLACE,
    "DELETE": SqlVerb.DELETE,
}

Commands = Callable[[], Sequence[tuple[str, str]]]


@dataclass(frozen=True)
class TableRef:
    """A resource the statement names, with the alias it is given."""

    resource: Resource
    alias: str | None


def _unquote(name: str) -> str:
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


class SqlCompleter(Completer):
    """Completes SQL against a Registry, and dot commands.

    Args:
        registry: where provider, service, resource, column and param names come from.
        commands: the dot commands as ``(name, summary)`` pairs (``.mode`` ...).
        modes: the output modes ``.mode`` accepts.
    """

    def __init__(
        self, registry: Registry, commands: Commands, modes: Callable[[], Sequence[str]]
    ) -> None:
        self.registry = registry
        self.commands = commands
        self.modes = modes
        self.paths = PathCompleter(expanduser=True)

    # -- entry point ----------------------------------------------------------------------

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterator[Completion]:
        """The completions at the cursor of ``document``."""
        text = document.text
        if text.lstrip().startswith("."):
            yield from self._dot(document, event)
            return
        before = document.text_before_cursor
        masked = mask(before)
        if masked.open:  # inside a string, a quoted name or a comment
            return
        word = _WORD.search(before)
        typed = word.group(0) if word else ""
        start, end = statement_bounds(text, document.cursor_position)
        statement = text[start:end]
        code = mask(statement).text
        *qualifier, prefix = typed.split(".")
        parts = [_unquote(p) for p in qualifier]
        if typed.startswith("@"):
            yield from self._exec_params(code, typed)
            return
        if parts:
            yield from self._qualified(parts, prefix, code)
            return
        tokens = _TOKEN.findall(masked.text[start : len(before) - len(typed)])
        previous = tokens[-1].upper() if tokens else ""
        clause = next((t.upper() for t in reversed(tokens) if t.upper() in _CLAUSES), "")
        if previous in _TABLE_WORDS or (previous == "," and clause == "FROM"):
            yield from self._tables(prefix)
            return
        first = _TOKEN.findall(code)
        verb = _WRITE_VERBS.get(first[0].upper(), SqlVerb.SELECT) if first else SqlVerb.SELECT
        yield from self._fields(self.tables_in(code), prefix, verb)
        yield from _match(prefix, [(f, "function") for f in FUNCTIONS], suffix="(")
        yield from _keywords(prefix)

    # -- names from the registry ----------------------------------------------------------

    def _provider(self, name: str) -> Provider | None:
        if name not in self.registry.names():
            return None
        try:
            return self.registry.get(name)
        except Error:  # a broken definition: nothing to offer from it
            return None

    def tables_in(self, code: str) -> list[TableRef]:
        """The resources named in (masked) statement text, in order of appearance."""
        found: list[TableRef] = []
        for match in _TABLE.finditer(code):
            provider = self._provider(_unquote(match.group(1)))
            if provider is None:
                continue
            service = provider.services.get(_unquote(match.group(2)))
            resource = service.resources.get(_unquote(match.group(3))) if service else None
            if resource is None:
                continue
            alias = match.group(4)
            if alias is not None and alias.upper() in _NOT_ALIAS:
                alias = None
            found.append(TableRef(resource, _unquote(alias) if alias else None))
        return found

    def _tables(self, prefix: str) -> Iterator[Completion]:
        names = self.registry.names()
        yield from _match(prefix, [(n, "provider") for n in names])
        if not prefix:
            return
        qualified: list[tuple[str, str]] = []
        for name in names:
            provider = self._provider(name)
            if provider is not None:
                qualified.extend((r.qualified_name, "resource") for r in provider.resources())
        lowered = prefix.lower()
        for name, meta in qualified:  # typing a resource's own name finds it anywhere
            if name.rsplit(".", 1)[-1].lower().startswith(lowered):
                yield Completion(name, -len(prefix), display_meta=meta)

    def _qualified(self, parts: list[str], prefix: str, code: str) -> Iterator[Completion]:
        provider = self._provider(parts[0])
        if provider is not None and len(parts) == 1:
            services = [(s.name, s.description or "service") for s in provider.services.values()]
            yield from _match(prefix, services)
            return
        if provider is not None and len(parts) == 2 and parts[1] in provider.services:
            resources = provider.services[parts[1]].resources.values()
            yield from _match(prefix, [(r.name, r.description or "resource") for r in resources])
            return
        if provider is not None and len(parts) == 3:
            service = provider.services.get(parts[1])
            resource = service.resources.get(parts[2]) if service else None
            if resource is not None:
                yield from _match(prefix, [(m.name, m.sql_verb.value) for m in resource.methods])
            return
        if len(parts) == 1:  # alias.column or resource.column
            name = parts[0]
            refs = [
                t
                for t in self.tables_in(code)
                if name in (t.alias, t.resource.name, t.resource.qualified_name)
            ]
            yield from self._fields(refs, prefix, SqlVerb.SELECT)

    def _fields(self, refs: Iterable[TableRef], prefix: str, verb: SqlVerb) -> Iterator[Completion]:
        """Columns and params of ``refs``; for writes, what the write binds comes first."""
        seen: dict[str, str] = {}
        for ref in refs:
            resource = ref.resource
            if verb is not SqlVerb.SELECT:
                for method in resource.methods_for(verb):
                    for param in method.params:
                        seen.setdefault(param.name, f"{param.location.value} param")
                        if param.location is Location.BODY:
                            seen.setdefault(f"data__{param.wire_name}", "body field")
            for column in resource.columns:
                seen.setdefault(column.name, f"{column.type} column")
            for name in resource.param_names(SqlVerb.SELECT):
                seen.setdefault(name, "param")
        yield from _match(prefix, list(seen.items()))

    def _exec_params(self, code: str, typed: str) -> Iterator[Completion]:
        call = _EXEC.match(code)
        if call is None:
            return
        names = [_unquote(p.strip()) for p in call.group(1).split(".")]
        provider = self._provider(names[0])
        service = provider.services.get(names[1]) if provider else None
        resource = service.resources.get(names[2]) if service else None
        method = (
            next((m for m in resource.methods if m.name == names[3]), None) if resource else None
        )
        if method is None:
            return
        options = [
            ("@" + p.name, f"{p.type}{' required' if p.required else ''}") for p in method.params
        ]
        options.append(("@@json", "raw JSON body"))
        yield from _match(typed, options)

    # -- dot commands ---------------------------------------------------------------------

    def _dot(self, document: Document, event: CompleteEvent) -> Iterator[Completion]:
        before = document.text_before_cursor.lstrip()
        command, space, argument = before.partition(" ")
        if not space:
            yield from _match(command, list(self.commands()))
            return
        argument = argument.lstrip()
        if command == ".mode":
            yield from _match(argument, [(m, "output mode") for m in self.modes()])
        elif command == ".timing":
            yield from _match(argument, [("on", "show timing"), ("off", "hide timing")])
        elif command in (".read", ".output"):
            yield from self.paths.get_completions(Document(argument, len(argument)), event)
        elif command == ".tables":
            yield from _match(argument, [(n + ".*", "provider") for n in self.registry.names()])


def _match(
    prefix: str, options: Sequence[tuple[str, str]], suffix: str = ""
) -> Iterator[Completion]:
    """Options starting with ``prefix`` first, then those merely containing it (any case)."""
    lowered = prefix.lower()
    starts = [o for o in options if o[0].lower().startswith(lowered)]
    inside = [o for o in options if lowered and lowered in o[0].lower() and o not in starts]
    for name, meta in starts + inside:
        yield Completion(name + suffix, -len(prefix), display=name, display_meta=meta)


def _keywords(prefix: str) -> Iterator[Completion]:
    """Keywords, in the case the user types them in."""
    lower = bool(prefix) and prefix.islower()
    for keyword in KEYWORDS:
        if keyword.lower().startswith(prefix.lower()):
            text = keyword.lower() if lower else keyword
            yield Completion(text, -len(prefix), display_meta="keyword")
