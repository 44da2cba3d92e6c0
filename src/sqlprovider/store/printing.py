"""How each DuckDB value prints, in every output format: the rules once, in two hands.

``sqlprovider exec`` has DuckDB write csv, json and jsonl itself (``Store.export``: a COPY,
no row passes through Python); rows already fetched (the shell, EXPLAIN, write outcomes)
are printed by ``sqlprovider.output`` in Python. Both follow the rules here: ``text_sql``
and ``json_sql`` are the SQL DuckDB's writer is given, ``text`` and ``json_text`` the same
rules in Python, next to each other so that one cannot change without the other.
tests/unit/test_printing.py checks that the two hands agree byte for byte.

The text of a value (table, line, markdown and csv cells; NULL is left to the format):

=======================  ==================================  ===============================
type                     text                                in json and jsonl
=======================  ==================================  ===============================
VARCHAR, UUID, ENUM      the string                          a JSON string
integers, HUGEINT        decimal digits                      a number, exact
DOUBLE, FLOAT            shortest repr: ``0.1``, ``1e+20``,  a number: ``0.1``,
                         ``inf``, ``-inf``, ``nan``          ``100000000000000000000.0``,
                                                             ``1e21``; ``"Infinity"``,
                                                             ``"-Infinity"``, ``"NaN"``
DECIMAL(w,s)             exact, ``s`` decimals: ``1.50``     a number (as a DOUBLE): ``1.5``
BOOLEAN                  ``true``, ``false``                 ``true``, ``false``
TIMESTAMP WITH TIME ZONE ``2024-01-02T03:04:05Z`` (in UTC)   a JSON string of the text
TIMESTAMP (_S, _MS, _NS) ``2024-01-02T03:04:05.250000``      a JSON string of the text
DATE, TIME               ``2024-01-02``, ``03:04:05``        a JSON string of the text
INTERVAL                 ``-1 day 02:03:04.5`` (a month is    a JSON string of the text
                         30 days, as Python sees it)
BLOB                     ``\\x`` and lower-case hex           a JSON string of the text
JSON                     the JSON text as stored             the JSON value
lists, arrays, STRUCTs,  compact JSON: ``["a","b"]``,        the JSON value
MAPs                     ``{"x":1}``
=======================  ==================================  ===============================

Fractions of a second print only when there are some, as six digits. JSON is written the way
DuckDB's writer (yyjson) writes it: no spaces, control characters escaped (``\\u001F``, upper
case), everything else as UTF-8; JSON columns are re-read and written again that way (big
numbers kept as written). Types not in the table (UNION, BIT, TIME WITH TIME ZONE, ...)
print as DuckDB casts them to VARCHAR in an export and as Python's ``str`` otherwise; they
may differ.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

# -- the types -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A DuckDB type, read from how DuckDB spells it (``STRUCT(a VARCHAR, b INTEGER[])``).

    Attributes:
        name: the base name, upper case: ``VARCHAR``, ``DECIMAL``, ``LIST``, ``ARRAY``,
            ``STRUCT``, ``MAP``, ``TIMESTAMP WITH TIME ZONE``, ...
        fields: a STRUCT's fields; a LIST's or ARRAY's element as ``("", kind)``; a MAP's
            ``("key", kind)`` and ``("value", kind)``.
        spelled: the type as DuckDB spells it.
    """

    name: str
    fields: tuple[tuple[str, Kind], ...] = ()
    spelled: str = ""

    @property
    def category(self) -> str:
        """Which rule of the module's table the type follows."""
        return _CATEGORIES.get(self.name, "other")

    @property
    def element(self) -> Kind:
        """A LIST's or ARRAY's element type."""
        return self.fields[0][1]


_INTEGERS = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
)
_TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")
_CATEGORIES: dict[str, str] = {
    "VARCHAR": "string",
    "UUID": "string",
    "ENUM": "string",
    **dict.fromkeys(_INTEGERS, "integer"),
    "DOUBLE": "float",
    "FLOAT": "float",
    "DECIMAL": "decimal",
    "BOOLEAN": "boolean",
    "JSON": "json",
    "DATE": "date",
    "TIME": "time",
    **dict.fromkeys(_TIMESTAMPS, "timestamp"),
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "BLOB": "blob",
    "LIST": "list",
    "ARRAY": "list",
    "STRUCT": "struct",
    "MAP": "map",
}
# Numbers are right-aligned in tables.
NUMERIC = frozenset({"integer", "float", "decimal"})


