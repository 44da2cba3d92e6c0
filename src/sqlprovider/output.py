"""The one formatter of results: the shell and ``sqlprovider exec`` both render through it.

API (what the shell and ``exec`` call)::

    from sqlprovider.output import OutputOptions, render

    options = OutputOptions(
        mode="table",        # one of FORMATS: table json jsonl csv markdown line
        null_display="",     # how NULL shows in table, line and markdown (psql's \\pset
                             # null, the shell's .nullvalue); csv/json/jsonl never use it
        headers=True,        # column names (table, csv); .headers on|off
        show_types=False,    # each column's type under its name (table), as the DuckDB CLI
        expanded="auto",     # off | on | auto: one record per row (psql's \\x); auto
                             # switches when the table is wider than ``width``
        width=None,          # the terminal's columns (None: not a terminal; auto is off)
    )
    text = render(result, options)   # str; render(result, "csv") works too
    shown = rendered(result, options)  # Rendered(text, cuttable): may it be cut?
    options.replace(mode="json")     # a changed copy (OutputOptions is frozen)

``sqlprovider.shell.display.Display.show_result(result, options, sink)`` renders with the
terminal's width, cuts boxed tables to the terminal (never records, never EXPLAIN's plan)
and pages; ``exec`` on a terminal uses the same Display.

The text of each value is ``sqlprovider.store.printing``'s, which DuckDB's COPY also
writes for ``exec``'s csv, json and jsonl, byte for byte. In short: NULL is an empty
unquoted csv field (``''`` is ``""``), ``null`` in JSON, and the null display in tables;
timestamps are ISO 8601, in UTC with ``Z``; lists, structs, maps and JSON columns are
compact JSON in csv and JSON, and read ``[a, b]``, ``{k: v}`` in tables.

In the layouts for people (table, line, markdown, records) a value never prints as NULL
does, and no control character reaches the terminal (``shown``): a value whose text is the
null display is written as a SQL string (``''``, ``'NULL'``), and a text with control
characters as a SQL escape string (``E'a\\tb'``, PostgreSQL's and DuckDB's syntax, which
reads back as the value). A line break stays a line break in records, line and markdown
output, where the layout shows it; a table's cell is one line, so there it is ``\\n``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, TextIO

from wcwidth import wcwidth

from sqlprovider.result import Result
from sqlprovider.store import printing
from sqlprovider.store.printing import Kind

FORMATS = ("table", "json", "jsonl", "csv", "markdown", "line")
EXPANDED = ("off", "on", "auto")


@dataclass(frozen=True)
class OutputOptions:
    """How a result is rendered (see the module docstring).

    Attributes:
        mode: one of FORMATS.
        null_display: the text of NULL in table, line and markdown output.
        headers: print the column names (table, csv; a Markdown table always has them).
        show_types: print each column's type under its name (table).
        expanded: ``off``, ``on`` (records, one block per row) or ``auto`` (records when a
            row is wider than ``width``).
        width: the terminal's width in columns; None when not on a terminal.
    """

    mode: str = "table"
    null_display: str = ""
    headers: bool = True
    show_types: bool = False
    expanded: str = "auto"
    width: int | None = None

    def replace(self, **changes: Any) -> OutputOptions:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Rendered:
    """A rendered result.

    Attributes:
        text: what to print.
        cuttable: a boxed table, whose lines may be cut to the terminal's width (records,
            plans and data formats never are).
    """

    text: str
    cuttable: bool = False


# EXPLAIN's answers: text to read whole, shown as plain lines in table mode (never boxed,
# never cut to the terminal): ours (one ``plan`` line per row) and DuckDB's own.
PLAN_COLUMNS = (["plan"], ["explain_key", "explain_value"])


def render(result: Result, options: OutputOptions | str) -> str:
    """``result`` rendered as ``options`` say (a bare string is the mode).

    ``table`` is a boxed table with the row count under it, or records (``expanded``);
    ``markdown`` is a GitHub table (numbers right-aligned, ``|`` escaped); ``line`` writes
    one ``column = value`` line per column with a blank line between rows, like DuckDB's
    ``.mode line``; ``json`` is an array with one object per line; ``jsonl`` one object
    per line; ``csv`` has a header line (unless ``headers`` is off). A result without
    columns (a statement that returns nothing) renders as empty text. EXPLAIN's answer is
    its plain lines in table mode.

    Raises:
        ValueError: for a mode not in FORMATS, or an ``expanded`` not in EXPANDED.
    """
    return rendered(result, options).text


def rendered(result: Result, options: OutputOptions | str) -> Rendered:
    """``render``, and whether the text may be cut to the terminal's width.

    Raises:
        ValueError: for a mode not in FORMATS, or an ``expanded`` not in EXPANDED.
    """
    if isinstance(options, str):
        options = OutputOptions(mode=options)
    if options.mode not in FORMATS:
        raise ValueError(f"unknown output format {options.mode!r}; use one of {', '.join(FORMATS)}")
    if options.expanded not in EXPANDED:
        raise ValueError(f"expanded is one of {', '.join(EXPANDED)}, not {options.expanded!r}")
    if not result.columns:
        return Rendered("")
    kinds = [printing.parse_type(t) for t in result.types]
    if options.mode in ("json", "jsonl"):
        records = [printing.json_record(result.columns, row, kinds) for row in result.rows]
        if options.mode == "jsonl":
            return Rendered("".join(record + "\n" for record in records))
        return Rendered(json_array(records))
    if options.mode == "csv":
        return Rendered(_csv(result, kinds, options.headers))
    null = options.null_display
    cells = [[readable(v, k, null) for v, k in zip(row, kinds, strict=True)] for row in result.rows]
    names = [shown(n, None) for n in result.columns]
    numeric = [k.category in printing.NUMERIC for k in kinds]
    if options.mode == "markdown":
        return Rendered(_markdown(names, numeric, cells))
    if options.mode == "line":
        return Rendered(_lines(names, cells))
    if is_plan(result):
        return Rendered("".join(row[-1].rstrip("\n") + "\n" for row in cells))
    if result.rows and options.expanded == "on":
        return Rendered(records_text(names, cells))
    flat = [
        _one_line(row, values, kinds, null) for row, values in zip(cells, result.rows, strict=True)
    ]
    flat_names = [shown(n, None, breaks=False) for n in result.columns]
    types = [t.lower() for t in result.types] if options.show_types else None
    text = table_text(flat_names, types, numeric, flat, headers=options.headers)
    too_wide = options.width is not None and widest_line(text) > options.width
    if result.rows and options.expanded == "auto" and too_wide:
        return Rendered(records_text(names, cells))
    return Rendered(text, cuttable=True)


def _one_line(cells: list[str], values: Any, kinds: list[Kind], null: str) -> list[str]:
    """A row's cells for a table, where a line break is written ``\\n``."""
    return [
        readable(v, k, null, breaks=False) if "\n" in cell else cell
        for cell, v, k in zip(cells, values, kinds, strict=True)
    ]


