"""The shell's config file: ``$XDG_CONFIG_HOME/sqlprovider/config.toml`` (TOML, read with the
standard library's ``tomllib``), i.e. ``~/.config/sqlprovider/config.toml``.

Every key is optional; a missing file is all defaults. A key that is unknown or has a value
of the wrong kind is one ``error:`` line naming the file, the key and what is allowed, and
the shell starts anyway, with that key's default (the other keys still apply).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sqlprovider.output import OutputOptions

MODES = ("table", "json", "jsonl", "csv", "markdown", "line")
EXPANDED = ("auto", "on", "off")
KEY_BINDINGS = ("emacs", "vi")


@dataclass(frozen=True)
class Config:
    """What the config file sets (each field is a key of the file, with its default).

    Attributes:
        mode: the output mode the shell starts in (``.mode``).
        expanded: ``auto`` (records shown vertically when a row is wider than the terminal),
            ``on`` or ``off`` (``\\x``).
        null_display: how NULL is shown in table, line and markdown output (``.nullvalue``).
        headers: print the column names (``.headers``).
        show_types: print each column's type under its name in tables, as the DuckDB CLI does.
        pager: True: ``$PAGER`` (else ``less``) for results taller than the terminal;
            False: never page; a string: that command.
        key_bindings: ``emacs`` or ``vi``.
        history_size: how many statements the history file keeps (0: none is kept).
        multi_line: Enter runs a statement only once it ends with ``;`` (False: Enter
            always runs what is typed).
        timing: print the timing line after each statement (``.timing``).
    """

    mode: str = "table"
    expanded: str = "auto"
    null_display: str = OutputOptions.null_display
    headers: bool = True
    show_types: bool = False
    pager: bool | str = True
    key_bindings: str = "emacs"
    history_size: int = 10000
    multi_line: bool = True
    timing: bool = False


@dataclass(frozen=True)
class Rule:
    """What one key accepts, in words and as a check."""

    allowed: str
    check: Callable[[Any], bool]


def _one_of(choices: tuple[str, ...]) -> Rule:
    return Rule(" or ".join(f'"{c}"' for c in choices), lambda v: v in choices)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


RULES: Mapping[str, Rule] = {
    "mode": _one_of(MODES),
    "expanded": _one_of(EXPANDED),
    "null_display": Rule("a string", lambda v: isinstance(v, str)),
    "headers": Rule("true or false", _is_bool),
    "show_types": Rule("true or false", _is_bool),
    "pager": Rule(
        "true, false or a command (a string)",
        lambda v: _is_bool(v) or (isinstance(v, str) and bool(v.strip())),
    ),
    "key_bindings": _one_of(KEY_BINDINGS),
    "history_size": Rule(
        "a whole number, 0 or more",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    ),
    "multi_line": Rule("true or false", _is_bool),
    "timing": Rule("true or false", _is_bool),
}


@dataclass(frozen=True)
class Loaded:
    """The config the shell runs with, and what was wrong with the file (one line each)."""

    config: Config = field(default_factory=Config)
    problems: tuple[str, ...] = ()


def config_path() -> Path:
    """``$XDG_CONFIG_HOME/sqlprovider/config.toml`` (``~/.config`` when it is unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sqlprovider" / "config.toml"


def load_config(path: Path | None = None) -> Loaded:
    """Read the config file (``config_path()`` unless given); all defaults when it is missing."""
    path = config_path() if path is None else path
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        return Loaded()
    except OSError as exc:
        return Loaded(problems=(f"{path}: cannot read it: {exc.strerror}; the defaults are used",))
    except tomllib.TOMLDecodeError as exc:
        return Loaded(problems=(f"{path}: not valid TOML: {exc}; the defaults are used",))
    return parse_config(document, str(path))


def parse_config(document: Mapping[str, Any], where: str) -> Loaded:
    """A Config from a parsed TOML document; ``where`` names the file in the problems."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    known = [f.name for f in fields(Config)]
    for key, value in document.items():
        rule = RULES.get(key)
        if rule is None:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append(
                f"{where}: unknown key {key!r}; {hint}the keys are {', '.join(known)}"
                "; it is ignored"
            )
        elif not rule.check(value):
            problems.append(
                f"{where}: {key} is {_shown(value)}; write {rule.allowed}"
                f"; the default ({_shown(getattr(Config, key))}) is used"
            )
        else:
            values[key] = value
    return Loaded(replace(Config(), **values), tuple(problems))


def _shown(value: Any) -> str:
    """A value as TOML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)
