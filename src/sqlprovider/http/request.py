"""Turn a method and bound values into a request description (plain, inspectable data)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from sqlprovider.errors import DataError, InterfaceError
from sqlprovider.model import Location, Method, Provider, SqlVerb

_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?$")
_PATH_VARIABLE = re.compile(r"{([^{}/]+)}")
# A range needing more slices than this is almost surely a typo (year 1 to 9999), and would
# take hours of requests; the user narrows it instead.
MAX_WINDOW_REQUESTS = 10_000
_CONTROL_NAMES = {"\r": "a line break (CR)", "\n": "a line break (LF)", "\x00": "a NUL character"}


@dataclass(frozen=True)
class RequestSpec:
    """One HTTP request, before auth is added. What dry runs print and traces log."""

    http_verb: str
    url: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    json: Any = None
    has_body: bool = False
    bindings: Mapping[str, Any] = field(default_factory=dict)
    idempotent: bool = False  # safe to send twice even if the verb is POST or PATCH

    def full_url(self) -> str:
        """The URL with its query string."""
        return self.url + ("?" + urlencode(self.query) if self.query else "")

    def with_query(self, **values: Any) -> RequestSpec:
        """A copy with query params set (replacing any of the same name)."""
        kept = [(k, v) for k, v in self.query if k not in values]
        kept.extend((k, _wire_text(v)) for k, v in values.items())
        return dataclasses.replace(self, query=tuple(kept))

    def with_url(self, url: str) -> RequestSpec:
        """A copy for another URL that carries its own query string (next-page links)."""
        return dataclasses.replace(self, url=url, query=())

    def describe(self, auth_headers: Mapping[str, str] | None = None) -> str:
        """A readable, secret-free account of the request."""
        lines = [f"{self.http_verb} {self.full_url()}"]
        for name, value in [*(auth_headers or {}).items(), *self.headers]:
            lines.append(f"  {name}: {value}")
        if self.has_body:
            lines.append("  body: " + json.dumps(self.json, sort_keys=True, default=str))
        return "\n".join(lines)


def _wire_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _url_text(name: str, value: Any) -> str:
    """A value as text for the URL, which carries it as UTF-8: a lone surrogate (half of a
    pair, left by a bad decode) cannot be encoded, so it is refused naming the param."""
    text = _wire_text(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DataError(
            f"param {name} holds {text[exc.start]!r} at position {exc.start + 1}, which is "
            "not valid text (half of a surrogate pair); check the value"
        ) from None
    return text


def _path_segment(name: str, value: Any) -> str:
    """A value as one path segment: ``/``, ``?`` and ``#`` are escaped, and so are the dot
    segments ``.`` and ``..``, which URL normalisation would otherwise resolve."""
    text = quote(_url_text(name, value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text


def split_window(method: Method, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``values`` once per slice of the method's window: a range longer than the API
    serves becomes consecutive slices (start inclusive, end exclusive), in order.

    Values that are not dates or date-times are left for the API to judge.

    Raises:
        DataError: the range needs more than ``MAX_WINDOW_REQUESTS`` slices, or reaches
            beyond the dates Python can compute with (years 1 to 9999, UTC).
    """
    window = method.window
    if window is None:
        return [dict(values)]
    start, end = _instant(values.get(window.start)), _instant(values.get(window.end))
    if start is None or end is None or (end - start).total_seconds() <= window.max_seconds:
        return [dict(values)]
    count = math.ceil((end - start).total_seconds() / window.max_seconds)
    if count > MAX_WINDOW_REQUESTS:
        raise DataError(
            f"{_range_text(method, values)} would take {count:,} requests of at most "
            f"{_span(window.max_seconds)} each, more than the {MAX_WINDOW_REQUESTS:,} "
            f"sqlprovider sends for one range; narrow the range{_range_fix(method)}"
        )
    step = timedelta(seconds=window.max_seconds)
    slices = []
    try:
        # In UTC the last stop is ``end`` itself, so no step runs past the calendar.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        while start < end:
            stop = start + step if end - start > step else end
            slices.append({**values, window.start: _iso(start), window.end: _iso(stop)})
            start = stop
    except OverflowError:
        raise DataError(
            f"{_range_text(method, values)} reaches beyond the dates sqlprovider can compute "
            f"with (years 1 to 9999, UTC); narrow the range{_range_fix(method)}"
        ) from None
    return slices


def _range_text(method: Method, values: Mapping[str, Any]) -> str:
    window = method.window
    assert window is not None
    return (
        f"{method.name}: the range {window.start} = {values.get(window.start)!r} to "
        f"{window.end} = {values.get(window.end)!r}"
    )


def _range_fix(method: Method) -> str:
    """How the statement sets the range, when a column binds it (``started_at >= ...``)."""
    window = method.window
    assert window is not None
    first, last = method.param(window.start), method.param(window.end)
    if first is None or last is None or not first.column or first.column != last.column:
        return ""
    return f" (WHERE {first.column} >= '...' AND {first.column} < '...')"


