"""Plan INSERT, UPDATE, REPLACE, DELETE and EXEC on provider tables.

Every write becomes a *values query*: DuckDB SQL with one row per request, whose columns
name what each request binds (a param, ``data__<field>`` for a body field, ``@@json`` for a
raw body). Sources that read provider tables are fetched first, like any SELECT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlglot import exp

from sqlprovider.errors import (
    MissingParamsError,
    NotSupportedError,
    ProgrammingError,
    UnknownNameError,
)
from sqlprovider.model import Method, Resource, SqlVerb
from sqlprovider.plan import Mutate, Plan, loaded_table
from sqlprovider.planner.methods import environment_values
from sqlprovider.planner.names import binding_names, param_for, refuse_repeats
from sqlprovider.planner.reads import ReadPlanner, Reads
from sqlprovider.planner.targets import Selection, TargetPlanner, identifying
from sqlprovider.providers.registry import suggest
from sqlprovider.sql import ExecCall, rewrite_tables

DIALECT = "duckdb"
RAW_BODY = "@@json"


class Defaults(NamedTuple):
    """What the session's environment gives a write's params, and its poll's."""

    write: tuple[tuple[str, Any], ...]
    poll: tuple[tuple[str, Any], ...]


class WritePlanner:
    """Plans writes, reading their sources through a ReadPlanner."""

    def __init__(self, reads: ReadPlanner) -> None:
        self.reads = reads

    def plan_insert(self, statement: exp.Insert, text: str, wait: bool) -> Plan:
        """``INSERT INTO p.s.r (cols) SELECT ... | VALUES ... [RETURNING ...]``."""
        schema = statement.this
        target = schema.this if isinstance(schema, exp.Schema) else schema
        resource = self._resource(target)
        columns = [e.name for e in schema.expressions] if isinstance(schema, exp.Schema) else []
        if not columns:
            raise ProgrammingError(
                f"name the columns to send: INSERT INTO {resource.qualified_name} "
                "(data__field, param, ...) SELECT ..."
            )
        source = statement.expression
        if source is None:
            raise ProgrammingError("INSERT needs SELECT ... or VALUES ... to send")
        _check_width(source, len(columns))
        reads = self.reads.plan_reads(source)
        rewritten = rewrite_tables(source, reads.loaded)
        alias = exp.TableAlias(
            this=exp.to_identifier("_src"),
            columns=[exp.to_identifier(c, quoted=True) for c in columns],
        )
        values = exp.select("*").from_(exp.Subquery(this=rewritten, alias=alias))
        method, reason = _choose_write_method(resource, SqlVerb.INSERT, columns)
        return self._plan(
            statement, text, resource, method, reason, columns, values, reads, wait, SqlVerb.INSERT
        )

    def plan_update(self, statement: exp.Update, text: str, verb: SqlVerb, wait: bool) -> Plan:
        """``UPDATE|REPLACE p.s.r SET ... WHERE ... [RETURNING ...]``: one request per object
        the WHERE selects (see ``targets``)."""
        resource = self._resource(statement.this)
        assignments: list[tuple[str, exp.Expression]] = []
        for assignment in statement.expressions:
            if not isinstance(assignment, exp.EQ) or not isinstance(assignment.this, exp.Column):
                raise ProgrammingError(f"SET takes name = value, not {assignment.sql(DIALECT)}")
            assignments.append((assignment.this.name, assignment.expression))
        _check_names(resource, verb, [name for name, _ in assignments])
        selection = TargetPlanner(self.reads).select(statement, resource, verb, assignments)
        return self._finish_selection(statement, text, resource, verb, selection, wait)

    def plan_delete(self, statement: exp.Delete, text: str, wait: bool) -> Plan:
        """``DELETE FROM p.s.r WHERE ... [RETURNING ...]``: one request per object the WHERE
        selects (see ``targets``)."""
        resource = self._resource(statement.this)
        selection = TargetPlanner(self.reads).select(statement, resource, SqlVerb.DELETE, [])
        return self._finish_selection(statement, text, resource, SqlVerb.DELETE, selection, wait)

    def plan_exec(self, call: ExecCall, text: str) -> Plan:
        """``EXEC p.s.r.method @param = value, ... [, @@json = '{...}']``."""
        resource = self.reads.registry.resource(call.provider, call.service, call.resource)
        names = [m.name for m in resource.methods]
        if call.method not in names:
            raise UnknownNameError(
                "method",
                f"{call.table}.{call.method}",
                [f"{call.table}.{n}" for n in suggest(call.method, names)],
                hint=f"SHOW METHODS IN {call.table} lists them",
            )
        method = next(m for m in resource.methods if m.name == call.method)
        if method.unsupported:
            raise NotSupportedError(f"{call.table}.{method.name}: {method.unsupported}")
        pieces = []
        columns = []
        for name, value in call.args.items():
            if param_for(method, name) is None:
                raise UnknownNameError(
                    "param",
                    f"@{name}",
                    [f"@{n}" for n in suggest(name, binding_names(method))],
                    hint=f"of {call.table}.{method.name}",
                )
            pieces.append(exp.select(value.as_(name, quoted=True)).subquery())
            columns.append(name)
        refuse_repeats([method], columns, f"EXEC {call.table}.{method.name}")
        if call.raw_json is not None:
            pieces.append(exp.select(call.raw_json.as_(RAW_BODY, quoted=True)).subquery())
            columns.append(RAW_BODY)
        environ = self.reads.environ
        given = {p.name for c in columns if (p := param_for(method, c)) is not None}
        missing = [
            p.name
            for p in method.required_params
            if p.name not in given and p.fallback(environ) is None
        ]
        if missing:
            example = ", ".join(f"@{p} = '...'" for p in missing)
            raise ProgrammingError(f"{call.table}.{method.name} needs {example}")
        _check_wait(method, call.wait)
        response_table = self.reads.next_name("response")
        returning = _returning_sql(call.returning, resource, response_table)
        defaults = self._defaults(resource, method, columns)
        mutate = Mutate(
            resource=resource,
            method=method,
            values_sql=_cross_join(pieces),
            columns=tuple(columns),
            response_table=response_table,
            returning=returning,
            wait=call.wait,
            reason="named in EXEC",
            written="EXEC",
            defaults=defaults.write,
            poll_defaults=defaults.poll,
        )
        return Plan(statement=text, fetches=(), query=returning or "", mutation=mutate)

    # -- shared ----------------------------------------------------------------------------

    def _defaults(self, resource: Resource, method: Method, columns: Sequence[str]) -> Defaults:
        """The values the session's environment gives the write's params (and its poll's)."""
        environ = self.reads.environ
        given = [p.name for c in columns if (p := param_for(method, c)) is not None]
        poll_defaults: tuple[tuple[str, Any], ...] = ()
        if method.wait is not None:
            poll = next(m for m in resource.methods if m.name == method.wait.method)
            waited = [name for name, _ in method.wait.params]
            poll_defaults = environment_values(poll, waited, environ)
        return Defaults(environment_values(method, given, environ), poll_defaults)

    def _resource(self, target: exp.Expression) -> Resource:
        if not isinstance(target, exp.Table) or not target.catalog:
            raise NotSupportedError("the target is not a provider table")
        return self.reads.registry.resource(target.catalog, target.db, target.name)

    def _finish_selection(
        self,
        statement: exp.Expression,
        text: str,
        resource: Resource,
        verb: SqlVerb,
        selection: Selection,
        wait: bool,
    ) -> Plan:
        method = selection.method
        columns = selection.columns
        missing = [
            p.name
            for p in method.required_params
            if p.fallback(self.reads.environ) is None
            and not any(param_for(method, c) is p for c in columns)
        ]
        if missing:
            raise MissingParamsError(
                resource.qualified_name, verb.value, {method.name: tuple(missing)}
            )
        ids = ", ".join(p.name for p in identifying(method)) or "no identifying params"
        reason = f"{selection.how} ({ids})"
        return self._plan(
            statement,
            text,
            resource,
            method,
            reason,
            columns,
            selection.values,
            selection.reads,
            wait,
            verb,
        )

    def _plan(
        self,
        statement: exp.Expression,
        text: str,
        resource: Resource,
        method: Method,
        reason: str,
        columns: Sequence[str],
        values: exp.Expression,
        reads: Reads,
        wait: bool,
        verb: SqlVerb,
    ) -> Plan:
        _check_wait(method, wait)
        response_table = self.reads.next_name("response")
        returning = _returning_sql(statement.args.get("returning"), resource, response_table)
        defaults = self._defaults(resource, method, columns)
        mutate = Mutate(
            resource=resource,
            method=method,
            values_sql=values.sql(dialect=DIALECT),
            columns=tuple(columns),
            response_table=response_table,
            returning=returning,
            wait=wait,
            reason=reason,
            written=verb.value.upper(),
            distinct=reason.startswith("select, then write"),
            defaults=defaults.write,
            poll_defaults=defaults.poll,
        )
        return Plan(
            statement=text,
            fetches=tuple(reads.fetches),
            query=returning or "",
            warnings=tuple(reads.warnings),
            mutation=mutate,
        )


