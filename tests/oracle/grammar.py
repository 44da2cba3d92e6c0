"""Hypothesis strategies that build read statements (sqlglot trees) over the full data:
values drawn from each column's data and perturbed, predicates, the bindings of required
params, projections and joins."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from hypothesis import strategies as st
from sqlglot import exp

from sqlprovider.model import Filtering, SqlVerb
from tests.oracle.fulldata import Binding, ColumnInfo, FullData, TableInfo
from tests.oracle.harness import AMPERITY_FROM, AMPERITY_TO, column, in_list, literal, table

UUID_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ZONES = ("UTC", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata")
SHIFTS = (
    dt.timedelta(0),
    dt.timedelta(seconds=1),
    dt.timedelta(seconds=-1),
    dt.timedelta(seconds=5),
    dt.timedelta(seconds=-5),
    dt.timedelta(milliseconds=500),
    dt.timedelta(hours=1),
    dt.timedelta(hours=-9),
    dt.timedelta(days=1),
    dt.timedelta(days=-2),
)


def cast(expression: exp.Expr, to: str) -> exp.Expr:
    return exp.cast(expression, to, dialect="duckdb")


def q_col(name: str, qualifier: str | None) -> exp.Column:
    return column(name, qualifier)


@st.composite
def some(draw: st.DrawFn, pool: Sequence[Any], most: int) -> list[Any]:
    """1 to ``most`` distinct values of ``pool``, in the order drawn. (Not
    ``st.lists(unique=True)``: with the emulators' threads alive, hypothesis 6.170 reports
    it as a flaky strategy when it replays a shrunk example.)"""
    values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=most))
    return list(dict.fromkeys(values))


# -- values ------------------------------------------------------------------------------------


@st.composite
def text_value(draw: st.DrawFn, c: ColumnInfo) -> exp.Expr:
    sample = str(draw(st.sampled_from(c.samples))) if c.samples else "x"
    form = draw(
        st.sampled_from(
            [
                "same",
                "same",
                "upper",
                "lower",
                "title",
                "part",
                "unknown",
                "null",
                "collate",
                "uuid",
            ]
        )
    )
    if form == "upper":
        return literal(sample.upper())
    if form == "lower":
        return literal(sample.lower())
    if form == "title":
        return literal(sample.title())
    if form == "part":
        return literal(sample[: max(1, len(sample) // 2)])
    if form == "unknown":
        return literal(draw(st.sampled_from(["zz-oracle", "", "FAILED", "federated_slack"])))
    if form == "null":
        return exp.Null()
    if form == "collate":
        return exp.Collate(this=literal(sample.upper()), expression=exp.Var(this="NOCASE"))
    if form == "uuid" and UUID_SHAPE.match(sample):
        return cast(literal(sample.upper()), "UUID")
    return literal(sample)


@st.composite
def int_value(draw: st.DrawFn, c: ColumnInfo) -> exp.Expr:
    sample = int(draw(st.sampled_from(c.samples))) if c.samples else 1
    form = draw(
        st.sampled_from(
            [
                "same",
                "same",
                "half_up",
                "half",
                "neg",
                "zero",
                "big",
                "huge",
                "cast",
                "null",
                "text",
            ]
        )
    )
    values: dict[str, exp.Expr] = {
        "half_up": exp.Literal.number(f"{sample}.5"),
        "half": exp.Literal.number("0.5"),
        "neg": exp.Literal.number("-1"),
        "zero": exp.Literal.number("0"),
        "big": exp.Literal.number(str(2**63)),
        "huge": exp.Literal.number("1e400"),
        "cast": cast(exp.Literal.number(f"{sample}.7"), "INTEGER"),
        "null": exp.Null(),
        "text": literal(str(sample)),
    }
    return values.get(form, literal(sample))


@st.composite
def float_value(draw: st.DrawFn, c: ColumnInfo) -> exp.Expr:
    sample = float(draw(st.sampled_from(c.samples))) if c.samples else 1.0
    form = draw(st.sampled_from(["same", "same", "plus", "zero", "huge", "null", "int"]))
    values: dict[str, exp.Expr] = {
        "plus": literal(sample + 0.5),
        "zero": exp.Literal.number("0"),
        "huge": exp.Literal.number("1e400"),
        "null": exp.Null(),
        "int": literal(int(sample)),
    }
    return values.get(form, literal(sample))


def time_text(moment: dt.datetime, form: str) -> str:
    utc = moment.astimezone(dt.UTC)
    plain = utc.strftime("%Y-%m-%d %H:%M:%S") + (
        f".{utc.microsecond:06d}" if utc.microsecond else ""
    )
    if form == "date":
        return utc.strftime("%Y-%m-%d")
    if form == "iso":
        return utc.isoformat().replace("+00:00", "Z")
    if form == "offset":
        return utc.astimezone(dt.timezone(dt.timedelta(hours=9))).isoformat()
    return plain


@st.composite
def time_value(draw: st.DrawFn, moment: dt.datetime) -> exp.Expr:
    """A constant for a time near ``moment``, in one of the ways SQL writes times."""
    moment = moment + draw(st.sampled_from(SHIFTS))
    form = draw(
        st.sampled_from(["plain", "date", "iso", "offset", "DATE", "TIMESTAMP", "TIMESTAMPTZ"])
    )
    if form in ("DATE", "TIMESTAMP", "TIMESTAMPTZ"):
        return cast(literal(time_text(moment, "plain")), form)
    return literal(time_text(moment, form))


@st.composite
def value_for(draw: st.DrawFn, c: ColumnInfo) -> exp.Expr:
    kind = c.kind
    if kind == "text":
        return draw(text_value(c))
    if kind == "int":
        return draw(int_value(c))
    if kind == "float":
        return draw(float_value(c))
    if kind == "bool":
        return draw(st.sampled_from([exp.true(), exp.false(), exp.Null()]))
    if kind == "time":
        if not c.samples:
            return exp.Null()
        moment = draw(st.sampled_from(c.samples))
        return draw(time_value(moment)) if draw(st.integers(0, 9)) else exp.Null()
    return exp.Null()


# -- predicates --------------------------------------------------------------------------------

COMPARISONS: tuple[type[exp.Binary], ...] = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)


def pushdown_columns(info: TableInfo) -> list[str]:
    """Record columns some SELECT method's param is bound by (the pushdown candidates)."""
    names = []
    for method in info.resource.methods_for(SqlVerb.SELECT):
        for p in method.params:
            if p.filtering is Filtering.NONE:
                continue
            target = p.column or p.name
            if info.has(target) and target not in names:
                names.append(target)
    return names


