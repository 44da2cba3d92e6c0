"""Choosing a method, converting values to a param's type, and ordering dependent steps."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlprovider.errors import DataError, MissingParamsError, NotSupportedError
from sqlprovider.model import Method, Param, Resource, SqlVerb
from sqlprovider.plan import Fetch


def choose_method(
    resource: Resource,
    verb: SqlVerb,
    bound: Callable[[Method], set[str]],
    environ: Mapping[str, str],
) -> tuple[Method, str]:
    """The runnable method with the most required params; declared order breaks ties. A
    method that cuts its answer short (``max_rows``) is chosen only when no other can run:
    rows it leaves out would be missing from the answer. A resource that asks for the
    first match (StackQL's documents) gets its first runnable method in declared order.

    Args:
        resource: whose methods.
        verb: the SQL verb they must serve.
        bound: the names of the params the statement gives a method.
        environ: the session's environment (params with ``env`` read it).
    """
    candidates = resource.methods_for(verb)
    if not candidates:
        reason = resource.unsupported_reason(verb)
        if reason:
            raise NotSupportedError(f"{resource.qualified_name}: {reason}")
        raise NotSupportedError(f"{resource.qualified_name} has no method for {verb.value.upper()}")

    def given(method: Method, param: Param) -> bool:
        return param.name in bound(method) or param.fallback(environ) is not None

    runnable = [m for m in candidates if all(given(m, p) for p in m.required_params)]
    if not runnable:
        missing = {
            m.name: tuple(p.name for p in m.required_params if not given(m, p)) for m in candidates
        }
        alternatives: dict[str, str] = {}
        for m in candidates:
            for p in m.required_params:
                ways = [
                    f"{p.column} {op} '...'"
                    for op in p.operators
                    if op not in ("contains", "icontains")
                ]
                if ways:
                    alternatives.setdefault(p.name, "can also be given as " + " or ".join(ways))
                elif p.env:
                    alternatives.setdefault(p.name, f"can also be set in {p.env[0]}")
        raise MissingParamsError(resource.qualified_name, verb.value, missing, alternatives)
    if resource.first_match:
        best = runnable[0]
    else:
        best = max(
            runnable,
            key=lambda m: (m.max_rows is None, len(m.required_params), -candidates.index(m)),
        )
    required = [p.name for p in best.required_params]
    reason = f"binds {', '.join(required)}" if required else "needs no params (lists everything)"
    return best, reason


def coerce_param(param: Param, value: Any, where: str) -> Any:
    """``value`` converted to the param's declared type, checked against its enum.

    Raises:
        DataError: naming the param, the value and what it accepts.
    """
    try:
        if param.type == "integer":
            converted: Any = int(value) if not isinstance(value, bool) else None
            if converted is None:
                raise ValueError
        elif param.type == "number":
            converted = float(value)
        elif param.type == "boolean":
            if isinstance(value, bool):
                converted = value
            elif str(value).lower() in ("true", "false", "1", "0"):
                converted = str(value).lower() in ("true", "1")
            else:
                raise ValueError
        else:
            converted = value if isinstance(value, str) else str(value)
    except (TypeError, ValueError):
        raise DataError(
            f"{where}: param {param.name} takes {param.type} values, not {value!r}"
        ) from None
    if param.enum is not None and converted not in param.enum:
        allowed = ", ".join(repr(v) for v in param.enum)
        raise DataError(f"{where}: param {param.name} must be one of {allowed}, not {value!r}")
    return converted


def dependency_order(fetches: list[Fetch]) -> list[Fetch]:
    """Fetches ordered so each comes after the tables its values are read from."""
    by_table = {f.table: f for f in fetches}
    ordered: list[Fetch] = []
    state: dict[str, str] = {}

    def visit(fetch: Fetch, chain: list[str]) -> None:
        if state.get(fetch.table) == "done":
            return
        if state.get(fetch.table) == "active":
            names = " → ".join(by_table[t].resource.qualified_name for t in [*chain, fetch.table])
            raise NotSupportedError(
                f"the tables depend on each other in a cycle ({names}); bind one of them "
                "with a constant in WHERE"
            )
        state[fetch.table] = "active"
        for dep in fetch.depends_on:
            if dep in by_table:
                visit(by_table[dep], [*chain, fetch.table])
        state[fetch.table] = "done"
        ordered.append(fetch)

    for fetch in fetches:
        visit(fetch, [])
    return ordered


def product_of_bindings(values: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """One binding set per request: the cartesian product of each param's values."""
    names = list(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]


def environment_values(
    method: Method, given: Iterable[str], environ: Mapping[str, str]
) -> tuple[tuple[str, Any], ...]:
    """The params of ``method`` the statement does not give that take an environment
    variable's value, with that value (read once, when planning)."""
    names = set(given)
    found = []
    for param in method.params:
        if param.name in names or not param.env:
            continue
        value = next((environ[n] for n in param.env if environ.get(n)), None)
        if value is not None:
            found.append((param.name, value))
    return tuple(found)