def _check_width(source: exp.Expression, width: int) -> None:
    star = isinstance(source, exp.Select) and any(
        isinstance(e, exp.Star) for e in source.expressions
    )
    if isinstance(source, exp.Select) and not star and len(source.expressions) != width:
        raise ProgrammingError(
            f"the INSERT names {width} columns but the SELECT gives "
            f"{len(source.expressions)} values"
        )
    if isinstance(source, exp.Values):
        for row in source.expressions:
            if isinstance(row, exp.Tuple) and len(row.expressions) != width:
                raise ProgrammingError(
                    f"the INSERT names {width} columns but a VALUES row has {len(row.expressions)}"
                )


def _cross_join_select(pieces: Sequence[exp.Expression]) -> exp.Select:
    if not pieces:
        return exp.select(exp.Literal.number(1).as_("_sp_one"))
    select = exp.select("*").from_(pieces[0])
    for piece in pieces[1:]:
        select = select.join(piece, join_type="CROSS")
    return select


def _cross_join(pieces: Sequence[exp.Expression]) -> str:
    return _cross_join_select(pieces).sql(dialect=DIALECT)


def _methods_or_refuse(resource: Resource, verb: SqlVerb) -> tuple[Method, ...]:
    candidates = resource.methods_for(verb)
    if not candidates:
        reason = resource.unsupported_reason(verb)
        if reason:
            raise NotSupportedError(f"{resource.qualified_name}: {reason}")
        raise NotSupportedError(
            f"{resource.qualified_name} cannot be changed with {verb.value.upper()}; "
            f"SHOW METHODS IN {resource.qualified_name} lists what it can do"
        )
    return candidates