def is_plan(result: Result) -> bool:
    """Whether ``result`` is EXPLAIN's answer (plain text in table mode, never cut)."""
    return result.columns in PLAN_COLUMNS and all(t == "VARCHAR" for t in result.types)


def readable(value: Any, kind: Kind, null: str, breaks: bool = True) -> str:
    """The text of a value in a table, a record or Markdown: NULL is ``null``; lists, structs
    and maps read ``[a, b]``, ``{k: v}``, as the DuckDB CLI shows them (NULL inside them
    reads ``NULL``); anything else is its canonical text (``sqlprovider.store.printing``),
    made safe by ``shown``: never ``null``'s text, no control character (a line break
    stays one when ``breaks``)."""
    if value is None:
        return null
    category = kind.category
    if category == "list" and isinstance(value, list | tuple):
        items = (readable(v, kind.element, "NULL", breaks) for v in value)
        return shown("[" + ", ".join(items) + "]", null, breaks)
    if category == "struct" and isinstance(value, dict):
        fields = (
            f"{shown(n, None, breaks)}: {readable(value.get(n), k, 'NULL', breaks)}"
            for n, k in kind.fields
        )
        return shown("{" + ", ".join(fields) + "}", null, breaks)
    if category == "map" and isinstance(value, dict):
        key_kind, value_kind = kind.fields[0][1], kind.fields[1][1]
        pairs = (
            f"{readable(k, key_kind, 'NULL', breaks)}: {readable(v, value_kind, 'NULL', breaks)}"
            for k, v in value.items()
        )
        return shown("{" + ", ".join(pairs) + "}", null, breaks)
    return shown(printing.text(value, kind), null, breaks)


