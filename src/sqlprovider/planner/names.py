"""The names a statement gives a method's params: the one place they are resolved.

A param is named by its own name (``uuid``, ``knowledge_base_uuid``; a StackQL body field
under the default ``requestBodyTranslate`` is itself called ``data__<field>``). A body field
may also be written ``data__<field>``, whatever its own name: StackQL's reference pages write
``data__`` even for methods whose ``requestBodyTranslate`` is ``naive`` (body fields named by
their own names). The alias never shadows: a param, or a column, really called
``data__<field>`` is what that name means. A statement that gives one param twice, under
one spelling or both, is refused, naming the param.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlprovider.errors import ProgrammingError
from sqlprovider.model import Location, Method, Param, Resource, SqlVerb

BODY_PREFIX = "data__"


def param_for(method: Method, name: str) -> Param | None:
    """The param of ``method`` a binding name fills (case folded).

    The param of that name, else, for ``data__x``, the body field ``x`` (by its name on the
    wire or its own name).
    """
    folded = name.lower()
    own = next((p for p in method.params if p.name.lower() == folded), None)
    if own is not None or not folded.startswith(BODY_PREFIX):
        return own
    field = folded[len(BODY_PREFIX) :]
    return next(
        (
            p
            for p in method.params
            if p.location is Location.BODY and field in (p.wire_name.lower(), p.name.lower())
        ),
        None,
    )


def binding_names(method: Method) -> list[str]:
    """Every name a statement may bind for ``method`` (params and ``data__`` fields)."""
    names: dict[str, None] = {}
    for param in method.params:
        names.setdefault(param.name, None)
        if param.location is Location.BODY:
            names.setdefault(BODY_PREFIX + param.wire_name, None)
    return list(names)


def refuse_repeats(methods: Iterable[Method], names: Sequence[str], where: str) -> None:
    """Raise when two of ``names`` fill one param of a method (``name`` and ``data__name``,
    or one name twice): which value to send would be a guess.

    Raises:
        ProgrammingError: naming the param and how it was written.
    """
    for method in methods:
        seen: dict[str, str] = {}
        for name in names:
            param = param_for(method, name)
            if param is None:
                continue
            if param.name in seen:
                first = seen[param.name]
                written = f"as {first} and {name}" if first != name else f"twice as {name}"
                raise ProgrammingError(f"{where} gives {param.name} {written}; give it once")
            seen[param.name] = name


def body_alias(resource: Resource, name: str) -> str | None:
    """The SELECT param a column name ``data__x`` stands for in a read of ``resource``, when
    ``x`` is a body field of its SELECT methods and no column or param is called ``name``;
    else None."""
    folded = name.lower()
    if not folded.startswith(BODY_PREFIX):
        return None
    if any(c.name.lower() == folded for c in resource.columns):
        return None
    methods = resource.methods_for(SqlVerb.SELECT)
    if any(p.name.lower() == folded for m in methods for p in m.params):
        return None
    found = {
        p.name
        for m in methods
        if (p := param_for(m, name)) is not None and p.location is Location.BODY
    }
    return found.pop() if len(found) == 1 else None