@functools.lru_cache(maxsize=512)
def parse_type(spelled: str) -> Kind:
    """The Kind of a type as DuckDB spells it (``str(relation.types[i])``)."""
    parser = _TypeParser(spelled)
    try:
        kind = parser.type()
    except (IndexError, ValueError):
        return Kind("?", spelled=spelled)  # something new: printed as "other"
    return kind if parser.at_end() else Kind("?", spelled=spelled)


class _TypeParser:
    """``type := words ['(' ... ')'] {'[' [digits] ']'}``; STRUCT and MAP look inside."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def at_end(self) -> bool:
        self._space()
        return self.at >= len(self.text)

    def type(self) -> Kind:
        start = self._space()
        name = self._words()
        fields: tuple[tuple[str, Kind], ...] = ()
        if self._peek() == "(":
            if name in ("STRUCT", "UNION"):
                fields = self._fields()
            elif name == "MAP":
                self.at += 1
                key = self.type()
                self._expect(",")
                value = self.type()
                self._expect(")")
                fields = (("key", key), ("value", value))
            else:  # DECIMAL(18,3), ENUM('a', 'b'): kept in the spelling only
                self._skip_parentheses()
        kind = Kind(name, fields, self.text[start : self.at].strip())
        while self._peek() == "[":
            close = self.text.index("]", self.at)
            sized = self.text[self.at + 1 : close].strip()
            self.at = close + 1
            kind = Kind("ARRAY" if sized else "LIST", (("", kind),), self.text[start : self.at])
        return kind

    def _fields(self) -> tuple[tuple[str, Kind], ...]:
        self.at += 1
        fields = []
        while True:
            self._space()
            if self.text[self.at] == '"':
                close = self.at + 1
                while True:
                    close = self.text.index('"', close)
                    if self.text[close + 1 : close + 2] != '"':
                        break
                    close += 2
                name = self.text[self.at + 1 : close].replace('""', '"')
                self.at = close + 1
            else:
                match = re.compile(r"[^\s(),\[\]]+").match(self.text, self.at)
                if match is None:
                    raise ValueError(self.text)
                name, self.at = match.group(), match.end()
            fields.append((name, self.type()))
            self._space()
            if self.text[self.at] == ")":
                self.at += 1
                return tuple(fields)
            self._expect(",")

    def _words(self) -> str:
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*)*").match(
            self.text, self.at
        )
        if match is None:
            raise ValueError(self.text)
        self.at = match.end()
        return match.group().upper()

    def _skip_parentheses(self) -> None:
        depth, quote = 0, ""
        while True:
            char = self.text[self.at]
            self.at += 1
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    return

    def _space(self) -> int:
        while self.at < len(self.text) and self.text[self.at] == " ":
            self.at += 1
        return self.at

    def _peek(self) -> str:
        self._space()
        return self.text[self.at : self.at + 1]

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise ValueError(self.text)
        self.at += 1


# -- the Python hand -------------------------------------------------------------------------


def text(value: Any, kind: Kind) -> str:
    """The text of a value that is not NULL (see the module's table)."""
    category = kind.category
    if category == "json":
        return str(value)
    if category in ("list", "struct", "map"):
        return json_text(value, kind)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time) and category == "time":
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _interval(value // dt.timedelta(microseconds=1))
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | dict):
        return json_text(value, kind)
    return str(value)


def json_text(value: Any, kind: Kind) -> str:
    """A value (NULL included) as JSON text, the way DuckDB's writer writes it."""
    if value is None:
        return "null"
    category = kind.category
    if category == "json":
        return normalize_json(str(value))
    if category == "boolean" or isinstance(value, bool):
        return "true" if value else "false"
    if category == "integer" and isinstance(value, int):
        return str(value)
    if category == "float" and isinstance(value, float):
        if math.isnan(value):
            return '"NaN"'
        if math.isinf(value):
            return '"Infinity"' if value > 0 else '"-Infinity"'
        return json_number(value)
    if category == "decimal" and isinstance(value, decimal.Decimal):
        return json_number(float(value))
    if category == "list" and isinstance(value, list | tuple):
        element = kind.element
        return "[" + ",".join(json_text(item, element) for item in value) + "]"
    if category == "struct" and isinstance(value, dict):
        return _json_object(
            (name, json_text(value.get(name), field)) for name, field in kind.fields
        )
    if category == "map" and isinstance(value, dict):
        key_kind, value_kind = kind.fields[0][1], kind.fields[1][1]
        return _json_object(
            (text(key, key_kind), json_text(item, value_kind)) for key, item in value.items()
        )
    return json_string(text(value, kind))


