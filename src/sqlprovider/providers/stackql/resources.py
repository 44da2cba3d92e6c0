"""A service document's ``components.x-stackQL-resources`` as model Resources.

The SQL name of a resource is its key under ``x-stackQL-resources``. ``sqlVerbs`` lists
are ordered: the first method whose required params are bound runs (StackQL's rule); an
empty list means no method for that verb; a resource without ``sqlVerbs`` takes verbs from
its method names (select, list, aggregatedList, get; insert, create; delete). A method no
verb lists is still reachable with ``EXEC provider.service.resource.method``.

A method the converter cannot support is kept with the reason (the file, the key path and
what is not supported): it is listed, never chosen, and naming it is that one error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlprovider.errors import ProviderError
from sqlprovider.model import Column, Location, Method, Resource, SqlVerb
from sqlprovider.providers.stackql.configs import Level, Unsupported
from sqlprovider.providers.stackql.documents import Document, unescape
from sqlprovider.providers.stackql.operations import Operation, build_method
from sqlprovider.providers.stackql.schemas import first_mapping

RESOURCES = "x-stackQL-resources"
_VERB_ORDER = ("select", "insert", "update", "replace", "delete", "exec")
# StackQL's verbs for resources without sqlVerbs, by method name (select's order matters).
_DEFAULT_VERBS = {
    "select": ("select", "list", "aggregatedList", "get"),
    "insert": ("insert", "create"),
    "delete": ("delete",),
}
_SYNONYMS = {"update": SqlVerb.UPDATE, "replace": SqlVerb.REPLACE}


@dataclass(frozen=True)
class ServiceSource:
    """A service document and what its methods inherit from above it.

    Attributes:
        doc: the parsed document.
        provider: the provider's SQL name.
        service: the service's SQL name.
        levels: the configs above resources: the document's, the provider service's,
            the provider's.
    """

    doc: Document
    provider: str
    service: str
    levels: tuple[Level, ...]

    def resource_names(self) -> list[str]:
        """The SQL names of the document's resources, in document order."""
        return [str(k) for k in first_mapping(self._resources())]

    def _resources(self) -> Any:
        components = first_mapping(self.doc.data.get("components"))
        return components.get(RESOURCES, {})

    def resource(self, name: str) -> Resource:
        """The resource ``name`` (its methods converted now).

        Raises:
            ProviderError: naming the file and the resource, for a resource the converter
                cannot read at all (a method it cannot read is kept, with why).
        """
        try:
            return self._resource(name)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ProviderError(
                str(self.doc.path),
                f"components.{RESOURCES}.{name}",
                f"could not be read ({type(exc).__name__}: {exc})",
            ) from None

    def _resource(self, name: str) -> Resource:
        where = f"components.{RESOURCES}.{name}"
        spec = first_mapping(self.doc.resolve(first_mapping(self._resources()).get(name), where))
        levels = (
            Level(first_mapping(spec.get("config")), f"{where}.config", str(self.doc.path)),
            *self.levels,
        )
        methods: list[Method] = []
        columns: list[Column] = []
        for method_name, verb in _verbs(spec, where, self.doc):
            method_where = f"{where}.methods.{method_name}"
            method_spec = first_mapping(first_mapping(spec.get("methods")).get(method_name))
            operation = Operation(
                doc=self.doc,
                provider=self.provider,
                name=method_name,
                verb=verb,
                spec=method_spec,
                where=method_where,
                levels=(
                    Level(
                        first_mapping(method_spec.get("config")),
                        f"{method_where}.config",
                        str(self.doc.path),
                    ),
                    *levels,
                ),
                servers=self.doc.data.get("servers") or (),
            )
            methods.append(self._method(operation))
            if not methods[-1].unsupported:
                columns = _union(columns, operation.columns)
        views = first_mapping(first_mapping(spec.get("config")).get("views"))
        if views and not any(m.sql_verb is SqlVerb.SELECT for m in methods):
            methods.append(_view(name, where, str(self.doc.path)))
        columns = _clear_of_params(columns, methods)
        methods = _identified(methods, columns)
        description = str(spec.get("description") or spec.get("title") or "")
        return Resource(
            provider=self.provider,
            service=self.service,
            name=name,
            columns=tuple(columns),
            methods=tuple(methods),
            description=" ".join(description.split()),
            first_match=True,
        )

    def _method(self, operation: Operation) -> Method:
        """The method, or a stand-in that says why it cannot be used."""
        try:
            return build_method(operation)
        except Unsupported as exc:
            reason = f"{self.doc.path}: {exc.where}: {exc.what} is not supported yet"
        except ProviderError as exc:
            reason = str(exc)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # A document shaped in a way the converter did not foresee: one clear error
            # when the method is named, never a crash of the whole service.
            reason = (
                f"{self.doc.path}: {operation.where}: could not be read "
                f"({type(exc).__name__}: {exc})"
            )
        return Method(
            name=operation.name,
            sql_verb=operation.verb,
            http_verb="",
            path="",
            unsupported=reason,
        )


