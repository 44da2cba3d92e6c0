"""Markdown reference pages for providers: ``sqlprovider docs [--provider p] --out DIR``.

Writes ``DIR/index.md`` (the providers), ``DIR/<provider>/index.md`` (server, auth, services
and resources) and one page per resource, ``DIR/<provider>/<service>/<resource>.md``: its
columns, the filters sent to the API, its methods and a runnable example per method, with
``{{ placeholders }}`` for the values (``sqlprovider exec --var name=value`` fills them).

The output depends only on the provider definitions (no timestamps, no absolute paths), so a
test can compare a fresh generation with the committed copy in docs/providers/.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from sqlprovider.errors import ProviderError
from sqlprovider.model import (
    COLUMN_TYPES,
    Filtering,
    Location,
    Method,
    PaginationKind,
    Param,
    Provider,
    Resource,
    RetryPolicy,
    Service,
    SqlVerb,
    param_columns,
)
from sqlprovider.providers import Registry

VERB_ORDER = tuple(map(SqlVerb, ("select", "insert", "replace", "update", "delete", "exec")))
BODY_PREFIX = "data__"  # as the write planner reads it

# DuckDB's reserved keywords (duckdb_keywords() WHERE keyword_category = 'reserved'):
# a column with one of these names is written quoted in the examples.
_RESERVED_WORDS = """
    all analyse analyze and any array as asc asymmetric both case cast check collate column
    constraint create default deferrable desc describe distinct do else end except false fetch
    for foreign from group having in initially intersect into lambda lateral leading limit not
    null offset on only or order pivot pivot_longer pivot_wider placing primary qualify
    references returning select show some summarize symmetric table then to trailing true union
    unique unpivot using variadic when where window with"""
RESERVED = frozenset(_RESERVED_WORDS.split())
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_ENV: jinja2.Environment | None = None


def write_docs(
    out: Path, provider: str | None = None, *, registry: Registry | None = None
) -> list[Path]:
    """Write the reference pages of every provider (or only ``provider``) under ``out``.

    ``out/index.md`` always lists every provider. Existing files are overwritten; pages of
    resources that no longer exist are left alone. Returns the files written, in a stable
    order. Raises UnknownNameError for an unknown provider, ProviderError for a broken one.
    """
    written = []
    for relative, text in render_docs(provider, registry=registry).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def render_docs(provider: str | None = None, *, registry: Registry | None = None) -> dict[str, str]:
    """Relative path (``/``-separated) → page text, for every page ``write_docs`` writes."""
    registry = registry or Registry()
    if provider is not None:
        registry.get(provider)  # raises UnknownNameError with the closest names
    providers = [registry.get(name) for name in registry.names()]
    counts = {p.name: sum(len(s.resources) for s in readable(p).values()) for p in providers}
    pages = {"index.md": _render("index.md.j2", providers=providers, counts=counts)}
    for prov in providers:
        if provider is not None and prov.name != provider:
            continue
        pages[f"{prov.name}/index.md"] = render_provider(prov)
        services = readable(prov)
        for service_name in sorted(services):
            service = services[service_name]
            for name in sorted(service.resources):
                resource = service.resources[name]
                pages[f"{prov.name}/{service_name}/{name}.md"] = render_resource(prov, resource)
    return pages


def render_provider(provider: Provider) -> str:
    """The provider's overview page."""
    return _render(
        "provider.md.j2",
        provider=provider,
        services=readable(provider),
        source=_source(provider),
        settings=_settings(provider),
    )


def readable(provider: Provider) -> dict[str, Service]:
    """The services whose resources can be read (a registry may list a service whose
    document it does not ship: it has no pages)."""
    found = {}
    for name, service in provider.services.items():
        try:
            list(service.resources)
        except ProviderError:
            continue
        found[name] = service
    return found


