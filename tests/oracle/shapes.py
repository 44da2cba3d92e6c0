"""Whole read statements for the generated families: one resource with conditions, LIMITs,
joins of every kind, names (aliases, case, whole rows) and dependent partners."""

from __future__ import annotations

import random

from hypothesis import strategies as st
from sqlglot import exp

from tests.oracle.fulldata import FullData, TableInfo
from tests.oracle.grammar import (
    PAIRS,
    Pair,
    atom,
    binding,
    count_star,
    join_node,
    narrowing,
    predicate,
    projection,
    q_col,
    where_for,
)
from tests.oracle.harness import literal, table


def conjoin(*parts: exp.Expr | None) -> exp.Expr | None:
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return exp.and_(*present) if len(present) > 1 else present[0]


def select(columns: list[exp.Expr], source: exp.Expr, where: exp.Expr | None = None) -> exp.Select:
    query = exp.select(*columns).from_(source)
    return query.where(where) if where is not None else query


def grouping_column(info: TableInfo) -> list[str]:
    return [c.name for c in info.record if c.kind in ("text", "bool", "int")]


@st.composite
def one_resource(draw: st.DrawFn, full: FullData) -> exp.Select:
    """``SELECT cols | count(*) | col, count(*) ... GROUP BY`` over one resource."""
    info = full.info(draw(st.sampled_from(sorted(full.tables))))
    q = draw(st.sampled_from([None, "t"]))
    where = draw(where_for(info, q, full))
    shape = draw(st.sampled_from(["columns", "columns", "count", "group"]))
    if shape == "count":
        return select([count_star()], table(info.name, q), where)
    if shape == "group":
        key = q_col(draw(st.sampled_from(grouping_column(info))), q)
        query = select([key, count_star()], table(info.name, q), where)
        return query.group_by(key.copy())
    return select(draw(projection(info, q)), table(info.name, q), where)


@st.composite
def limited(draw: st.DrawFn, full: FullData) -> exp.Select:
    """One resource with ORDER BY (none, ALL, one column) and LIMIT/OFFSET/PERCENT."""
    info = full.info(draw(st.sampled_from(sorted(full.tables))))
    where = draw(where_for(info, None, full, depth=1))
    query = select(draw(projection(info, None)), table(info.name), where)
    order = draw(st.sampled_from(["none", "all", "one"]))
    if order == "all":
        query = query.order_by(exp.Ordered(this=exp.Var(this="ALL")))
    elif order == "one":
        query = query.order_by(query.expressions[0].copy())
    form = draw(st.sampled_from(["rows", "offset", "percent"]))
    if form == "percent":
        share = draw(st.sampled_from([10, 50, 100, 0]))
        options = exp.LimitOptions(percent=True)
        return query.limit(exp.Limit(expression=literal(share), limit_options=options))
    query = query.limit(draw(st.sampled_from([0, 1, 3, 10, 250])))
    if form == "offset":
        query = query.offset(draw(st.sampled_from([0, 1, 5, 200, 10_000])))
    return query


# -- joins ---------------------------------------------------------------------------------

KINDS = (
    "JOIN",
    "LEFT JOIN",
    "RIGHT JOIN",
    "FULL JOIN",
    "SEMI JOIN",
    "ANTI JOIN",
    "CROSS JOIN",
    "NATURAL JOIN",
    "USING",
    "ASOF JOIN",
    "POSITIONAL JOIN",
)
NO_ON = ("CROSS JOIN", "NATURAL JOIN", "USING", "POSITIONAL JOIN")
ONE_SIDED = ("SEMI JOIN", "ANTI JOIN")


def fits(pair: Pair, kind: str, full: FullData) -> bool:
    if pair.left not in full.tables or pair.right not in full.tables:
        return False  # a run over some providers only (the registry provider's)
    left, right = full.info(pair.left), full.info(pair.right)
    if kind == "USING":
        return all(lk == rk for lk, rk in pair.keys)
    if kind == "ASOF JOIN":
        return pair.times is not None
    if kind in ("POSITIONAL JOIN", "CROSS JOIN"):
        return not left.bindings and not right.bindings and not pair.dependent
    return True


@st.composite
def bound_subquery(
    draw: st.DrawFn,
    info: TableInfo,
    full: FullData,
    alias: str,
    rename: dict[str, str] | None = None,
    extra: str = "",
) -> exp.Expr:
    """``(SELECT <record columns> FROM R WHERE <binding>)``; for NATURAL JOIN only the keys,
    under the left's names, and ``extra`` as ``r_<extra>``."""
    names = [c.name for c in info.record]
    if rename is not None:
        columns = [exp.alias_(q_col(k, "s"), v) for k, v in rename.items()]
        columns.append(exp.alias_(q_col(extra, "s"), f"r_{extra}"))
    else:
        columns = [q_col(n, "s") for n in names]
    query = select(columns, table(info.name, "s"), draw(binding(info, "s", full)))
    return query.subquery(alias)


