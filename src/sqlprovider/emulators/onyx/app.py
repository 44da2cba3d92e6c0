"""The Onyx connector routes, over the state in ``state.py``, served under ``/api`` as on
``https://cloud.onyx.app/api``.

Requests go through the steps FastAPI takes (``validation.py``): a body that is not JSON is
refused (422) before credentials are looked at; then the API key (403); then every path,
query and body field at once, pydantic-style (422 with Onyx's ``{"status_code", "message",
"data"}`` body). Every route is in ``ROUTES``; the handlers find the tenant in
``request.app.state.onyx``."""

from __future__ import annotations

import hmac
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sqlprovider.emulators.kit import json_response, with_recorder
from sqlprovider.emulators.onyx.records import ApiError
from sqlprovider.emulators.onyx.state import OnyxConfig, OnyxState
from sqlprovider.emulators.onyx.validation import (
    CC_STATUS_UPDATE_REQUEST,
    INDEXING_STATUS_REQUEST,
    RUN_CONNECTOR_REQUEST,
    Errors,
    Invalid,
    Loc,
    body_model,
    check_bool,
    check_int,
    json_body,
    path_int,
    query_param,
    validation_error,
)

NOT_AUTHENTICATED = {"detail": "Access denied. User is not authenticated."}
PREFIX = "/api/manage"
PAGE_SIZE = 10  # the server's _INDEXING_STATUS_PAGE_SIZE: fixed, not a request parameter


# -- the indexing-status answer: rows filtered, grouped by source, paged ---------------------


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


# -- the routes ------------------------------------------------------------------------------


def _state(request: Request) -> OnyxState:
    state: OnyxState = request.app.state.onyx
    return state


def _authorize(request: Request) -> Errors:
    """403 unless the request carries the API key (``X-Onyx-Authorization`` read first,
    ``Bearer `` optional); the list that collects the request's field errors."""
    raw = request.headers.get("x-onyx-authorization") or request.headers.get("authorization")
    if raw is not None and raw.startswith("Bearer "):
        raw = raw[len("Bearer ") :].strip()
    api_key = _state(request).config.api_key
    if raw is None or not hmac.compare_digest(raw.encode(), api_key.encode()):
        raise ApiError(403, NOT_AUTHENTICATED["detail"])
    return []


def _valid(errors: Errors) -> None:
    if errors:
        raise Invalid(errors)


def _page_num(value: Any, loc: Loc, errors: Errors) -> Any:
    return check_int(value, loc, errors, ge=0)


def _page_size(value: Any, loc: Loc, errors: Errors) -> Any:
    return check_int(value, loc, errors, ge=1, le=1000)


async def get_indexing_status(request: Request) -> Response:
    """POST indexing-status: the pairs' rows, filtered, a page per source."""
    body = await json_body(request)
    errors = _authorize(request)
    values = body_model(INDEXING_STATUS_REQUEST, body, errors)
    _valid(errors)
    return json_response(indexing_status(_state(request), values))


async def failed_indexing_status(request: Request) -> Response:
    """Pairs whose latest failed attempt has no later successful one."""
    errors = _authorize(request)
    secondary = query_param(request, "secondary_index", check_bool, False, errors)
    query_param(request, "get_editable", check_bool, False, errors)  # an admin edits every pair
    _valid(errors)
    return json_response(_state(request).failed_indexing_status(secondary))


async def connector_status(request: Request) -> Response:
    """Whether each pair ever indexed successfully."""
    _authorize(request)
    return json_response(_state(request).basic_status())


async def index_attempts(request: Request) -> Response:
    """A page of a pair's attempts, newest first."""
    errors = _authorize(request)
    cc_pair_id = path_int(request, "cc_pair_id", errors)
    page = query_param(request, "page_num", _page_num, 0, errors)
    size = query_param(request, "page_size", _page_size, 10, errors)
    _valid(errors)
    return json_response(_state(request).index_attempts(cc_pair_id, page, size))


async def update_status(request: Request) -> Response:
    """PUT a pair's status (pausing cancels its unfinished attempts)."""
    body = await json_body(request)
    errors = _authorize(request)
    cc_pair_id = path_int(request, "cc_pair_id", errors)
    values = body_model(CC_STATUS_UPDATE_REQUEST, body, errors)
    _valid(errors)
    _state(request).set_status(cc_pair_id, values["status"])
    return json_response({"message": str(HTTPStatus.OK.value)})  # str(HTTPStatus.OK) on 3.11


async def run_once(request: Request) -> Response:
    """Trigger indexing of a connector's pairs."""
    body = await json_body(request)
    errors = _authorize(request)
    values = body_model(RUN_CONNECTOR_REQUEST, body, errors)
    _valid(errors)
    marked = _state(request).run_once(
        values["connector_id"], values["credential_ids"], values["from_beginning"]
    )
    message = f"Marked {marked} index attempts with indexing triggers."
    return json_response({"success": True, "message": message, "data": marked})


ROUTES = [
    Route(f"{PREFIX}/admin/connector/indexing-status", get_indexing_status, methods=["POST"]),
    Route(
        f"{PREFIX}/admin/connector/failed-indexing-status", failed_indexing_status, methods=["GET"]
    ),
    Route(f"{PREFIX}/connector-status", connector_status, methods=["GET"]),
    Route(f"{PREFIX}/admin/cc-pair/{{cc_pair_id}}/index-attempts", index_attempts, methods=["GET"]),
    Route(f"{PREFIX}/admin/cc-pair/{{cc_pair_id}}/status", update_status, methods=["PUT"]),
    Route(f"{PREFIX}/admin/connector/run-once", run_once, methods=["POST"]),
]


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods: FastAPI's ``{"detail": "Not Found"}`` and the like."""
    assert isinstance(exc, HTTPException)
    return json_response({"detail": exc.detail}, exc.status_code, dict(exc.headers or {}))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response({"detail": exc.detail}, exc.status)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Invalid)
    return validation_error(exc.errors)


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
    app = Starlette(
        routes=ROUTES,
        exception_handlers={HTTPException: _http_error, ApiError: _api_error, Invalid: _invalid},
    )
    app.state.onyx = OnyxState(config or OnyxConfig())
    return with_recorder(app, _fault_body)
