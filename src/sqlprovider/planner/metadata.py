"""SHOW, DESCRIBE and EXPLAIN: answers about providers and plans, as ordinary result sets.

Every answer is made from the provider definitions or the plan alone; none sends a request.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlprovider.errors import NotSupportedError, UnknownNameError
from sqlprovider.model import Location, Param, Resource, Service, SqlVerb, param_columns
from sqlprovider.plan import Answer, Plan
from sqlprovider.providers.registry import Registry, suggest
from sqlprovider.sql import MetaCall, MetaKind

Planner = Callable[[str], list[Plan]]


def answer(call: MetaCall, registry: Registry, plan_all: Planner, text: str) -> Plan:
    """The plan of a metadata statement: its rows, or DuckDB's own statement as written
    (``DESCRIBE memory.main.t``, or ``EXPLAIN`` of a statement that reads no provider)."""
    if call.kind is MetaKind.EXPLAIN:
        plans = plan_all(call.inner)
        if all(not p.fetches and p.mutation is None and p.answer is None for p in plans):
            return Plan(statement=text, fetches=(), query=text)
        if call.analyze:
            return _analyzed(plans, text)
        lines = [line for p in plans for line in _explain_lines(p)]
        return _plan(text, ("plan",), [(line,) for line in lines])
    if call.kind is MetaKind.DESCRIBE:
        if not registry.has(call.target[0]):
            return Plan(statement=text, fetches=(), query=text)
        resource = registry.resource(*call.target)
        return _describe(text, resource, call.extended)
    columns, rows = _show(call, registry)
    if call.like is not None:
        pattern = _like(call.like)
        rows = [row for row in rows if pattern.match(str(row[0]))]
    return _plan(text, columns, rows)


def _analyzed(plans: list[Plan], text: str) -> Plan:
    """EXPLAIN ANALYZE runs one query and reports its plan with what it cost."""
    if len(plans) != 1 or plans[0].mutation is not None or not plans[0].returns_rows:
        raise NotSupportedError(
            "EXPLAIN ANALYZE runs the statement, so it takes one query; to see what a write "
            "would send without sending it, use a dry run (exec --dry-run)"
        )
    return dataclasses.replace(plans[0], statement=text, analyze=True)


def _plan(text: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> Plan:
    kept = tuple(rows)
    types = tuple(_type_of(kept, i) for i in range(len(columns)))
    return Plan(statement=text, fetches=(), query="", answer=Answer(columns, types, kept))


def _type_of(rows: tuple[tuple[Any, ...], ...], index: int) -> str:
    values = [row[index] for row in rows if row[index] is not None]
    if values and all(isinstance(v, bool) for v in values):
        return "BOOLEAN"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "BIGINT"
    return "VARCHAR"


def _explain_lines(plan: Plan) -> list[str]:
    if plan.answer is not None:
        return [f"answer {', '.join(plan.answer.columns)} from the provider definitions"]
    return plan.explain().splitlines()


def _show(call: MetaCall, registry: Registry) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    rows: list[tuple[Any, ...]] = []
    if call.kind is MetaKind.PROVIDERS:
        for name in registry.names():
            provider = registry.get(name)
            rows.append(
                (
                    name,
                    provider.title,
                    _count(provider.services.values()),
                    provider.description,
                    provider.origin,
                    provider.version or None,
                )
            )
        return ("provider", "title", "resources", "description", "source", "version"), rows
    provider = registry.get(call.target[0])
    if call.kind is MetaKind.SERVICES:
        return ("service", "resources", "description"), [
            (s.name, _count([s]), s.description or s.title) for s in provider.services.values()
        ]
    if call.kind is MetaKind.RESOURCES:
        service = provider.services.get(call.target[1])
        if service is None:
            names = list(provider.services)
            raise UnknownNameError(
                "service",
                ".".join(call.target),
                [f"{provider.name}.{n}" for n in suggest(call.target[1], names)],
            )
        return ("resource", "verbs", "description"), [
            (r.name, _verbs(r), r.description) for r in service.resources.values()
        ]
    resource = registry.resource(*call.target)
    rows += [
        (
            m.name,
            m.sql_verb.value.upper(),
            ", ".join(p.name for p in m.params if p.required),
            ", ".join(p.name for p in m.params if not p.required),
            m.http_verb,
            m.path,
            f"not usable: {m.unsupported}" if m.unsupported else m.description,
        )
        for m in resource.methods
    ]
    columns = ("method", "sql_verb", "required_params", "optional_params", "http_verb", "path")
    return (*columns, "description"), rows


def _count(services: Iterable[Service]) -> int | None:
    """How many resources the services have; NULL for a registry's services, whose
    documents are read only when a statement names them."""
    chosen = list(services)
    if any(s.lazy for s in chosen):
        return None
    return sum(len(s.resources) for s in chosen)


def _verbs(resource: Resource) -> str:
    verbs = dict.fromkeys(m.sql_verb.value.upper() for m in resource.methods)
    return ", ".join(verbs)


def _describe(text: str, resource: Resource, extended: bool) -> Plan:
    rows: list[tuple[Any, ...]] = []
    record = [(c.name, c.duckdb_type, c.description) for c in resource.columns]
    params = [(c.name, c.duckdb_type, c.description) for c in param_columns(resource)]
    for name, kind, description in record + params:
        row: tuple[Any, ...] = (name, kind, description)
        if extended:
            row += (_filters(resource, name),)
        rows.append(row)
    columns = ("column", "type", "description")
    return _plan(text, (*columns, "filters") if extended else columns, rows)


def _filters(resource: Resource, column: str) -> str:
    """How conditions on ``column`` reach the API, method by method."""
    found = []
    for method in resource.methods_for(SqlVerb.SELECT):
        for param in method.params:
            how = _binding(param, column)
            if how:
                found.append(f"{how} → {_where(param)} of {method.name}")
    return "; ".join(found) or "evaluated by DuckDB only"


def _binding(param: Param, column: str) -> str:
    if param.name == column:
        how = "one request, a list" if param.many else "a request per value"
        return f"= or IN ({how}), {param.filtering.value}"
    if param.column == column:
        ops = ", ".join(param.operators)
        return f"{ops} → {param.name}, {param.filtering.value}"
    return ""


def _where(param: Param) -> str:
    place = param.location.value
    if param.location is not Location.PATH and param.wire_name != param.name:
        place += f" {param.wire_name}"
    return place + (" (required)" if param.required else "")


def _like(pattern: str) -> re.Pattern[str]:
    """A SQL LIKE pattern as a regular expression (``%`` any run, ``_`` one character)."""
    parts = ["^"]
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("".join(parts) + "$", re.S)