# C0 and C1 control characters and DEL (Unicode's Cc): a terminal obeys them, so none is
# printed raw; a line break is allowed where the layout shows it as one.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_BREAK = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_SHORT_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(text: str, null: str | None, breaks: bool = True) -> str:
    """``text`` as a layout for people prints it: as it is, unless that would mislead.

    A text with a control character is a SQL escape string, ``E'...'`` (the characters as
    ``\\t``, ``\\n`` or ``\\xHH`` per UTF-8 byte, ``\\`` and ``'`` doubled), which
    PostgreSQL and DuckDB read back as the value; a line break alone does not count when
    ``breaks`` (the layout shows it). A text that would read as NULL does (it equals
    ``null``, the null display, but for trailing blanks, which padding hides) is a SQL
    string: ``''``, ``' '``, ``'NULL'``. So nothing but NULL prints as NULL.
    """
    control = _CONTROL_BUT_BREAK if breaks else _CONTROL
    if control.search(text):
        escaped = text.replace("\\", "\\\\").replace("'", "''")
        text = "E'" + _CONTROL.sub(_escape_control, escaped) + "'"
    # Padding hides trailing blanks: 'NULL ' would look like NULL shown as NULL.
    if null is not None and text.rstrip() == null.rstrip():
        return "'" + text.replace("'", "''") + "'"
    return text


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or "".join(f"\\x{b:02x}" for b in char.encode())


def json_array(records: list[str]) -> str:
    """JSON objects as one array, one object a line (as DuckDB's COPY writes it)."""
    if not records:
        return "[]\n"
    return "[\n" + ",\n".join("\t" + record for record in records) + "\n]\n"


def _csv(result: Result, kinds: list[Kind], headers: bool) -> str:
    """CSV as DuckDB's COPY writes it: NULL an empty field, ``''`` a quoted one (``""``)."""
    lines = [",".join(map(printing.csv_field, printing.unique_names(result.columns)))]
    lines = lines if headers else []
    lines.extend(
        ",".join(
            printing.csv_field(None if v is None else printing.text(v, k))
            for v, k in zip(row, kinds, strict=True)
        )
        for row in result.rows
    )
    return "".join(line + "\n" for line in lines)


# -- the layouts for people ------------------------------------------------------------------


def width(text: str) -> int:
    """How many terminal cells ``text`` takes (East Asian wide characters take two)."""
    if text.isascii():
        return len(text)
    return sum(max(wcwidth(char), 0) for char in text)


def widest_line(text: str) -> int:
    """The width of the widest line of ``text``."""
    return max((width(line) for line in text.splitlines()), default=0)


def _pad(text: str, size: int, right: bool = False) -> str:
    fill = " " * (size - width(text))
    return fill + text if right else text + fill


def _row_count(count: int) -> str:
    return f"{count} row{'s' if count != 1 else ''}"


