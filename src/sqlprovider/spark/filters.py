"""Spark's pushed filters as SQL conditions the engine's planner reads.

A filter that cannot be written faithfully (a nested column, a naive timestamp whose zone
is unknown, a value of another kind) is never sent: it stays with Spark, which checks it.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from pyspark.sql.datasource import (
    EqualNullSafe,
    EqualTo,
    Filter,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNotNull,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Not,
    StringContains,
    StringEndsWith,
    StringStartsWith,
)
from sqlglot import exp

_COMPARISONS: dict[type[Filter], type[exp.Expression]] = {
    EqualTo: exp.EQ,
    GreaterThan: exp.GT,
    GreaterThanOrEqual: exp.GTE,
    LessThan: exp.LT,
    LessThanOrEqual: exp.LTE,
}
_STRING_FUNCTIONS: dict[type[Filter], str] = {
    StringStartsWith: "starts_with",
    StringEndsWith: "suffix",
    StringContains: "contains",
}


def condition_of(spark_filter: Filter) -> str | None:
    """The filter as a DuckDB condition, or None when it cannot be written faithfully."""
    node = _condition(spark_filter)
    return None if node is None else node.sql(dialect="duckdb")


def _condition(spark_filter: Filter) -> exp.Expression | None:
    column = _column(getattr(spark_filter, "attribute", None))
    if isinstance(spark_filter, Not):
        inner = _condition(spark_filter.child)
        return None if inner is None else exp.Not(this=exp.Paren(this=inner))
    if column is None:
        return None
    if isinstance(spark_filter, IsNull):
        return exp.Is(this=column, expression=exp.Null())
    if isinstance(spark_filter, IsNotNull):
        return exp.Not(this=exp.Is(this=column, expression=exp.Null()))
    if isinstance(spark_filter, In):
        values = [_literal(v) for v in spark_filter.value if v is not None]
        if not values or any(v is None for v in values):
            return None
        return exp.In(this=column, expressions=values)
    if isinstance(spark_filter, EqualNullSafe):
        if spark_filter.value is None:
            return exp.Is(this=column, expression=exp.Null())
        value = _literal(spark_filter.value)
        return None if value is None else exp.NullSafeEQ(this=column, expression=value)
    value = _literal(getattr(spark_filter, "value", None))
    if value is None:
        return None
    comparison = _COMPARISONS.get(type(spark_filter))
    if comparison is not None:
        return comparison(this=column, expression=value)
    function = _STRING_FUNCTIONS.get(type(spark_filter))
    if function is not None and isinstance(getattr(spark_filter, "value", None), str):
        return exp.Anonymous(this=function, expressions=[column, value])
    return None


def _column(attribute: Any) -> exp.Column | None:
    if not isinstance(attribute, tuple) or len(attribute) != 1:
        return None  # a field inside a struct: the planner knows top-level columns only
    return exp.column(attribute[0], quoted=True)


def _literal(value: Any) -> exp.Expression | None:
    """A constant DuckDB compares as Spark does, or None."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        return exp.Literal.number(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return None  # which zone it is in is Spark's session setting, unknown here
        text = value.astimezone(datetime.UTC).isoformat()
        return exp.cast(exp.Literal.string(text), "TIMESTAMPTZ", dialect="duckdb")
    if isinstance(value, datetime.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE", dialect="duckdb")
    return None


__all__ = ["condition_of"]