def like_pattern(draw: st.DrawFn, sample: str) -> str:
    start = draw(st.integers(0, max(0, len(sample) - 1)))
    end = draw(st.integers(start, len(sample)))
    part = sample[start:end] or sample[:1]
    if draw(st.booleans()) and len(part) > 1:
        at = draw(st.integers(0, len(part) - 1))
        part = part[:at] + "_" + part[at + 1 :]
    case = draw(st.sampled_from(["as is", "upper", "lower"]))
    part = part.upper() if case == "upper" else part.lower() if case == "lower" else part
    return str(draw(st.sampled_from([f"%{part}%", f"{part}%", f"%{part}", part])))


@st.composite
def atom(draw: st.DrawFn, info: TableInfo, q: str | None, full: FullData) -> exp.Expr:
    """One condition on one column of ``info``."""
    favoured = pushdown_columns(info)
    use_favoured = bool(favoured) and draw(st.booleans())
    if use_favoured:
        c = info.col(draw(st.sampled_from(favoured)))
    else:
        c = draw(st.sampled_from(info.record))
    ref = q_col(c.name, q)
    if c.kind == "list":
        element = draw(st.sampled_from(c.samples)) if c.samples else "x"
        return exp.func("list_contains", ref, literal(element), dialect="duckdb")
    if c.kind == "json":
        test: exp.Expr = exp.Is(this=ref, expression=exp.Null())
        return exp.Not(this=test) if draw(st.booleans()) else test
    shape = draw(
        st.sampled_from(
            ["cmp", "cmp", "cmp", "in", "not_in", "between", "null", "distinct", "like", "sub"]
        )
    )
    if shape == "cmp":
        op = draw(st.sampled_from(COMPARISONS))
        return op(this=ref, expression=draw(value_for(c)))
    if shape in ("in", "not_in"):
        values = draw(st.lists(value_for(c), min_size=1, max_size=4))
        found: exp.Expr = exp.In(this=ref, expressions=values)
        return exp.Not(this=found) if shape == "not_in" else found
    if shape == "between":
        low, high = draw(value_for(c)), draw(value_for(c))
        found = exp.Between(this=ref, low=low, high=high)
        return exp.Not(this=found) if draw(st.booleans()) else found
    if shape == "null":
        found = exp.Is(this=ref, expression=exp.Null())
        return exp.Not(this=found) if draw(st.booleans()) else found
    if shape == "distinct":
        kind = draw(st.sampled_from([exp.NullSafeEQ, exp.NullSafeNEQ]))
        return kind(this=ref, expression=draw(value_for(c)))
    if shape == "like" and c.kind == "text" and c.samples:
        pattern = like_pattern(draw, str(draw(st.sampled_from(c.samples))))
        kind_like = draw(st.sampled_from([exp.Like, exp.ILike]))
        found = kind_like(this=ref, expression=literal(pattern))
        return exp.Not(this=found) if draw(st.booleans()) else found
    if shape == "sub":
        return exp.In(this=ref, query=draw(subquery_for(c, full)).subquery())
    return exp.EQ(this=ref, expression=draw(value_for(c)))