def _json_object(pairs: Iterator[tuple[str, str]]) -> str:
    return "{" + ",".join(json_string(key) + ":" + value for key, value in pairs) + "}"


def json_record(names: Sequence[str], row: Sequence[Any], kinds: Sequence[Kind]) -> str:
    """One row as a JSON object (the names made unique first, as DuckDB's COPY does)."""
    return _json_object(
        (name, json_text(value, kind))
        for name, value, kind in zip(unique_names(names), row, kinds, strict=True)
    )


def _interval(micros: int) -> str:
    """``[-][N day[s] ]HH:MM:SS[.ffffff]`` of a signed count of microseconds."""
    sign = "-" if micros < 0 else ""
    days, rest = divmod(abs(micros), 86_400_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    day = "" if days == 0 else f"{days} day " if days == 1 else f"{days} days "
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return sign + day + clock + (f".{fraction:06d}" if fraction else "")


def json_number(value: float) -> str:
    """A finite double as yyjson (DuckDB's JSON writer) writes it: the shortest digits that
    read back the same, in decimal notation from 1e-6 up to 1e21 (``100.0``, ``0.000015``),
    in scientific notation outside it (``1e21``, ``1.5e-7``)."""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digits, exponent = decimal.Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    exponent += len(digits) - len(shown)  # value = shown * 10**exponent
    point = len(shown) + exponent  # where the decimal point goes in ``shown``
    if -6 < point <= 21:
        if exponent >= 0:
            body = shown + "0" * exponent + ".0"
        elif point > 0:
            body = shown[:point] + "." + shown[point:]
        else:
            body = "0." + "0" * -point + shown
    else:
        body = shown[0] + ("." + shown[1:] if len(shown) > 1 else "") + f"e{point - 1}"
    return ("-" if sign else "") + body


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_ESCAPES["\t"] = "\\t"
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def json_string(value: str) -> str:
    """A JSON string as yyjson writes it: ``"`` and ``\\`` escaped, control characters as
    short escapes or ``\\u00XX`` (upper case), everything else as it is."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, value) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04X}"


_JSON_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<special>[-+]?(?:[Nn][Aa][Nn]|[Ii][Nn][Ff](?:[Ii][Nn][Ii][Tt][Yy])?))
      | (?P<word>true|false|null)
      | (?P<punct>[\[\]{}:,])
    )""",
    re.VERBOSE,
)
_INT_RANGE = (-(2**63), 2**64 - 1)  # yyjson reads these as integers, bigger ones as written


def normalize_json(source: str) -> str:
    """JSON text as DuckDB writes a JSON column: read and written again by yyjson (no
    spaces, a trailing comma dropped, strings escaped its way, numbers re-written; integers
    beyond 64 bits, numbers beyond a double, NaN and Infinity kept as written)."""
    out: list[str] = []
    for match in _JSON_TOKEN.finditer(source):
        kind = match.lastgroup
        token = match.group(kind or 0)
        if kind == "string":
            out.append(json_string(_json_unescape(token)))
        elif kind == "number":
            out.append(_json_number_token(token))
        elif kind == "punct" and token in "]}" and out and out[-1] == ",":
            out[-1] = token  # yyjson reads [1,] as [1]
        else:
            out.append(token)
    return "".join(out)


def _json_number_token(token: str) -> str:
    if re.fullmatch(r"-?\d+", token):
        number = int(token)
        return str(number) if _INT_RANGE[0] <= number <= _INT_RANGE[1] else token
    value = float(token)
    return token if math.isinf(value) else json_number(value)


def _json_unescape(token: str) -> str:
    import json

    decoded: str = json.loads(token)
    return decoded


