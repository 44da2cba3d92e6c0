"""Which statements need a yes before they are sent: deletes, and destructive writes.

A statement is risky when it is a ``DELETE``, when its planned write method deletes or
overwrites data, or when the method is destructive only for some values
(``destructive_when``) and the values it would send hold one of them, or cannot be known
without running anything (they come from a provider table). Nothing here sends a request:
literal values are computed by the local DuckDB from the plan's values query.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlprovider.model import Location, Method
from sqlprovider.planner.names import param_for
from sqlprovider.shell.scanner import mask

if TYPE_CHECKING:
    from sqlprovider.plan import Plan
    from sqlprovider.session import Session

RAW_BODY = "@@json"


def risk(session: Session, plan: Plan) -> str | None:
    """Why ``plan`` must be confirmed before it runs, or None when it is safe."""
    mutation = plan.mutation
    if mutation is not None:
        method = mutation.method
        target = f"sends {method.name} ({method.http_verb}) to {mutation.resource.qualified_name}"
        if method.destructive:
            return f"{target}, which deletes or overwrites data"
        if method.destructive_when:
            rule = _rule(method)
            rows = None if plan.fetches else _rows(session, mutation.values_sql)
            if rows is None:
                return f"{target}, which deletes data when {rule}; the values are not known yet"
            for row in rows:
                values = _param_values(method, row)
                if values is None:
                    return f"{target}, which deletes data when {rule}; the body is not readable"
                if method.destructive_for(values):
                    return f"{target} with {rule}, which deletes data"
    if _first_word(plan.statement) == "DELETE":
        return "deletes rows"
    return None


def _rule(method: Method) -> str:
    """``action = DELETE_INDEX``: the values that make the method destructive."""
    return " or ".join(
        f"{name} = {values[0]}"
        if len(values) == 1
        else f"{name} in ({', '.join(map(str, values))})"
        for name, values in method.destructive_when
    )


def _first_word(statement: str) -> str:
    words = mask(statement).text.split()
    return words[0].upper() if words else ""


def _rows(session: Session, values_sql: str) -> list[dict[str, Any]] | None:
    """The rows the write would send, when the local DuckDB can compute them; else None."""
    try:
        return session.store.query_rows(values_sql)
    except Exception:  # whatever the reason, unknown values are treated as risky
        return None


def _param_values(method: Method, row: dict[str, Any]) -> dict[str, Any] | None:
    """A values-query row as param name → value (body fields and raw JSON included);
    None when a raw JSON body is not a readable object."""
    values: dict[str, Any] = {}
    by_wire = {p.wire_name: p.name for p in method.params if p.location is Location.BODY}
    for name, value in row.items():
        if name == RAW_BODY:
            body = _json_object(value)
            if body is None:
                return None
            values.update({by_wire.get(k, k): v for k, v in body.items()})
        else:  # the write planner's own rule: a param of that name first, then data__ fields
            param = param_for(method, name)
            values[param.name if param is not None else name] = value
    return values


def _json_object(value: Any) -> dict[str, Any] | None:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if isinstance(value, str | bytes) else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
