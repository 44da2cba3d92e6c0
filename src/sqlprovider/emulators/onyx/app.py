"""The Onyx connector routes, over the state in ``state.py``, served under ``/api`` as on
``https://cloud.onyx.app/api``.

Requests go through the steps FastAPI takes: a body that is not JSON is refused (422) before
credentials are looked at; then the API key (403); then every path, query and body field at
once, pydantic-style (422 with Onyx's ``{"status_code", "message", "data"}`` body)."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sqlprovider.emulators.kit import json_response, with_recorder
from sqlprovider.emulators.onyx.state import (
    ACCESS_TYPES,
    CC_PAIR_STATUSES,
    DOCS_COUNT_OPERATORS,
    DOCUMENT_SOURCES,
    INDEXING_STATUSES,
    ApiError,
    OnyxConfig,
    OnyxState,
)

NOT_AUTHENTICATED = {"detail": "Access denied. User is not authenticated."}
PREFIX = "/api/manage"
PAGE_SIZE = 10  # the server's _INDEXING_STATUS_PAGE_SIZE: fixed, not a request parameter

Loc = tuple[str | int, ...]
Errors = list[dict[str, Any]]
Check = Callable[[Any, Loc, Errors], Any]
_INVALID: Any = object()  # what a check returns for a value it refused
_REQUIRED: Any = object()


# -- pydantic's lax-mode checks, with its error types and messages ---------------------------


def _error(kind: str, loc: Loc, msg: str, value: Any, ctx: Any = None) -> dict[str, Any]:
    error = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx is not None:
        error["ctx"] = ctx
    return error


def _bool(value: Any, loc: Loc, errors: Errors) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("0", "off", "f", "false", "n", "no"):
        return False
    if isinstance(value, str) and value.lower() in ("1", "on", "t", "true", "y", "yes"):
        return True
    if isinstance(value, str | int | float):
        msg = "Input should be a valid boolean, unable to interpret input"
        errors.append(_error("bool_parsing", loc, msg, value))
    else:
        errors.append(_error("bool_type", loc, "Input should be a valid boolean", value))
    return _INVALID


def _int(value: Any, loc: Loc, errors: Errors, ge: int | None = None, le: int | None = None) -> Any:
    number: int
    if isinstance(value, bool | int) or (isinstance(value, float) and value.is_integer()):
        number = int(value)
    elif isinstance(value, float):
        msg = "Input should be a valid integer, got a number with a fractional part"
        errors.append(_error("int_from_float", loc, msg, value))
        return _INVALID
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        number = int(value)
    elif isinstance(value, str):
        msg = "Input should be a valid integer, unable to parse string as an integer"
        errors.append(_error("int_parsing", loc, msg, value))
        return _INVALID
    else:
        errors.append(_error("int_type", loc, "Input should be a valid integer", value))
        return _INVALID
    if ge is not None and number < ge:
        msg = f"Input should be greater than or equal to {ge}"
        errors.append(_error("greater_than_equal", loc, msg, value, {"ge": ge}))
        return _INVALID
    if le is not None and number > le:
        msg = f"Input should be less than or equal to {le}"
        errors.append(_error("less_than_equal", loc, msg, value, {"le": le}))
        return _INVALID
    return number


def _str(value: Any, loc: Loc, errors: Errors) -> Any:
    if isinstance(value, str):
        return value
    errors.append(_error("string_type", loc, "Input should be a valid string", value))
    return _INVALID


def _enum(values: tuple[str, ...]) -> Check:
    quoted = [repr(v) for v in values]
    expected = ", ".join(quoted[:-1]) + " or " + quoted[-1]

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if isinstance(value, str) and value in values:
            return value
        msg = f"Input should be {expected}"
        errors.append(_error("enum", loc, msg, value, {"expected": expected}))
        return _INVALID

    return check


def _optional(inner: Check) -> Check:
    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        return None if value is None else inner(value, loc, errors)

    return check


def _list(inner: Check) -> Check:
    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, list):
            errors.append(_error("list_type", loc, "Input should be a valid list", value))
            return _INVALID
        return [inner(item, (*loc, index), errors) for index, item in enumerate(value)]

    return check


def _dict(key: Check, inner: Check) -> Check:
    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, dict):
            errors.append(_error("dict_type", loc, "Input should be a valid dictionary", value))
            return _INVALID
        return {
            key(k, (*loc, k, "[key]"), errors): inner(v, (*loc, k), errors)
            for k, v in value.items()
        }

    return check


def _model(fields: dict[str, tuple[Check, Any]], body: Any, errors: Errors) -> dict[str, Any]:
    """A request body model: fields in declaration order, defaults for the ones not sent."""
    if not isinstance(body, dict):
        msg = "Input should be a valid dictionary or object to extract fields from"
        errors.append(_error("model_attributes_type", ("body",), msg, body))
        return {}
    values: dict[str, Any] = {}
    for name, (check, default) in fields.items():
        if name in body:
            values[name] = check(body[name], ("body", name), errors)
        elif default is _REQUIRED:
            errors.append(_error("missing", ("body", name), "Field required", body))
        else:
            values[name] = default() if callable(default) else default
    return values


INDEXING_STATUS_REQUEST: dict[str, tuple[Check, Any]] = {
    "secondary_index": (_bool, False),
    "source": (_optional(_enum(DOCUMENT_SOURCES)), None),
    "access_type_filters": (_list(_enum(ACCESS_TYPES)), list),
    "last_status_filters": (_list(_enum(INDEXING_STATUSES)), list),
    "docs_count_operator": (_optional(_enum(DOCS_COUNT_OPERATORS)), None),
    "docs_count_value": (_optional(_int), None),
    "name_filter": (_optional(_str), None),
    "source_to_page": (_dict(_enum(DOCUMENT_SOURCES), _int), dict),
    "get_all_connectors": (_bool, False),
}
CC_STATUS_UPDATE_REQUEST: dict[str, tuple[Check, Any]] = {
    "status": (_enum(CC_PAIR_STATUSES), _REQUIRED),
}
RUN_CONNECTOR_REQUEST: dict[str, tuple[Check, Any]] = {
    "connector_id": (_int, _REQUIRED),
    "credential_ids": (_optional(_list(_int)), None),
    "from_beginning": (_bool, False),
}


def validation_error(errors: Errors) -> Response:
    """Onyx's handler: ``str(RequestValidationError)`` on one line.

    FastAPI appends the endpoint's source file and line to that text; those depend on the
    deployment, so the emulator leaves them out."""
    text = f"{len(errors)} validation error{'s' if len(errors) != 1 else ''}:\n"
    text += "".join(f"  {error}\n" for error in errors)
    message = text.rstrip().replace("\n", " ").replace("   ", " ")
    return json_response({"status_code": 422, "message": message, "data": None}, 422)


class _Invalid(Exception):
    def __init__(self, errors: Errors) -> None:
        super().__init__(errors)
        self.errors = errors


async def _json_body(request: Request) -> Any:
    """The parsed body, read before auth as FastAPI does; no body at all gives ``None``."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        position = exc.pos if isinstance(exc, json.JSONDecodeError) else 0
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        error = _error("json_invalid", ("body", position), "JSON decode error", {})
        error["ctx"] = {"error": message}
        raise _Invalid([error]) from None


