"""One method of an ``x-stackQL-resources`` resource as a model Method: its OpenAPI
operation's params, request body, response records and columns, server and pagination.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlprovider.model import (
    Column,
    Filtering,
    Location,
    Method,
    Pagination,
    Param,
    Server,
    SqlVerb,
)
from sqlprovider.providers.stackql import configs
from sqlprovider.providers.stackql.configs import Level, Unsupported
from sqlprovider.providers.stackql.documents import Document, unescape
from sqlprovider.providers.stackql.schemas import (
    Shape,
    columns_of,
    descend,
    first_mapping,
    param_type,
    record_shape,
    shape_of,
)

HTTP_VERBS = ("get", "put", "post", "delete", "patch", "head", "options")
BODY_PREFIX = "data__"  # StackQL's name for body fields (requestBodyTranslate default)
_LOCATIONS = {"path": Location.PATH, "query": Location.QUERY, "header": Location.HEADER}
ENV_VAR = "x-stackQL-envVar"


@dataclass
class Operation:
    """What a method reads from the document, and what it makes of it."""

    doc: Document
    provider: str
    name: str
    verb: SqlVerb
    spec: Mapping[str, Any]  # the method's own mapping under ``methods``
    where: str  # its key path
    levels: Sequence[Level]
    servers: Sequence[Any]  # the document's servers
    params: list[Param] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)


def build_method(op: Operation) -> Method:
    """The Method of ``op`` (its columns, for a SELECT method, land in ``op.columns``).

    Raises:
        Unsupported: for what the document declares and sqlprovider cannot do yet.
        ProviderError: for a document that is broken (a $ref to nothing).
    """
    ref = first_mapping(op.spec.get("operation")).get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/paths/"):
        raise Unsupported(f"{op.where}.operation", "an operation that is not a '#/paths/...' $ref")
    path_token, _, verb_token = ref[len("#/paths/") :].rpartition("/")
    path = unescape(path_token)
    item = op.doc.resolve(op.doc.pointer("#/paths/" + path_token, f"{op.where}.operation"))
    http_verb = next((k for k in first_mapping(item) if k.lower() == verb_token.lower()), None)
    if http_verb is None or http_verb.lower() not in HTTP_VERBS:
        raise op.doc.error(f"{op.where}.operation.$ref", f"{ref!r} points to no operation")
    operation = first_mapping(item[http_verb])
    at = f"paths.{path}.{http_verb}"
    _params(op, [*(item.get("parameters") or ()), *(operation.get("parameters") or ())], at)
    _path_placeholders(op, path)
    server = _server(op, operation, item, path, at)
    body, default_body = _body(op, operation, at)
    records = _response(op, operation, at)
    paging = _pagination(op) if op.verb is SqlVerb.SELECT else Pagination()
    _quiet_paging_params(op, paging)
    _loosen_filters(op)
    description = str(operation.get("description") or operation.get("summary") or "")
    return Method(
        name=op.name,
        sql_verb=op.verb,
        http_verb=http_verb.upper(),
        path=path,
        params=tuple(op.params),
        records=records,
        pagination=paging,
        # A read of an object that is not there is no rows, as StackQL has it.
        empty_on=(404,) if op.verb is SqlVerb.SELECT else (),
        destructive=http_verb.lower() == "delete",
        description=" ".join(description.split())[:500],
        body=body,
        default_body=default_body,
        server=server,
        headers=tuple(op.headers),
    )


def _params(op: Operation, declared: list[Any], at: str) -> None:
    """The operation's params (path-level first; the operation's own replace them)."""
    by_key: dict[tuple[str, str], Any] = {}
    for index, raw in enumerate(declared):
        spec = first_mapping(op.doc.resolve(raw, f"{at}.parameters[{index}]"))
        if "name" in spec and "in" in spec:
            by_key[(str(spec["name"]), str(spec["in"]))] = spec
    for (name, place), spec in by_key.items():
        location = _LOCATIONS.get(place)
        required = place == "path" or bool(spec.get("required") or spec.get("x-alwaysRequired"))
        if location is None:
            if required:
                raise Unsupported(f"{at}.parameters.{name}", f"a required {place} param")
            continue  # an optional cookie: never sent
        shape = shape_of(op.doc, spec.get("schema") or {}, f"{at}.parameters.{name}")
        default = first_mapping(spec.get("schema")).get("default", spec.get("default"))
        _add(
            op,
            Param(
                name=name,
                location=location,
                wire_name=name,
                type=param_type(shape),
                required=required,
                default=_scalar(default),
                enum=tuple(shape.enum) if shape.enum else None,
                description=" ".join(str(spec.get("description") or "").split()),
            ),
        )


def _add(op: Operation, param: Param) -> None:
    """Add ``param``, renamed when another param of the method has its name."""
    taken = {p.name.lower() for p in op.params}
    name = param.name
    if name.lower() in taken:
        name = f"{param.name}_{param.location.value}"
    number = 2
    while name.lower() in taken:
        name = f"{param.name}_{param.location.value}_{number}"
        number += 1
    if name != param.name:
        param = dataclasses.replace(param, name=name)
    op.params.append(param)


def _path_placeholders(op: Operation, path: str) -> None:
    """A ``{name}`` of the path without a declared param gets a required text one; a path
    param the path does not hold is dropped."""
    used = set(re.findall(r"{([^{}]+)}", path))
    op.params[:] = [p for p in op.params if p.location is not Location.PATH or p.wire_name in used]
    declared = {p.wire_name for p in op.params if p.location is Location.PATH}
    for name in sorted(used - declared):
        _add(op, Param(name=name, location=Location.PATH, wire_name=name, required=True))


def _server(
    op: Operation, operation: Mapping[str, Any], item: Mapping[str, Any], path: str, at: str
) -> Server:
    """The first server of the operation, else of its path, the method, the document; its
    variables become params (a WHERE value, else ``x-stackQL-envVar``, else the default)."""
    for servers, where in (
        (operation.get("servers"), f"{at}.servers"),
        (item.get("servers"), f"paths.{path}.servers"),
        (op.spec.get("servers"), f"{op.where}.servers"),
        (op.servers, "servers"),
    ):
        if isinstance(servers, list) and servers:
            return _first_server(op, servers[0], f"{where}[0]")
    raise Unsupported(at, "an operation with no server (no 'servers' in the document)")


def _first_server(op: Operation, server: Any, where: str) -> Server:
    server = first_mapping(server)
    url = str(server.get("url") or "")
    for name, spec in first_mapping(server.get("variables")).items():
        spec = first_mapping(spec)
        if "{" + str(name) + "}" not in url:
            continue
        default = spec.get("default")
        env = spec.get(ENV_VAR)
        enum = spec.get("enum")
        _add(
            op,
            Param(
                name=str(name),
                location=Location.SERVER,
                wire_name=str(name),
                required=default in (None, ""),
                default=None if default in (None, "") else str(default),
                enum=tuple(str(v) for v in enum) if isinstance(enum, list) and enum else None,
                env=(str(env),) if env else (),
                filtering=Filtering.NONE,
                description=" ".join(
                    str(spec.get("description") or f"server variable of {url}").split()
                ),
            ),
        )
    if not url:
        raise Unsupported(where, "a server without a url")
    return Server(url=url.rstrip("/"))


def _json_media(content: Mapping[str, Any], wanted: Any, where: str) -> tuple[str, Any] | None:
    """The media type to use (``wanted``, else the first JSON one) and its schema; None
    when there is no content."""
    if not content:
        return None
    if wanted:
        if wanted not in content:
            raise Unsupported(where, f"the media type {wanted!r}, which the operation lacks")
        media = str(wanted)
    else:
        media = next((m for m in content if "json" in m.lower()), next(iter(content)))
    if "json" not in media.lower() and media != "*/*":
        raise Unsupported(where, f"the media type {media!r} (sqlprovider reads JSON)")
    return media, first_mapping(content[media]).get("schema")


def _body(
    op: Operation, operation: Mapping[str, Any], at: str
) -> tuple[tuple[tuple[str, Any], ...], tuple[tuple[str, Any], ...]]:
    """The body params (``data__<field>`` by default; ``naive``: the field's own name;
    ``naive_<Parent>``: the fields of ``Parent``), and the fixed and default bodies."""
    request = first_mapping(op.spec.get("request"))
    base = _template(request.get("base"), f"{op.where}.request.base")
    default = _template(request.get("default"), f"{op.where}.request.default")
    if "requestBody" not in operation:
        return base, default
    where = f"{at}.requestBody"
    body = first_mapping(op.doc.resolve(operation["requestBody"], where))
    chosen = _json_media(first_mapping(body.get("content")), request.get("mediaType"), where)
    if chosen is None:
        return base, default
    media, schema = chosen
    if media.lower() != "application/json":
        op.headers.append(("Content-Type", media))
    shape = shape_of(op.doc, schema or {}, f"{where}.content.{media}.schema")
    algorithm, parent = configs.body_translation(op.levels)
    nest: tuple[str, ...] = ()
    if parent:
        if parent not in shape.properties:
            raise Unsupported(
                f"{op.where}.config.requestBodyTranslate", f"no body field {parent!r}"
            )
        shape = shape_of(op.doc, shape.properties[parent], where)
        nest = (parent,)
    required = {*shape.required, *(str(r) for r in request.get("required") or ())}
    for key, raw in shape.properties.items():
        field_shape = shape_of(op.doc, raw, f"{where}.properties.{key}", 1)
        own = algorithm == "naive" and key.lower() not in {p.name.lower() for p in op.params}
        _add(
            op,
            Param(
                name=key if own else BODY_PREFIX + key,
                location=Location.BODY,
                wire_name=key,
                type=param_type(field_shape),
                required=key in required,
                enum=tuple(field_shape.enum) if field_shape.enum else None,
                description=" ".join(field_shape.description.split())[:300],
                nest=nest,
            ),
        )
    return base, default


def _template(value: Any, where: str) -> tuple[tuple[str, Any], ...]:
    """``request.base`` / ``request.default``: a JSON object (text or mapping)."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise Unsupported(where, "a body template that is not JSON") from None
    if not isinstance(value, Mapping):
        raise Unsupported(where, "a body template that is not a JSON object")
    return tuple(value.items())


