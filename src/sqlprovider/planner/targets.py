"""Which objects an UPDATE, REPLACE or DELETE acts on: exactly those its WHERE selects.

A WHERE selects; it never assigns. The objects are found by **select, then write**: the
table is read with the whole WHERE, as a SELECT would read it (``uuid = 'a'`` reads one
object by its id), DuckDB keeps the rows that meet it, and each one is written once,
identified by its own columns. An id that does not exist, or an object the WHERE does not
select, is never written to, and SET may use the object's current fields (``SET name =
upper(name)``).

Only a table that cannot be read is written **by id**: every condition must then be
``id = value``, ``id IN (...)`` or ``id IN (SELECT ...)`` on a param that identifies the
object (one in the URL path); several conditions on one id intersect (``uuid = 'a' AND uuid
= 'b'`` selects nothing and sends nothing).

An identifying param cannot be SET, and NULL, empty and dot ids, or values that do not
convert exactly, are refused before anything is sent (see ``wire``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlprovider.errors import DataError, MissingParamsError, NotSupportedError, ProgrammingError
from sqlprovider.model import Location, Method, Param, Resource, SqlVerb, param_columns
from sqlprovider.planner.names import param_for
from sqlprovider.planner.reads import ReadPlanner, Reads
from sqlprovider.planner.wire import Unsendable, to_wire
from sqlprovider.sql import conjuncts, is_constant_expression, rewrite_tables

if TYPE_CHECKING:
    from sqlprovider.plan import Evaluated

DIALECT = "duckdb"


@dataclass
class Selection:
    """The objects a write acts on, as a query with one row per object.

    Attributes:
        method: the write method.
        values: one row per request: the identifying params, then the SET values.
        columns: the names of ``values``' columns (param names, ``data__<field>``).
        reads: the provider tables read first.
        how: ``by id`` or ``select, then write``, for EXPLAIN.
    """

    method: Method
    values: exp.Select
    columns: list[str]
    reads: Reads
    how: str


def identifying(method: Method) -> list[Param]:
    """The params that say which object a request acts on: those in the URL path."""
    return [p for p in method.params if p.location is Location.PATH]


def id_column(resource: Resource, param: Param) -> str | None:
    """The column of ``resource`` that holds the value of an identifying param."""
    names = {c.name.lower(): c.name for c in resource.columns}
    for name in resource.param_names(SqlVerb.SELECT):
        names.setdefault(name.lower(), name)
    return names.get((param.column or param.name).lower())


class TargetPlanner:
    """Finds the objects of UPDATE, REPLACE and DELETE statements."""

    def __init__(self, reads: ReadPlanner) -> None:
        self.reads = reads

    def select(
        self,
        statement: exp.Update | exp.Delete,
        resource: Resource,
        verb: SqlVerb,
        assignments: Sequence[tuple[str, exp.Expression]],
    ) -> Selection:
        """The objects ``statement`` acts on, and the values each request carries."""
        candidates = resource.methods_for(verb)
        keyword = "REPLACE" if verb is SqlVerb.REPLACE else type(statement).__name__.upper()
        if not candidates:
            reason = resource.unsupported_reason(verb)
            raise NotSupportedError(
                f"{resource.qualified_name}: {reason}"
                if reason
                else f"{resource.qualified_name} cannot be changed with {keyword}; "
                f"SHOW METHODS IN {resource.qualified_name} lists what it can do"
            )
        _refuse_identifying_set(resource, candidates, assignments)
        if statement.args.get("from_") or statement.args.get("using"):
            raise NotSupportedError(
                f"{keyword} ... FROM/USING is not supported; name the objects with WHERE "
                "id IN (SELECT ...)"
            )
        if statement.args.get("where") is None:
            # Without WHERE, SQL means every object: only a call on the whole collection
            # (a method with no id) does that; objects are never listed to be all changed.
            whole = [m for m in candidates if not identifying(m)]
            if not whole:
                missing = {m.name: tuple(p.name for p in identifying(m)) for m in candidates}
                raise MissingParamsError(resource.qualified_name, verb.value, missing)
            reads = self.reads.plan_reads(statement, exclude=statement.this)
            one = exp.select(exp.Literal.number(1).as_("_sp_one"))
            return self._finish(whole[0], one, [], assignments, reads, "the whole collection")
        # Reading first is what makes a write exact: an id that does not exist, or an object
        # outside the WHERE (another knowledge base's data source), is never written to.
        # Only a table that cannot be read is written by id alone.
        set_names = [name for name, _ in assignments]
        self._refuse_bad_ids(statement.args["where"].this, resource, candidates)
        if _readable(resource, candidates, set_names):
            return self._select_then_write(statement, resource, candidates, assignments, keyword)
        by_id = self._by_id(statement, resource, candidates, assignments)
        if by_id is not None:
            return by_id
        return self._select_then_write(statement, resource, candidates, assignments, keyword)

    def _refuse_bad_ids(
        self, where: exp.Expression, resource: Resource, candidates: Sequence[Method]
    ) -> None:
        """An id written in the WHERE that no request can carry exactly (NULL, empty, a dot,
        ``5.5`` for an integer) is refused before anything is read or sent."""
        ids: dict[str, tuple[Param, str]] = {}
        for method in candidates:
            for param in identifying(method):
                column = id_column(resource, param)
                if column is not None:
                    kind = _column_type(resource, column)
                    ids.setdefault(column.lower(), (param, kind))
                    ids.setdefault(param.name.lower(), (param, kind))
        for condition in conjuncts(where):
            if condition.args.get("negate"):
                continue
            found = _id_values(condition)
            if found is None or found[0].lower() not in ids:
                continue
            param, kind = ids[found[0].lower()]
            answers = self.reads.evaluator.evaluate([(v, kind) for v in found[1]])
            for value, answer in zip(found[1], answers, strict=True):
                _check_id(resource, param, value, answer)

    # -- by id -------------------------------------------------------------------------------

    def _by_id(
        self,
        statement: exp.Update | exp.Delete,
        resource: Resource,
        candidates: Sequence[Method],
        assignments: Sequence[tuple[str, exp.Expression]],
    ) -> Selection | None:
        """The selection when the WHERE only names objects by their ids, else None."""
        where = statement.args["where"]
        set_names = [name for name, _ in assignments]
        for method in candidates:
            ids = {p.name.lower(): p for p in identifying(method)}
            for param in identifying(method):
                column = id_column(resource, param)
                if column is not None:
                    ids.setdefault(column.lower(), param)
            pieces: dict[str, list[exp.Expression]] = {}
            for condition in conjuncts(where.this):
                found = _id_condition(condition, ids)
                if found is None:
                    break
                param, values = found
                pieces.setdefault(param.name, []).append(values)
            else:
                if not all(p.name in pieces for p in identifying(method)):
                    continue
                if any(param_for(method, n) is None for n in set_names):
                    continue
                if not _only_reads(assignments, set(pieces)):
                    continue
                reads = self.reads.plan_reads(statement, exclude=statement.this)
                values = _intersected(pieces, reads)
                return self._finish(method, values, list(pieces), assignments, reads, "by id")
        return None

    # -- select, then write ----------------------------------------------------------------

    def _select_then_write(
        self,
        statement: exp.Update | exp.Delete,
        resource: Resource,
        candidates: Sequence[Method],
        assignments: Sequence[tuple[str, exp.Expression]],
        keyword: str,
    ) -> Selection:
        set_names = [name for name, _ in assignments]
        method = _writable_method(resource, candidates, set_names, keyword)
        target = statement.this
        alias = target.alias_or_name
        outputs: list[exp.Expr] = []
        columns: list[str] = []
        ids = identifying(method)
        for param in ids:
            column = id_column(resource, param)
            assert column is not None  # _writable_method checked
            outputs.append(
                exp.column(column, table=alias, quoted=True).as_(param.name, quoted=True)
            )
            columns.append(param.name)
        by_param = {p.name.lower(): id_column(resource, p) for p in ids}
        condition = _columns_for_params(statement.args["where"].this.copy(), by_param)
        select = exp.select(*outputs).from_(target.copy()).where(condition)
        for name, value in assignments:
            select.select(value.copy().as_(name, quoted=True), copy=False)
            columns.append(name)
        reads = self.reads.plan_reads(select)
        # Ids the read takes from a subquery are checked as literal ones are: a value no
        # request can carry stops the write instead of being skipped.
        target_table = reads.loaded[id(select.args["from_"].this)].name
        reads.fetches = [
            dataclasses.replace(f, strict=True) if f.table == target_table else f
            for f in reads.fetches
        ]
        values = rewrite_tables(select, reads.loaded)
        assert isinstance(values, exp.Select)
        return Selection(method, values, columns, reads, "select, then write")

    def _finish(
        self,
        method: Method,
        ids: exp.Select,
        id_names: list[str],
        assignments: Sequence[tuple[str, exp.Expression]],
        reads: Reads,
        how: str,
    ) -> Selection:
        """The values query: the ids, then each SET value (which may use the ids)."""
        source = exp.Subquery(this=ids, alias=exp.TableAlias(this=exp.to_identifier("w")))
        outputs: list[exp.Expr] = [exp.column(n, "w", quoted=True) for n in id_names]
        for name, value in assignments:
            rewritten = rewrite_tables(value, reads.loaded)
            for column in list(rewritten.find_all(exp.Column)):
                if column.parent_select is None:
                    column.set("table", exp.to_identifier("w"))
            outputs.append(rewritten.as_(name, quoted=True))
        values = exp.select(*outputs).from_(source)
        return Selection(method, values, [*id_names, *(n for n, _ in assignments)], reads, how)


def _column_type(resource: Resource, name: str) -> str:
    column = resource.column(name)
    if column is not None:
        return column.duckdb_type
    for extra in param_columns(resource):
        if extra.name == name:
            return extra.duckdb_type
    return "VARCHAR"


def _id_values(condition: exp.Expression) -> tuple[str, list[exp.Expression]] | None:
    """(column, constants) of ``column = constant`` or ``column IN (constants)``."""
    if isinstance(condition, exp.EQ):
        for column, other in (
            (condition.this, condition.expression),
            (condition.expression, condition.this),
        ):
            if isinstance(column, exp.Column) and is_constant_expression(other):
                return column.name, [other]
        return None
    if isinstance(condition, exp.In) and isinstance(condition.this, exp.Column):
        items = list(condition.expressions)
        if items and all(is_constant_expression(i) for i in items):
            return condition.this.name, items
    return None


def _check_id(
    resource: Resource, param: Param, value: exp.Expression, answer: Evaluated | None
) -> None:
    if answer is None:
        return  # DuckDB cannot evaluate it: the read reports the problem where it is written
    written = value.sql(dialect=DIALECT)
    if answer.is_null:
        reason = "a NULL identifies no object"
    elif answer.value is None or not answer.exact:
        reason = f"no {param.name} equals it exactly"
    else:
        try:
            to_wire(param, answer.value)
            return
        except Unsendable as exc:
            reason = str(exc)
    raise DataError(
        f"{resource.qualified_name}: {param.name} = {written} cannot identify an object "
        f"({reason}); nothing was sent"
    )


def _refuse_identifying_set(
    resource: Resource,
    candidates: Sequence[Method],
    assignments: Sequence[tuple[str, exp.Expression]],
) -> None:
    for name, _ in assignments:
        for method in candidates:
            for param in identifying(method):
                column = id_column(resource, param) or param.name
                if name.lower() in (param.name.lower(), column.lower()):
                    raise ProgrammingError(
                        f"{name} identifies the {resource.name} a request acts on (it is "
                        "in the URL), so it cannot be SET; choose the objects in WHERE"
                    )


def _id_condition(
    condition: exp.Expression, ids: dict[str, Param]
) -> tuple[Param, exp.Expression] | None:
    """``id = constant``, ``id IN (constants)`` or ``id IN (SELECT ...)`` as (param, a
    one-column query of its values, or the subquery itself as written), else None."""
    if condition.args.get("negate"):
        return None
    if isinstance(condition, exp.EQ):
        column, other = condition.this, condition.expression
        if not isinstance(column, exp.Column):
            column, other = other, column
        if not isinstance(column, exp.Column):
            return None
        param = ids.get(column.name.lower())
        if param is None or not is_constant_expression(other):
            return None
        return param, exp.select(other.copy().as_("v"))
    if isinstance(condition, exp.In) and isinstance(condition.this, exp.Column):
        param = ids.get(condition.this.name.lower())
        if param is None:
            return None
        query = condition.args.get("query")
        if query is not None:
            return param, query.this if isinstance(query, exp.Subquery) else query
        items = list(condition.expressions)
        if not items or not all(is_constant_expression(i) for i in items):
            return None
        unnest = exp.Unnest(expressions=[exp.Array(expressions=[i.copy() for i in items])])
        return param, exp.select(unnest.as_("v"))
    return None


def _intersected(pieces: dict[str, list[exp.Expression]], reads: Reads) -> exp.Select:
    """One row per combination of the ids' values; conditions on one id intersect."""
    select: exp.Select | None = None
    for name, queries in pieces.items():
        rewritten = [_one_column(rewrite_tables(q, reads.loaded)) for q in queries]
        combined: exp.Expression = rewritten[0]
        for other in rewritten[1:]:
            combined = exp.Intersect(this=combined, expression=other, distinct=True)
        values = exp.select(exp.column("v").as_(name, quoted=True)).distinct()
        alias = exp.TableAlias(this=exp.to_identifier(f"_{name}"))
        values = values.from_(exp.Subquery(this=combined, alias=alias))
        piece = exp.Subquery(
            this=values, alias=exp.TableAlias(this=exp.to_identifier(f"_p_{name}"))
        )
        select = (
            exp.select("*").from_(piece)
            if select is None
            else select.join(piece, join_type="CROSS")
        )
    assert select is not None
    return select


