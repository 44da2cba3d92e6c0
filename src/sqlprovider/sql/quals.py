"""Find provider tables in a statement and the WHERE/ON conjuncts that constrain each one.

A Qual is a conjunct of the form ``column <op> constant(s)``, ``column = other.column`` or
``column IN (subquery)`` on one table occurrence. Only conjuncts that every row the table
contributes must satisfy are collected, so sending them to an API can never drop a row the
answer needs:

* WHERE conjuncts of the SELECT the table is in;
* ON conjuncts of the plain inner and cross joins of that SELECT;
* ON conjuncts of a LEFT, SEMI or ANTI join, for the joined (right) table only;
* nothing for the right table of an ASOF join (its rows are matched by nearness), and
  nothing at all in a SELECT with a POSITIONAL join or a sample (rows are paired by
  position or drawn at random, so filtering first would change which rows).

Negated conditions (``NOT``, ``NOT LIKE``, ``NOT IN``) are never quals. Values stay sqlglot
expressions: what they mean (their type, the session's time zone) is decided where DuckDB
can evaluate them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

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

# Functions whose value changes from call to call: a condition on them is never a constant.
_VOLATILE = exp.Rand | exp.Uuid
_VOLATILE_NAMES = frozenset({"random", "uuid", "gen_random_uuid", "nextval", "setseed"})


@dataclass(frozen=True, eq=False)
class TableOccurrence:
    """One appearance of a provider table in a statement (names as written)."""

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

    def is_named(self, qualifier: str) -> bool:
        """Whether a column qualifier names this occurrence (DuckDB compares names without
        regard to case; an aliased table is reachable by its alias only)."""
        return qualifier.lower() == self.alias.lower()


@dataclass(frozen=True, eq=False)
class ColumnRef:
    """A column of another source in the same FROM clause (a join partner)."""

    source: exp.Expression  # the Table or Subquery node
    alias: str
    column: str
    filters: tuple[exp.Expression, ...] = ()  # conjuncts on that source alone


@dataclass(frozen=True, eq=False)
class Qual:
    """A conjunct that constrains one column of one table occurrence.

    Attributes:
        column: the column as written (match it without regard to case).
        op: ``=``, ``in``, ``>``, ``>=``, ``<``, ``<=``, ``like`` or ``ilike``.
        values: the constant expressions compared with (one, or the IN list); NULL included.
        ref: for ``column = other.column``, the join partner.
        subquery: for ``column IN (SELECT ...)``.
        expression: the conjunct itself.
        bindable: whether it may be sent; a qual that may not (a condition on the right
            table of an ASOF join other than its keys) can still show that the table adds
            no row.
    """

    column: str
    op: str
    values: tuple[exp.Expression, ...] = ()
    ref: ColumnRef | None = None
    subquery: exp.Expression | None = None
    expression: exp.Expression = field(default_factory=lambda: exp.true())
    bindable: bool = True

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


def is_constant_expression(node: exp.Expression) -> bool:
    """An expression that reads no column, table, subquery or placeholder and whose value
    does not change from row to row (``current_date - 7``, ``'2025-05-01'::DATE``). A
    collation is not a value: it changes how the comparison itself is made."""
    for n in node.walk():
        if isinstance(
            n,
            exp.Column
            | exp.Subquery
            | exp.Select
            | exp.Table
            | exp.AggFunc
            | exp.Star
            | exp.Window
            | exp.Placeholder
            | exp.Parameter
            | exp.Collate
            | exp.Lambda
            | _VOLATILE,
        ):
            return False
        if isinstance(n, exp.Anonymous) and str(n.this).lower() in _VOLATILE_NAMES:
            return False
    return True


@dataclass
class _Scope:
    """The sources of one SELECT and the conjuncts that hold for every row of it."""

    sources: dict[str, exp.Expression]  # by lower-case alias
    everywhere: list[exp.Expression]  # WHERE and inner-join ON conjuncts
    only_for: dict[str, list[exp.Expression]]  # LEFT/SEMI/ANTI JOIN ON conjuncts, by alias
    # right tables of ASOF joins → their equality keys (only conditions on these apply)
    paired: dict[str, set[str]] = field(default_factory=dict)


def _scope_of(node: exp.Table) -> _Scope | None:
    select = node.parent_select
    if not isinstance(select, exp.Select):
        return None
    sources: dict[str, exp.Expression] = {}
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None and from_.this is not None:
        sources[from_.this.alias_or_name.lower()] = from_.this
    joins = select.args.get("joins") or []
    for join in joins:
        sources[join.this.alias_or_name.lower()] = join.this
    methods = [(j.method or "").upper() for j in joins]
    if select.args.get("sample") is not None or "POSITIONAL" in methods:
        return _Scope(sources, [], {})
    where = select.args.get("where")
    everywhere = list(conjuncts(where.this if where is not None else None))
    only_for: dict[str, list[exp.Expression]] = {}
    paired: dict[str, set[str]] = {}
    for join, method in zip(joins, methods, strict=True):
        alias = join.this.alias_or_name.lower()
        if method == "ASOF":
            # Its rows are matched by nearness: filtering it first moves matches, except on
            # the keys the ON equates with the other side (a row of another key never matches).
            keys, equalities = _equality_keys(join.args.get("on"), alias)
            paired[alias] = keys
            only_for.setdefault(alias, []).extend(equalities)
            continue
        side = (join.side or "").upper()
        kind = (join.kind or "").upper()
        on = list(conjuncts(join.args.get("on")))
        if not side and kind in ("", "INNER", "CROSS"):
            everywhere.extend(on)
        elif (side == "LEFT" and kind in ("", "OUTER")) or kind in ("SEMI", "ANTI"):
            # Rows of the joined table count only through matches, and a match needs the
            # whole ON; the other side's rows are kept (or dropped) whatever its ON says.
            only_for.setdefault(alias, []).extend(on)
    return _Scope(sources, everywhere, only_for, paired)


def quals_for(
    occurrence: TableOccurrence, owns: Callable[[TableOccurrence, str], bool]
) -> list[Qual]:
    """The conjuncts that constrain ``occurrence``, as Quals.

    Args:
        occurrence: the provider table.
        owns: whether a column name (in any case) belongs to a provider table occurrence;
            used to place unqualified columns.
    """
    scope = _scope_of(occurrence.node)
    if scope is None or occurrence.node.args.get("sample") is not None:
        return []  # a sample of the table is drawn before any condition
    found = scope.everywhere + scope.only_for.get(occurrence.alias.lower(), [])
    quals = [q for conjunct in found for q in _quals_from(conjunct, occurrence, scope, owns)]
    keys = scope.paired.get(occurrence.alias.lower())
    if keys is not None:  # the right table of an ASOF join: only its equality keys are sent
        return [
            q if q.column.lower() in keys else dataclasses.replace(q, bindable=False)
            for q in quals
            if q.column.lower() in keys or q.ref is None
        ]
    return quals


def _equality_keys(on: exp.Expression | None, alias: str) -> tuple[set[str], list[exp.Expression]]:
    """Columns of ``alias`` that an ON equates with a column of another table, and those
    equalities."""
    keys: set[str] = set()
    equalities: list[exp.Expression] = []
    for conjunct in conjuncts(on):
        if not isinstance(conjunct, exp.EQ):
            continue
        sides = [conjunct.this, conjunct.expression]
        if not all(isinstance(side, exp.Column) for side in sides):
            continue
        mine = [s for s in sides if s.table.lower() == alias]
        if len(mine) == 1:
            keys.add(mine[0].name.lower())
            equalities.append(conjunct)
    return keys, equalities


def _belongs(
    column: exp.Column,
    occurrence: TableOccurrence,
    scope: _Scope,
    owns: Callable[[TableOccurrence, str], bool],
) -> bool:
    if isinstance(column.this, exp.Star):
        return False
    if column.table:
        if column.args.get("db") is not None:
            written = [column.text("catalog"), column.text("db"), column.table]
            names = [occurrence.provider, occurrence.service, occurrence.resource]
            if column.args.get("catalog") is None:
                written, names = written[1:], names[1:]
            return not occurrence.node.alias and [w.lower() for w in written] == [
                n.lower() for n in names
            ]
        return occurrence.is_named(column.table)
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


def _quals_from(
    conjunct: exp.Expression,
    occ: TableOccurrence,
    scope: _Scope,
    owns: Callable[[TableOccurrence, str], bool],
) -> list[Qual]:
    if conjunct.args.get("negate"):
        return []
    if isinstance(conjunct, exp.In):
        qual = _in_qual(conjunct, occ, scope, owns)
        return [] if qual is None else [qual]
    if isinstance(conjunct, exp.Between):
        column = conjunct.this
        low, high = conjunct.args.get("low"), conjunct.args.get("high")
        if (
            conjunct.args.get("symmetric")
            or not isinstance(column, exp.Column)
            or not _belongs(column, occ, scope, owns)
            or low is None
            or high is None
            or not (is_constant_expression(low) and is_constant_expression(high))
        ):
            return []
        return [
            Qual(column.name, ">=", (low,), expression=conjunct),
            Qual(column.name, "<=", (high,), expression=conjunct),
        ]
    qual = _comparison_qual(conjunct, occ, scope, owns)
    return [] if qual is None else [qual]


def _in_qual(
    conjunct: exp.In,
    occ: TableOccurrence,
    scope: _Scope,
    owns: Callable[[TableOccurrence, str], bool],
) -> Qual | None:
    column = conjunct.this
    if not isinstance(column, exp.Column) or not _belongs(column, occ, scope, owns):
        return None
    query = conjunct.args.get("query")
    if query is not None:
        inner = query.this if isinstance(query, exp.Subquery) else query
        if _is_uncorrelated(inner):
            return Qual(column.name, "in", subquery=inner, expression=conjunct)
        return None
    if conjunct.args.get("field") is not None or conjunct.args.get("unnest") is not None:
        return None
    items = tuple(conjunct.expressions)
    if not items or not all(is_constant_expression(item) for item in items):
        return None
    return Qual(column.name, "in", items, expression=conjunct)


def _comparison_qual(
    conjunct: exp.Expression,
    occ: TableOccurrence,
    scope: _Scope,
    owns: Callable[[TableOccurrence, str], bool],
) -> Qual | None:
    ops = _COMPARISONS.get(type(conjunct))
    if ops is None:
        return None
    left, right = conjunct.this, conjunct.expression
    for column, other, op in ((left, right, ops[0]), (right, left, ops[1])):
        if not op or not isinstance(column, exp.Column) or not _belongs(column, occ, scope, owns):
            continue
        if is_constant_expression(other):
            return Qual(column.name, op, (other,), expression=conjunct)
        if op == "=" and isinstance(other, exp.Column) and other.table.lower() in scope.sources:
            source = scope.sources[other.table.lower()]
            if source is occ.node:
                continue
            filters = tuple(c for c in scope.everywhere if _only_references(c, other.table))
            ref = ColumnRef(source, other.table, other.name, filters)
            return Qual(column.name, "=", ref=ref, expression=conjunct)
    return None


def _only_references(conjunct: exp.Expression, alias: str) -> bool:
    columns = list(conjunct.find_all(exp.Column))
    return (
        bool(columns)
        and all(c.table.lower() == alias.lower() for c in columns)
        and not any(conjunct.find_all(exp.Subquery, exp.Select))
    )


def _is_uncorrelated(query: exp.Expression) -> bool:
    inner_names = {t.alias_or_name.lower() for t in query.find_all(exp.Table)}
    inner_names |= {s.alias_or_name.lower() for s in query.find_all(exp.Subquery)}
    return all(not c.table or c.table.lower() in inner_names for c in query.find_all(exp.Column))
