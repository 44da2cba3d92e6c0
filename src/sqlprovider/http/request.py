"""Turn a method and bound values into a request description (plain, inspectable data)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from sqlprovider.errors import DataError, InterfaceError
from sqlprovider.model import Location, Method, Provider, SqlVerb

_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?$")


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


def _path_segment(value: Any) -> str:
    """A value as one path segment: ``/``, ``?`` and ``#`` are escaped, and so are the dot
    segments ``.`` and ``..``, which URL normalisation would otherwise resolve."""
    text = quote(_wire_text(value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text


def split_window(method: Method, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``values`` once per slice of the method's window: a range longer than the API
    serves becomes consecutive slices (start inclusive, end exclusive), in order.

    Values that are not dates or date-times are left for the API to judge."""
    window = method.window
    if window is None:
        return [dict(values)]
    start, end = _instant(values.get(window.start)), _instant(values.get(window.end))
    if start is None or end is None or (end - start).total_seconds() <= window.max_seconds:
        return [dict(values)]
    step = timedelta(seconds=window.max_seconds)
    slices = []
    while start < end:
        stop = min(start + step, end)
        slices.append({**values, window.start: _iso(start), window.end: _iso(stop)})
        start = stop
    return slices


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
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
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
    the path; header values with line breaks are refused. A param the statement does not
    bind takes its environment variable's value or its default, else is left out. The body
    starts from the method's fixed ``body``, then ``raw_body`` (``@@json``), then the body
    params.
    """
    path = method.path
    query: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    body: dict[str, Any] = {**dict(method.body), **(raw_body or {})}
    for param in method.params:
        value = values[param.name] if param.name in values else param.fallback()
        if value is None:
            continue
        if param.location is Location.PATH:
            path = path.replace("{" + param.wire_name + "}", _path_segment(value))
        elif param.location is Location.QUERY:
            items = value if isinstance(value, list | tuple) else [value]
            query.extend((param.wire_name, _wire_text(v)) for v in items)
        elif param.location is Location.HEADER:
            text = _wire_text(value)
            if "\r" in text or "\n" in text:
                raise DataError(f"header param {param.name} cannot contain a line break")
            headers.append((param.wire_name, text))
        elif param.location is Location.BODY:
            body[param.wire_name] = value
    return RequestSpec(
        http_verb=method.http_verb,
        url=base_url + path,
        query=tuple(query),
        headers=tuple(headers),
        json=body if body or raw_body is not None or method.body else None,
        has_body=bool(body) or raw_body is not None or bool(method.body),
        bindings=dict(values),
        # A read changes nothing, so it may be sent again whatever its verb (Onyx reads by POST).
        idempotent=method.idempotent or method.sql_verb is SqlVerb.SELECT,
    )