def _response(op: Operation, operation: Mapping[str, Any], at: str) -> tuple[str, ...]:
    """The records path (``objectKey``; else ``items`` when the schema has it, as StackQL
    reads it; else the whole body) and, for a SELECT method, the columns."""
    response = first_mapping(op.spec.get("response"))
    if response.get("transform"):
        raise Unsupported(f"{op.where}.response.transform", "a response transform")
    # YAML reads an unquoted 200 as a number: status codes are compared as text.
    responses = {str(k): v for k, v in first_mapping(operation.get("responses")).items()}
    status = str(response.get("openAPIDocKey") or "")
    if not status:
        status = next((s for s in responses if s.startswith("2")), "default")
    schema: Any = None
    media = "application/json"
    if status in responses:
        found = op.doc.resolve(responses[status], f"{at}.responses.{status}")
        wanted = response.get("overrideMediaType") or response.get("mediaType")
        chosen = _json_media(first_mapping(first_mapping(found).get("content")), wanted, at)
        if chosen is not None:
            media, schema = chosen
    elif op.verb is SqlVerb.SELECT:
        raise Unsupported(f"{op.where}.response.openAPIDocKey", f"no response {status!r}")
    if isinstance(response.get("schema_override"), Mapping):
        schema = response["schema_override"]
    if media.lower() not in ("application/json", "*/*"):
        op.headers.append(("Accept", media))
    shape = shape_of(op.doc, schema or {}, f"{at}.responses.{status}")
    key = response.get("objectKey")
    if key:
        records = configs.json_path(str(key), f"{op.where}.response.objectKey")
    elif "items" in shape.properties:
        records = ("items",)
    else:
        records = ()
    # Keys after the last [*] lead to one object per element (edges[*].node): the elements
    # are the records, and their columns are read below those keys.
    inside: tuple[str, ...] = ()
    if "*" in records and records[-1] != "*":
        last = len(records) - 1 - records[::-1].index("*")
        found = descend(op.doc, shape, list(records), f"{op.where}.response")
        if found is None or ("array" not in found.types and found.items is None):
            records, inside = records[:last], records[last + 1 :]
    if op.verb is SqlVerb.SELECT:
        op.columns = _columns(op, shape, records, inside, key)
    return records