def render_resource(provider: Provider, resource: Resource) -> str:
    """The page of one resource."""
    service = provider.services[resource.service]
    overview = [
        ("Name", f"`{resource.name}`"),
        ("Type", "Resource"),
        ("Id", f"`{resource.qualified_name}`"),
        ("Provider", f"[{_cell(provider.title or provider.name)}](../index.md)"),
        ("Service", f"`{service.name}`: {_cell(service.description)}".rstrip(": ")),
        ("SQL verbs", ", ".join(f"`{v.value.upper()}`" for v in _verbs(resource))),
    ]
    if resource.key:
        overview.append(("Key", ", ".join(f"`{k}`" for k in resource.key)))
    params = param_columns(resource)
    columns = [
        [f"`{c.name}`", f"`{c.type}` ({COLUMN_TYPES[c.type]})", _cell(c.description)]
        for c in (*resource.columns, *params)
    ]
    for row in columns[len(resource.columns) :]:
        row[2] = f"Param: {row[2]}"
    methods = sorted(resource.methods, key=lambda m: VERB_ORDER.index(m.sql_verb))
    sections = []
    for verb in VERB_ORDER:
        examples = [
            _example(resource, m) for m in methods if m.sql_verb is verb and not m.unsupported
        ]
        if examples:
            sections.append({"verb": verb.value.upper(), "examples": examples})
    return _render(
        "resource.md.j2",
        qualified=resource.qualified_name,
        source=_source(provider),
        description=resource.description,
        overview=overview,
        columns=columns,
        filters=_filter_rows(resource),
        has_select=bool(resource.methods_for(SqlVerb.SELECT)),
        methods=[_method_row(m) for m in methods],
        notes=[(m.name, notes) for m in methods if (notes := _notes(m))],
        write_params=[
            _write_param_row(m, p)
            for m in methods
            if m.sql_verb is not SqlVerb.SELECT and not m.unsupported
            for p in m.params
        ],
        sections=sections,
    )


# -- provider page --------------------------------------------------------------------------


def _settings(provider: Provider) -> list[tuple[str, str]]:
    server = f"`{provider.server.url}`" if provider.server.url else "each method's own"
    settings = [
        ("Server", server),
        ("Server override", f"`SQLPROVIDER_{provider.name.upper()}_URL`"),
    ]
    for var in provider.server.variables:
        parts = [f"Read from {_codes(var.env)}." if var.env else ""]
        parts.append(f"Default `{var.default}`." if var.default is not None else "")
        parts.append(var.description)
        settings.append((f"Server variable `{var.name}`", _cell(" ".join(p for p in parts if p))))
    auth = provider.auth
    if auth.type == "none":
        settings.append(("Auth", "none"))
    else:
        where = f" in header `{auth.header}`" if auth.type == "api_key" else ""
        text = f"`{auth.type}`{where}, from {_codes(auth.env)} (the first one set)"
        if auth.username_env:
            text += f"; user name from {_codes(auth.username_env)}"
        settings.append(("Auth", text))
    settings.append(("Concurrency", f"{provider.concurrency} requests at once"))
    if provider.rate_limit is not None:
        limit = provider.rate_limit
        settings.append(
            ("Rate limit", f"{limit.per_second:g} requests per second, bursts of {limit.burst}")
        )
    retry = provider.retry
    if retry != RetryPolicy():
        text = (
            f"up to {retry.max_attempts} attempts on {', '.join(map(str, retry.statuses))} "
            f"and network errors, backoff from {retry.base_delay:g} s, waits at most "
            f"{retry.max_delay:g} s on its own"
        )
        if retry.remaining_header and retry.reset_header:
            text += f"; when `{retry.remaining_header}` reads 0, waits until `{retry.reset_header}`"
        settings.append(("Retry", text))
    return settings


# -- resource page --------------------------------------------------------------------------


def _filter_rows(resource: Resource) -> list[list[str]]:
    selects = resource.methods_for(SqlVerb.SELECT)
    rows = []
    for name in resource.param_names(SqlVerb.SELECT):
        having = [m for m in selects if m.param(name) is not None]
        param = next(p for m in having if (p := m.param(name)) is not None)
        required = [m.name for m in having if (p := m.param(name)) is not None and p.required]
        if len(required) == len(having):
            needed = "yes"
        else:
            needed = "in " + ", ".join(f"`{m}`" for m in required) if required else "no"
        rows.append(
            [
                f"`{name}`",
                _location(param),
                f"`{param.type}`",
                needed,
                _enum(param.enum),
                _cell("; ".join(_bindings(param, selects))),
                _cell(param.description),
            ]
        )
    return rows