def _view(name: str, where: str, file: str) -> Method:
    """The SELECT of a resource StackQL defines as a SQL view over other resources."""
    return Method(
        name=f"{name}_view",
        sql_verb=SqlVerb.SELECT,
        http_verb="",
        path="",
        unsupported=(
            f"{file}: {where}.config.views: a SELECT defined as a SQL view over other "
            "resources is not supported yet"
        ),
    )


def _verbs(spec: Mapping[str, Any], where: str, doc: Document) -> list[tuple[str, SqlVerb]]:
    """Each method with the SQL verb it serves, in the order methods are tried."""
    methods = [str(m) for m in first_mapping(spec.get("methods"))]
    placed: dict[str, SqlVerb] = {}
    order: list[str] = []
    declared = spec.get("sqlVerbs")
    if isinstance(declared, Mapping):
        for verb_name in _VERB_ORDER:
            for index, item in enumerate(declared.get(verb_name) or ()):
                ref = first_mapping(item).get("$ref")
                name = unescape(str(ref).rsplit("/", 1)[-1]) if isinstance(ref, str) else ""
                if name not in methods:
                    raise doc.error(
                        f"{where}.sqlVerbs.{verb_name}[{index}]", f"{ref!r} is no method here"
                    )
                if name not in placed:  # a method listed twice serves its first verb
                    placed[name] = _SYNONYMS.get(verb_name) or SqlVerb(verb_name)
                    order.append(name)
    else:
        for verb_name, names in _DEFAULT_VERBS.items():
            for name in names:
                match = next((m for m in methods if m.lower() == name.lower()), None)
                if match is not None and match not in placed:
                    placed[match] = SqlVerb(verb_name)
                    order.append(match)
    order.extend(m for m in methods if m not in placed)
    return [(name, placed.get(name, SqlVerb.EXEC)) for name in order]


_ID_SUFFIXES = ("uuid", "id", "name", "key", "slug")
_SCALARS = ("string", "integer", "number", "boolean")


def _clear_of_params(columns: list[Column], methods: list[Method]) -> list[Column]:
    """A record field that holds an object where a SELECT param of its name takes a value
    (GitHub's ``owner``: an object in the record, a login in the path) is renamed
    ``<name>_json``: ``WHERE owner = '...'`` then names the param, as in StackQL, and the
    condition DuckDB applies again holds for every row the API returned."""
    scalar = {
        p.name.lower()
        for m in methods
        if m.sql_verb is SqlVerb.SELECT and not m.unsupported
        for p in m.params
        if p.type in _SCALARS
    }
    taken = {c.name.lower() for c in columns}
    renamed = []
    for column in columns:
        if column.name.lower() in scalar and column.type == "json":
            name = f"{column.name}_json"
            while name.lower() in taken:
                name += "_"
            taken.add(name.lower())
            column = dataclasses.replace(column, name=name)
        renamed.append(column)
    return renamed


def _identified(methods: list[Method], columns: Sequence[Column]) -> list[Method]:
    """Writes find their objects by reading them first, so the id a write's URL takes must
    be a column: the last path param of a write that names no column (``data_source_uuid``)
    is read from the column its name ends with (``uuid``), when the table has one."""
    names = {c.name.lower() for c in columns}
    names.update(p.name.lower() for m in methods if m.sql_verb is SqlVerb.SELECT for p in m.params)
    changed = []
    for method in methods:
        path_params = [p for p in method.params if p.location is Location.PATH]
        if method.sql_verb in (SqlVerb.SELECT, SqlVerb.INSERT, SqlVerb.EXEC) or not path_params:
            changed.append(method)
            continue
        last = path_params[-1]
        suffix = last.name.lower().rsplit("_", 1)[-1]
        column = next((c.name for c in columns if c.name.lower() == suffix), None)
        if last.name.lower() in names or suffix not in _ID_SUFFIXES or column is None:
            changed.append(method)
            continue
        params = tuple(
            dataclasses.replace(p, column=column) if p is last else p for p in method.params
        )
        changed.append(dataclasses.replace(method, params=params))
    return changed


def _union(columns: Sequence[Column], more: Sequence[Column]) -> list[Column]:
    """The columns of several methods as one table's: every name once (any case); a name
    whose methods give it different types is JSON, or text when none is."""
    merged = list(columns)
    index = {c.name.lower(): i for i, c in enumerate(merged)}
    for column in more:
        at = index.get(column.name.lower())
        if at is None:
            index[column.name.lower()] = len(merged)
            merged.append(column)
            continue
        known = merged[at]
        if known.type != column.type or known.path != column.path:
            kind = "json" if "json" in (known.type, column.type) else "string"
            kind = known.type if known.type == column.type else kind
            merged[at] = Column(
                name=known.name,
                type=kind,
                path=known.path,
                description=known.description or column.description,
            )
    return merged
