"""Column references to provider tables: checked before any request, and the columns each
table must load.

DuckDB matches names without regard to case, so every comparison here folds case. A name
that no table of the statement has is reported at once, with the nearest columns, instead
of after every page was fetched.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from sqlprovider.errors import UnknownNameError
from sqlprovider.model import Resource, param_columns
from sqlprovider.planner.names import BODY_PREFIX, body_alias
from sqlprovider.providers.registry import suggest
from sqlprovider.sql import TableOccurrence

Tables = Sequence[tuple[TableOccurrence, Resource]]


def known_columns(resource: Resource) -> list[str]:
    """Every column a resource's table has: its fields, then its params."""
    return [c.name for c in resource.columns] + [c.name for c in param_columns(resource)]


def check_columns(statement: exp.Expression, tables: Tables) -> None:
    """Raise UnknownNameError for a column no provider table of the statement has.

    Qualified names (``j.phasee``) are checked whenever the qualifier is a provider table.
    Unqualified names are checked when every source of the statement is a provider table
    or a CTE or subquery over them (otherwise a local table may hold the name); select-list
    aliases, lambda variables and whole-row references (``SELECT j``) are names too.
    """
    if not tables:
        return
    for column in statement.find_all(exp.Column):
        if isinstance(column.this, exp.Star) or not column.table:
            continue
        owner = _owner(column, tables)
        if owner is not None:
            _check(column.name, f"{column.table}.{column.name}", [owner])
    if not _only_provider_sources(statement, tables):
        return
    names = _other_names(statement, tables)
    for column in statement.find_all(exp.Column):
        if column.table or isinstance(column.this, exp.Star):
            continue
        if column.name.lower() not in names:
            nearby = [(o, r) for o, r in tables if _sees(column, o)] or list(tables)
            _check(column.name, column.name, nearby, quoted=bool(column.this.args.get("quoted")))


def resolve_body_aliases(statement: exp.Expression, tables: Tables) -> None:
    """Rewrite ``data__x`` written for the body field ``x`` of a table's SELECT methods to
    the field's own name, in place, so that WHERE binds it as it binds ``x`` (see ``names``).

    A qualified name is rewritten when its table resolves it; an unqualified one when every
    source is a provider table (a local table may have a column of that name) and exactly
    one table it can see resolves it. A name that any table, alias or CTE of the statement
    has is left alone. Written as an output (``SELECT data__x``), the column keeps its name.
    """
    if not tables:
        return
    providers_only = _only_provider_sources(statement, tables)
    names = _other_names(statement, tables) if providers_only else set()
    for column in list(statement.find_all(exp.Column)):
        if isinstance(column.this, exp.Star) or not column.name.lower().startswith(BODY_PREFIX):
            continue
        if column.table:
            owner = _owner(column, tables)
            owners = [owner] if owner is not None else []
        elif providers_only and column.name.lower() not in names:
            owners = [(o, r) for o, r in tables if _sees(column, o)]
        else:
            continue
        found = [a for _, r in owners if (a := body_alias(r, column.name)) is not None]
        if len(found) != 1:
            continue  # no table's, or two tables' (then the name stays, and is ambiguous)
        written = column.name
        column.set("this", exp.to_identifier(found[0]))
        if isinstance(column.parent, exp.Select) and column.arg_key == "expressions":
            column.replace(exp.alias_(column.copy(), written, quoted=True))


def _check(
    name: str,
    written: str,
    owners: Sequence[tuple[TableOccurrence, Resource]],
    quoted: bool = False,
) -> None:
    every = [c for _, resource in owners for c in known_columns(resource)]
    if name.lower() in {c.lower() for c in every}:
        return
    if len(owners) == 1:
        hint = f"DESCRIBE {owners[0][1].qualified_name} lists its columns"
    else:
        hint = "DESCRIBE provider.service.resource lists a table's columns"
    if quoted:
        hint += f"; for the text {name} write '{name}' (double quotes make a name)"
    raise UnknownNameError("column", written, suggest(name, list(dict.fromkeys(every))), hint=hint)


def _owner(column: exp.Column, tables: Tables) -> tuple[TableOccurrence, Resource] | None:
    """The provider table a qualified column names, seen from where the column is."""
    if column.args.get("db") is not None:
        written = [column.text("catalog"), column.text("db"), column.table]
        written = [w.lower() for w in written if w]
        for occ, resource in tables:
            full = [occ.provider, occ.service, occ.resource][-len(written) :]
            if not occ.node.alias and [n.lower() for n in full] == written:
                return occ, resource
        return None
    select = column.parent_select
    while select is not None:
        for occ, resource in tables:
            if occ.node.parent_select is select and occ.is_named(column.table):
                return occ, resource
        select = select.parent_select if select.parent is not None else None
    return None


def _sees(column: exp.Column, occ: TableOccurrence) -> bool:
    select = column.parent_select
    while select is not None:
        if occ.node.parent_select is select:
            return True
        select = select.parent_select if select.parent is not None else None
    return False


def _only_provider_sources(statement: exp.Expression, tables: Tables) -> bool:
    providers = {id(occ.node) for occ, _ in tables}
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for table in statement.find_all(exp.Table):
        if id(table) in providers:
            continue
        if not isinstance(table.this, exp.Identifier) or table.db:
            return False  # a table function, or a table of an attached database
        if table.name.lower() not in ctes:
            return False  # a local table
    return not any(statement.find_all(exp.Values, exp.Unnest, exp.Lateral, exp.Pivot))


def _other_names(statement: exp.Expression, tables: Tables) -> set[str]:
    """Names an unqualified column may have besides a provider table's columns."""
    names = {c.lower() for _, resource in tables for c in known_columns(resource)}
    names |= {occ.alias.lower() for occ, _ in tables}
    for node in statement.find_all(exp.Alias, exp.TableAlias, exp.CTE, exp.Lambda):
        if isinstance(node, exp.Alias):
            names.add(node.alias.lower())
        elif isinstance(node, exp.TableAlias):
            names.add(node.name.lower())
            names |= {c.name.lower() for c in node.columns}
        elif isinstance(node, exp.CTE):
            names.add(node.alias_or_name.lower())
        else:
            names |= {e.name.lower() for e in node.expressions}
    return names


def referenced_columns(
    statement: exp.Expression, occurrence: TableOccurrence, resource: Resource
) -> tuple[str, ...] | None:
    """The record columns the statement may read from a table, or None for all of them.

    Deliberately generous: every identifier that names a column counts, whichever table it
    belongs to. ``*`` (other than ``count(*)``), ``COLUMNS(...)``, a NATURAL join and a
    whole-row reference (``SELECT j``, ``to_json(j)``) read every column.
    """
    for star in statement.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            return None
    if any(statement.find_all(exp.Columns)):
        return None
    if any((join.method or "").upper() == "NATURAL" for join in statement.find_all(exp.Join)):
        return None
    alias = occurrence.alias.lower()
    names = set()
    for column in statement.find_all(exp.Column):
        if not column.table and column.name.lower() == alias:
            return None
    for node in statement.find_all(exp.Identifier):
        names.add(node.name.lower())
    return tuple(c.name for c in resource.columns if c.name.lower() in names)