def _body(fields: dict[str, tuple[Check, Any]], body: Any, errors: Errors) -> dict[str, Any]:
    if body is None:  # FastAPI reports a required body that is absent (or null) as missing
        errors.append(_error("missing", ("body",), "Field required", None))
        return {}
    return _model(fields, body, errors)


def _query(request: Request, name: str, check: Check, default: Any, errors: Errors) -> Any:
    raw = request.query_params.get(name)
    return default if raw is None else check(raw, ("query", name), errors)


def _path_int(request: Request, name: str, errors: Errors) -> Any:
    return _int(request.path_params[name], ("path", name), errors)


def _name_matches(name: str | None, name_filter: str | None) -> bool:
    if not name_filter:
        return True
    return bool(name) and name_filter.lower() in str(name).lower()


def _keep(row: dict[str, Any], request: dict[str, Any]) -> bool:
    """The server's _apply_connector_status_filters, for one row."""
    if request["access_type_filters"] and row["access_type"] not in request["access_type_filters"]:
        return False
    if request["last_status_filters"] and row["last_status"] not in request["last_status_filters"]:
        return False
    operator, value = request["docs_count_operator"], request["docs_count_value"]
    if operator is not None and value is not None:
        docs = row["docs_indexed"]
        if not {">": docs > value, "<": docs < value, "=": docs == value}[operator]:
            return False
    return _name_matches(row["name"], request["name_filter"])