def _bindings(param: Param, methods: Iterable[Method]) -> list[str]:
    """How a statement gives ``param`` a value, and what the engine does with it."""
    setters = [p for m in methods for p in m.params if p.operator_param == param.name and p.column]
    if setters:  # the operator of another param's comparison: not written by hand
        return [f"set by comparisons on `{setters[0].column}` (the operator)"]
    ways = [f"`{param.name} = value`"]
    if param.many:
        ways.append("`IN (...)`: every value in one request (a list)")
    else:
        ways.append("`IN (...)`: one request per value")
    for op in param.operators:
        if op == "contains":
            ways.append(f"`{param.column} LIKE '%text%'`: sends `text` (contains)")
        elif op == "icontains":
            ways.append(
                f"`{param.column} LIKE '%text%'` or `ILIKE`: sends `text` (contains, any case)"
            )
        else:
            ways.append(f"`{param.column} {op} value`")
    if param.widen:
        ways.append(f"sent {_span(param.widen)} wider (the API filters on a related time)")
    if param.operator_param:
        ways.append(f"the operator goes in `{param.operator_param}`")
    for method in methods:
        window = method.window
        if window is not None and param.name in (window.start, window.end):
            ways.append(f"ranges are split into slices of at most {_span(window.max_seconds)}")
            break
    if param.env:
        ways.append(f"else from {_codes(param.env)}")
    if param.default is not None:
        ways.append(f"default `{param.default}`")
    if param.filtering is Filtering.NONE:
        ways.append("an input, not a row filter")
    elif param.filtering is Filtering.LOOSE:
        ways.append("the API returns a superset; DuckDB keeps the matching rows")
    return ways


def _method_row(method: Method) -> list[str]:
    required = [_param_ref(p) for p in method.params if p.required]
    optional = [_param_ref(p) for p in method.params if not p.required]
    if method.unsupported:  # listed, with why; it has no example
        return [
            method.name,
            f"`{method.sql_verb.value.upper()}`",
            "",
            "",
            "",
            _cell(f"Not usable: {method.unsupported}"),
        ]
    return [
        f"[{method.name}](#{method.name})",
        f"`{method.sql_verb.value.upper()}`",
        f"`{method.http_verb} {method.path}`",
        ", ".join(required),
        ", ".join(optional),
        _cell(method.description),
    ]


def _param_ref(param: Param) -> str:
    return f"`{param.name}` (or {_codes(param.env)})" if param.env else f"`{param.name}`"


def _notes(method: Method) -> list[str]:
    notes = []
    pages = method.pagination
    if pages.kind is not PaginationKind.NONE:
        size = f", {pages.page_size} per page" if pages.page_size else ""
        notes.append(f"fetches every page ({pages.kind.value}{size})")
    if method.max_rows is not None:
        notes.append(
            f"the API returns at most {method.max_rows} rows, so it is used only when no "
            "complete method can run (a warning then says so)"
        )
    if method.empty_on:
        notes.append(f"HTTP {', '.join(map(str, method.empty_on))} means no rows")
    if method.window is not None:
        w = method.window
        notes.append(
            f"a `{w.start}`..`{w.end}` range is sent in slices of at most {_span(w.max_seconds)}"
        )
    if method.body:
        fields = ", ".join(f"`{k}: {_json(v)}`" for k, v in method.body)
        notes.append(f"always sends {fields} in the body")
    for rule in method.requires:
        when = " and ".join(f"`{k}` is {_enum(v, ' or ')}" for k, v in rule.when)
        needs = []
        if rule.params:
            needs.append(", ".join(f"`{n}`" for n in rule.params))
        if rule.one_of:
            needs.append("one of " + ", ".join(f"`{n}`" for n in rule.one_of))
        notes.append(f"when {when}, also needs {' and '.join(needs)}")
    if method.destructive:
        notes.append("deletes or overwrites data (interactive front ends confirm first)")
    for name, values in method.destructive_when:
        notes.append(f"deletes data when `{name}` is {_enum(values, ' or ')}")
    if method.idempotent:
        notes.append("idempotent: retried like a GET")
    if method.wait is not None:
        wait = method.wait
        done = f"`{'.'.join(wait.done.field)}` is {_enum(wait.done.values, ' or ')}"
        notes.append(
            f"`/*+ AWAIT */` polls `{wait.method}` until {done}, for at most {wait.timeout:g} s"
        )
    return notes