@st.composite
def subquery_for(draw: st.DrawFn, c: ColumnInfo, full: FullData) -> exp.Select:
    """``SELECT x FROM <another resource> WHERE <its binding>`` over a column of the same
    kind, or a VALUES list of the column's values."""
    partners = [
        (info, other)
        for info in full.tables.values()
        for other in info.record
        if other.kind == c.kind and not any(b.kind == "range" for b in info.bindings[:1])
    ]
    if c.samples and (not partners or draw(st.booleans())):
        values = draw(st.lists(st.sampled_from(c.samples), min_size=1, max_size=3))
        rows = [exp.Tuple(expressions=[literal(v)]) for v in values]
        alias = exp.TableAlias(this=exp.to_identifier("v"), columns=[exp.to_identifier("x")])
        source = exp.Values(expressions=rows, alias=alias)
        return exp.select("x").from_(source)
    info, other = draw(st.sampled_from(partners))
    query = exp.select(q_col(other.name, "s")).from_(table(info.name, "s"))
    bound = draw(binding(info, "s", full))
    return query.where(bound) if bound is not None else query


@st.composite
def predicate(
    draw: st.DrawFn, info: TableInfo, q: str | None, full: FullData, depth: int = 2
) -> exp.Expr:
    """Conditions combined with NOT, AND and OR."""
    choice = draw(st.integers(0, 9)) if depth > 0 else 0
    if choice <= 5:
        return draw(atom(info, q, full))
    if choice == 6:
        return exp.Not(this=exp.Paren(this=draw(predicate(info, q, full, depth - 1))))
    left = draw(predicate(info, q, full, depth - 1))
    right = draw(predicate(info, q, full, depth - 1))
    if choice == 7:
        return exp.Paren(this=exp.or_(left, right))
    return exp.and_(left, right)


# -- required params -----------------------------------------------------------------------