def unique_names(names: Sequence[str]) -> list[str]:
    """Column names made unique as DuckDB's COPY makes them: a repeated name (ignoring
    case) gets ``_1``, ``_2``, ... until it is new."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        low = name.lower()
        if low not in seen:
            seen[low] = 1
            unique.append(name)
            continue
        renamed = f"{name}_{seen[low]}"
        while renamed.lower() in seen:
            seen[low] += 1
            renamed = f"{name}_{seen[low]}"
        seen[renamed.lower()] = 1
        seen[low] += 1
        unique.append(renamed)
    return unique


_CSV_QUOTED = re.compile(r'[,"\n\r#]')


def csv_field(value: str | None) -> str:
    """One CSV field as DuckDB's writer writes it: NULL is an empty field; a value that is
    empty or holds ``,``, ``"``, a line break or ``#`` is quoted, ``"`` doubled."""
    if value is None:
        return ""
    if value and not _CSV_QUOTED.search(value):
        return value
    return '"' + value.replace('"', '""') + '"'


# -- the SQL hand ----------------------------------------------------------------------------


def text_sql(value: exp.Expr, kind: Kind) -> exp.Expr:
    """SQL for the text of ``value`` (a VARCHAR; NULL stays NULL): ``text`` in DuckDB."""
    category = kind.category
    if category == "string" and kind.name == "VARCHAR":
        return value
    if category == "float":
        return exp.If(
            this=exp.func("isnan", value.copy()),
            true=exp.Literal.string("nan"),
            false=_varchar(exp.cast(value.copy(), "DOUBLE")),
        )
    if category == "date":
        return exp.func("strftime", value, exp.Literal.string("%Y-%m-%d"))
    if category == "timestamp":
        return _no_zero_fraction(exp.func("strftime", value, _ISO))
    if category == "timestamptz":
        utc = exp.func("timezone", exp.Literal.string("UTC"), value)
        return exp.DPipe(
            this=_no_zero_fraction(exp.func("strftime", utc, _ISO)),
            expression=exp.Literal.string("Z"),
        )
    if category == "time":
        day = exp.Add(this=exp.cast(exp.Literal.string("1970-01-01"), "DATE"), expression=value)
        return _no_zero_fraction(exp.func("strftime", day, exp.Literal.string("%H:%M:%S.%f")))
    if category == "interval":
        return _interval_sql(exp.func("epoch_us", value))
    if category == "blob":
        hexed = exp.func("lower", exp.func("hex", value))
        return exp.DPipe(this=exp.Literal.string("\\x"), expression=hexed)
    if category in ("list", "struct", "map"):
        return _varchar(exp.func("to_json", json_sql(value, kind)))
    return _varchar(value)  # numbers, booleans, JSON text, UUID, ENUM, others


def json_sql(value: exp.Expr, kind: Kind, depth: int = 0) -> exp.Expr:
    """SQL for what DuckDB's JSON writer is given for ``value``, so that it writes what
    ``json_text`` writes: values it writes right are left alone, the others converted."""
    category = kind.category
    if category in ("integer", "boolean", "json") or kind.name == "VARCHAR":
        return value
    if category == "float":  # DuckDB would write NaN and Infinity bare: not JSON
        infinite = exp.func("isinf", value.copy())
        positive = exp.GT(this=value.copy(), expression=exp.Literal.number(0))
        return exp.Case(
            ifs=[
                exp.If(this=exp.func("isnan", value.copy()), true=_to_json(_string("NaN"))),
                exp.If(
                    this=exp.And(this=infinite.copy(), expression=positive),
                    true=_to_json(_string("Infinity")),
                ),
                exp.If(this=infinite, true=_to_json(_string("-Infinity"))),
            ],
            default=_to_json(exp.cast(value.copy(), "DOUBLE")),
        )
    if category == "decimal":
        return exp.cast(_varchar(value), "DOUBLE")  # a correctly rounded double
    if category == "list":
        element = kind.element
        if _written_as_is(element):
            return value
        name = f"_sp_e{depth}"
        body = json_sql(exp.column(name), element, depth + 1)
        return exp.func(
            "list_transform", value, exp.Lambda(this=body, expressions=[exp.to_identifier(name)])
        )
    if category == "struct":
        if all(_written_as_is(field) for _, field in kind.fields):
            return value
        packed = exp.func(
            "struct_pack",
            *(
                exp.PropertyEQ(
                    this=exp.to_identifier(name, quoted=True),
                    expression=json_sql(
                        exp.func("struct_extract", value.copy(), exp.Literal.string(name)),
                        field,
                        depth,
                    ),
                )
                for name, field in kind.fields
            ),
        )
        return _null_if_null(value, packed)
    if category == "map":
        key_kind, value_kind = kind.fields[0][1], kind.fields[1][1]
        name = f"_sp_e{depth}"
        entry = exp.column(name)

        def part(which: str) -> exp.Expr:
            return exp.func("struct_extract", entry.copy(), exp.Literal.string(which))

        pair = exp.func(
            "struct_pack",
            exp.PropertyEQ(
                this=exp.to_identifier("key"), expression=text_sql(part("key"), key_kind)
            ),
            exp.PropertyEQ(
                this=exp.to_identifier("value"),
                expression=json_sql(part("value"), value_kind, depth + 1),
            ),
        )
        entries = exp.func(
            "list_transform",
            exp.func("map_entries", value.copy()),
            exp.Lambda(this=pair, expressions=[exp.to_identifier(name)]),
        )
        return _null_if_null(value, exp.func("map_from_entries", entries))
    return text_sql(value, kind)  # written as a JSON string of its text


def _written_as_is(kind: Kind) -> bool:
    """Whether DuckDB's JSON writer already writes ``kind`` as ``json_text`` does."""
    category = kind.category
    if category in ("integer", "boolean", "json") or kind.name == "VARCHAR":
        return True
    if category == "list":
        return _written_as_is(kind.element)
    return False


