"""Rewrite provider table references to the DuckDB tables their rows were loaded into."""

from __future__ import annotations

from sqlglot import exp


def rewrite_tables(statement: exp.Expression, loaded: dict[int, exp.Table]) -> exp.Expression:
    """A copy of ``statement`` with each provider table node replaced by its loaded table.

    Args:
        statement: the parsed statement; it is not modified.
        loaded: ``id(table node)`` → the DuckDB table to read instead. The alias is kept,
            and a table written without an alias gets its resource name as alias, so column
            qualifiers like ``indexing_jobs.uuid`` still resolve.
    """
    originals = {id(node): node for node in statement.find_all(exp.Table)}
    copy = statement.copy()
    copies = list(copy.find_all(exp.Table))
    # copy() preserves traversal order, so pair the nodes positionally.
    for original_node, copied_node in zip(originals.values(), copies, strict=True):
        target = loaded.get(id(original_node))
        if target is None:
            continue
        alias = copied_node.alias or copied_node.name
        replacement = target.copy()
        replacement.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        _strip_full_qualifiers(copy, copied_node, alias)
        copied_node.replace(replacement)
    return copy


def _strip_full_qualifiers(root: exp.Expression, table: exp.Table, alias: str) -> None:
    """``provider.service.resource.col`` (or ``service.resource.col``) → ``alias.col`` for
    columns written with the table's full name (in any case, as DuckDB matches names)."""
    if not table.catalog:
        return
    full = [table.catalog.lower(), table.db.lower(), table.name.lower()]
    for column in root.find_all(exp.Column):
        if column.args.get("db") is None:
            continue
        written = [column.text("catalog"), column.text("db"), column.table]
        written = [w.lower() for w in written if w]
        if written == full[-len(written) :]:
            column.set("catalog", None)
            column.set("db", None)
            column.set("table", exp.to_identifier(alias, quoted=True))
