"""The one formatter of results: the shell and ``sqlprovider exec`` both render through it.

API (what the shell and ``exec`` call)::

    from sqlprovider.output import OutputOptions, render

    options = OutputOptions(
        mode="table",        # one of FORMATS: table json jsonl csv markdown line
        null_display="",     # how NULL shows in table, line and markdown (psql's \\pset
                             # null, the shell's .nullvalue); csv/json/jsonl never use it
        headers=True,        # column names (table, csv, markdown); .headers on|off
        show_types=False,    # each column's type under its name (table), as the DuckDB CLI
        expanded="off",      # off | on | auto: one record per block (psql's \\x);
                             # auto switches when a row is wider than ``width``
        width=None,          # the terminal's columns (None: not a terminal; auto is off)
    )
    text = render(result, options)   # str; render(result, "csv") still works
    options.replace(mode="json")     # a changed copy (OutputOptions is frozen)

``sqlprovider.shell.display.Display.show_result(result, options, sink)`` renders with the
terminal's width, cuts table lines to the terminal (never EXPLAIN's, never records) and
pages; ``exec`` on a terminal uses the same Display.

Canonical text of a value (the same in every path, DuckDB's COPY included):

* NULL: csv an empty unquoted field (``''`` is ``""``); json/jsonl ``null``; table, line
  and markdown the null display.
* timestamps: ISO 8601, ``2024-01-02T03:04:05Z`` (with time zone, in UTC) or
  ``2024-01-02T03:04:05`` (without); fractions of a second only when there are some.
* lists, structs, maps and JSON columns: JSON text (``["a","b"]``); in json/jsonl a JSON
  value.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import decimal
import io
import json
import uuid
from dataclasses import dataclass
from typing import Any, TextIO

from sqlprovider.result import Result

FORMATS = ("table", "json", "jsonl", "csv", "markdown", "line")
EXPANDED = ("off", "on", "auto")


@dataclass(frozen=True)
class OutputOptions:
    """How a result is rendered (see the module docstring).

    Attributes:
        mode: one of FORMATS.
        null_display: the text of NULL in table, line and markdown output.
        headers: print the column names (table, csv, markdown).
        show_types: print each column's type under its name (table).
        expanded: ``off``, ``on`` (records, one block per row) or ``auto`` (records when a
            row is wider than ``width``).
        width: the terminal's width in columns; None when not on a terminal.
    """

    mode: str = "table"
    null_display: str = ""
    headers: bool = True
    show_types: bool = False
    expanded: str = "off"
    width: int | None = None

    def replace(self, **changes: Any) -> OutputOptions:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


_NUMERIC = (
    "BIGINT",
    "INTEGER",
    "UBIGINT",
    "DOUBLE",
    "HUGEINT",
    "DECIMAL",
    "SMALLINT",
    "TINYINT",
    "FLOAT",
    "UINTEGER",
)


def render(result: Result, options: OutputOptions | str) -> str:
    """``result`` rendered as ``options`` say (a bare string is the mode).

    ``markdown`` is a GitHub table (numbers right-aligned, ``|`` escaped); ``line`` writes
    one ``column = value`` line per column with a blank line between rows, like DuckDB's
    ``.mode line``. A result without columns (a statement that returns nothing) renders as
    empty text in every format but ``json``.

    Raises:
        ValueError: for a format not in FORMATS.
    """
    fmt = options if isinstance(options, str) else options.mode
    if fmt == "json":
        return json.dumps(_records(result), indent=2, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _records(result))
    if fmt == "csv":
        return _csv(result)
    if fmt == "markdown":
        return _markdown(result)
    if fmt == "line":
        return _lines(result)
    if fmt == "table":
        return _table(result)
    raise ValueError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")


def _is_numeric(kind: str) -> bool:
    return kind.startswith(_NUMERIC)


def _plain(value: Any, kind: str) -> Any:
    """A JSON-ready version of a DuckDB value."""
    if value is None:
        return None
    if kind == "JSON" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value) if isinstance(value, uuid.UUID) else float(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v, "") for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, "") for k, v in value.items()}
    return value


def _records(result: Result) -> list[dict[str, Any]]:
    return [
        {
            name: _plain(value, kind)
            for name, value, kind in zip(result.columns, row, result.types, strict=True)
        }
        for row in result.rows
    ]


def _text(value: Any, kind: str) -> str:
    plain = _plain(value, kind)
    if plain is None:
        return "NULL"
    if isinstance(plain, list | dict):
        return json.dumps(plain, ensure_ascii=False)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    return str(plain)


def _csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(
            ["" if v is None else _text(v, k) for v, k in zip(row, result.types, strict=True)]
        )
    return buffer.getvalue()


def _table(result: Result) -> str:
    if not result.columns:
        return ""
    cells = [
        [_text(v, k).replace("\n", " ") for v, k in zip(row, result.types, strict=True)]
        for row in result.rows
    ]
    widths = [len(c) for c in result.columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [_is_numeric(t) for t in result.types]

    def line(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right

    def row_text(values: list[str], align: list[bool]) -> str:
        parts = [
            (v.rjust(w) if right else v.ljust(w))
            for v, w, right in zip(values, widths, align, strict=True)
        ]
        return "│ " + " │ ".join(parts) + " │"

    out = [
        line("┌", "┬", "┐"),
        row_text(result.columns, [False] * len(widths)),
        line("├", "┼", "┤"),
    ]
    out.extend(row_text(r, numeric) for r in cells)
    out.append(line("└", "┴", "┘"))
    count = len(result.rows)
    out.append(f"{count} row{'s' if count != 1 else ''}")
    return "\n".join(out) + "\n"


def _markdown_cell(text: str) -> str:
    """Text that stays inside one GitHub table cell."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\r\n", "<br>")
        .replace("\n", "<br>")
        .replace("\r", "<br>")
    )


def _markdown(result: Result) -> str:
    if not result.columns:
        return ""

    def row_text(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    header = [_markdown_cell(c) for c in result.columns]
    rule = ["---:" if _is_numeric(t) else "---" for t in result.types]
    out = [row_text(header), row_text(rule)]
    out.extend(
        row_text([_markdown_cell(_text(v, k)) for v, k in zip(row, result.types, strict=True)])
        for row in result.rows
    )
    return "\n".join(out) + "\n"


def _lines(result: Result) -> str:
    if not result.columns:
        return ""
    width = max(len(c) for c in result.columns)
    rows = [
        "".join(
            f"{name.rjust(width)} = {_text(value, kind)}\n"
            for name, value, kind in zip(result.columns, row, result.types, strict=True)
        )
        for row in result.rows
    ]
    return "\n".join(rows)


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