def indexing_status(state: OnyxState, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The indexing-status response: rows filtered, grouped by source (sorted), one page of
    each source, and a summary per source over all of its filtered rows."""
    rows = state.rows(request["source"], request["secondary_index"])
    federated = [dict(f) for f in state.federated]  # `source` does not filter these
    operator, value = request["docs_count_operator"], request["docs_count_value"]
    if (
        request["access_type_filters"]
        or request["last_status_filters"]
        or (operator is not None and value is not None)
        or request["name_filter"]
    ):
        rows = [row for row in rows if _keep(row, request)]
        federated = [f for f in federated if _name_matches(f["name"], request["name_filter"])]
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["source"], []).append(row)
    for status in federated:  # federated_slack is listed under slack, after the pairs
        groups.setdefault("slack", []).append(status)
    response = []
    for source in sorted(groups):
        statuses = groups[source]
        page = request["source_to_page"].get(source, 1)
        start = (page - 1) * PAGE_SIZE  # Python slicing, as the server: page -1 is not empty
        chosen = statuses if request["get_all_connectors"] else statuses[start : start + PAGE_SIZE]
        if not chosen:  # a source with nothing on the requested page is left out
            continue
        pairs = [s for s in statuses if "cc_pair_id" in s]
        summary = {
            "total_connectors": len(statuses),
            "active_connectors": sum(s["cc_pair_status"] == "ACTIVE" for s in pairs),
            "public_connectors": sum(s["access_type"] == "public" for s in pairs),
            "total_docs_indexed": sum(s["docs_indexed"] for s in pairs),
        }
        response.append(
            {
                "source": source,
                "summary": summary,
                "current_page": page,
                "total_pages": -(-len(statuses) // PAGE_SIZE),
                "indexing_statuses": chosen,
            }
        )
    return response


def _fault_body(status: int, request_id: str) -> dict[str, Any]:
    """What Onyx answers for an injected failure of this status."""
    if status == 403:
        return NOT_AUTHENTICATED
    if status == 422:
        return {"status_code": 422, "message": HTTPStatus(422).phrase, "data": None}
    if status == 429:  # OnyxError(RATE_LIMITED) without a detail
        return {"error_code": "RATE_LIMITED", "detail": "RATE_LIMITED"}
    try:
        return {"detail": HTTPStatus(status).phrase}
    except ValueError:
        return {"detail": "Error"}


def create_app(config: OnyxConfig | None = None) -> Starlette:
    """The emulator as an ASGI app; ``app.state.onyx`` is its state."""
    config = config or OnyxConfig()
    state = OnyxState(config)

    def authenticated(request: Request) -> bool:
        """API keys, read from ``X-Onyx-Authorization`` first, ``Bearer `` optional."""
        raw = request.headers.get("x-onyx-authorization") or request.headers.get("authorization")
        if raw is None:
            return False
        if raw.startswith("Bearer "):
            raw = raw[len("Bearer ") :].strip()
        return hmac.compare_digest(raw.encode(), config.api_key.encode())

    def authorize(request: Request) -> Errors:
        """403 unless authenticated; the list that collects the request's field errors."""
        if not authenticated(request):
            raise ApiError(403, NOT_AUTHENTICATED["detail"])
        return []

    def valid(errors: Errors) -> None:
        if errors:
            raise _Invalid(errors)

    async def get_indexing_status(request: Request) -> Response:
        body = await _json_body(request)
        errors = authorize(request)
        values = _body(INDEXING_STATUS_REQUEST, body, errors)
        valid(errors)
        return json_response(indexing_status(state, values))

    async def failed_indexing_status(request: Request) -> Response:
        errors = authorize(request)
        secondary = _query(request, "secondary_index", _bool, False, errors)
        _query(request, "get_editable", _bool, False, errors)  # an admin may edit every pair
        valid(errors)
        return json_response(state.failed_indexing_status(secondary))

    async def connector_status(request: Request) -> Response:
        authorize(request)
        return json_response(state.basic_status())

    async def index_attempts(request: Request) -> Response:
        errors = authorize(request)
        cc_pair_id = _path_int(request, "cc_pair_id", errors)
        page = _query(request, "page_num", lambda v, loc, e: _int(v, loc, e, ge=0), 0, errors)
        size = _query(
            request, "page_size", lambda v, loc, e: _int(v, loc, e, ge=1, le=1000), 10, errors
        )
        valid(errors)
        return json_response(state.index_attempts(cc_pair_id, page, size))

    async def update_status(request: Request) -> Response:
        body = await _json_body(request)
        errors = authorize(request)
        cc_pair_id = _path_int(request, "cc_pair_id", errors)
        values = _body(CC_STATUS_UPDATE_REQUEST, body, errors)
        valid(errors)
        state.set_status(cc_pair_id, values["status"])
        return json_response({"message": str(HTTPStatus.OK.value)})  # str(HTTPStatus.OK) on 3.11

    async def run_once(request: Request) -> Response:
        body = await _json_body(request)
        errors = authorize(request)
        values = _body(RUN_CONNECTOR_REQUEST, body, errors)
        valid(errors)
        marked = state.run_once(
            values["connector_id"], values["credential_ids"], values["from_beginning"]
        )
        message = f"Marked {marked} index attempts with indexing triggers."
        return json_response({"success": True, "message": message, "data": marked})

    routes = [
        Route(f"{PREFIX}/admin/connector/indexing-status", get_indexing_status, methods=["POST"]),
        Route(
            f"{PREFIX}/admin/connector/failed-indexing-status",
            failed_indexing_status,
            methods=["GET"],
        ),
        Route(f"{PREFIX}/connector-status", connector_status, methods=["GET"]),
        Route(
            f"{PREFIX}/admin/cc-pair/{{cc_pair_id}}/index-attempts",
            index_attempts,
            methods=["GET"],
        ),
        Route(f"{PREFIX}/admin/cc-pair/{{cc_pair_id}}/status", update_status, methods=["PUT"]),
        Route(f"{PREFIX}/admin/connector/run-once", run_once, methods=["POST"]),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        """Unknown paths and methods: FastAPI's ``{"detail": "Not Found"}`` and the like."""
        assert isinstance(exc, HTTPException)
        return json_response({"detail": exc.detail}, exc.status_code, dict(exc.headers or {}))

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return json_response({"detail": exc.detail}, exc.status)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, _Invalid)
        return validation_error(exc.errors)

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, ApiError: api_error, _Invalid: invalid},
    )
    app.state.onyx = state
    return with_recorder(app, _fault_body)