@st.composite
def constant_partner(draw: st.DrawFn, full: FullData, kind: str) -> exp.Select:
    """A resource joined with a one-row constant ``(SELECT 1 AS one) t``: conditions on the
    resource in ON; for NATURAL JOIN the constant has one of the resource's column names."""
    names = sorted(n for n in full.tables if kind != "POSITIONAL JOIN" or not full.info(n).bindings)
    left = full.info(draw(st.sampled_from(names)))
    kind = "JOIN" if kind in ("ASOF JOIN", "USING") else kind
    constant: exp.Expr = exp.alias_(literal(1), "one")
    if kind == "NATURAL JOIN":
        shared = draw(st.sampled_from([c for c in left.record if c.samples]))
        constant = exp.alias_(literal(draw(st.sampled_from(shared.samples))), shared.name)
    partner = exp.select(constant).subquery("t")
    on = None if kind in NO_ON else draw(atom(left, "l", full))
    where = draw(where_for(left, "l", full, depth=1))
    columns = draw(projection(left, "l"))
    if kind not in ONE_SIDED:
        columns.append(q_col(constant.alias, "t"))
    query = select(columns, table(left.name, "l"), where)
    query.append("joins", join_node(kind, partner, on=on))
    return query


def aliases(draw: st.DrawFn, left: TableInfo, right: TableInfo) -> tuple[str, str]:
    """The two aliases, sometimes one that is another resource's name (shadowing it)."""
    la = draw(st.sampled_from(["l", right.resource.name]))
    ra = draw(st.sampled_from(["r", left.resource.name]))
    return (la, ra) if la != ra else ("l", "r")


@st.composite
def join_statement(draw: st.DrawFn, full: FullData) -> exp.Select:
    kind = draw(st.sampled_from(KINDS))
    pairs = [p for p in PAIRS if fits(p, kind, full)]
    if not pairs or draw(st.integers(0, 5)) == 0:
        return draw(constant_partner(full, kind))
    pair = draw(st.sampled_from(pairs))
    left, right = full.info(pair.left), full.info(pair.right)
    la, ra = aliases(draw, left, right)
    keys = [exp.EQ(this=q_col(rk, ra), expression=q_col(lk, la)) for lk, rk in pair.keys]
    on = conjoin(*keys)
    if kind == "ASOF JOIN" and pair.times is not None:
        lt, rt = pair.times
        on = conjoin(on, exp.GTE(this=q_col(lt, la), expression=q_col(rt, ra)))
    wheres: list[exp.Expr | None] = [draw(binding(left, la, full))]
    if pair.dependent or kind == "CROSS JOIN":
        wheres.append(draw(narrowing(left, la, pair.keys[0][0])))
    bare = (pair.dependent and kind in ("JOIN", "LEFT JOIN")) or not right.bindings
    extra_name = draw(st.sampled_from([c.name for c in right.record]))
    if kind == "NATURAL JOIN":
        rename = {rk: lk for lk, rk in pair.keys}
        right_ref: exp.Expr = draw(bound_subquery(right, full, ra, rename, extra_name))
    elif bare or (kind not in ONE_SIDED and draw(st.booleans())):
        right_ref = table(right.name, ra)
        if not bare:
            bound = draw(binding(right, ra, full))
            if kind in ("JOIN", "LEFT JOIN") and draw(st.booleans()):
                on = conjoin(on, bound)
            else:
                wheres.append(bound)
    else:
        right_ref = draw(bound_subquery(right, full, ra))
    if draw(st.booleans()):
        side, alias = draw(st.sampled_from([(left, la), (right, ra)]))
        if side is right and kind == "NATURAL JOIN":
            side, alias = left, la
        extra = draw(predicate(side, alias, full, depth=1))
        in_on = kind not in (*NO_ON, "ASOF JOIN") and draw(st.booleans())
        if in_on:
            on = conjoin(on, extra)
        elif not (kind in ONE_SIDED and side is right):
            wheres.append(extra)
    node = join_node(
        "JOIN" if kind == "USING" else kind,
        right_ref,
        on=None if kind in NO_ON else on,
        using=[lk for lk, _ in pair.keys] if kind == "USING" else None,
    )
    if draw(st.integers(0, 4)) == 0:
        columns: list[exp.Expr] = [count_star()]
    else:
        columns = draw(projection(left, la))
        if kind not in ONE_SIDED:
            if kind == "NATURAL JOIN":
                columns.append(q_col(f"r_{extra_name}", ra))
            else:
                columns.extend(draw(projection(right, ra)))
    query = select(columns, table(left.name, la), conjoin(*wheres))
    query.append("joins", node)
    return query