def table_text(
    names: list[str],
    types: list[str] | None,
    numeric: list[bool],
    cells: list[list[str]],
    headers: bool = True,
) -> str:
    """A table drawn with box characters, then its row count.

    Args:
        names: the column names, drawn on top when ``headers``.
        types: each column's type, drawn under its name (None: not drawn).
        numeric: which columns are right-aligned.
        cells: each row's texts, one line each.
        headers: draw the names (and the types) above the rows.
    """
    head = ([names] + ([types] if types is not None else [])) if headers else []
    sizes = [1] * len(names)
    for row in [*head, *cells]:
        sizes = [max(s, width(c)) for s, c in zip(sizes, row, strict=True)]

    def rule(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (s + 2) for s in sizes) + right

    def line(values: list[str], align: list[bool]) -> str:
        parts = (_pad(v, s, r) for v, s, r in zip(values, sizes, align, strict=True))
        return "│ " + " │ ".join(parts) + " │"

    out = [rule("┌", "┬", "┐")]
    out.extend(line(values, [False] * len(sizes)) for values in head)
    if head:
        out.append(rule("├", "┼", "┤"))
    out.extend(line(row, numeric) for row in cells)
    out.append(rule("└", "┴", "┘"))
    out.append(_row_count(len(cells)))
    return "\n".join(out) + "\n"


def records_text(names: list[str], rows: list[list[str]]) -> str:
    """One block per row, one ``column | value`` line per column, as psql's ``\\x`` (a
    value of several lines goes on as many), then the row count::

        -[ RECORD 1 ]-------------------------
        uuid   | 9f2c...
        status | INDEX_JOB_STATUS_COMPLETED
    """
    name_width = max(width(n) for n in names)
    values = [[v.split("\n") for v in row] for row in rows]
    value_width = max((width(part) for row in values for v in row for part in v), default=0)
    blocks = []
    for number, row in enumerate(values, 1):
        label = f"-[ RECORD {number} ]"
        lines = [label + "-" * (name_width + 1 - len(label)) + "+" + "-" * (value_width + 1)]
        if len(label) > name_width + 1:
            lines[0] = label + "-" * (value_width + 1)
        for name, parts in zip(names, row, strict=True):
            for index, part in enumerate(parts):
                shown = _pad(name, name_width) if index == 0 else " " * name_width
                lines.append(f"{shown} | {part}" if part else f"{shown} |")
        blocks.append("\n".join(lines))
    return "\n".join([*blocks, _row_count(len(rows))]) + "\n"


def _lines(names: list[str], rows: list[list[str]]) -> str:
    """``column = value`` lines, a blank line between rows (DuckDB's ``.mode line``)."""
    name_width = max(width(n) for n in names)
    return "\n".join(
        "".join(
            f"{_pad(n, name_width, right=True)} =" + (f" {v}\n" if v else "\n")
            for n, v in zip(names, row, strict=True)
        )
        for row in rows
    )


def _markdown(names: list[str], numeric: list[bool], rows: list[list[str]]) -> str:
    """A GitHub table: numbers right-aligned, ``|`` escaped, line breaks as ``<br>``."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(_markdown_cell(c) for c in cells) + " |"

    rule = "| " + " | ".join("---:" if right else "---" for right in numeric) + " |"
    return "\n".join([line(names), rule, *(line(row) for row in rows)]) + "\n"


def _markdown_cell(text: str) -> str:
    """Text that stays inside one GitHub table cell."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\r\n", "<br>")
        .replace("\n", "<br>")
        .replace("\r", "<br>")
    )


class StatusLine:
    """One status line on a terminal's stderr, rewritten in place (Session ``progress=``).

    The Session calls it from its I/O thread while it fetches or waits (rate limits, jobs);
    the shell and ``exec`` clear it before printing anything else.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False

    def __call__(self, text: str) -> None:
        self.stream.write("\r\033[K" + text)
        self.stream.flush()
        self.shown = bool(text)

    def clear(self) -> None:
        """Remove the line, if one is shown."""
        if self.shown:
            self("")
