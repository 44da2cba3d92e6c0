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
    """``provider.service.resource.col`` → ``alias.col`` for columns written fully qualified."""
    if not table.catalog:
        return
    for column in root.find_all(exp.Column):
        if (
            column.args.get("catalog") is not None
            and column.text("catalog") == table.catalog
            and column.text("db") == table.db
            and column.table == table.name
        ):
            column.set("catalog", None)
            column.set("db", None)
            column.set("table", exp.to_identifier(alias, quoted=True))
