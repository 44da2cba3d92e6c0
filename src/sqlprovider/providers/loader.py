"""Read one provider YAML file, validate it, and build the model from it."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from sqlprovider.errors import ProviderError
from sqlprovider.model import (
    AuthSpec,
    Column,
    Condition,
    ErrorShape,
    Filtering,
    Location,
    Method,
    Pagination,
    PaginationKind,
    Param,
    Provider,
    RateLimit,
    Requirement,
    Resource,
    RetryPolicy,
    Server,
    ServerVariable,
    Service,
    SqlVerb,
    WaitSpec,
    Window,
)

_PATH_VARIABLE = re.compile(r"{([^{}]+)}")


def load_provider(path: Path) -> Provider:
    """Load, validate and build the provider defined in ``path``.

    Raises:
        ProviderError: naming the file, the key path and the problem.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProviderError(str(path), "", f"cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ProviderError(
            str(path), "", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    document = _read_yaml(text, path)
    marker = _validated_marker(text)
    if marker is None or not marker.exists():
        _validate(document, str(path))
        _remember_valid(marker)
    return _build_provider(document, str(path))


def _validated_marker(text: str) -> Path | None:
    """A cache file whose existence says this exact text passed this exact schema.

    Validation imports jsonschema (about 0.1 s); a definition that passed once is not
    validated again. The semantic checks in ``_build_provider`` always run.
    """
    from sqlprovider.providers.schema import PROVIDER

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not base:
        return None
    digest = hashlib.sha256((repr(PROVIDER) + "\0" + text).encode()).hexdigest()
    return Path(base) / "sqlprovider" / "validated" / digest


def _remember_valid(marker: Path | None) -> None:
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # a read-only home only costs the next run a validation


def _read_yaml(text: str, path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe: builds plain data only
    try:
        document = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProviderError(str(path), where, f"not valid YAML: {problem}") from None
    if not isinstance(document, dict):
        raise ProviderError(str(path), "", "the top level must be a mapping")
    return document


def _validate(document: Mapping[str, Any], file: str) -> None:
    import jsonschema  # imported here: only loading a provider needs it

    from sqlprovider.providers.schema import PROVIDER

    validator = jsonschema.Draft202012Validator(PROVIDER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        message = error.message
        if error.validator == "additionalProperties" and "does not match any of" in message:
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            unknown = [k for k in unknown if not str(k).startswith("x-")]
            message = (
                f"unknown key {', '.join(repr(k) for k in unknown)} (keys of your own start "
                "with x-)"
            )
        raise ProviderError(file, format_key_path(error.absolute_path), message)


def format_key_path(parts: Iterable[str | int]) -> str:
    """``['services', 'genai', 'methods', 0]`` → ``services.genai.methods[0]``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _split_path(dotted: str | None) -> tuple[str, ...]:
    return tuple(dotted.split(".")) if dotted else ()


def _build_provider(doc: Mapping[str, Any], file: str) -> Provider:
    name = doc["name"]
    if Path(file).stem not in (name, "provider"):
        raise ProviderError(file, "name", f"the provider {name!r} must live in {name}.yaml")
    http = doc.get("http", {})
    errors = http.get("errors", {})
    retry = http.get("retry", {})
    server_doc = doc["server"]
    variables = tuple(
        ServerVariable(
            name=var_name,
            default=spec.get("default"),
            env=tuple(spec.get("env", ())),
            description=spec.get("description", ""),
        )
        for var_name, spec in server_doc.get("variables", {}).items()
    )
    for var in _PATH_VARIABLE.findall(server_doc["url"]):
        if var not in {v.name for v in variables}:
            raise ProviderError(
                file, "server.url", f"{{{var}}} is used but not declared in server.variables"
            )
    auth_doc = doc.get("auth", {"type": "none"})
    if auth_doc["type"] != "none" and not auth_doc.get("env"):
        raise ProviderError(file, "auth.env", "name the environment variables that hold the key")
    services = {
        service_name: Service(
            name=service_name,
            description=service_doc.get("description", ""),
            resources={
                resource_name: _build_resource(
                    name,
                    service_name,
                    resource_name,
                    resource_doc,
                    file,
                    f"services.{service_name}.resources.{resource_name}",
                )
                for resource_name, resource_doc in service_doc["resources"].items()
            },
        )
        for service_name, service_doc in doc["services"].items()
    }
    return Provider(
        name=name,
        title=doc.get("title", name),
        description=doc.get("description", ""),
        server=Server(url=server_doc["url"].rstrip("/"), variables=variables),
        auth=AuthSpec(
            type=auth_doc["type"],
            env=tuple(auth_doc.get("env", ())),
            header=auth_doc.get("header", "Authorization"),
            username_env=tuple(auth_doc.get("username_env", ())),
        ),
        services=services,
        concurrency=http.get("concurrency", 8),
        errors=_build_error_shape(errors),
        retry=RetryPolicy(
            max_attempts=retry.get("max_attempts", 5),
            base_delay=float(retry.get("base_delay", 0.5)),
            max_delay=float(retry.get("max_delay", 30.0)),
            statuses=tuple(retry.get("statuses", (429, 500, 502, 503, 504))),
            remaining_header=retry.get("remaining_header"),
            reset_header=retry.get("reset_header"),
        ),
        rate_limit=_build_rate_limit(http.get("rate_limit")),
        source=file,
    )


def _build_error_shape(doc: Mapping[str, Any]) -> ErrorShape:
    messages = doc.get("message", "message")
    paths = [messages] if isinstance(messages, str) else list(messages)
    return ErrorShape(
        message=_split_path(paths[0]),
        code=_split_path(doc.get("code", "id")),
        request_id=_split_path(doc.get("request_id", "request_id")),
        other_messages=tuple(_split_path(p) for p in paths[1:]),
    )


def _build_rate_limit(doc: Mapping[str, Any] | None) -> RateLimit | None:
    if not doc:
        return None
    per_second = float(doc["per_second"])
    return RateLimit(per_second=per_second, burst=int(doc.get("burst", max(1, int(per_second)))))


def _build_resource(
    provider: str, service: str, name: str, doc: Mapping[str, Any], file: str, where: str
) -> Resource:
    columns = tuple(
        Column(
            name=col_name,
            type=spec.get("type", "string"),
            path=_split_path(spec.get("path")) or (col_name,),
            description=spec.get("description", ""),
        )
        for col_name, spec in doc["columns"].items()
    )
    names = {c.name for c in columns}
    for index, key in enumerate(doc.get("key", ())):
        if key not in names:
            raise ProviderError(file, f"{where}.key[{index}]", f"{key!r} is not a column")
    methods = []
    seen: set[str] = set()
    for index, method_doc in enumerate(doc["methods"]):
        method_where = f"{where}.methods[{index}]"
        if method_doc["name"] in seen:
            raise ProviderError(file, f"{method_where}.name", "method names must be unique")
        seen.add(method_doc["name"])
        method = _build_method(method_doc, file, method_where)
        _check_method_refs(method, columns, file, method_where)
        methods.append(method)
    by_name = {m.name: m for m in methods}
    for index, method in enumerate(methods):
        if method.wait is None:
            continue
        poll = by_name.get(method.wait.method)
        where_wait = f"{where}.methods[{index}].wait"
        if poll is None:
            raise ProviderError(
                file, f"{where_wait}.method", f"no method {method.wait.method!r} in this resource"
            )
        for param_name, _ in method.wait.params:
            if poll.param(param_name) is None:
                raise ProviderError(
                    file,
                    f"{where_wait}.params.{param_name}",
                    f"{poll.name} has no param {param_name!r}",
                )
    return Resource(
        provider=provider,
        service=service,
        name=name,
        columns=columns,
        methods=tuple(methods),
        description=doc.get("description", ""),
        key=tuple(doc.get("key", ())),
    )


def _check_method_refs(method: Method, columns: tuple[Column, ...], file: str, where: str) -> None:
    """Names a method uses must exist: params, columns, and enclosing levels of records."""
    names = {c.name for c in columns}
    params = {p.name for p in method.params}
    for param in method.params:
        at = f"{where}.params.{param.name}"
        if param.column is not None and param.column not in names:
            raise ProviderError(file, f"{at}.column", f"{param.column!r} is not a column")
        if param.operator_param is not None and param.operator_param not in params:
            raise ProviderError(
                file, f"{at}.operator_param", f"{param.operator_param!r} is not a param here"
            )
    if method.window is not None:
        for role in ("start", "end"):
            name = getattr(method.window, role)
            if name not in params:
                raise ProviderError(file, f"{where}.window.{role}", f"{name!r} is not a param")
    for name, _ in method.destructive_when:
        if name not in params:
            raise ProviderError(file, f"{where}.destructive_when", f"{name!r} is not a param here")
    for index, rule in enumerate(method.requires):
        for name in (*(n for n, _ in rule.when), *rule.params, *rule.one_of):
            if name not in params:
                raise ProviderError(
                    file, f"{where}.requires[{index}]", f"{name!r} is not a param here"
                )
    levels = method.records.count("*")
    if method.sql_verb is SqlVerb.SELECT:
        for column in columns:
            up = len(column.path[0]) - len(column.path[0].lstrip("^"))
            if up > levels:
                raise ProviderError(
                    file,
                    f"{where}.records",
                    f"column {column.name} reads {up} level(s) up ({'.'.join(column.path)}) "
                    f"but the records path has {levels} *",
                )


def _build_method(doc: Mapping[str, Any], file: str, where: str) -> Method:
    params = tuple(
        Param(
            name=param_name,
            location=Location(spec["in"]),
            wire_name=spec.get("wire_name", param_name),
            type=spec.get("type", "string"),
            required=spec.get("required", spec["in"] == "path"),
            default=spec.get("default"),
            enum=tuple(spec["enum"]) if "enum" in spec else None,
            filtering=Filtering(spec.get("filtering", "exact")),
            description=spec.get("description", ""),
            env=tuple(spec.get("env", ())),
            many=spec.get("many", False),
            column=spec.get("column"),
            operators=tuple(spec.get("operators", ())),
            operator_param=spec.get("operator_param"),
            operator_values=tuple(spec.get("operator_values", {}).items()),
            widen=_seconds(spec["widen"]) if "widen" in spec else 0.0,
        )
        for param_name, spec in doc.get("params", {}).items()
    )
    path_params = {p.wire_name for p in params if p.location is Location.PATH}
    used = set(_PATH_VARIABLE.findall(doc["path"]))
    for missing in sorted(used - path_params):
        raise ProviderError(
            file, f"{where}.path", f"{{{missing}}} has no param declared with in: path"
        )
    for param in params:
        if param.location is Location.PATH and param.wire_name not in used:
            raise ProviderError(
                file,
                f"{where}.params.{param.name}",
                f"a path param must appear in the path as {{{param.wire_name}}}",
            )
    for p in params:
        if p.location is Location.PATH and not p.required:
            raise ProviderError(file, f"{where}.params.{p.name}", "path params are always required")
    return Method(
        name=doc["name"],
        sql_verb=SqlVerb(doc["sql_verb"]),
        http_verb=doc["http_verb"],
        path=doc["path"],
        params=params,
        records=_split_path(doc.get("records")),
        id_field=_split_path(doc.get("id_field")),
        pagination=_build_pagination(doc.get("pagination")),
        empty_on=tuple(doc.get("empty_on", ())),
        max_rows=doc.get("max_rows"),
        idempotent=doc.get("idempotent", False),
        destructive=doc.get("destructive", doc["http_verb"] == "DELETE"),
        wait=_build_wait(doc.get("wait")),
        description=doc.get("description", ""),
        body=tuple(doc.get("body", {}).items()),
        window=_build_window(doc.get("window")),
        destructive_when=_values_by_param(doc.get("destructive_when", {})),
        requires=tuple(
            Requirement(
                when=_values_by_param(rule["when"]),
                params=tuple(rule.get("params", ())),
                one_of=tuple(rule.get("one_of", ())),
            )
            for rule in doc.get("requires", ())
        ),
    )


def _values_by_param(doc: Mapping[str, Any]) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """``{action: [A, B], model: image}`` → each param with the values it is tested for."""
    return tuple((name, tuple(v) if isinstance(v, list) else (v,)) for name, v in doc.items())


_SPAN_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(span: str) -> float:
    """``7d``, ``1h``, ``30m``, ``90s`` in seconds."""
    return float(span[:-1]) * _SPAN_UNITS[span[-1]]


def _build_window(doc: Mapping[str, Any] | None) -> Window | None:
    if not doc:
        return None
    return Window(start=doc["start"], end=doc["end"], max_seconds=_seconds(doc["max_span"]))


def _build_wait(doc: Mapping[str, Any] | None) -> WaitSpec | None:
    if not doc:
        return None

    def condition(spec: Mapping[str, Any] | None) -> Condition | None:
        if not spec:
            return None
        return Condition(_split_path(spec["field"]), tuple(spec["in"]))

    done = condition(doc["done"])
    assert done is not None
    return WaitSpec(
        method=doc["method"],
        params=tuple((name, _split_path(path)) for name, path in doc["params"].items()),
        done=done,
        failed=condition(doc.get("failed")),
        interval=float(doc.get("interval", 2.0)),
        max_interval=float(doc.get("max_interval", 30.0)),
        timeout=float(doc.get("timeout", 600.0)),
    )


def _build_pagination(doc: Mapping[str, Any] | None) -> Pagination:
    if not doc:
        return Pagination()
    return Pagination(
        kind=PaginationKind(doc["type"]),
        next_url_path=_split_path(doc.get("next_url")),
        page_param=doc.get("page_param"),
        first_page=doc.get("first_page", 1),
        total_pages_path=_split_path(doc.get("total_pages")),
        size_param=doc.get("size_param"),
        page_size=doc.get("page_size"),
        max_page_size=doc.get("max_page_size"),
        token_path=_split_path(doc.get("token")),
        token_header=doc.get("token_header"),
        token_param=doc.get("token_param"),
        offset_param=doc.get("offset_param"),
    )
