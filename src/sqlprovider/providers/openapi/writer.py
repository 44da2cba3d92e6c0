"""The draft as provider YAML a person can read and edit: one line per column and param,
comments above what the importer guessed or could not express. Values are written by
``yaml.safe_dump`` (quoting whatever needs it); the layout is written here."""

from __future__ import annotations

import functools
import textwrap
from typing import Any

import yaml

from sqlprovider.providers.openapi.draft import (
    DraftMethod,
    DraftProvider,
    DraftResource,
)

_WIDTH = 100
HEADER = (
    "Review it before use. A comment that starts with 'guessed:' marks a choice made from "
    "names or prose; 'TODO:' marks what the spec leaves open or a provider cannot express. "
    "A read's params named like a column are marked filtering: loose (DuckDB filters the rows "
    "again, so the answer is right either way); make one exact where the API filters exactly, "
    "so LIMIT can stop fetching early."
)


def flow(value: Any) -> str:
    """``value`` as one line of YAML (a flow mapping or list, or a scalar quoted if needed)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return _scalar(value)


@functools.lru_cache(maxsize=4096, typed=True)
def _scalar(value: str | int | float | bool | None) -> str:
    """A scalar as PyYAML writes it inside a flow collection (quoted where it must be)."""
    text = yaml.safe_dump([value], default_flow_style=True, width=10**6, allow_unicode=True)
    return text.strip()[1:-1]


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, indent: int, text: str) -> None:
        pad = " " * indent
        for line in textwrap.wrap(
            text, _WIDTH - indent - 2, break_long_words=False, break_on_hyphens=False
        ) or [""]:
            self.lines.append(f"{pad}# {line}".rstrip())

    def comments(self, indent: int, texts: list[str]) -> None:
        for text in texts:
            self.comment(indent, text)

    def entry(self, indent: int, key: str, value: Any = None) -> None:
        pad = " " * indent
        if value is None:
            self.lines.append(f"{pad}{flow(key)}:")
        else:
            self.lines.append(f"{pad}{flow(key)}: {flow(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(draft: DraftProvider, source: str, version: str) -> str:
    """The provider file's text."""
    out = _Lines()
    out.comment(0, "Written by `sqlprovider providers import openapi` from")
    out.comment(0, f"{source} (OpenAPI {version}).")
    out.comment(0, HEADER)
    out.comments(0, draft.notes)
    out.entry(0, "name", draft.name)
    out.entry(0, "title", draft.title)
    if draft.description:
        out.entry(0, "description", draft.description)
    out.entry(0, "server")
    out.comments(2, draft.server_notes)
    out.entry(2, "url", draft.server["url"])
    if draft.server.get("variables"):
        out.entry(2, "variables")
        for name, spec in draft.server["variables"].items():
            out.entry(4, name, spec)
    out.entry(0, "auth")
    out.comments(2, draft.auth_notes)
    for key, value in draft.auth.items():
        out.entry(2, key, value)
    out.entry(0, "services")
    for service in draft.services.values():
        out.entry(2, service.name)
        out.entry(4, "resources")
        for resource in service.resources.values():
            _resource(out, resource)
    return out.text()


def _resource(out: _Lines, resource: DraftResource) -> None:
    out.entry(6, resource.name)
    out.comments(8, resource.notes)
    if resource.description:
        out.entry(8, "description", resource.description)
    if resource.key:
        out.entry(8, "key", resource.key)
    out.entry(8, "columns")
    for column in resource.columns:
        out.comments(10, column.notes)
        out.entry(10, column.name, column.as_yaml())
    out.entry(8, "methods")
    for method in resource.methods:
        _method(out, method)


def _method(out: _Lines, method: DraftMethod) -> None:
    out.comments(10, method.notes)
    out.lines.append(f"          - name: {flow(method.name)}")
    fields: list[tuple[str, Any]] = [
        ("sql_verb", method.sql_verb),
        ("http_verb", method.http_verb),
        ("path", method.path),
        ("records", method.records),
        ("id_field", method.id_field),
        ("empty_on", method.empty_on or None),
        ("max_rows", method.max_rows),
        ("description", method.description or None),
        ("pagination", method.pagination),
        ("window", method.window),
    ]
    for key, value in fields:
        if value is not None:
            out.entry(12, key, value)
    if method.requires:
        out.entry(12, "requires")
        for rule in method.requires:
            out.lines.append(f"              - {flow(rule)}")
    if method.params:
        out.entry(12, "params")
        for param in method.params:
            out.comments(14, param.notes)
            out.entry(14, param.name, param.as_yaml())