# -- names and whole rows -----------------------------------------------------------------


def recase(tree: exp.Expr, seed: int) -> exp.Expr:
    """The same statement with identifiers in other cases (``DigitalOcean.GenAI.Indexing_Jobs``,
    ``UUID``); DuckDB's names match whatever their case."""
    chooser = random.Random(seed)
    changed = tree.copy()
    for identifier in changed.find_all(exp.Identifier):
        if identifier.quoted:
            continue
        name = str(identifier.this)
        identifier.set("this", chooser.choice([name.upper(), name.title(), name, name.lower()]))
    return changed


WHOLE_ROW = ("struct", "to_json", "qualified_star", "columns", "star", "count")


@st.composite
def whole_row_statement(draw: st.DrawFn, full: FullData) -> exp.Expr:
    info = full.info(draw(st.sampled_from(sorted(full.tables))))
    shape = draw(st.sampled_from(WHOLE_ROW))
    if not info.echo_stable and shape in ("struct", "to_json"):
        shape = "qualified_star"
    q = draw(st.sampled_from(["j", info.resource.name]))
    where = draw(where_for(info, q, full, depth=1))
    alias = exp.column(q)
    star: exp.Expr = exp.Star()
    if info.free_inputs and not info.echo_stable:
        star = exp.Star(except_=[exp.column(n) for n in info.free_inputs])
    columns: list[exp.Expr]
    if shape == "struct":
        columns = [alias]
    elif shape == "to_json":
        columns = [exp.func("to_json", alias, dialect="duckdb")]
    elif shape == "qualified_star":
        columns = [exp.Column(this=star, table=exp.to_identifier(q))]
    elif shape == "columns":
        names = [c.name for c in info.record]
        name = draw(st.sampled_from(names))
        stem = name.split("_")[0]
        pattern = f"^{stem}.*" if stem else f"^{name}$"
        columns = [exp.Columns(this=literal(pattern))]
    elif shape == "star":
        columns = [star]
    else:
        columns = [count_star()]
    query = select(columns, table(info.name, q), where)
    if draw(st.booleans()):
        return recase(query, draw(st.integers(0, 2**16)))
    return query


# -- dependent partners ----------------------------------------------------------------------


@st.composite
def dependent_statement(draw: st.DrawFn, full: FullData) -> exp.Expr:
    """A resource whose required param comes from another: a join with the parent, a CTE
    as the partner, or ``param IN (SELECT ...)``."""
    pair = draw(st.sampled_from([p for p in PAIRS if p.dependent]))
    parent, child = full.info(pair.left), full.info(pair.right)
    pk, ck = pair.keys[0]
    parent_where = conjoin(
        draw(binding(parent, "p", full)),
        draw(narrowing(parent, "p", pk)),
        draw(predicate(parent, "p", full, depth=1)) if draw(st.booleans()) else None,
    )
    child_where = draw(predicate(child, "c", full, depth=1)) if draw(st.booleans()) else None
    shape = draw(st.sampled_from(["cte", "in_select", "join", "left_join"]))
    columns = draw(projection(child, "c"))
    if shape == "in_select":
        inner = select([q_col(pk, "p")], table(parent.name, "p"), parent_where)
        member = exp.In(this=q_col(ck, "c"), query=inner.subquery())
        return select(columns, table(child.name, "c"), conjoin(member, child_where))
    if shape == "cte":
        kept = draw(projection(parent, "p"))
        inner = select(
            [q_col(pk, "p"), *[k for k in kept if k.name != pk]],
            table(parent.name, "p"),
            parent_where,
        )
        on = exp.EQ(this=q_col(ck, "c"), expression=q_col(pk, "f"))
        query = select([q_col(pk, "f"), *columns], exp.to_table("f"), child_where)
        query.append("joins", join_node("JOIN", table(child.name, "c"), on=on))
        return query.with_("f", as_=inner)
    on = exp.EQ(this=q_col(ck, "c"), expression=q_col(pk, "p"))
    kind = "JOIN" if shape == "join" else "LEFT JOIN"
    query = select(
        [*draw(projection(parent, "p")), *columns],
        table(parent.name, "p"),
        conjoin(parent_where, child_where),
    )
    query.append("joins", join_node(kind, table(child.name, "c"), on=on))
    return query
