"""Find provider tables in a statement and the WHERE/ON conjuncts that constrain each one.

A Qual is a conjunct of the form ``column <op> constant(s)``, ``column = other.column`` or
``column IN (subquery)`` on one table occurrence. Only conjuncts that every result row must
satisfy are collected, so sending them to an API can never drop a row the answer needs:

* WHERE conjuncts of the SELECT the table is in;
* ON conjuncts of INNER/CROSS joins of that SELECT;
* ON conjuncts of a LEFT JOIN, for the joined (right) table only; RIGHT and FULL joins
  contribute none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

_COMPARISONS: dict[type[exp.Expression], tuple[str, str]] = {
    # expression type → (op when the column is on the left, op when it is on the right)
    exp.EQ: ("=", "="),
    exp.GT: (">", "<"),
    exp.GTE: (">=", "<="),
    exp.LT: ("<", ">"),
    exp.LTE: ("<=", ">="),
    exp.Like: ("like", ""),
    exp.ILike: ("ilike", ""),
}


@dataclass(frozen=True, eq=False)
class TableOccurrence:
    """One appearance of a provider table in a statement."""

    node: exp.Table
    provider: str
    service: str
    resource: str

    @property
    def alias(self) -> str:
        """The name columns use to refer to this occurrence."""
        return self.node.alias or self.node.name

    @property
    def qualified_name(self) -> str:
        """``provider.service.resource``."""
        return f"{self.provider}.{self.service}.{self.resource}"


@dataclass(frozen=True, eq=False)
class ColumnRef:
    """A column of another source in the same FROM clause (a join partner)."""

    source: exp.Expression  # the Table or Subquery node
    alias: str
    column: str
    filters: tuple[exp.Expression, ...] = ()  # conjuncts on that source alone


@dataclass(frozen=True, eq=False)
class Qual:
    """A conjunct that constrains one column of one table occurrence."""

    column: str
    op: str  # =, in, >, >=, <, <=, like, ilike
    values: tuple[Any, ...] = ()
    ref: ColumnRef | None = None
    subquery: exp.Expression | None = None
    expression: exp.Expression = field(default_factory=lambda: exp.true())
    constant: exp.Expression | None = None  # a column-free expression to evaluate first

    def describe(self) -> str:
        """The conjunct as SQL text."""
        return self.expression.sql(dialect="duckdb")


def find_occurrences(
    statement: exp.Expression, is_provider: Callable[[exp.Table], bool]
) -> list[TableOccurrence]:
    """Every table node of ``statement`` that ``is_provider`` claims, in textual order."""
    found = []
    for node in statement.find_all(exp.Table):
        if isinstance(node.this, exp.Identifier) and node.catalog and is_provider(node):
            found.append(TableOccurrence(node, node.catalog, node.db, node.name))
    found.sort(key=lambda occ: _position(occ.node))
    return found


def _position(node: exp.Expression) -> int:
    meta = node.this.meta if isinstance(node.this, exp.Expression) else {}
    return int(meta.get("start", 0))


def constant_value(node: exp.Expression) -> tuple[bool, Any]:
    """``(True, value)`` when ``node`` is a literal constant, else ``(False, None)``."""
    if isinstance(node, exp.Paren):
        return constant_value(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return True, node.this
        text = node.this
        try:
            return True, int(text)
        except ValueError:
            return True, float(text)
    if isinstance(node, exp.Boolean):
        return True, bool(node.this)
    if isinstance(node, exp.Neg):
        ok, value = constant_value(node.this)
        if ok and isinstance(value, int | float) and not isinstance(value, bool):
            return True, -value
        return False, None
    if isinstance(node, exp.Cast):
        return constant_value(node.this)
    return False, None


def conjuncts(condition: exp.Expression | None) -> Iterator[exp.Expression]:
    """The AND-ed parts of a condition (parentheses looked through)."""
    if condition is None:
        return
    if isinstance(condition, exp.And):
        yield from conjuncts(condition.this)
        yield from conjuncts(condition.expression)
    elif isinstance(condition, exp.Paren):
        yield from conjuncts(condition.this)
    else:
        yield condition


@dataclass
class _Scope:
    """The sources of one SELECT and the conjuncts that hold for every row of it."""

    sources: dict[str, exp.Expression]
    everywhere: list[exp.Expression]  # WHERE and inner-join ON conjuncts
    only_for: dict[str, list[exp.Expression]]  # LEFT JOIN ON conjuncts, by right alias


def _scope_of(node: exp.Table) -> _Scope | None:
    select = node.parent_select
    if not isinstance(select, exp.Select):
        return None
    sources: dict[str, exp.Expression] = {}
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None and from_.this is not None:
        sources[from_.this.alias_or_name] = from_.this
    where = select.args.get("where")
    everywhere = list(conjuncts(where.this if where is not None else None))
    only_for: dict[str, list[exp.Expression]] = {}
    for join in select.args.get("joins") or []:
        target = join.this
        sources[target.alias_or_name] = target
        side = (join.side or "").upper()
        on = list(conjuncts(join.args.get("on")))
        if not side:
            everywhere.extend(on)
        elif side == "LEFT":
            only_for.setdefault(target.alias_or_name, []).extend(on)
    return _Scope(sources, everywhere, only_for)


def quals_for(
    occurrence: TableOccurrence, owns: Callable[[TableOccurrence, str], bool]
) -> list[Qual]:
    """The conjuncts that constrain ``occurrence``, as Quals.

    Args:
        occurrence: the provider table.
        owns: whether a column name belongs to a provider table occurrence; used to place
            unqualified columns when a FROM clause has several sources.
    """
    scope = _scope_of(occurrence.node)
    if scope is None:
        return []
    conjuncts = scope.everywhere + scope.only_for.get(occurrence.alias, [])
    quals = []
    for conjunct in conjuncts:
        qual = _qual_from(conjunct, occurrence, scope, owns)
        if qual is not None:
            quals.append(qual)
    return quals


def _belongs(
    column: exp.Column,
    occurrence: TableOccurrence,
    scope: _Scope,
    owns: Callable[[TableOccurrence, str], bool],
) -> bool:
    if column.table:
        return column.table in (occurrence.alias, occurrence.node.name) and (
            not column.args.get("db") or column.text("db") == occurrence.service
        )
    if len(scope.sources) == 1:
        return True
    if not owns(occurrence, column.name):
        return False
    return all(  # every other source must be a provider table that lacks the column
        source is occurrence.node
        or (
            isinstance(source, exp.Table)
            and source.catalog
            and not _other_owns(source, column.name, owns)
        )
        for source in scope.sources.values()
    )


def _other_owns(source: exp.Table, name: str, owns: Callable[[TableOccurrence, str], bool]) -> bool:
    return owns(TableOccurrence(source, source.catalog, source.db, source.name), name)


def _qual_from(
    conjunct: exp.Expression,
    occ: TableOccurrence,
    scope: _Scope,
    owns: Callable[[TableOccurrence, str], bool],
) -> Qual | None:
    if isinstance(conjunct, exp.In):
        column = conjunct.this
        if not isinstance(column, exp.Column) or not _belongs(column, occ, scope, owns):
            return None
        query = conjunct.args.get("query")
        if query is not None:
            inner = query.this if isinstance(query, exp.Subquery) else query
            if _is_uncorrelated(inner):
                return Qual(column.name, "in", subquery=inner, expression=conjunct)
            return None
        values = []
        for item in conjunct.expressions:
            ok, value = constant_value(item)
            if not ok or value is None:
                return None
            values.append(value)
        return Qual(column.name, "in", tuple(values), expression=conjunct)
    ops = _COMPARISONS.get(type(conjunct))
    if ops is None:
        return None
    left, right = conjunct.this, conjunct.expression
    for column, other, op in ((left, right, ops[0]), (right, left, ops[1])):
        if not op or not isinstance(column, exp.Column) or not _belongs(column, occ, scope, owns):
            continue
        ok, value = constant_value(other)
        if ok and value is not None:
            return Qual(column.name, op, (value,), expression=conjunct)
        if is_constant_expression(other):  # now() - INTERVAL 7 DAY: evaluated before sending
            return Qual(column.name, op, expression=conjunct, constant=other)
        if op == "=" and isinstance(other, exp.Column) and other.table in scope.sources:
            source = scope.sources[other.table]
            if source is occ.node:
                continue
            filters = tuple(c for c in scope.everywhere if _only_references(c, other.table))
            ref = ColumnRef(source, other.table, other.name, filters)
            return Qual(column.name, "=", ref=ref, expression=conjunct)
    return None


def is_constant_expression(node: exp.Expression) -> bool:
    """An expression that reads no column, table or subquery (``current_date - 7``); NULL is
    none, since a comparison with it holds for no row."""
    if isinstance(node, exp.Null):
        return False
    return not any(
        isinstance(n, exp.Column | exp.Subquery | exp.Select | exp.Table | exp.AggFunc | exp.Star)
        for n in node.walk()
    )


def _only_references(conjunct: exp.Expression, alias: str) -> bool:
    columns = list(conjunct.find_all(exp.Column))
    return (
        bool(columns)
        and all(c.table == alias for c in columns)
        and not any(conjunct.find_all(exp.Subquery, exp.Select))
    )


def _is_uncorrelated(query: exp.Expression) -> bool:
    inner_names = {t.alias_or_name for t in query.find_all(exp.Table)}
    inner_names |= {s.alias_or_name for s in query.find_all(exp.Subquery)}
    return all(not c.table or c.table in inner_names for c in query.find_all(exp.Column))
