"""Fill ``{{ name }}`` placeholders in SQL text (Jinja2, as provider docs write examples)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlprovider.errors import ProgrammingError


def render(sql: str, variables: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> str:
    """``sql`` with its placeholders filled; environment variables are ``{{ env.NAME }}``.

    Text without ``{{`` or ``{%`` is returned as it is, without loading Jinja2.

    Raises:
        ProgrammingError: for an undefined placeholder (never rendered as empty text) or a
            template syntax error.
    """
    if "{{" not in sql and "{%" not in sql:
        return sql
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    context = {"env": dict(os.environ if environ is None else environ), **variables}
    try:
        return env.from_string(sql).render(context)
    except jinja2.UndefinedError as exc:
        name = str(exc.message or "").split("'")[1] if "'" in str(exc.message) else "?"
        raise ProgrammingError(
            f"the SQL uses {{{{ {name} }}}} but no value was given; pass --var {name}=..."
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ProgrammingError(f"template error at line {exc.lineno}: {exc.message}") from None