def _one_column(query: exp.Expression) -> exp.Expression:
    """A query's (single) column named ``v``."""
    alias = exp.TableAlias(this=exp.to_identifier("_v"), columns=[exp.to_identifier("v")])
    return exp.select("*").from_(exp.Subquery(this=query, alias=alias))


def _only_reads(assignments: Sequence[tuple[str, exp.Expression]], ids: set[str]) -> bool:
    """Whether SET values read nothing of the object but its ids (constants, subqueries)."""
    folded = {i.lower() for i in ids}
    for _, value in assignments:
        for column in value.find_all(exp.Column):
            if column.parent_select is None and column.name.lower() not in folded:
                return False
    return True


def _readable(resource: Resource, candidates: Sequence[Method], set_names: list[str]) -> bool:
    """Whether the objects can be chosen by reading the table (see ``_writable_method``)."""
    if not resource.methods_for(SqlVerb.SELECT):
        return False
    return any(
        all(param_for(m, n) is not None for n in set_names)
        and all(id_column(resource, p) is not None for p in identifying(m))
        for m in candidates
    )


def _writable_method(
    resource: Resource, candidates: Sequence[Method], set_names: list[str], keyword: str
) -> Method:
    """The method to send once per selected row: its ids must be columns the rows carry."""
    if not resource.methods_for(SqlVerb.SELECT):
        raise NotSupportedError(
            f"{keyword} on {resource.qualified_name} takes only conditions that name objects "
            "by id (param = value, param IN (...)), because the table cannot be read to "
            "choose them"
        )
    problems = []
    for method in sorted(candidates, key=lambda m: -len(m.required_params)):
        unknown = [n for n in set_names if param_for(method, n) is None]
        lacking = [p.name for p in identifying(method) if id_column(resource, p) is None]
        if unknown:
            problems.append(f"{method.name} has no {unknown[0]}")
        elif lacking:
            problems.append(f"{method.name} needs {lacking[0]}, which no column holds")
        else:
            return method
    raise ProgrammingError(f"{keyword} on {resource.qualified_name}: " + "; ".join(problems))


def _columns_for_params(
    condition: exp.Expression, columns: dict[str, str | None]
) -> exp.Expression:
    """Conditions written on an identifying param's name, rewritten on its column
    (``data_source_uuid`` → ``uuid``), so the table can be read with them."""
    for column in list(condition.find_all(exp.Column)):
        target = columns.get(column.name.lower())
        if (
            target is not None
            and column.parent_select is None
            and target.lower() != column.name.lower()
        ):
            column.set("this", exp.to_identifier(target, quoted=True))
    return condition
