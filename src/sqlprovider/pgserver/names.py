"""How provider tables are named for Postgres clients.

A Postgres name has two parts a client browses (schema, table); a provider table has three
(``provider.service.resource``). The provider is the schema and ``service_resource`` the
table: ``digitalocean.genai.indexing_jobs`` is listed as ``digitalocean.genai_indexing_jobs``.
Both names work in queries: a mapped name is rewritten to the three-part one before the
engine sees the statement.
"""

from __future__ import annotations

from sqlglot import exp

from sqlprovider.providers import Registry


def mapped_table(service: str, resource: str) -> str:
    """The table name of ``service.resource`` in its provider's schema."""
    return f"{service}_{resource}"


class Names:
    """Finds the provider table behind a mapped ``schema.table`` name.

    Args:
        registry: the providers (a registry provider's services are read only when one of
            its mapped names is used).
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def resolve(self, schema: str, table: str) -> tuple[str, str, str] | None:
        """``(provider, service, resource)`` for a mapped name, or None when the schema is
        no provider or the table none of its resources."""
        provider_name = next(
            (n for n in self.registry.names() if n.lower() == schema.lower()), None
        )
        if provider_name is None:
            return None
        provider = self.registry.get(provider_name)
        wanted = table.lower()
        found: list[tuple[str, str, str]] = []
        for service_name, service in provider.services.items():
            prefix = service_name.lower() + "_"
            if not wanted.startswith(prefix):
                continue
            rest = wanted[len(prefix) :]
            found.extend(
                (provider_name, service_name, name)
                for name in service.resources
                if name.lower() == rest
            )
        return found[0] if len(found) == 1 else None

    def rewrite(self, tree: exp.Expr) -> bool:
        """Replace every mapped table name in ``tree`` by its three-part name, in place
        (keeping the mapped name as the alias, so ``schema.table.column`` still resolves).
        Returns whether anything was replaced."""
        renamed: dict[tuple[str, str], str] = {}
        for table in list(tree.find_all(exp.Table)):
            if table.args.get("catalog") is not None or not table.db or not table.name:
                continue
            target = self.resolve(table.db, table.name)
            if target is None:
                continue
            mapped = (table.db.lower(), table.name.lower())
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            renamed[mapped] = table.alias
            table.set("catalog", exp.to_identifier(target[0]))
            table.set("db", exp.to_identifier(target[1]))
            table.set("this", exp.to_identifier(target[2]))
        if not renamed:
            return False
        for column in tree.find_all(exp.Column):
            key = ((column.text("db") or "").lower(), (column.table or "").lower())
            if key in renamed:  # schema.table.column → alias.column
                column.set("db", None)
                column.set("catalog", None)
                column.set("table", exp.to_identifier(renamed[key]))
        return True