def _check_names(resource: Resource, verb: SqlVerb, names: Sequence[str]) -> None:
    """Every name must be a param of some method serving ``verb``, and no param given
    twice (see ``names``)."""
    candidates = _methods_or_refuse(resource, verb)
    unknown = [
        n for n in names if n != RAW_BODY and all(param_for(m, n) is None for m in candidates)
    ]
    if unknown:
        every = sorted({n for m in candidates for n in binding_names(m)})
        raise UnknownNameError(
            "column",
            f"{resource.qualified_name}.{unknown[0]}",
            suggest(unknown[0], every),
            hint=f"SHOW METHODS IN {resource.qualified_name} lists what each method takes; "
            "a body field may be written FIELD or data__FIELD",
        )
    keyword = "INSERT INTO" if verb is SqlVerb.INSERT else verb.value.upper()
    refuse_repeats(candidates, names, f"{keyword} {resource.qualified_name}")


def _choose_write_method(
    resource: Resource, verb: SqlVerb, columns: Sequence[str]
) -> tuple[Method, str]:
    candidates = _methods_or_refuse(resource, verb)
    _check_names(resource, verb, columns)
    usable = []
    for method in candidates:
        filled = {p.name for c in columns if (p := param_for(method, c)) is not None}
        unknown = [c for c in columns if c != RAW_BODY and param_for(method, c) is None]
        if not unknown:
            usable.append((method, filled))
    if not usable:
        raise UnknownNameError("column", f"{resource.qualified_name}.{columns[0]}")
    runnable = [(m, f) for m, f in usable if all(p.name in f for p in m.required_params)]
    if not runnable:
        missing = {
            m.name: tuple(p.name for p in m.required_params if p.name not in f) for m, f in usable
        }
        raise MissingParamsError(resource.qualified_name, verb.value, missing)
    if resource.first_match:  # StackQL's rule: the first runnable in declared order
        method = runnable[0][0]
    else:
        method, _ = max(
            runnable, key=lambda mf: (len(mf[0].required_params), -candidates.index(mf[0]))
        )
    required = [p.name for p in method.required_params]
    reason = f"binds {', '.join(required)}" if required else "needs no identifying params"
    return method, reason


def _check_wait(method: Method, wait: bool) -> None:
    if wait and method.wait is None:
        raise ProgrammingError(
            f"{method.name} starts nothing to wait for (its provider declares no wait); "
            "drop /*+ AWAIT */"
        )


def _returning_sql(
    returning: exp.Returning | None, resource: Resource, response_table: str
) -> str | None:
    if returning is None:
        return None
    outputs: list[exp.Expression] = []
    for expression in returning.expressions:
        if isinstance(expression, exp.Star):
            outputs.extend(exp.column(c.name, quoted=True) for c in resource.columns)
        else:
            outputs.append(expression.copy())
    select = exp.select(*outputs).from_(loaded_table(response_table))
    return select.sql(dialect=DIALECT)
