"""The whole draft: server and auth from the spec, and each resource's columns, key and the
params that name its rows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlprovider.providers.openapi.columns import columns_for
from sqlprovider.providers.openapi.draft import (
    DraftColumn,
    DraftMethod,
    DraftProvider,
    DraftResource,
)
from sqlprovider.providers.openapi.grouping import group
from sqlprovider.providers.openapi.naming import first_sentence, singular, snake
from sqlprovider.providers.openapi.operations import operations
from sqlprovider.providers.openapi.spec import Spec, raw_properties

_ID_SUFFIXES = ("uuid", "id", "name", "key", "slug")


def build_draft(spec: Spec, name: str) -> DraftProvider:
    """The provider ``name`` the spec describes, with notes where it guessed or gave up."""
    info = spec.document.get("info") or {}
    ops, notes = operations(spec)
    services, service_notes = group(spec, ops)
    server, server_notes = server_of(spec.document, name)
    auth, auth_notes = auth_of(spec.document, name)
    draft = DraftProvider(
        name=name,
        title=str(info.get("title") or name),
        description=first_sentence(info.get("description")),
        server=server,
        auth=auth,
        services=services,
        notes=[*service_notes, *notes],
        server_notes=server_notes,
        auth_notes=auth_notes,
    )
    for service in services.values():
        for resource in service.resources.values():
            finish_resource(spec, resource)
            _header_settings(resource, name)
    draft.notes.extend(f"TODO: {problem}" for problem in spec.problems)
    return draft


# -- server and auth -------------------------------------------------------------------------


def server_of(document: Mapping[str, Any], name: str) -> tuple[dict[str, Any], list[str]]:
    """The first server of the spec, its variables named for the provider format."""
    servers = [s for s in document.get("servers") or () if isinstance(s, dict) and s.get("url")]
    notes = [f"other server in the spec: {s['url']}" for s in servers[1:]]
    url = str(servers[0]["url"]) if servers else ""
    variables: dict[str, Any] = {}
    for var_name, spec in ((servers[0].get("variables") or {}) if servers else {}).items():
        sql_name = snake(var_name, "variable")
        url = url.replace("{" + var_name + "}", "{" + sql_name + "}")
        entry: dict[str, Any] = {"env": [f"{name.upper()}_{sql_name.upper()}"]}
        if spec.get("default") is not None:
            entry["default"] = str(spec["default"])
        text = first_sentence(spec.get("description"))
        if spec.get("enum"):
            text = f"{text} ({', '.join(str(v) for v in spec['enum'])})".strip()
        if text:
            entry["description"] = text
        variables[sql_name] = entry
    if not re.match(r"^https?://", url):
        host = f"{name.upper()}_HOST"
        notes.append(
            f"TODO: the spec gives no absolute server URL ({url or 'none'}); set {host} or "
            f"SQLPROVIDER_{name.upper()}_URL"
        )
        url = "https://{host}" + (url if url.startswith("/") else "")
        variables = {"host": {"env": [host], "description": "The API's host name."}}
    server: dict[str, Any] = {"url": url.rstrip("/") or url}
    if variables:
        server["variables"] = variables
    return server, notes


def _schemes_in_use(document: Mapping[str, Any]) -> list[str]:
    """Security scheme names, those most operations use first."""
    counts: dict[str, int] = {}
    default = document.get("security") or []
    for item in (document.get("paths") or {}).values():
        for verb, op in (item or {}).items():
            if not isinstance(op, dict) or verb == "parameters":
                continue
            for requirement in op.get("security", default) or ():
                for scheme in requirement or {}:
                    counts[scheme] = counts.get(scheme, 0) + 1
    return sorted(counts, key=lambda s: -counts[s])


def auth_of(document: Mapping[str, Any], name: str) -> tuple[dict[str, Any], list[str]]:
    """The auth block from ``components.securitySchemes``."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    used = [s for s in _schemes_in_use(document) if s in schemes] or list(schemes)
    if not used:
        return {"type": "none"}, []
    chosen, scheme = used[0], schemes[used[0]]
    notes = [f"other security scheme in the spec: {s}" for s in used[1:]]
    token = [f"{name.upper()}_TOKEN"]
    kind = str(scheme.get("type", "")).lower()
    http_scheme = str(scheme.get("scheme", "")).lower()
    if kind == "http" and http_scheme == "bearer":
        return {"type": "bearer", "env": token}, notes
    if kind == "http" and http_scheme == "basic":
        user = [f"{name.upper()}_USERNAME"]
        return {"type": "basic", "env": [f"{name.upper()}_PASSWORD"], "username_env": user}, notes
    if kind == "apikey" and scheme.get("in") == "header":
        return {"type": "api_key", "env": token, "header": str(scheme.get("name"))}, notes
    if kind in ("oauth2", "openidconnect"):
        notes.insert(0, f"guessed: {chosen} ({kind}) tokens are sent as bearer tokens")
        return {"type": "bearer", "env": token}, notes
    where = f"an API key in the {scheme.get('in')}" if kind == "apikey" else f"{kind} {http_scheme}"
    notes.insert(
        0, f"TODO: the security scheme {chosen} ({where.strip()}) cannot be expressed: no auth"
    )
    return {"type": "none"}, notes


