"""A light scan of SQL as it is typed: where strings and comments are, where statements end.

The shell needs this before the text is valid SQL (to decide whether Enter submits, and to
complete half-written statements), so it cannot use the parser, which rejects such text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_DOLLAR = re.compile(r"\$([A-Za-z_]\w*)?\$")
_QUIT_WORDS = ("quit", "exit")


@dataclass(frozen=True)
class Masked:
    """SQL text with comments blanked and string contents filled, offsets unchanged.

    Attributes:
        text: the masked text: a ``;`` or a keyword in it is real code.
        open: the text ends inside a string, a quoted name or a block comment.
    """

    text: str
    open: bool


def mask(sql: str) -> Masked:
    """``sql`` with comments turned into spaces and string contents into ``_``.

    Newlines are kept, so line numbers and offsets in the result match ``sql``.
    Double-quoted names keep their text (completion reads them), except for ``;``.
    """
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                out.append(_blank(sql[i:]))
                return Masked("".join(out), True)
            out.append(_blank(sql[i : end + 2]))
            i = end + 2
        elif char in "'\"":
            end = _closing_quote(sql, i)
            piece = sql[i:] if end < 0 else sql[i : end + 1]
            if char == "'":
                out.append("'" + _fill(piece[1:-1] if end >= 0 else piece[1:]))
                out.append("'" if end >= 0 else "")
            else:
                out.append(piece.replace(";", "_"))
            if end < 0:
                return Masked("".join(out), True)
            i = end + 1
        elif char == "$" and (dollar := _DOLLAR.match(sql, i)) is not None:
            tag = dollar.group(0)
            end = sql.find(tag, dollar.end())
            if end < 0:
                out.append(tag + _fill(sql[dollar.end() :]))
                return Masked("".join(out), True)
            out.append(tag + _fill(sql[dollar.end() : end]) + tag)
            i = end + len(tag)
        else:
            out.append(char)
            i += 1
    return Masked("".join(out), False)


def _closing_quote(sql: str, start: int) -> int:
    """Where the quote opened at ``start`` closes (a doubled quote is an escape), or -1."""
    quote = sql[start]
    i = start + 1
    while True:
        end = sql.find(quote, i)
        if end < 0:
            return -1
        if sql.startswith(quote * 2, end):
            i = end + 2
            continue
        return end


def _blank(text: str) -> str:
    return "".join("\n" if c == "\n" else " " for c in text)


def _fill(text: str) -> str:
    return "".join("\n" if c == "\n" else "_" for c in text)


def command_line(text: str) -> str | None:
    """The command ``text`` holds, or None when it is SQL.

    A command is a line starting with ``.`` (``.mode json``) or ``\\`` (``\\dt``, as in psql)
    or the word ``help``; blank and ``--`` comment lines before it are skipped, so a script
    may comment its commands. Commands run at once, without a ``;``.
    """
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        if stripped.startswith((".", "\\")) or _is_help(stripped):
            return stripped
        return None
    return None


def _is_help(line: str) -> bool:
    return line.rstrip(";").strip().lower() == "help"


def is_command(text: str) -> bool:
    """Whether ``text`` is a command (see ``command_line``), which runs without a ``;``."""
    return command_line(text) is not None


def is_quit(text: str) -> bool:
    """Whether ``text`` is a bare ``quit`` or ``exit`` (as psql and pgcli accept)."""
    return text.strip().rstrip(";").strip().lower() in _QUIT_WORDS


def is_complete(text: str) -> bool:
    """Whether Enter should submit ``text``: it ends with ``;`` outside strings and
    comments, is a command, is empty, or is ``quit``/``exit``."""
    if not text.strip() or is_command(text) or is_quit(text):
        return True
    masked = mask(text)
    return not masked.open and masked.text.rstrip().endswith(";")


def has_code(text: str) -> bool:
    """Whether ``text`` holds anything besides whitespace, comments and ``;``."""
    return bool(mask(text).text.replace(";", "").strip())


def statement_bounds(text: str, position: int) -> tuple[int, int]:
    """The start and end offsets of the statement that holds ``position``."""
    masked = mask(text).text
    start = masked.rfind(";", 0, position) + 1
    end = masked.find(";", position)
    return start, len(text) if end < 0 else end


def submissions(lines: Iterable[str], first_line: int = 1) -> Iterator[tuple[int, str]]:
    """Split a script into what a user would have typed: commands (one line each) and SQL
    up to a ``;`` at the end of a line; yields ``(line number, text)``, the line being
    where the command or the statement's code starts (comments before it are skipped).

    SQL left without a final ``;`` is yielded too, as ``sqlprovider exec`` would run it.
    """
    buffer: list[str] = []
    start = first_line
    for number, line in enumerate(lines, first_line):
        if _idle("".join(buffer)) and is_command(line):
            buffer = []  # comments before a command belong to nothing
            yield number, line.strip()
            continue
        if not buffer:
            start = number
        buffer.append(line if line.endswith("\n") else line + "\n")
        text = "".join(buffer)
        if is_complete(text):
            if has_code(text):
                yield start + _leading_lines(text), text
            buffer = []
    text = "".join(buffer)
    if has_code(text):
        yield start + _leading_lines(text), text


def _idle(text: str) -> bool:
    """Whether ``text`` is only blanks and finished comments: a command may follow."""
    masked = mask(text)
    return not masked.open and not masked.text.strip()


def _leading_lines(text: str) -> int:
    """How many lines of ``text`` come before its first code (blank or comment lines)."""
    masked = mask(text).text
    code = len(masked) - len(masked.lstrip())
    return masked.count("\n", 0, code)
