"""WHERE conditions → request values, only where the API's answer is provably a superset.

For one provider table, the quals on each column are evaluated by DuckDB as the final query
compares them (the column's type, casts, the session's time zone), then folded into one
Constraint per column: the values it may take, a range, substrings. A constraint no row can
meet (``uuid = 'a' AND uuid = 'b'``, a reversed range, ``= NULL``) means the table adds no
row, so nothing is fetched. A param is bound from a constraint only when every value converts
exactly to the param's type and the provider declares how the API's filter relates to the
column: ``exact``, ``loose`` (a superset), or a superset after widening by ``widen``. All
conditions still run in DuckDB, so a superset never changes the answer.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlglot import exp

from sqlprovider.errors import DataError
from sqlprovider.model import COLUMN_TYPES, Filtering, Method, Param, Resource, SqlVerb
from sqlprovider.model import param_columns as input_columns
from sqlprovider.plan import Evaluated
from sqlprovider.planner.wire import Unsendable, to_wire
from sqlprovider.sql import Qual

DIALECT = "duckdb"
_FLOAT_INTS = 2**53

# Which constants DuckDB compares with a column so that sending the cast value is exact:
# the column's type family → the constants' type families. A text column compared with a
# number is compared as numbers ('05' = 5), so it is not here.
_COMPARABLE = {
    "string": {"string"},
    "integer": {"integer", "decimal", "float", "string"},
    "decimal": {"integer", "decimal", "float", "string"},
    "float": {"integer", "decimal", "float", "string"},
    "timestamp": {"timestamp", "date", "string"},
    "date": {"date", "timestamp", "string"},
    "boolean": {"boolean", "string"},
}
_INTEGERS = {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UHUGEINT"}
_INTEGERS |= {"UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"}


class Evaluator(Protocol):
    """Evaluates constants as DuckDB compares them with a column (the session's store)."""

    def evaluate(self, items: Sequence[tuple[exp.Expression, str]]) -> list[Evaluated | None]:
        """One answer per (constant, column type); None where DuckDB cannot evaluate it."""
        ...


def family(duckdb_type: str) -> str:
    """The comparison family of a DuckDB type."""
    kind = duckdb_type.upper()
    if kind.endswith("[]") or kind.startswith(("STRUCT", "MAP", "LIST", "JSON")):
        return "other"
    if kind.startswith("VARCHAR"):
        return "string"
    if kind in _INTEGERS:
        return "integer"
    if kind.startswith("DECIMAL"):
        return "decimal"
    if kind in ("DOUBLE", "FLOAT", "REAL"):
        return "float"
    if kind.startswith("TIMESTAMP"):
        return "timestamp"
    if kind == "DATE":
        return "date"
    if kind == "BOOLEAN":
        return "boolean"
    return "other"


@dataclass
class Constraint:
    """What the conditions on one column allow.

    Attributes:
        column: the column's name as declared.
        type: its DuckDB type.
        values: the values it may take (from ``=`` and ``IN``), None for any.
        lower: (value, inclusive) the column is at least; upper likewise.
        contains: (text, case sensitive) substrings it must contain (``LIKE '%x%'``).
        parts: which of values/lower/upper/contains each conjunct set, by conjunct id.
    """

    column: str
    type: str
    values: list[Any] | None = None
    lower: tuple[Any, bool] | None = None
    upper: tuple[Any, bool] | None = None
    contains: list[tuple[str, bool, bool]] = field(default_factory=list)  # + exact pattern
    conjuncts: dict[str, set[int]] = field(default_factory=dict)  # part → conjunct ids
    written: dict[str, list[str]] = field(default_factory=dict)  # part → conditions as SQL
    unused: set[int] = field(default_factory=set)  # conjuncts that constrain nothing here

    def note(self, part: str, qual: Qual) -> None:
        """Record that ``qual`` set ``part``."""
        self.conjuncts.setdefault(part, set()).add(id(qual.expression))
        text = qual.describe()
        if text not in self.written.setdefault(part, []):
            self.written[part].append(text)

    def allow(self, values: Iterable[Any], qual: Qual) -> None:
        """Narrow the values to ``values``."""
        kept = list(dict.fromkeys(values))
        if self.values is not None:
            kept = [v for v in self.values if v in kept]
        self.values = kept
        self.note("values", qual)

    def bound(self, op: str, value: Any, qual: Qual) -> None:
        """Narrow the range with ``column op value``."""
        inclusive = op in (">=", "<=")
        if op in (">", ">="):
            if self.lower is None or (value, not inclusive) > (self.lower[0], not self.lower[1]):
                self.lower = (value, inclusive)
            self.note("lower", qual)
        else:
            if self.upper is None or (value, inclusive) < (self.upper[0], self.upper[1]):
                self.upper = (value, inclusive)
            self.note("upper", qual)

    def origin(self, part: str) -> str:
        """The conditions that set ``part``, as written."""
        return " AND ".join(self.written.get(part, [])) or self.column

    def within(self, value: Any) -> bool:
        """Whether ``value`` is inside the range."""
        if self.lower is not None:
            low, inclusive = self.lower
            if value < low or (value == low and not inclusive):
                return False
        if self.upper is not None:
            high, inclusive = self.upper
            if value > high or (value == high and not inclusive):
                return False
        return True

    def impossible(self) -> bool:
        """Whether no value meets the constraint."""
        if self.values is not None:
            self.values = [v for v in self.values if self.within(v)]
            return not self.values
        if self.lower is not None and self.upper is not None:
            (low, low_in), (high, high_in) = self.lower, self.upper
            return low > high or (low == high and not (low_in and high_in))
        return False

    def range_of_values(self) -> None:
        """A set of values also bounds the range (so a window param can carry it)."""
        if self.values:
            self.lower = (min(self.values), True)
            self.upper = (max(self.values), True)


@dataclass(frozen=True)
class Bound:
    """A param given values from the conditions on one column.

    Attributes:
        values: the wire values; several mean one request each (one list for ``many``).
        origin: what is sent, for EXPLAIN (``started_at >= '2025-05-01T00:00:00Z'``).
        column: the column the conditions are on (lower case).
        part: which part of the column's constraint it carries (values, lower, upper,
            contains).
        exact: the API applies that part exactly (no superset, no widening).
        op: the comparison sent (``=`` for values).
    """

    values: tuple[Any, ...]
    origin: str
    column: str
    part: str
    exact: bool
    op: str = "="


def exact_conjuncts(constraints: Constraints, sent: Iterable[Bound]) -> set[int]:
    """Ids of the conjuncts the request applies exactly: every part of their column's
    constraint is carried by an exact binding."""
    covered: dict[str, set[str]] = {}
    for bound in sent:
        if bound.exact:
            covered.setdefault(bound.column, set()).add(bound.part)
    found: set[int] = set()
    for name, constraint in constraints.by_column.items():
        if not constraint.unused and set(constraint.conjuncts) <= covered.get(name, set()):
            for ids in constraint.conjuncts.values():
                found |= ids
    return found


@dataclass
class Constraints:
    """The constraints of one table's columns, and why no row can be selected (if so)."""

    by_column: dict[str, Constraint]
    nothing: str | None = None


class Pushdown:
    """Decides what the conditions on one provider table send to its API."""

    def __init__(
        self, resource: Resource, evaluator: Evaluator, environ: Mapping[str, str]
    ) -> None:
        self.resource = resource
        self.evaluator = evaluator
        self.environ = environ
        self.types = {c.name.lower(): (c.name, c.duckdb_type) for c in resource.columns}
        for column in input_columns(resource):
            self.types.setdefault(column.name.lower(), (column.name, COLUMN_TYPES[column.type]))

    # -- constraints -------------------------------------------------------------------------

    def constraints(self, quals: Sequence[Qual]) -> Constraints:
        """Fold the constant quals into one Constraint per column."""
        items: list[tuple[Qual, exp.Expression, str]] = []
        for qual in quals:
            if qual.ref is not None or qual.subquery is not None:
                continue
            known = self.types.get(qual.column.lower())
            if known is not None:
                items.extend((qual, value, known[1]) for value in qual.values)
        answers: dict[int, Evaluated | None] = {}
        for _, value, kind in items:
            known_answer = _plain_literal(value, kind)
            if known_answer is not None:
                answers[id(value)] = known_answer
        left = [(value, kind) for _, value, kind in items if id(value) not in answers]
        for (value, kind), answer in zip(left, self.evaluator.evaluate(left), strict=True):
            if answer is None:
                answer = _text_literal(value, kind)
            answers[id(value)] = answer
            _fix_moment(value, answer)
        found = Constraints({})
        for qual in quals:
            known = self.types.get(qual.column.lower())
            if known is None or qual.ref is not None or qual.subquery is not None:
                continue
            constraint = found.by_column.setdefault(known[0].lower(), Constraint(*known))
            reason = _apply(constraint, qual, [answers.get(id(v)) for v in qual.values])
            if reason is not None and found.nothing is None:
                found.nothing = f"{qual.describe()} {reason}"
        for constraint in found.by_column.values():
            if found.nothing is None and constraint.impossible():
                found.nothing = f"no {constraint.column} meets all the conditions on it"
            if found.nothing is None:
                found.nothing = self._unaskable(constraint)
        return found

    def _unaskable(self, constraint: Constraint) -> str | None:
        """For a param every read needs, values no request can carry are dropped: the API
        returns rows only for values it is asked for, so none of the table's rows has them.
        The reason when no value is left."""
        param = self._required_everywhere(constraint.column)
        if param is None or constraint.values is None:
            return None
        kept = []
        reason = ""
        for value in constraint.values:
            try:
                to_wire(param, value)
            except Unsendable as exc:
                reason = str(exc)
                continue
            kept.append(value)
        constraint.values = kept
        return None if kept else f"no request can ask for {constraint.column} so ({reason})"

    def _required_everywhere(self, column: str) -> Param | None:
        """The param named ``column`` that every SELECT method needs, if there is one."""
        found = None
        for method in self.resource.methods_for(SqlVerb.SELECT):
            param = next((p for p in method.params if p.name.lower() == column.lower()), None)
            if param is None or not param.required or param.fallback(self.environ) is not None:
                return None
            found = found or param
        return found

    # -- params ----------------------------------------------------------------------------

    def bindings(self, constraints: Constraints) -> dict[tuple[str, str], Bound]:
        """The params each SELECT method can be given, by (method name, param name)."""
        found: dict[tuple[str, str], Bound] = {}
        for method in self.resource.methods_for(SqlVerb.SELECT):
            for param in method.params:
                bound = self._bind(method, param, constraints.by_column)
                if bound is None:
                    continue
                found[(method.name, param.name)] = bound
                operator = method.param(param.operator_param or "")
                if operator is not None and (method.name, operator.name) not in found:
                    found[(method.name, operator.name)] = dataclasses.replace(
                        bound, values=(param.operator_value(bound.op),)
                    )
        return found

    def _bind(self, method: Method, param: Param, columns: dict[str, Constraint]) -> Bound | None:
        named = columns.get(param.name.lower())
        if named is not None and named.values is not None:
            return _values_binding(param, named)
        if param.column is None:
            return None
        compared = columns.get(param.column.lower())
        if compared is None:
            return None
        return _comparison_binding(param, compared)


_BIGINT = range(-(2**63), 2**63)


def _plain_literal(value: exp.Expression, kind: str) -> Evaluated | None:
    """What DuckDB would answer for the commonest constants, without asking it (a long IN
    list would otherwise cost a query of thousands of columns): text compared with a text
    column, a whole number with a BIGINT one, NULL with anything."""
    if isinstance(value, exp.Null):
        return Evaluated(value=None, kind="NULL", is_null=True, exact=False, raw=None)
    if not isinstance(value, exp.Literal):
        return None
    if value.is_string and family(kind) == "string":
        return Evaluated(
            value=value.this, kind="VARCHAR", is_null=False, exact=True, raw=value.this
        )
    if not value.is_string and kind.upper() == "BIGINT" and str(value.this).isdigit():
        number = int(value.this)
        if number in _BIGINT:
            return Evaluated(value=number, kind="INTEGER", is_null=False, exact=True, raw=number)
    return None


def _text_literal(value: exp.Expression, kind: str) -> Evaluated | None:
    """A string literal compared with a text column is that very text, even where DuckDB
    cannot take it (a lone surrogate): the request is then refused with a clear reason."""
    if family(kind) != "string" or not isinstance(value, exp.Literal) or not value.is_string:
        return None
    return Evaluated(value=value.this, kind="VARCHAR", is_null=False, exact=True, raw=value.this)


def _apply(constraint: Constraint, qual: Qual, answers: list[Evaluated | None]) -> str | None:
    """Narrow ``constraint`` by ``qual``; the reason when it selects no row at all."""
    conjunct = id(qual.expression)
    column_family = family(constraint.type)
    usable: list[Evaluated] = []
    for value, answer in zip(qual.values, answers, strict=True):
        _refuse_unreadable(qual, value, answer, constraint)
        if answer is None or (
            not answer.is_null
            and (
                family(answer.kind) not in _COMPARABLE.get(column_family, set())
                or answer.value is None
                or _unsafe_float(column_family, answer)
            )
        ):
            constraint.unused.add(conjunct)
            return None  # DuckDB alone can say what it selects
        usable.append(answer)
    if qual.op in ("like", "ilike"):
        return _apply_pattern(constraint, qual, usable[0], column_family)
    if qual.op in ("=", "in"):
        # No value of the column's type equals a NULL, or a constant its cast changes.
        kept = [a.value for a in usable if not a.is_null and a.exact]
        constraint.allow(kept, qual)
        return None if kept else "selects no row"
    answer = usable[0]
    if answer.is_null:
        constraint.allow([], qual)
        return "selects no row (a comparison with NULL is never true)"
    if answer.exact:
        constraint.bound(qual.op, answer.value, qual)
    else:
        constraint.unused.add(conjunct)
    return None


def _refuse_unreadable(
    qual: Qual, value: exp.Expression, answer: Evaluated | None, constraint: Constraint
) -> None:
    """A text literal the column's type cannot read is DuckDB's error too; say so before
    anything is fetched, rather than after every page."""
    if (
        answer is not None
        and not answer.is_null
        and answer.value is None
        and isinstance(value, exp.Literal)
        and value.is_string
        and family(constraint.type) not in ("string", "other")
    ):
        raise DataError(
            f"{qual.describe()}: {value.this!r} cannot be read as {constraint.type} (the type "
            f"of {constraint.column}); check the value"
        )


def _apply_pattern(
    constraint: Constraint, qual: Qual, answer: Evaluated, column_family: str
) -> str | None:
    conjunct = id(qual.expression)
    if answer.is_null:
        constraint.allow([], qual)
        return "selects no row (a pattern that is NULL matches nothing)"
    if column_family != "string" or not isinstance(answer.raw, str):
        constraint.unused.add(conjunct)
        return None
    text, exact_pattern = _literal_part(answer.raw)
    if not text:
        constraint.unused.add(conjunct)
        return None
    constraint.contains.append((text, qual.op == "like", exact_pattern))
    constraint.note("contains", qual)
    return None


def _literal_part(pattern: str) -> tuple[str, bool]:
    """The longest run of a LIKE pattern without wildcards, and whether the pattern is
    exactly ``%text%`` (then containing the text is the whole condition)."""
    pieces = [p for p in re.split(r"[%_]", pattern) if p]
    if not pieces:
        return "", False
    longest = max(pieces, key=len)
    return longest, pattern == f"%{longest}%"


def _unsafe_float(column_family: str, answer: Evaluated) -> bool:
    """An integer column compared with a float is compared as floats, which cannot tell
    integers above 2**53 apart."""
    return (
        column_family == "integer"
        and family(answer.kind) == "float"
        and isinstance(answer.value, int)
        and abs(answer.value) >= _FLOAT_INTS
    )


def _fix_moment(value: exp.Expression, answer: Evaluated | None) -> None:
    """Replace a computed time (``now() - INTERVAL 1 DAY``) by its value in the statement, so
    DuckDB filters with the very instant that was sent, not a later one."""
    if answer is None or answer.is_null or not isinstance(answer.raw, datetime.date):
        return
    reads_clock = any(
        isinstance(n, exp.Func) and not isinstance(n, exp.Cast | exp.TryCast) for n in value.walk()
    )
    if not reads_clock or value.parent is None:
        return
    literal = exp.cast(exp.Literal.string(str(answer.raw)), answer.kind, dialect=DIALECT)
    value.replace(literal)


def _values_binding(param: Param, constraint: Constraint) -> Bound | None:
    assert constraint.values is not None
    try:
        values = tuple(dict.fromkeys(to_wire(param, v) for v in constraint.values))
    except Unsendable:
        return None
    if not values:
        return None
    origin = constraint.origin("values")
    exact = param.filtering is not Filtering.LOOSE
    return Bound(values, origin, constraint.column.lower(), "values", exact)


def _comparison_binding(param: Param, constraint: Constraint) -> Bound | None:
    """``docs_indexed > 5`` → docs_count_value 5 (with its operator); ``started_at >= t`` →
    created_from t (earlier by the param's ``widen``)."""
    ops = set(param.operators)
    choices: list[tuple[str, Any, bool]] = []  # (op sent, value, exact)
    if constraint.values is not None and len(constraint.values) == 1 and "=" in ops:
        choices.append(("=", constraint.values[0], True))
    probe = dataclasses.replace(constraint)
    probe.range_of_values()
    if probe.lower is not None:
        choices.extend(_loosened(">", probe.lower, ops))
    if probe.upper is not None:
        choices.extend(_loosened("<", probe.upper, ops))
    for text, case_sensitive, exact_pattern in constraint.contains:
        if "contains" in ops and case_sensitive:
            choices.append(("contains", text, exact_pattern))
        elif "icontains" in ops and text.isascii():
            choices.append(("icontains", text, exact_pattern and not case_sensitive))
    for op, value, exact in choices:
        sent = _widened(op, value, param.widen)
        try:
            wire = to_wire(param, sent)
        except Unsendable:
            continue
        exact = exact and sent == value and param.filtering is Filtering.EXACT
        origin = constraint.origin("values" if op == "=" and constraint.values else _part(op))
        if sent != value:
            origin += f", widened by {_duration(param.widen)}"
        elif not exact and param.filtering is Filtering.EXACT:
            origin += f", sent as {op}"
        return Bound((wire,), origin, constraint.column.lower(), _part(op), exact, op)
    return None


def _part(op: str) -> str:
    if op == "=":
        return "values"
    if op in (">", ">="):
        return "lower"
    if op in ("<", "<="):
        return "upper"
    return "contains"


def _loosened(side: str, limit: tuple[Any, bool], ops: set[str]) -> list[tuple[str, Any, bool]]:
    """How a param with ``ops`` can carry ``column >[=] value`` (or ``<[=]``): exactly, or as
    a wider range (``>`` sent as ``>=``; ``<=`` as ``<`` one step up)."""
    value, inclusive = limit
    strict, loose = (">", ">=") if side == ">" else ("<", "<=")
    wanted = loose if inclusive else strict
    if wanted in ops:
        return [(wanted, value, True)]
    if not inclusive and loose in ops:
        return [(loose, value, False)]
    step = _step(value)
    if inclusive and strict in ops and step is not None:
        return [(strict, _moved(value, -step if side == ">" else step), False)]
    return []


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _step(value: Any) -> Any:
    """A step wider than any API's precision for the value's type (None: no such step)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return 1
    if isinstance(value, datetime.datetime):
        return datetime.timedelta(seconds=1)
    if isinstance(value, datetime.date):
        return datetime.timedelta(days=1)
    return None


def _widened(op: str, value: Any, seconds: float) -> Any:
    """A bound moved out by the param's ``widen`` margin (the API filters on a related time
    that may lie that far from the column's)."""
    if not seconds or not isinstance(value, datetime.date):
        return value
    margin = datetime.timedelta(seconds=seconds)
    if not isinstance(value, datetime.datetime):
        margin = datetime.timedelta(days=max(1, int(seconds // 86400) + 1))
    if op in (">", ">="):
        return _moved(value, -margin)
    if op in ("<", "<="):
        return _moved(value, margin)
    return value


def _moved(value: Any, step: Any) -> Any:
    """``value + step``, held at the ends of the calendar (still a superset there)."""
    try:
        return value + step
    except OverflowError:
        earliest = step < type(step)(0)
        if isinstance(value, datetime.datetime):
            end = datetime.datetime.min if earliest else datetime.datetime.max
            return end.replace(tzinfo=value.tzinfo)
        return datetime.date.min if earliest else datetime.date.max
