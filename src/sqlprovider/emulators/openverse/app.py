"""The ingestion server's routes (``api.py``), over the state in ``state.py``.

Errors look like the real server's: its own ``{"message": ...}`` bodies for task outcomes
and unknown ids, and falcon's ``{"title", "description"}`` bodies for everything falcon
answers by itself (schema validation, unparsable bodies, unknown routes). Every route is in
``ROUTES``; the handlers find the server's state in ``request.app.state.openverse``.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from sqlprovider.emulators.kit import json_response, with_recorder
from sqlprovider.emulators.openverse.state import (
    ACTIONS,
    MEDIA_TYPES,
    OpenverseConfig,
    OpenverseState,
    render,
)

# The request schema of ``TaskResource.on_post``, as upstream passes it to falcon's
# ``jsonschema.validate`` (``callback_url`` is read from the body but not declared).
TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "model": {"type": "string", "enum": list(MEDIA_TYPES)},
        "action": {"type": "string", "enum": list(ACTIONS)},
        "since_date": {"type": "string"},
        "index_suffix": {"type": "string"},
        "alias": {"type": "string"},
        "force_delete": {"type": "boolean"},
        "origin_index_suffix": {"type": "string"},
        "destination_index_suffix": {"type": "string"},
    },
    "required": ["model", "action"],
    "allOf": [
        {
            "if": {"properties": {"action": {"const": "POINT_ALIAS"}}},
            "then": {"required": ["index_suffix", "alias"]},
        },
        {
            "if": {"properties": {"action": {"const": "PROMOTE"}}},
            "then": {"required": ["index_suffix", "alias"]},
        },
        {
            "if": {"properties": {"action": {"const": "UPDATE_INDEX"}}},
            "then": {"required": ["index_suffix", "since_date"]},
        },
        {
            "if": {"properties": {"action": {"const": "DELETE_INDEX"}}},
            "then": {"oneOf": [{"required": ["alias"]}, {"required": ["index_suffix"]}]},
        },
    ],
}
_VALIDATOR = Draft202012Validator(TASK_SCHEMA, format_checker=FormatChecker())

SCHEDULED = "Successfully scheduled task"
COMPLETED = "Successfully completed task"
BAD_REQUEST = "Failed during task execution due to bad request. Check scheduler logs."
SERVER_ERROR = "Failed to schedule task due to an internal server error. Check scheduler logs."

# falcon's ``get_param_as_bool``
_TRUE = frozenset({"true", "True", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "False", "f", "no", "n", "0", "off"})

# The methods each falcon resource answers, for the ``Allow`` header of a 405.
_ALLOWED = {
    "/": "GET",
    "/stat/{name}": "GET",
    "/task": "GET, POST",
    "/task/{task_id}": "GET",
    "/state": "DELETE",
}


def falcon_error(
    status: int, description: str | None = None, title: str | None = None
) -> dict[str, Any]:
    """falcon's ``HTTPError.to_dict()``: a title (the status line by default), a
    description when there is one."""
    body: dict[str, Any] = {"title": title or f"{status} {HTTPStatus(status).phrase}"}
    if description is not None:
        body["description"] = description
    return body


def _respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_response(render(body), status, headers)


class _Refusal(Exception):
    """Answered as a falcon error body."""

    def __init__(
        self, status: int, description: str | None = None, title: str | None = None
    ) -> None:
        super().__init__(description)
        self.body = falcon_error(status, description, title)
        self.status = status


async def _media(request: Request) -> Any:
    """``req.media`` as falcon's default handlers parse it (JSON, or an URL-encoded form)."""
    content_type = request.headers.get("content-type", "")
    base = content_type.split(";")[0].strip().lower()
    raw = await request.body()
    if base in ("", "*/*", "application/json"):
        if not raw:
            raise _Refusal(400, "Could not parse an empty JSON body", "Invalid JSON")
        try:
            return json.loads(raw.decode())
        except ValueError as exc:
            raise _Refusal(400, f"Could not parse JSON body - {exc}", "Invalid JSON") from None
    if base == "application/x-www-form-urlencoded":
        form: dict[str, Any] = {}
        for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            if key in form:
                previous = form[key]
                form[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                form[key] = value
        return form
    raise _Refusal(415, f"{content_type} is an unsupported media type.")


def _state(request: Request) -> OpenverseState:
    state: OpenverseState = request.app.state.openverse
    return state


async def health(request: Request) -> Response:
    """``HealthResource``: 200, or 503 naming the failing dependencies (``check_deps``)."""
    values = request.query_params.getlist("check_deps")  # falcon takes the last one
    value = values[-1] if values else ""
    if value not in _TRUE and value not in _FALSE and value:
        raise _Refusal(
            400,
            'The "check_deps" parameter is invalid. '
            'The value of the parameter must be "true" or "false".',
            "Invalid parameter",
        )
    messages = _state(request).dependency_messages() if value in _TRUE else {}
    if messages:
        return _respond({"status": "503 Service Unavailable", "dependencies": messages}, 503)
    return _respond({"status": "200 OK"})


async def stat(request: Request) -> Response:
    """``StatResource``: an index or alias."""
    try:
        return _respond(_state(request).stat(request.path_params["name"]))
    except LookupError:  # a wildcard matching nothing: IndexError in get_stat
        raise _Refusal(500) from None


async def tasks(request: Request) -> Response:
    """``TaskResource``: GET lists the tasks; POST (and HEAD, which Starlette sends to
    every GET route) schedules one."""
    if request.method == "GET":
        return json_response(_state(request).rendered_list())
    return await create_task(request)


async def create_task(request: Request) -> Response:
    """``TaskResource.on_post``: schedule a task; the answer says how it went so far."""
    state = _state(request)
    media = await _media(request)
    error = best_match(_VALIDATOR.iter_errors(media))
    if error is not None:
        raise _Refusal(400, error.message, "Request data failed validation")
    task = state.create_task(media)
    view = state.status(task.task_id)
    assert view is not None
    # Upstream looks at the task process 100 ms after starting it.
    if view["active"] or view["progress"] == 100:
        base = f"{request.url.scheme}://{request.url.netloc}"
        return _respond(
            {
                "message": SCHEDULED if view["active"] else COMPLETED,
                "task_id": task.task_id,
                "status_check": f"{base}/task/{task.task_id}",
            },
            202,
        )
    if view["is_bad_request"]:
        return _respond({"message": BAD_REQUEST}, 400)
    return _respond({"message": SERVER_ERROR}, 500)


async def task_status(request: Request) -> Response:
    """``TaskStatus``: one task."""
    task_id = request.path_params["task_id"]
    view = _state(request).status(task_id)
    if view is None:
        return _respond({"message": f"No task found with id {task_id}."}, 404)
    return _respond(view)


async def clear_state(request: Request) -> Response:
    """``StateResource.on_delete``: forget the registered indexer workers."""
    _state(request).clear_worker_state()
    return Response(b"", 200, media_type="application/json")


ROUTES = [
    Route("/", health, methods=["GET"]),
    Route("/stat/{name}", stat, methods=["GET"]),
    Route("/task", tasks, methods=["GET", "POST"]),
    Route("/task/{task_id}", task_status, methods=["GET"]),
    Route("/state", clear_state, methods=["DELETE"]),
]


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Refusal)
    return _respond(exc.body, exc.status)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _respond(falcon_error(404), 404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    """falcon's 405, with the methods the path's resource answers."""
    allow = next(
        (_ALLOWED[r.path] for r in ROUTES if r.matches(request.scope)[0] != Match.NONE), ""
    )
    return _respond(falcon_error(405), 405, {"allow": allow})


def create_app(config: OpenverseConfig | None = None) -> Starlette:
    """The emulator as an ASGI app; ``app.state.openverse`` is its state."""
    app = Starlette(
        routes=ROUTES,
        exception_handlers={_Refusal: _refused, 404: _not_found, 405: _not_allowed},
    )
    app.router.redirect_slashes = False  # falcon does not strip or add trailing slashes
    app.state.openverse = OpenverseState(config or OpenverseConfig())
    return with_recorder(app, lambda status, request_id: falcon_error(status))