def _columns(
    op: Operation, shape: Shape, records: tuple[str, ...], inside: tuple[str, ...], key: Any
) -> list[Column]:
    where = f"{op.where}.response"
    found = descend(op.doc, shape, list(records), where)
    if found is not None and inside:
        found = descend(op.doc, record_shape(op.doc, found, where), list(inside), where)
    if found is None:
        raise Unsupported(f"{where}.objectKey", f"{key!r}, which the response schema lacks")
    record = record_shape(op.doc, found, where)
    if not record.properties:
        if record.types and set(record.types) <= {"string", "integer", "number", "boolean"}:
            raise Unsupported(where, "records that are not objects (a list of values)")
        if records or not shape.types:
            raise Unsupported(where, "records whose fields the schema does not declare")
        raise Unsupported(where, "a response whose fields the schema does not declare")
    columns = columns_of(op.doc, record, where)
    if inside:
        columns = [dataclasses.replace(c, path=(*inside, *c.path)) for c in columns]
    return columns


def _pagination(op: Operation) -> Pagination:
    paging = configs.pagination(op.levels, op.provider)
    size_param, largest = configs.page_size(op.levels)
    if size_param is None:
        return paging
    return dataclasses.replace(paging, size_param=size_param, page_size=largest)


def _quiet_paging_params(op: Operation, paging: Pagination) -> None:
    """Params pagination sets (page, token, page size) are inputs, never filters."""
    names = {paging.page_param, paging.token_param, paging.size_param, paging.offset_param}
    for index, param in enumerate(op.params):
        if param.wire_name in names and param.location is not Location.PATH:
            op.params[index] = dataclasses.replace(param, filtering=Filtering.NONE)


def _loosen_filters(op: Operation) -> None:
    """A query, header or body param that is also a record field is sent, but the API's
    filter is not known to be exact: DuckDB applies the condition again and LIMIT does
    not stop early. Path params name the object and stay exact."""
    fields = {c.name.lower() for c in op.columns}
    for index, param in enumerate(op.params):
        if (
            param.location in (Location.QUERY, Location.HEADER, Location.BODY)
            and param.filtering is Filtering.EXACT
            and param.name.lower() in fields
        ):
            op.params[index] = dataclasses.replace(param, filtering=Filtering.LOOSE)


def _scalar(value: Any) -> Any:
    """A param default as sent: text, number or boolean (anything else is left out)."""
    return value if isinstance(value, str | int | float | bool) else None
