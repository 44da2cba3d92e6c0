"""Fill ``{{ name }}`` placeholders in SQL text (Jinja2, as provider docs write examples).

Jinja2's exceptions become ProgrammingError here, its one boundary: the SQL text is wrong.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlprovider.errors import ProgrammingError

if TYPE_CHECKING:
    import jinja2

# What a filter or an operation raises when given the wrong kind of value.
_VALUE_ERRORS = (TypeError, ValueError, ArithmeticError, LookupError)
_KINDS = {dict: "mapping", str: "text", list: "list", tuple: "list", int: "number"}
_FIX = "fix the {{ }} or {% %} part of the SQL"


class _Environ(dict[str, str]):
    """The environment as templates see it (``env.NAME``), told apart from other mappings
    so that a missing variable is reported as an environment variable."""


def render(sql: str, variables: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> str:
    """``sql`` with its placeholders filled; environment variables are ``{{ env.NAME }}``.

    Text without ``{{`` or ``{%`` is returned as it is, without loading Jinja2.

    Raises:
        ProgrammingError: for an undefined placeholder or environment variable (never
            rendered as empty text), a template syntax error, or an expression that fails
            on its values (a filter given the wrong type).
    """
    if "{{" not in sql and "{%" not in sql:
        return sql
    import jinja2

    context = {"env": _Environ(os.environ if environ is None else environ), **variables}
    try:
        return _environment().from_string(sql).render(context)
    except jinja2.UndefinedError as exc:
        raise ProgrammingError(
            exc.message or f"template error: a value is undefined; {_FIX}"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ProgrammingError(
            f"template error at line {exc.lineno}: {_text(exc.message)}; {_FIX}"
        ) from None
    except jinja2.TemplateError as exc:
        raise ProgrammingError(
            f"template error{_line(exc)}: {_text(exc.message)}; {_FIX}"
        ) from None
    except _VALUE_ERRORS as exc:
        raise ProgrammingError(
            f"template error{_line(exc)}: an expression failed ({_text(str(exc))}); check "
            "the filters and operations in {{ }} and the values given with --var"
        ) from None


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    class Undefined(jinja2.StrictUndefined):
        """Names what is missing as the SQL writes it (``env.NOPE``), not as Python sees
        it (``'dict object' has no attribute 'NOPE'``)."""

        __slots__ = ()

        @property
        def _undefined_message(self) -> str:
            return _missing_message(self._undefined_hint, self._undefined_obj, self._undefined_name)

    return jinja2.Environment(undefined=Undefined, autoescape=False)


def _missing_message(hint: str | None, owner: Any, name: Any) -> str:
    import jinja2.utils

    if hint:
        return f"template error: {hint}; {_FIX}"
    if isinstance(owner, _Environ):
        return (
            f"the SQL uses {{{{ env.{name} }}}} but the environment variable {name} is not "
            f"set; set it (export {name}=...)"
        )
    if owner is jinja2.utils.missing:
        return f"the SQL uses {{{{ {name} }}}} but no value was given; pass --var {name}=..."
    kind = _KINDS.get(type(owner), "value")
    return (
        f"the SQL asks for {name!r} of a {kind} that has none; check the {{{{ }}}} "
        "expressions and the values given with --var"
    )


def _text(message: str | None) -> str:
    return (message or "the template failed").rstrip(".")


def _line(exc: BaseException) -> str:
    """`` at line N``: where in the template ``exc`` was raised, if its traceback says."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" at line {line}" if isinstance(line, int) else ""