def _span(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}" + ("s" if n != 1 else "")
    return f"{seconds:g} seconds"


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    # isoformat, not strftime: strftime writes year 1 as "1", not "0001"
    text = moment.replace(tzinfo=None, microsecond=0).isoformat()
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def base_url_for(
    provider: Provider,
    override: str | None = None,
    variables: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The provider's base URL: the user's override, else its server template filled in.

    Override order: ``override`` argument, then ``SQLPROVIDER_<NAME>_URL``.
    """
    env = os.environ if environ is None else environ
    chosen = override or env.get(f"SQLPROVIDER_{provider.name.upper()}_URL")
    if chosen:
        if not re.match(r"^https?://[^\s/?#]+", chosen):
            raise InterfaceError(
                f"server for {provider.name} must be an http(s) URL like "
                f"http://127.0.0.1:8080, not {chosen!r}"
            )
        return chosen.rstrip("/")
    url = provider.server.url
    for var in provider.server.variables:
        value = (variables or {}).get(var.name)
        if value is None:
            value = next((env[n] for n in var.env if env.get(n)), None) or var.default
        if value is None:
            names = " or ".join(var.env) or f"SQLPROVIDER_{provider.name.upper()}_URL"
            raise InterfaceError(
                f"{provider.name} needs the server variable {var.name}: set {names}"
            )
        if not _HOST_LABEL.match(value):
            raise DataError(f"{provider.name}: {var.name} must be a host name label, not {value!r}")
        url = url.replace("{" + var.name + "}", value)
    return url


def build_request(
    method: Method,
    base_url: str,
    values: Mapping[str, Any],
    raw_body: Mapping[str, Any] | None = None,
) -> RequestSpec:
    """The request ``method`` makes with the given param values.

    Path values are percent-encoded as one segment, so ``../x`` or ``a/b?c`` cannot change
    the path; header values that are not plain ASCII text are refused. A param the statement
    does not bind takes its default, else is left out (environment values come in ``values``:
    the planner reads them from the session's environment).
    The body starts from the method's fixed ``body``, then ``raw_body`` (``@@json``), then
    the body params; with none of these, the method's ``default_body`` is sent.
    A method with a server of its own is sent there (``base_url``, when the user named a
    server, replaces that server's scheme, host and port).
    """
    path = method.path
    query: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = list(method.headers)
    body: dict[str, Any] = {**dict(method.body), **(raw_body or {})}
    server = server_url(method, base_url)
    given_body = False
    for param in method.params:
        value = values.get(param.name, param.default)
        if value is None:
            continue
        if param.location is Location.PATH:
            path = path.replace("{" + param.wire_name + "}", _path_segment(param.name, value))
        elif param.location is Location.QUERY:
            items = value if isinstance(value, list | tuple) else [value]
            query.extend((param.wire_name, _url_text(param.name, v)) for v in items)
        elif param.location is Location.HEADER:
            headers.append((param.wire_name, _header_text(param.name, value)))
        elif param.location is Location.BODY:
            _set_nested(body, (*param.nest, param.wire_name), value)
            given_body = True
        elif param.location is Location.SERVER:
            server = _fill_server(server, param.wire_name, param.name, value)
    if not given_body and raw_body is None and not body and method.default_body:
        body = dict(method.default_body)
    has_body = bool(body) or raw_body is not None or bool(method.body)
    unfilled = _PATH_VARIABLE.search(server)
    if unfilled:
        raise DataError(
            f"{method.name}: the server variable {unfilled.group(1)} has no value; give it in "
            f"WHERE ({unfilled.group(1)} = '...')"
        )
    return RequestSpec(
        http_verb=method.http_verb,
        url=server + path,
        query=tuple(query),
        headers=tuple(headers),
        json=body if has_body else None,
        has_body=has_body,
        bindings=dict(values),
        # A read changes nothing, so it may be sent again whatever its verb (Onyx reads by POST).
        idempotent=method.idempotent or method.sql_verb is SqlVerb.SELECT,
    )


def server_url(method: Method, base_url: str) -> str:
    """Where ``method``'s paths go: ``base_url``, or the method's own server with the scheme,
    host and port of ``base_url`` when the user named one."""
    if method.server is None:
        return base_url
    url = method.server.url.rstrip("/")
    if not base_url:
        return url
    given, own = urlsplit(base_url), urlsplit(url)
    return urlunsplit((given.scheme, given.netloc, own.path.rstrip("/"), "", ""))


def _fill_server(url: str, variable: str, name: str, value: Any) -> str:
    """``url`` with ``{variable}`` replaced: a host name label in the host (so a value never
    sends requests, and their credentials, to another host), one path segment in the path,
    http or https in the scheme."""
    placeholder = "{" + variable + "}"
    if placeholder not in url:
        return url
    text = _url_text(name, value)
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    host, slash, tail = rest.partition("/")
    if placeholder in scheme:
        if text not in ("http", "https"):
            raise DataError(f"{name} must be http or https, not {text!r}")
        scheme = scheme.replace(placeholder, text)
    if placeholder in host:
        if not _HOST_LABEL.match(text):
            raise DataError(f"{name} must be a host name label, not {text!r}")
        host = host.replace(placeholder, text)
    tail = tail.replace(placeholder, quote(text, safe=""))
    return f"{scheme}{sep}{host}{slash}{tail}"


def _set_nested(body: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    """``body[k1][k2]... = value``, making the objects on the way."""
    node = body
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def _header_text(name: str, value: Any) -> str:
    """A header param's value as sent. A control character is refused (a line break would
    start a new header, and HTTP clients reject the others when sending), and so is
    non-ASCII text, which HTTP clients cannot encode in a header."""
    text = _wire_text(value)
    if text.isascii() and text.isprintable():
        return text
    for at, char in enumerate(text, 1):
        if not char.isascii():
            raise DataError(
                f"header param {name} holds {char!r} at position {at}, which is not ASCII; "
                "header values must be ASCII text, check the value"
            )
        if not char.isprintable():
            what = _CONTROL_NAMES.get(char, f"the control character {char!r}")
            raise DataError(
                f"header param {name} holds {what} at position {at}; header values must be "
                "ASCII text without control characters, give the value without it"
            )
    return text  # pragma: no cover - isascii/isprintable failed, so a character did