_ISO = exp.Literal.string("%Y-%m-%dT%H:%M:%S.%f")


def _no_zero_fraction(formatted: exp.Expr) -> exp.Expr:
    """``…:05.000000`` → ``…:05``: whole seconds print without a fraction."""
    return exp.func("replace", formatted, exp.Literal.string(".000000"), exp.Literal.string(""))


def _varchar(value: exp.Expr) -> exp.Expr:
    return exp.cast(value, "VARCHAR")


def _to_json(value: exp.Expr) -> exp.Expr:
    return exp.func("to_json", value.copy())


def _null_if_null(value: exp.Expr, converted: exp.Expr) -> exp.Expr:
    """``converted``, or NULL when ``value`` is (struct_pack makes a struct of NULLs)."""
    return exp.If(
        this=exp.Is(this=value.copy(), expression=exp.null()),
        true=exp.null(),
        false=converted,
    )


def _interval_sql(micros: exp.Expr) -> exp.Expr:
    """``_interval`` in SQL, over a signed count of microseconds."""

    def number(value: int) -> exp.Expr:
        return exp.Literal.number(value)

    absolute = exp.func("abs", micros.copy())

    def part(divisor: int, modulo: int | None) -> exp.Expr:
        whole: exp.Expr = exp.IntDiv(this=absolute.copy(), expression=number(divisor))
        if modulo is not None:
            whole = exp.Mod(this=exp.paren(whole), expression=number(modulo))
        return whole

    days = part(86_400_000_000, None)
    fraction = exp.Mod(this=absolute.copy(), expression=number(1_000_000))
    pieces: list[exp.Expr] = [
        exp.If(
            this=exp.LT(this=micros.copy(), expression=number(0)),
            true=exp.Literal.string("-"),
            false=exp.Literal.string(""),
        ),
        exp.Case(
            ifs=[
                exp.If(this=exp.EQ(this=days.copy(), expression=number(0)), true=_string("")),
                exp.If(this=exp.EQ(this=days.copy(), expression=number(1)), true=_string("1 day ")),
            ],
            default=exp.func("printf", _string("%d days "), days.copy()),
        ),
        exp.func(
            "printf",
            _string("%02d:%02d:%02d"),
            part(3_600_000_000, 24),
            part(60_000_000, 60),
            part(1_000_000, 60),
        ),
        exp.If(
            this=exp.EQ(this=fraction.copy(), expression=number(0)),
            true=_string(""),
            false=exp.func("printf", _string(".%06d"), fraction),
        ),
    ]
    joined = pieces[0]
    for piece in pieces[1:]:
        joined = exp.DPipe(this=joined, expression=piece)
    return joined


def _string(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def export_select(
    source: exp.Expr, columns: Sequence[str], kinds: Sequence[Kind], fmt: str
) -> exp.Select:
    """The SELECT whose rows DuckDB's COPY writes as ``fmt`` (csv: each column's text; json
    and jsonl: each column as the JSON writer must be given it), from ``source``, whose
    ``columns`` are already unique."""
    convert: Callable[[exp.Expr, Kind], exp.Expr] = text_sql if fmt == "csv" else json_sql
    outputs = [
        convert(exp.column(exp.to_identifier(name, quoted=True), "q"), kind).as_(
            exp.to_identifier(name, quoted=True)
        )
        for name, kind in zip(columns, kinds, strict=True)
    ]
    return exp.select(*outputs).from_(exp.alias_(source, "q", table=True))
