"""Tab completion that knows the providers: names, services, resources, columns, params.

What is offered depends on where the cursor is: after ``FROM`` come providers, after
``provider.`` its services, after ``provider.service.`` its resources; elsewhere the columns
and params of the resources the statement names, then SQL keywords. The session's own
DuckDB tables and views are offered beside the providers, and their columns too. A line
starting with ``.`` or ``\\`` completes commands and their arguments.

While typing, the menu opens only once a word is begun: not after a ``;`` (the statement
is over) or on an empty line; Tab opens it anywhere.
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
from sqlprovider.store import LocalTable

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
LocalTables = Callable[[], Sequence[LocalTable]]
# Arguments of commands: a mode, on/off, a file, a table pattern.
_SWITCHES = [("on", "turn it on"), ("off", "turn it off")]
_FILE_COMMANDS = {".read", ".output", ".once", "\\o", "\\i"}
_TABLE_COMMANDS = {".tables", ".schema", "\\d", "\\d+", "\\dt", "\\dt+"}


@dataclass(frozen=True)
class TableRef:
    """A resource the statement names, with the alias it is given."""

    resource: Resource
    alias: str | None


@dataclass(frozen=True)
class LocalRef:
    """A local DuckDB table or view the statement names, with the alias it is given."""

    table: LocalTable
    alias: str | None


def _unquote(name: str) -> str:
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


class SqlCompleter(Completer):
    """Completes SQL against a Registry, and dot commands.

    Args:
        registry: where provider, service, resource, column and param names come from.
        commands: the commands as ``(name, summary)`` pairs (``.mode``, ``\\dt`` ...).
        modes: the output modes ``.mode`` accepts.
        local_tables: the session's own DuckDB tables and views (none when not given).
    """

    def __init__(
        self,
        registry: Registry,
        commands: Commands,
        modes: Callable[[], Sequence[str]],
        local_tables: LocalTables | None = None,
    ) -> None:
        self.registry = registry
        self.commands = commands
        self.modes = modes
        self.local_tables: LocalTables = local_tables or (lambda: ())
        self.paths = PathCompleter(expanduser=True)

    # -- entry point ----------------------------------------------------------------------

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterator[Completion]:
        """The completions at the cursor of ``document``."""
        text = document.text
        if text.lstrip().startswith((".", "\\")):
            yield from self._command(document, event)
            return
        before = document.text_before_cursor
        masked = mask(before)
        if masked.open:  # inside a string, a quoted name or a comment
            return
        word = _WORD.search(before)
        typed = word.group(0) if word else ""
        start, end = statement_bounds(text, document.cursor_position)
        if not event.completion_requested and not masked.text[start:].strip():
            return  # nothing of this statement typed yet (just after a ';'): no menu
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
        yield from self._local_fields(self.local_tables_in(code), prefix)
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

    def local_tables_in(self, code: str) -> list[LocalRef]:
        """The local tables named in (masked) statement text, with their aliases."""
        found: list[LocalRef] = []
        for table in self.local_tables():
            name = r"\s*\.\s*".join(re.escape(p) for p in table.name.split("."))
            pattern = rf'(?<![\w."]){name}(?![\w"]|\s*\.)(?:\s+(?:AS\s+)?({_IDENT}))?'
            for match in re.finditer(pattern, code, re.I):
                alias = match.group(1)
                if alias is not None and alias.upper() in _NOT_ALIAS:
                    alias = None
                found.append(LocalRef(table, _unquote(alias) if alias else None))
        return found

    def _tables(self, prefix: str) -> Iterator[Completion]:
        names = self.registry.names()
        yield from _match(prefix, [(n, "provider") for n in names])
        yield from _match(prefix, [(t.name, f"local {t.kind}") for t in self.local_tables()])
        if not prefix:
            return
        lowered = prefix.lower()
        for resource in self._resources():  # typing a resource's own name finds it anywhere
            if resource.name.lower().startswith(lowered):
                yield Completion(resource.qualified_name, -len(prefix), display_meta="resource")

    def _resources(self) -> Iterator[Resource]:
        for name in self.registry.names():
            provider = self._provider(name)
            if provider is not None:
                yield from provider.resources()

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
            local = [t for t in self.local_tables_in(code) if name in (t.alias, t.table.name)]
            yield from self._local_fields(local, prefix)

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

    def _local_fields(self, refs: Iterable[LocalRef], prefix: str) -> Iterator[Completion]:
        """The columns of the local tables the statement names."""
        seen: dict[str, str] = {}
        for ref in refs:
            for name, kind in ref.table.columns:
                seen.setdefault(name, f"{kind} column")
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

    # -- commands -------------------------------------------------------------------------

    def _command(self, document: Document, event: CompleteEvent) -> Iterator[Completion]:
        before = document.text_before_cursor.lstrip()
        command, space, argument = before.partition(" ")
        if not space:
            kind = command[:1]
            yield from _match(command, [c for c in self.commands() if c[0].startswith(kind)])
            return
        argument = argument.lstrip()
        if command == ".mode":
            yield from _match(argument, [(m, "output mode") for m in self.modes()])
        elif command in (".timing", ".headers", "\\timing"):
            yield from _match(argument, _SWITCHES)
        elif command == "\\x":
            yield from _match(argument, [*_SWITCHES, ("auto", "when a row is too wide")])
        elif command == ".cache":
            yield from _match(argument, [*_SWITCHES, ("clear", "drop the answers kept")])
        elif command in _FILE_COMMANDS:
            yield from self.paths.get_completions(Document(argument, len(argument)), event)
        elif command in ("\\d", "\\d+"):  # a table's whole name
            names = [(r.qualified_name, "resource") for r in self._resources()]
            names += [(t.name, f"local {t.kind}") for t in self.local_tables()]
            yield from _match(argument, names)
        elif command in _TABLE_COMMANDS:
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
