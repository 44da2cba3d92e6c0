"""What the listing commands list: providers, schemas (``provider.service``), tables (provider
resources and the session's own DuckDB tables and views) and their schema.

Everything here reads the provider definitions and DuckDB's catalog; nothing sends a request.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from sqlprovider.errors import Error
from sqlprovider.model import Provider, param_columns
from sqlprovider.providers import Registry
from sqlprovider.result import Result
from sqlprovider.store import LocalTable

LocalTables = Callable[[], Sequence[LocalTable]]


@dataclass(frozen=True)
class Table:
    """One name ``.tables`` and ``\\dt`` list.

    Attributes:
        name: ``provider.service.resource``, or the local table's name.
        kind: ``provider table``, ``local table`` or ``local view``.
        description: the resource's description (empty for local tables).
    """

    name: str
    kind: str
    description: str = ""

    @property
    def local(self) -> bool:
        return self.kind.startswith("local")


class Listings:
    """Lists what a Registry and the session's DuckDB hold.

    Args:
        registry: the providers.
        local_tables: the session's own DuckDB tables and views.
        report: called with the error of a provider that cannot be loaded.
    """

    def __init__(
        self, registry: Registry, local_tables: LocalTables, report: Callable[[str], None]
    ) -> None:
        self.registry = registry
        self.local_tables = local_tables
        self.report = report

    def providers(self) -> list[Provider]:
        """The providers that load (the others are reported)."""
        found = []
        for name in self.registry.names():
            try:
                found.append(self.registry.get(name))
            except Error as exc:
                self.report(str(exc))
        return found

    def provider_lines(self) -> list[str]:
        """``.providers``: each provider's name and title, in aligned columns."""
        rows: list[tuple[str, str]] = []
        for name in self.registry.names():
            try:
                title = self.registry.get(name).title
            except Error as exc:
                title = f"(cannot be loaded: {exc})"
            rows.append((name, title))
        return aligned(rows)

    def tables(self, pattern: str = "", exact: bool = False) -> list[Table]:
        """Provider tables, then local ones, each group sorted; only those matching
        ``pattern`` when one is given (see ``matches``)."""
        found = [
            Table(r.qualified_name, "provider table", r.description)
            for provider in self.providers()
            for r in provider.resources()
        ]
        found.sort(key=lambda t: t.name)
        found.extend(Table(t.name, f"local {t.kind}") for t in self.local_tables())
        return [t for t in found if not pattern or matches(t.name, pattern, exact)]

    def schemas(self, pattern: str = "") -> Result:
        """``\\dn``: each ``provider.service`` (psql's schemas), with what it holds."""
        rows = []
        for provider in self.providers():
            for service in provider.services.values():
                name = f"{provider.name}.{service.name}"
                if pattern and not matches(name, pattern, exact=True):
                    continue
                count = len(service.resources)
                rows.append((name, provider.title, count, _one_line(service.description)))
        return Result(
            columns=["schema", "provider", "tables", "description"],
            types=["VARCHAR", "VARCHAR", "BIGINT", "VARCHAR"],
            rows=rows,
        )

    def table_result(self, pattern: str = "") -> Result:
        """``\\dt``: the tables as a result set (name, type, description)."""
        return Result(
            columns=["name", "type", "description"],
            types=["VARCHAR", "VARCHAR", "VARCHAR"],
            rows=[
                (t.name, t.kind, _one_line(t.description)) for t in self.tables(pattern, exact=True)
            ],
        )

    def schema_text(self, pattern: str = "") -> str:
        """``.schema``: a ``CREATE`` statement per table: the columns and params of each
        provider table (as DESCRIBE lists them), and DuckDB's own SQL for local ones."""
        statements = []
        for provider in self.providers():
            for resource in provider.resources():
                if pattern and not matches(resource.qualified_name, pattern, exact=True):
                    continue
                columns = [*resource.columns, *param_columns(resource)]
                create = exp.Create(
                    kind="TABLE",
                    this=exp.Schema(
                        this=exp.to_table(resource.qualified_name),
                        expressions=[
                            exp.ColumnDef(this=exp.to_identifier(c.name), kind=_type(c.duckdb_type))
                            for c in columns
                        ],
                    ),
                )
                statements.append(create.sql(dialect="duckdb", pretty=True) + ";")
        statements.sort()
        statements.extend(
            t.sql
            for t in self.local_tables()
            if not pattern or matches(t.name, pattern, exact=True)
        )
        return "".join(s + "\n" for s in statements)


def _type(name: str) -> exp.DataType:
    """A DuckDB type written as DESCRIBE shows it (sqlglot would write VARCHAR as TEXT)."""
    return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=name)


def aligned(rows: Sequence[tuple[str, str]]) -> list[str]:
    """Two columns, the first padded to its widest value."""
    width = max((len(a) for a, _ in rows), default=0)
    return [f"{a.ljust(width)}  {b}".rstrip() for a, b in rows]


def matches(name: str, pattern: str, exact: bool = False) -> bool:
    """Whether a table name matches ``pattern``.

    A glob (``*``, ``?``) or LIKE pattern (``%``, ``_``) may match the whole name or its
    ``service.resource`` or ``resource`` tail (``genai*``). Plain text matches anywhere in
    the name, or, when ``exact``, the whole name or a tail (as psql's patterns do). Case is
    ignored.
    """
    pattern = _unquote(pattern).lower()
    if any(c in pattern for c in "*?["):
        glob = pattern
    elif "%" in pattern:
        glob = pattern.replace("%", "*").replace("_", "?")
    elif exact:
        glob = pattern.replace("[", "[[]")  # no wildcard: only the name itself
    else:
        return pattern in name.lower()
    parts = name.lower().split(".")
    return any(fnmatch.fnmatchcase(".".join(parts[i:]), glob) for i in range(len(parts)))


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _one_line(description: str) -> str | None:
    """A description as a listing shows it: on one line; none is NULL (not ``''``)."""
    return " ".join(description.split()) or None