def _write_param_row(method: Method, param: Param) -> list[str]:
    if method.sql_verb is SqlVerb.EXEC:
        written = f"`@{param.name}`"
    elif param.location is Location.BODY:
        written = f"`{BODY_PREFIX}{param.wire_name}`"
        if method.sql_verb in (SqlVerb.UPDATE, SqlVerb.REPLACE):
            written = f"`SET {BODY_PREFIX}{param.wire_name}` or `SET {param.name}`"
    elif method.sql_verb is SqlVerb.INSERT:
        written = f"`{param.name}` (a column)"
    elif method.sql_verb in (SqlVerb.UPDATE, SqlVerb.REPLACE) and not param.required:
        written = f"`SET {param.name}`"
    else:
        written = f"`WHERE {param.name} = ...`"
    required = "yes" if param.required else "no"
    if param.env:
        required += f" (else {_codes(param.env)})"
    return [
        f"`{method.name}`",
        f"`{param.name}`",
        written,
        _location(param),
        f"`{param.type}`",
        required,
        _enum(param.enum),
        _cell(param.description),
    ]


# -- examples -------------------------------------------------------------------------------


def _example(resource: Resource, method: Method) -> dict[str, Any]:
    """The method's name and description, and its examples as (caption, SQL) pairs."""
    table = resource.qualified_name
    # params the statement must write: those without an environment fallback
    given = [p for p in method.params if not p.env]
    blocks: list[tuple[str, str]] = []
    verb = method.sql_verb
    body = [p for p in given if p.location is Location.BODY or not p.required]
    writes = given if verb is SqlVerb.INSERT else body
    if verb in (SqlVerb.INSERT, SqlVerb.UPDATE, SqlVerb.REPLACE) and not writes:
        verb = SqlVerb.EXEC  # nothing to write as a column or in SET: name the method instead
    if verb is SqlVerb.SELECT and method.max_rows is not None and _complete_read(resource):
        verb = SqlVerb.EXEC  # SELECT reads the complete list; the short answer is asked by name
    if verb is SqlVerb.SELECT:
        plain = [_eq(p) for p in given if p.required]
        blocks.append(("", _select(resource, plain)))
        filtered = _filtered_where(method)
        if filtered != plain:
            caption = "With its filters, each written the way it is sent to the API:"
            blocks.append((caption, _select(resource, filtered)))
    elif verb is SqlVerb.INSERT:
        names = [_binding(p) for p in given]
        values = [_ph(p.name) for p in given]
        text = f"INSERT{{hint}}INTO {table} (\n{_lines(names)}\n)\nSELECT\n{_lines(values)}"
        blocks.append(("", text + "\nRETURNING *;"))
    elif verb in (SqlVerb.UPDATE, SqlVerb.REPLACE):
        where = [_eq(p) for p in given if p.required and p.location is not Location.BODY]
        sets = [f"{_binding(p)} = {_ph(p.name)}" for p in body]
        text = f"{verb.value.upper()}{{hint}}{table}\nSET\n{_lines(sets)}"
        blocks.append(("", text + (f"\n{_where(where)}" if where else "") + "\nRETURNING *;"))
    elif verb is SqlVerb.DELETE:
        where = [_eq(p) for p in given if p.required]
        blocks.append(("", f"DELETE FROM {table}" + (f"\n{_where(where)}" if where else "") + ";"))
    else:
        args = [f"@{p.name} = {_ph(p.name)}" for p in given]
        call = f"{table}.{method.name}" + (f"\n{_lines(args)}" if args else "")
        blocks.append(("", f"EXEC{{hint}}{call}\nRETURNING *;"))
    first = blocks[0][1]
    blocks[0] = (blocks[0][0], first.replace("{hint}", " "))
    if method.wait is not None:
        caption = f"Waiting until the job is done (polls `{method.wait.method}`):"
        blocks.append((caption, first.replace("{hint}", " /*+ AWAIT */ ")))
    envs = [p for p in method.params if p.env]
    description = _cell(method.description)
    for param in envs:
        description += f" Unbound, `{param.name}` is read from {_codes(param.env)}."
    return {"method": method.name, "description": description, "blocks": blocks}


