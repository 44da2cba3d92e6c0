"""FastAPI's request validation, as the Onyx server gets it from pydantic (lax mode): the
checks of every path, query and body field, with pydantic's error types and messages, and
Onyx's 422 answer that lists them (``{"status_code", "message", "data"}``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sqlprovider.emulators.kit import json_response
from sqlprovider.emulators.onyx.records import (
    ACCESS_TYPES,
    CC_PAIR_STATUSES,
    DOCS_COUNT_OPERATORS,
    DOCUMENT_SOURCES,
    INDEXING_STATUSES,
)

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


def check_bool(value: Any, loc: Loc, errors: Errors) -> Any:
    """pydantic's lax ``bool``: true/false words and 0/1 too."""
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


def check_int(
    value: Any, loc: Loc, errors: Errors, ge: int | None = None, le: int | None = None
) -> Any:
    """pydantic's lax ``int`` (integral floats and digit strings too), within ``ge``/``le``."""
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
    "secondary_index": (check_bool, False),
    "source": (_optional(_enum(DOCUMENT_SOURCES)), None),
    "access_type_filters": (_list(_enum(ACCESS_TYPES)), list),
    "last_status_filters": (_list(_enum(INDEXING_STATUSES)), list),
    "docs_count_operator": (_optional(_enum(DOCS_COUNT_OPERATORS)), None),
    "docs_count_value": (_optional(check_int), None),
    "name_filter": (_optional(_str), None),
    "source_to_page": (_dict(_enum(DOCUMENT_SOURCES), check_int), dict),
    "get_all_connectors": (check_bool, False),
}
CC_STATUS_UPDATE_REQUEST: dict[str, tuple[Check, Any]] = {
    "status": (_enum(CC_PAIR_STATUSES), _REQUIRED),
}
RUN_CONNECTOR_REQUEST: dict[str, tuple[Check, Any]] = {
    "connector_id": (check_int, _REQUIRED),
    "credential_ids": (_optional(_list(check_int)), None),
    "from_beginning": (check_bool, False),
}


def validation_error(errors: Errors) -> Response:
    """Onyx's handler: ``str(RequestValidationError)`` on one line.

    FastAPI appends the endpoint's source file and line to that text; those depend on the
    deployment, so the emulator leaves them out."""
    text = f"{len(errors)} validation error{'s' if len(errors) != 1 else ''}:\n"
    text += "".join(f"  {error}\n" for error in errors)
    message = text.rstrip().replace("\n", " ").replace("   ", " ")
    return json_response({"status_code": 422, "message": message, "data": None}, 422)


class Invalid(Exception):
    """The request's field errors: answered 422 by ``validation_error``."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(errors)
        self.errors = errors


async def json_body(request: Request) -> Any:
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
        raise Invalid([error]) from None


def body_model(fields: dict[str, tuple[Check, Any]], body: Any, errors: Errors) -> dict[str, Any]:
    """A required request body checked against a model's ``fields``."""
    if body is None:  # FastAPI reports a required body that is absent (or null) as missing
        errors.append(_error("missing", ("body",), "Field required", None))
        return {}
    return _model(fields, body, errors)


def query_param(request: Request, name: str, check: Check, default: Any, errors: Errors) -> Any:
    """A query parameter, checked; ``default`` when it is absent."""
    raw = request.query_params.get(name)
    return default if raw is None else check(raw, ("query", name), errors)


def path_int(request: Request, name: str, errors: Errors) -> Any:
    """An integer path parameter, checked."""
    return check_int(request.path_params[name], ("path", name), errors)