def anchors(full: FullData) -> tuple[dt.datetime, ...]:
    """Times to start Amperity windows near: the first table of jobs, and later tables."""
    if "anchors" not in full.memo:
        rows = full.db.execute(
            "SELECT min(started_at) FROM amperity.ingest.job_tables GROUP BY job_id "
            "UNION ALL SELECT started_at FROM amperity.ingest.job_tables ORDER BY 1"
        ).fetchall()
        moments = [r[0] for r in rows if r[0] is not None]
        full.memo["anchors"] = tuple(moments[:: max(1, len(moments) // 60)])
    found: tuple[dt.datetime, ...] = full.memo["anchors"]
    return found


SPANS = (
    dt.timedelta(minutes=30),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
    dt.timedelta(days=1),
    dt.timedelta(days=3),
    dt.timedelta(days=8),
)


@st.composite
def window(
    draw: st.DrawFn, ref: exp.Expr, moments: tuple[dt.datetime, ...], reversed_ok: bool = True
) -> exp.Expr:
    """``ref >= a AND ref < b`` near one of ``moments`` (sometimes reversed)."""
    start = draw(st.sampled_from(moments)) + draw(st.sampled_from(SHIFTS))
    end = start + draw(st.sampled_from(SPANS))
    if reversed_ok and draw(st.integers(0, 9)) == 0:
        start, end = end, start
    low_op = draw(st.sampled_from([exp.GTE, exp.GTE, exp.GT]))
    low = low_op(this=ref, expression=draw(time_value_exact(start)))
    high = exp.LT(this=ref.copy(), expression=draw(time_value_exact(end)))
    return exp.and_(low, high)


@st.composite
def time_value_exact(draw: st.DrawFn, moment: dt.datetime) -> exp.Expr:
    form = draw(st.sampled_from(["plain", "iso", "offset", "TIMESTAMPTZ", "plain_date"]))
    if form == "TIMESTAMPTZ":
        return cast(literal(time_text(moment, "plain")), form)
    if form == "plain_date":
        return literal(time_text(moment, "date"))
    return literal(time_text(moment, form))


@st.composite
def binding(draw: st.DrawFn, info: TableInfo, q: str | None, full: FullData) -> exp.Expr | None:
    """The conjunct that binds ``info``'s required params (None when it has none)."""
    if not info.bindings:
        return None
    cheap = [b for b in info.bindings if b.kind != "range"] or list(info.bindings)
    chosen: Binding = draw(st.sampled_from(cheap))
    if len(cheap) < len(info.bindings) and draw(st.integers(0, 19)) == 19:  # slow: rare
        chosen = next(b for b in info.bindings if b.kind == "range")
    ref = q_col(chosen.column, q)
    if chosen.kind == "range":
        return exp.and_(
            exp.EQ(this=ref, expression=literal(AMPERITY_FROM)),
            exp.EQ(this=q_col("created_to", q), expression=literal(AMPERITY_TO)),
        )
    if chosen.kind == "window":
        return draw(window(ref, anchors(full)))
    values = draw(some(chosen.known, 3))
    if chosen.unknown and draw(st.integers(0, 4)) == 0:
        values.append(draw(st.sampled_from(chosen.unknown)))
    if len(values) == 1 and draw(st.booleans()):
        return exp.EQ(this=ref, expression=literal(values[0]))
    return in_list(ref, values)


@st.composite
def where_for(
    draw: st.DrawFn, info: TableInfo, q: str | None, full: FullData, depth: int = 2
) -> exp.Expr | None:
    """The binding of the required params AND (maybe) generated conditions."""
    bound = draw(binding(info, q, full))
    if draw(st.integers(0, 5)) == 0:
        return bound
    condition = draw(predicate(info, q, full, depth))
    return condition if bound is None else exp.and_(bound, condition)


# -- projections and joins -----------------------------------------------------------------


@st.composite
def projection(draw: st.DrawFn, info: TableInfo, q: str | None) -> list[exp.Expr]:
    names = draw(some([c.name for c in info.record], 4))
    return [q_col(n, q) for n in names]


def count_star() -> exp.Expr:
    return exp.Count(this=exp.Star())


def join_node(
    kind: str,
    right: exp.Expr,
    on: exp.Expr | None = None,
    using: list[str] | None = None,
) -> exp.Join:
    """A join of ``kind`` (``JOIN``, ``LEFT JOIN``, ``SEMI JOIN``, ``ASOF JOIN``, ...)."""
    skeleton = f"SELECT 1 FROM a {kind} b" + (" ON TRUE" if on is not None else "")
    node = sqlglot.parse_one(skeleton, dialect="duckdb").args["joins"][0]
    assert isinstance(node, exp.Join)
    node.set("this", right)
    if on is not None:
        node.set("on", on)
    if using:
        node.set("using", [exp.to_identifier(u) for u in using])
    return node


@dataclass(frozen=True)
class Pair:
    """Two resources a join relates: left columns equal right columns; ``dependent``: the
    right's required param is bound by that equality (a dependent join)."""

    left: str
    right: str
    keys: tuple[tuple[str, str], ...]
    dependent: bool = False
    times: tuple[str, str] | None = None  # for ASOF: left time >= right time


DO = "digitalocean.genai."
ONYX = "onyx.connector."
AMP = "amperity.ingest."
OV = "openverse.ingestion."

PAIRS = (
    Pair(
        DO + "indexing_jobs",
        DO + "knowledge_bases",
        (("knowledge_base_uuid", "uuid"),),
        times=("created_at", "created_at"),
    ),
    Pair(
        DO + "indexing_jobs",
        DO + "indexing_job_data_sources",
        (("uuid", "indexing_job_uuid"),),
        dependent=True,
    ),
    Pair(
        DO + "knowledge_bases",
        DO + "knowledge_base_data_sources",
        (("uuid", "knowledge_base_uuid"),),
        dependent=True,
    ),
    Pair(
        DO + "indexing_job_data_sources",
        DO + "knowledge_base_data_sources",
        (("data_source_uuid", "uuid"),),
    ),
    Pair(
        ONYX + "indexing_status",
        ONYX + "index_attempts",
        (("cc_pair_id", "cc_pair_id"),),
        dependent=True,
    ),
    Pair(
        ONYX + "indexing_status", ONYX + "failed_indexing_status", (("cc_pair_id", "cc_pair_id"),)
    ),
    Pair(ONYX + "indexing_status", ONYX + "indexing_summary", (("source", "source"),)),
    Pair(AMP + "jobs", AMP + "job_tables", (("id", "job_id"),), dependent=True),
    Pair(
        AMP + "job_files",
        AMP + "job_tables",
        (("job_id", "job_id"), ("feed_id", "feed_id")),
        times=("started_at", "started_at"),
    ),
    Pair(OV + "tasks", OV + "index_stats", (("model", "name"),), dependent=True),
)


@st.composite
def narrowing(draw: st.DrawFn, info: TableInfo, q: str | None, key: str) -> exp.Expr:
    """A condition keeping few rows of a parent whose rows each cost the child a request."""
    c = info.col(key)
    values = draw(some(c.samples, 4))
    return in_list(q_col(key, q), values)