def _complete_read(resource: Resource) -> bool:
    """Whether a SELECT method of the resource returns everything (no ``max_rows``)."""
    return any(m.max_rows is None for m in resource.methods_for(SqlVerb.SELECT))


def _select(resource: Resource, where: list[str]) -> str:
    columns = _lines([_ident(c.name) for c in resource.columns] or ["*"])
    tail = f"\n{_where(where)}" if where else ""
    return f"SELECT\n{columns}\nFROM {resource.qualified_name}{tail};"


def _filtered_where(method: Method) -> list[str]:
    """The required params, and the optional filters, written the way they are meant."""
    operators = {p.operator_param for p in method.params if p.operator_param}
    conditions = []
    for param in method.params:
        if param.env or param.name in operators:
            continue
        if not param.required and param.filtering is Filtering.NONE:
            continue
        ops = [o for o in param.operators if o not in ("contains", "icontains")]
        if param.column and ops:
            conditions.append(f"{_ident(param.column)} {ops[0]} {_ph(param.name)}")
        elif param.column and "icontains" in param.operators:
            conditions.append(f"{_ident(param.column)} ILIKE '%{{{{ {param.name} }}}}%'")
        elif param.column and "contains" in param.operators:
            conditions.append(f"{_ident(param.column)} LIKE '%{{{{ {param.name} }}}}%'")
        elif param.many:
            conditions.append(f"{_ident(param.name)} IN ({_ph(param.name)})")
        else:
            conditions.append(_eq(param))
    return conditions


def _binding(param: Param) -> str:
    if param.location is Location.BODY:
        return BODY_PREFIX + param.wire_name
    return _ident(param.name)


def _eq(param: Param) -> str:
    return f"{_ident(param.name)} = {_ph(param.name)}"


def _ph(name: str) -> str:
    """A placeholder for the param ``name`` (``X-Cursor`` → ``{{ X_Cursor }}``: placeholders
    are words)."""
    return "'{{ " + re.sub(r"\W", "_", name) + " }}'"


def _where(conditions: list[str]) -> str:
    return "WHERE " + "\n  AND ".join(conditions) if conditions else ""


def _lines(items: list[str]) -> str:
    return ",\n".join(f"    {item}" for item in items)


def _ident(name: str) -> str:
    if _PLAIN_NAME.match(name) and name not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


# -- small helpers --------------------------------------------------------------------------


def _verbs(resource: Resource) -> list[SqlVerb]:
    return [v for v in VERB_ORDER if resource.methods_for(v)]


def _location(param: Param) -> str:
    where = param.location.value
    return f"{where} (`{param.wire_name}`)" if param.wire_name != param.name else where


def _enum(values: Iterable[Any] | None, sep: str = ", ") -> str:
    return sep.join(f"`{_json(v)}`" for v in values) if values is not None else ""


def _json(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("|", "\\|")


def _codes(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _span(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _cell(text: str) -> str:
    """Text for one Markdown table cell (one line, pipes escaped)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _source(provider: Provider) -> str:
    return f"`{Path(provider.source).name}`" if provider.source else "its definition"


def _render(template: str, **context: Any) -> str:
    """Render a template of src/sqlprovider/templates/ with blank-line runs squeezed."""
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(
            loader=jinja2.PackageLoader("sqlprovider", "templates"),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        _ENV.filters["cell"] = _cell
        _ENV.filters["verbs"] = lambda r: ", ".join(v.value.upper() for v in _verbs(r))
    text = _ENV.get_template(template).render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
