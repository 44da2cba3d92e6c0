"""One operation of the spec → one method: its params (path, query, header and JSON body
fields), where its records are in the response, and what the response schema says a record
holds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlprovider.providers.openapi.draft import DraftMethod, DraftParam
from sqlprovider.providers.openapi.naming import (
    PATH_SEGMENT,
    first_sentence,
    normal,
    singular,
    snake,
    unique,
    words,
)
from sqlprovider.providers.openapi.pagination import paginate, window
from sqlprovider.providers.openapi.spec import (
    VERBS,
    Spec,
    example_schema,
    is_object,
    names_of,
    raw_properties,
)

# Words of an operation id or summary that say a POST creates, or only reads.
CREATE_WORDS = frozenset({"create", "add", "new", "insert", "register", "upload", "post"})
READ_WORDS = frozenset({"get", "list", "search", "query", "find", "fetch", "read", "retrieve"})
# Fields beside the records that are about the response, not a record.
_ENVELOPE = frozenset({"links", "meta", "metadata", "_links", "paging", "pagination"})
# Fields of a list's elements that say the elements are pages, not records.
_PAGE_FIELDS = frozenset({"page", "pages", "currentpage", "totalpages", "pagecount", "total"})


@dataclass
class Operation:
    """One operation of the spec, with its path-level parameters merged in."""

    path: str
    verb: str  # upper case
    node: Mapping[str, Any]
    parameters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def operation_id(self) -> str:
        return str(self.node.get("operationId") or "")

    @property
    def label(self) -> str:
        """How notes name it: ``POST /task`` or ``GET /jobs (list_jobs)``."""
        suffix = f" ({self.operation_id})" if self.operation_id else ""
        return f"{self.verb} {self.path}{suffix}"

    def words(self) -> set[str]:
        """The first words of its id and summary (``genai_create_job`` → genai, create,
        job)."""
        found = words(self.operation_id)[:3]
        found += words(str(self.node.get("summary") or ""))[:2]
        return set(found)

    def creates(self) -> bool:
        return bool(self.words() & CREATE_WORDS)

    def reads(self) -> bool:
        return bool(self.words() & READ_WORDS) and not self.creates()


def operations(spec: Spec) -> tuple[list[Operation], list[str]]:
    """Every operation of the spec, and notes on those no method can express."""
    found: list[Operation] = []
    notes: list[str] = []
    for path, item_node in spec.document.get("paths", {}).items():
        item = spec.deref(item_node)
        if not isinstance(item, dict):
            continue
        shared = [spec.deref(p) for p in item.get("parameters") or ()]
        for verb in VERBS:
            node = item.get(verb)
            if not isinstance(node, dict):
                continue
            if verb in ("options", "trace"):
                notes.append(f"TODO: {verb.upper()} {path} is not imported (no {verb} methods)")
                continue
            own = [spec.deref(p) for p in node.get("parameters") or ()]
            keys = {(p.get("name"), p.get("in")) for p in own}
            merged = [p for p in shared if (p.get("name"), p.get("in")) not in keys] + own
            found.append(Operation(str(path), verb.upper(), node, merged))
    return found, notes


# -- responses -------------------------------------------------------------------------------


@dataclass
class Response:
    """What the success response of an operation says."""

    status: str | None = None
    body: dict[str, Any] | None = None  # the resolved schema of a JSON body
    body_ref: str | None = None
    headers: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)  # every documented status
    notes: list[str] = field(default_factory=list)


def json_media(content: Any) -> tuple[str | None, Mapping[str, Any] | None]:
    """The JSON media type of a ``content`` map and its object; else the first other media
    type and None."""
    if not isinstance(content, dict) or not content:
        return None, None
    for media, node in content.items():
        kind = media.split(";")[0].strip().lower()
        if kind in ("application/json", "*/*", "text/json") or kind.endswith("+json"):
            return media, node if isinstance(node, dict) else {}
    return next(iter(content)), None


def response(spec: Spec, op: Operation, reads: bool) -> Response:
    """The success response of ``op``: the first 2xx status with a JSON body. A response
    without content (a 204) is only worth a note for a read (``reads``)."""
    responses = op.node.get("responses") or {}
    found = Response(statuses=[str(s) for s in responses])
    codes = sorted(s for s in found.statuses if s.startswith("2"))
    unknown = False  # a JSON body without a schema
    for code in codes:
        node = spec.deref(responses[code])
        if not isinstance(node, dict):
            continue
        found.status = code
        found.headers = [str(h) for h in (node.get("headers") or {})]
        media, body = json_media(node.get("content"))
        if body is None:
            if media is not None:
                found.notes.append(f"TODO: {op.label} answers {media}, not JSON: no rows")
                unknown = True
            continue
        if body.get("schema"):
            found.body = spec.schema(body["schema"])
            found.body_ref = Spec.ref_of(body["schema"])
            return found
        example = body.get("example")
        if example is None and isinstance(body.get("examples"), dict) and body["examples"]:
            example = spec.deref(next(iter(body["examples"].values()))).get("value")
        if example is not None:
            found.body = example_schema(example)
            found.notes.append(
                f"TODO: the {code} response of {op.label} has no schema; its fields are "
                "guessed from the example"
            )
            return found
        unknown = True
    if not found.notes and (unknown or reads or not codes):
        if not codes:
            what = f"{op.label} documents no success response"
        elif unknown:
            what = f"the {found.status} response of {op.label} has no JSON schema"
        else:
            what = f"{op.label} answers no JSON body"
        found.notes.append(f"TODO: {what}; its fields are unknown")
    return found


@dataclass
class Records:
    """Where the records are in a response body, and their schema."""

    path: str | None = None
    schema: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None
    is_list: bool = False
    notes: list[str] = field(default_factory=list)


def _matches(field_name: str, leaf: str) -> bool:
    """A field named for the resource (``knowledge_base`` in ``knowledge_bases``, ``job`` in
    ``indexing_jobs``)."""
    name, word = normal(field_name), normal(singular(leaf))
    return bool(name) and (word.endswith(name) or name in (word, normal(leaf)))


def records(spec: Spec, answer: Response, leaf: str, prefer_list: bool) -> Records:
    """Where the records of ``answer`` are: a list (``prefer_list``: a collection) or one
    record (an item, a write's result)."""
    body = answer.body
    if body is None:
        return Records()
    if body.get("type") == "array" or ("items" in body and not is_object(body)):
        return _top_level_list(spec, body)
    raw = raw_properties(body)
    resolved = {name: spec.schema(node) for name, node in raw.items()}
    if prefer_list:
        lists = [
            n
            for n, s in resolved.items()
            if s.get("type") == "array" and _of_objects(spec, s) and PATH_SEGMENT.match(n)
        ]
        if lists:
            chosen = next((n for n in lists if _matches(n, leaf)), lists[0])
            array = spec.deref(raw[chosen])
            item_ref = Spec.ref_of(array.get("items")) if isinstance(array, dict) else None
            found = Records(chosen, spec.items(resolved[chosen]), item_ref, True)
            if len(lists) > 1:
                found.notes.append(
                    f"guessed: the records are in {chosen!r} (the body also has lists "
                    f"{', '.join(repr(n) for n in lists if n != chosen)})"
                )
            return found
    objects = [n for n, s in resolved.items() if is_object(s) and s.get("properties")]
    chosen_one = None
    if len(raw) == 1 and objects:
        chosen_one = objects[0]
    elif (named := [n for n in objects if _matches(n, leaf)]) and len(named) == 1:
        chosen_one = named[0]
    elif len(objects) == 1 and set(raw) - {objects[0]} <= _ENVELOPE:
        chosen_one = objects[0]
    if chosen_one is not None and PATH_SEGMENT.match(chosen_one):
        return Records(chosen_one, resolved[chosen_one], Spec.ref_of(raw[chosen_one]))
    return Records(None, body, answer.body_ref)


def _of_objects(spec: Spec, array: Mapping[str, Any]) -> bool:
    item = spec.items(array)
    return is_object(item) and bool(item.get("properties"))


def _top_level_list(spec: Spec, body: Mapping[str, Any]) -> Records:
    """A body that is a list: of records, or of pages each holding a list of records (a
    list of groups with ``current_page``, ``total_pages`` and ``indexing_statuses``)."""
    item_node = body.get("items", {})
    item = spec.schema(item_node)
    raw = raw_properties(item)
    inner = [
        n
        for n, node in raw.items()
        if (s := spec.schema(node)).get("type") == "array" and _of_objects(spec, s)
    ]
    paging = {normal(n) for n in raw} & _PAGE_FIELDS
    if len(inner) == 1 and paging and PATH_SEGMENT.match(inner[0]):
        name = inner[0]
        array = spec.schema(raw[name])
        found = Records(f"*.{name}", spec.items(array), Spec.ref_of(array.get("items")), True)
        found.notes.append(
            f"guessed: the body is a list of pages (each with {', '.join(sorted(raw))}); a row "
            f"is an element of their {name!r} lists"
        )
        return found
    return Records(None, item, Spec.ref_of(item_node), True)


# -- params ----------------------------------------------------------------------------------

_SENT_BY_THE_CLIENT = frozenset({"content-type", "accept", "content-length", "user-agent"})


def param_type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if schema.get("x-mixed") or kind not in ("integer", "number", "boolean", "array", "object"):
        return "object" if kind is None and is_object(schema) else "string"
    return str(kind)


def request_params(spec: Spec, op: Operation, notes: list[str]) -> list[DraftParam]:
    """The path, query and header params of ``op``; notes for those that cannot be sent."""
    params: list[DraftParam] = []
    for node in op.parameters:
        name, location = str(node.get("name", "")), str(node.get("in", ""))
        if location == "cookie":
            notes.append(f"TODO: the cookie param {name!r} of {op.label} cannot be sent")
            continue
        if location not in ("path", "query", "header") or not name:
            notes.append(f"TODO: the param {name!r} of {op.label} (in: {location}) is not imported")
            continue
        if location == "header" and name.lower() == "authorization":
            notes.append(f"the Authorization header of {op.label} is sent from auth")
            continue
        if location == "header" and name.lower() in _SENT_BY_THE_CLIENT:
            continue
        schema = spec.schema(node.get("schema") or {})
        if "content" in node and not schema:
            notes.append(f"TODO: the param {name!r} of {op.label} is JSON text (content)")
        sql_name = unique(snake(name, "param"), (p.name for p in params))
        required = bool(node.get("required")) or location == "path"
        param = DraftParam(
            name=sql_name,
            location=location,
            wire_name=name,
            type=param_type(schema),
            required=required,
            enum=_enum(schema),
            description=describe_param(node, schema),
            minimum=schema.get("minimum"),
            maximum=schema["maximum"] if isinstance(schema.get("maximum"), int) else None,
            schema_default=schema.get("default"),
            full_description=str(node.get("description") or schema.get("description") or ""),
        )
        if required and schema.get("default") is not None and (param.enum or location == "header"):
            param.default = schema["default"]  # a version, a format: so it counts as given
        params.append(param)
    return params


def _enum(schema: Mapping[str, Any]) -> list[Any] | None:
    values = schema.get("enum")
    if not isinstance(values, list):
        return None
    return [v for v in values if v is not None] or None


def describe_param(node: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    text = first_sentence(node.get("description") or schema.get("description"))
    if schema.get("default") is not None and not (node.get("required") and schema.get("enum")):
        text = f"{text} (default {schema['default']})" if text else f"Default {schema['default']}."
    return text


def body_params(
    spec: Spec, op: Operation, taken: list[str], notes: list[str]
) -> tuple[list[DraftParam], list[dict[str, Any]]]:
    """The fields of the JSON request body as ``in: body`` params, and the ``requires`` rules
    its ``if``/``then`` conditions give."""
    body = spec.deref(op.node.get("requestBody"))
    if not isinstance(body, dict) or not body:
        return [], []
    media, content = json_media(body.get("content"))
    if content is None:
        if media is not None:
            notes.append(
                f"TODO: the {media} body of {op.label} cannot be sent (only JSON bodies); "
                "the method sends none"
            )
        return [], []
    raw = spec.deref(content.get("schema") or {})
    schema = spec.schema(raw)
    fields = spec.properties(schema)
    if not fields:
        kind = "a list" if schema.get("type") == "array" else "free-form"
        notes.append(
            f"TODO: the JSON body of {op.label} is {kind}, not named fields: send it whole "
            "with EXEC ... @@json = '...'"
        )
        return [], []
    required = set(names_of(schema.get("required")))
    params: list[DraftParam] = []
    for name, field_schema in fields.items():
        if field_schema.get("readOnly"):
            continue
        sql_name = snake(name, "field")
        if sql_name in taken or any(p.name == sql_name for p in params):
            sql_name = unique(f"body_{sql_name}", [*taken, *(p.name for p in params)])
        params.append(
            DraftParam(
                name=sql_name,
                location="body",
                wire_name=name,
                type=param_type(field_schema),
                required=name in required,
                enum=_enum(field_schema),
                description=first_sentence(field_schema.get("description")),
                full_description=str(field_schema.get("description") or ""),
            )
        )
    return params, conditional_requires(spec, raw, params)


def conditional_requires(spec: Spec, raw: Any, params: list[DraftParam]) -> list[dict[str, Any]]:
    """``requires`` rules from a body schema's ``allOf: [{if: {properties: {action: {const:
    X}}}, then: {required: [...]}}]`` (rules with the same demands are joined)."""
    by_wire = {p.wire_name: p.name for p in params}
    rules: list[dict[str, Any]] = []
    for part in (raw.get("allOf") or ()) if isinstance(raw, dict) else ():
        part = _mapping(spec.deref(part))
        condition = raw_properties(_mapping(part.get("if")))
        then = _mapping(part.get("then"))
        if len(condition) != 1:
            continue
        [(field_name, test)] = condition.items()
        value = _mapping(test).get("const")
        if value is None or field_name not in by_wire:
            continue
        demands: dict[str, Any] = {}
        if names_of(then.get("required")):
            demands["params"] = [by_wire.get(n, "") for n in names_of(then["required"])]
        choices = then.get("oneOf") or then.get("anyOf") or ()
        one_of = [n for c in choices for n in names_of(_mapping(c).get("required"))]
        if one_of:
            demands["one_of"] = [by_wire.get(n, "") for n in one_of]
        names = [*demands.get("params", ()), *demands.get("one_of", ())]
        if not demands or "" in names:
            continue
        same = next((r for r in rules if _demands(r) == demands), None)
        when_name = by_wire[field_name]
        if same is not None and list(same["when"]) == [when_name]:
            values = same["when"][when_name]
            same["when"][when_name] = [*(values if isinstance(values, list) else [values]), value]
        else:
            rules.append({"when": {when_name: value}, **demands})
    return rules


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _demands(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if k != "when"}


# -- the method ------------------------------------------------------------------------------


def method_name(op: Operation, sql_verb: str, leaf: str, is_list: bool) -> str:
    """The operation id in snake case, else a name from the verb and the resource."""
    if op.operation_id:
        return snake(op.operation_id, "method")
    verb = {"select": "list" if is_list else "get", "insert": "create"}.get(sql_verb, sql_verb)
    if sql_verb == "exec":
        last = [s for s in op.path.split("/") if s and not s.startswith("{")]
        verb = snake(last[-1]) if last else op.verb.lower()
        return verb if verb.startswith(op.verb.lower()) else f"{op.verb.lower()}_{verb}"
    return f"{verb}_{leaf}"


def build_method(spec: Spec, op: Operation, sql_verb: str, leaf: str, is_item: bool) -> DraftMethod:
    """The method ``op`` becomes, serving ``sql_verb``, in a resource named from ``leaf``."""
    notes: list[str] = []
    answer = response(spec, op, reads=sql_verb == "select")
    want_list = sql_verb == "select" and not is_item
    found = records(spec, answer, leaf, want_list)
    params = request_params(spec, op, notes)
    extra, requires = body_params(spec, op, [p.name for p in params], notes)
    params += extra
    if requires:
        notes.append("guessed: requires comes from the body schema's if/then rules")
    text = op.node.get("summary") or ""
    if not text or re.match(r"^[A-Z]+ /", str(text)):  # "GET /ingest/jobs" says nothing new
        text = op.node.get("description") or text
    method = DraftMethod(
        name=method_name(op, sql_verb, leaf, found.is_list),
        sql_verb=sql_verb,
        http_verb=op.verb,
        path=op.path,
        operation=op.label,
        records=found.path,
        description=first_sentence(text),
        params=params,
        notes=[*answer.notes, *found.notes, *notes],
        requires=requires,
        record_schema=found.schema if answer.body is not None else None,
        record_ref=found.ref,
        is_list=found.is_list,
    )
    if sql_verb == "select" and "404" in answer.statuses and "{" in op.path:
        method.empty_on = [404]
    if sql_verb == "select" and found.is_list:
        _max_rows(method, str(op.node.get("description") or op.node.get("summary") or ""))
        paginate(spec, method, answer.body, answer.headers)
        window(method)
    _check_path_params(method, op)
    return method


def _check_path_params(method: DraftMethod, op: Operation) -> None:
    """Every {variable} of the path has a path param, and every path param a {variable}."""
    used = re.findall(r"{([^{}]+)}", op.path)
    for param in [p for p in method.params if p.location == "path"]:
        if param.wire_name not in used:
            method.params.remove(param)
            method.notes.append(f"TODO: the path param {param.wire_name!r} is not in the path")
    declared = {p.wire_name for p in method.params if p.location == "path"}
    for variable in used:
        if variable not in declared:
            name = unique(snake(variable, "param"), (p.name for p in method.params))
            method.params.insert(0, DraftParam(name, "path", variable, required=True))
            method.notes.append(f"the spec declares no param for {{{variable}}}: a text one")


_AT_MOST = re.compile(r"\b(?:latest|last|first|most recent|top|up to|at most)\s+(\d+)\b", re.I)


def _max_rows(method: DraftMethod, text: str) -> None:
    """A list that its description says is cut (``list latest 15 indexing jobs``)."""
    match = _AT_MOST.search(text)
    if match and int(match.group(1)) > 1:
        method.max_rows = int(match.group(1))
        method.notes.append(
            f"guessed: max_rows {method.max_rows} from the description ({match.group(0)!r}); the "
            "method is used only when no complete one can run"
        )
