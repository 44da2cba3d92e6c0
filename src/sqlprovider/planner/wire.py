"""SQL values as a param carries them on the wire: converted exactly, or not at all.

A value that cannot be sent exactly as the param's type (``5.5`` for an integer, a value
outside the param's enum, an empty or dot path segment) is never rounded or guessed: reads
keep such a condition for DuckDB alone, writes refuse it before anything is sent.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
from typing import Any

from sqlprovider.model import Location, Param

_CANONICAL_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT_INTS = 2**53  # integers a float holds exactly


class Unsendable(ValueError):
    """A value that cannot be sent as a param's type; the message says why."""


def to_wire(param: Param, value: Any) -> Any:
    """``value`` (a Python value of a SQL type) as ``param`` sends it.

    Raises:
        Unsendable: when no value of the param's type means exactly ``value``.
    """
    if value is None:
        raise Unsendable("NULL identifies nothing")
    wire = _converted(param, value)
    if param.enum is not None and wire not in param.enum:
        allowed = ", ".join(repr(v) for v in param.enum)
        raise Unsendable(f"the API takes only {allowed}")
    if param.location is Location.PATH and str(wire).strip() in ("", ".", ".."):
        raise Unsendable("an empty or dot value cannot name an object in a URL path")
    return wire


def _converted(param: Param, value: Any) -> Any:
    kind = param.type
    if kind == "string":
        return text_of(value)
    if kind == "integer":
        return _integer(value)
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise Unsendable("it is not a boolean")
    raise Unsendable(f"a {kind} is not given in WHERE")


def text_of(value: Any) -> str:
    """A value as text: ISO 8601 for times (UTC, ``Z``), ``true``/``false`` for booleans."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return iso_instant(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | decimal.Decimal):
        return str(value)
    raise Unsendable(f"a {type(value).__name__} value is not text")


def iso_instant(moment: datetime.datetime) -> str:
    """ISO 8601 without loss: UTC with ``Z`` for an instant, as written for a local time;
    milliseconds or microseconds only when the time has them."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
        suffix = "Z"
    else:
        suffix = ""
    text = moment.replace(microsecond=0).isoformat()  # zero-padded years, unlike strftime
    micros = moment.microsecond
    if micros:
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text + suffix


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise Unsendable("a boolean is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < _FLOAT_INTS:
        return int(value)
    if isinstance(value, decimal.Decimal) and value.is_finite() and value == value.to_integral():
        return int(value)
    if isinstance(value, str) and _CANONICAL_INT.match(value.strip()):
        return int(value)
    raise Unsendable("it is not a whole number")


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise Unsendable("a boolean is not a number")
    if isinstance(value, int | float | decimal.Decimal):
        try:
            number = float(value)
        except OverflowError:
            raise Unsendable("it is too large") from None
        if math.isfinite(number) and number == value:  # Python compares the two exactly
            return number
    raise Unsendable("it is not a number the API can take exactly")