# -- resources -------------------------------------------------------------------------------


def finish_resource(spec: Spec, resource: DraftResource) -> None:
    """Columns from the records, the params that name a row tied to its id column, the key,
    and what each write's answer identifies."""
    reads = [m for m in resource.methods if m.sql_verb == "select"]
    for method in [*reads, *(m for m in resource.methods if m not in reads)]:
        if method.record_schema is None:
            continue
        columns, notes = columns_for(spec, method.record_schema)
        if columns and not resource.columns:
            resource.notes.extend(notes)
            resource.description = first_sentence(method.record_schema.get("description"))
        for column in columns if not resource.columns or method in reads else ():
            if resource.column(column.name) is None:
                resource.columns.append(column)
        if resource.columns and method not in reads:
            break
    if not resource.columns:
        _columns_from_params(resource)
    if (first := id_column(resource, None)) is not None:  # the id first, as people write it
        resource.columns.sort(key=lambda c: c.name != first)
    for method in resource.methods:
        _name_the_row(resource, method)
        if method.sql_verb == "select":
            _filtering(resource, method)
    if any(m.window for m in resource.methods) and (ident := id_column(resource, None)):
        resource.key = [ident]
    if not resource.description and reads:
        resource.description = reads[0].description


def _columns_from_params(resource: DraftResource) -> None:
    """A resource whose answers have no known fields: its path params, so writes can name
    their rows; else one JSON column."""
    seen: set[str] = set()
    for method in resource.methods:
        for param in method.params:
            if param.location == "path" and param.name not in seen:
                seen.add(param.name)
                resource.columns.append(DraftColumn(param.name, _column_type(param.type)))
    ops = ", ".join(m.operation for m in resource.methods)
    if resource.columns:
        resource.notes.append(
            f"TODO: no answer of {ops} has a known schema: the columns are the path params"
        )
        return
    resource.columns.append(DraftColumn("result", "json"))
    resource.notes.append(
        f"TODO: no answer of {ops} has a known schema: result is a placeholder column"
    )


def _column_type(kind: str) -> str:
    return {"integer": "integer", "number": "number", "boolean": "boolean"}.get(kind, "string")


def id_column(resource: DraftResource, param: str | None) -> str | None:
    """The column that identifies a row: the param's own, one its name ends with
    (``data_source_uuid`` → ``uuid``), else ``id`` or ``uuid``."""
    names = [c.name for c in resource.columns]
    if param in names:
        return param
    for suffix in _ID_SUFFIXES:
        if param and (param == suffix or param.endswith("_" + suffix)) and suffix in names:
            return suffix
    if param is not None:
        return None
    own = singular(resource.name.split("_")[-1]) if resource.name else ""
    candidates = ("id", "uuid", f"{own}_id", f"{own}_uuid", f"{singular(resource.name)}_id")
    return next((n for n in candidates if n in names), None)


def _item_param(resource: DraftResource, method: DraftMethod) -> str | None:
    """The path variable right after the resource's collection path (the row's id)."""
    stem = resource.stem.rstrip("/")
    if not method.path.startswith(stem + "/{"):
        return None
    variable = method.path[len(stem) + 2 :].split("}", 1)[0]
    param = next(
        (p for p in method.params if p.location == "path" and p.wire_name == variable), None
    )
    return param.name if param else None


def _name_the_row(resource: DraftResource, method: DraftMethod) -> None:
    """Tie the item's path param to the id column: a read's param takes the column's name
    (``WHERE id = ...`` binds ``{job-id}``), a write's gets ``column:``."""
    name = _item_param(resource, method)
    if name is not None and resource.column(name) is None:
        column = id_column(resource, name)
        param = method.param(name)
        assert param is not None
        if column is not None and method.sql_verb == "select" and method.param(column) is None:
            param.name = column
            method.notes.append(f"guessed: {{{param.wire_name}}} is the {column} column")
        elif column is not None and method.sql_verb != "select":
            param.column = column
    if method.sql_verb != "select" and method.record_schema is not None:
        fields = raw_properties(method.record_schema)
        ident = id_column(resource, None)
        if ident is not None and ident in fields:
            method.id_field = ident


def _filtering(resource: DraftResource, method: DraftMethod) -> None:
    """A read's param named like a column filters on it, maybe loosely (DuckDB applies the
    condition again, so a looser API filter never changes an answer); any other param is an
    input whose value the rows echo."""
    for param in method.params:
        if param.location == "path" or param.filtering is not None:
            continue
        param.filtering = "loose" if resource.column(param.name) is not None else "none"


def _header_settings(resource: DraftResource, name: str) -> None:
    """A required header param without a default is a setting (a tenant, an account):
    read from an environment variable, and never a filter."""
    for method in resource.methods:
        for param in method.params:
            if param.location != "header" or not param.required or param.default is not None:
                continue
            setting = param.name.upper()
            prefix = "" if setting.startswith(name.upper() + "_") else f"{name.upper()}_"
            param.env = [f"{prefix}{setting}"]
            param.filtering = "none"
            param.notes.append(f"guessed: a setting, read from {param.env[0]} when not given")
        for param in method.params:
            if param.location == "header" and param.default is not None and param.enum:
                param.filtering = "none"
