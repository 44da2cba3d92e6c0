"""The config file (``$XDG_CONFIG_HOME/sqlprovider/config.toml``): what each key does in the
shell, and the one clear error a wrong key or value gets (the shell starts anyway)."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

from sqlprovider.session import Session
from sqlprovider.shell.config import Config, config_path, load_config
from sqlprovider.shell.pager import pager_of
from tests.shell.kit import drive, run_script

DOCS = Path(__file__).resolve().parents[2] / "docs" / "shell.md"


def write_config(folder: Path, text: str) -> Path:
    path = folder / "sqlprovider" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_file_is_in_xdg_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "sqlprovider" / "config.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_path() == tmp_path / ".config" / "sqlprovider" / "config.toml"


def test_no_file_is_every_default(tmp_path: Path) -> None:
    loaded = load_config(tmp_path / "none.toml")
    assert loaded.config == Config() and loaded.problems == ()


def test_every_key_is_read(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        'mode = "json"\nexpanded = "on"\nnull_display = "∅"\nheaders = false\n'
        'show_types = true\npager = "less -S"\nkey_bindings = "vi"\nhistory_size = 50\n'
        "multi_line = false\ntiming = true\n",
    )
    loaded = load_config(path)
    assert loaded.problems == ()
    assert loaded.config == Config(
        mode="json",
        expanded="on",
        null_display="∅",
        headers=False,
        show_types=True,
        pager="less -S",
        key_bindings="vi",
        history_size=50,
        multi_line=False,
        timing=True,
    )


def test_a_wrong_key_or_value_is_one_clear_error_each(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        'mode = "yaml"\npagr = false\nhistory_size = -1\ntiming = "yes"\nheaders = false\n',
    )
    loaded = load_config(path)
    keys = ", ".join(f.name for f in fields(Config))
    assert loaded.problems == (
        f'{path}: mode is "yaml"; write "table" or "json" or "jsonl" or "csv" or "markdown" '
        'or "line"; the default ("table") is used',
        f"{path}: unknown key 'pagr'; did you mean pager? the keys are {keys}; it is ignored",
        f"{path}: history_size is -1; write a whole number, 0 or more; the default (10000) is used",
        f'{path}: timing is "yes"; write true or false; the default (false) is used',
    )
    assert loaded.config == Config(headers=False)  # the keys that were right still count


def test_a_file_that_is_not_toml_names_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'mode = "json"\ntiming on\n')
    loaded = load_config(path)
    assert loaded.config == Config()
    [problem] = loaded.problems
    assert problem.startswith(f"{path}: not valid TOML: ") and "line 2" in problem
    assert problem.endswith("; the defaults are used")


def test_the_shell_says_what_is_wrong_and_starts_anyway(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'mode = "json"\nnull_display = 0\n')
    done = run_script("SELECT 1 AS a, NULL AS b;\n", XDG_CONFIG_HOME=str(tmp_path))
    assert done.stderr == (
        f'error: {path}: null_display is 0; write a string; the default ("") is used\n'
    )
    assert json.loads(done.stdout) == [{"a": 1, "b": None}]  # mode json from the file
    assert done.returncode == 0


# -- what the keys do, in the shell --------------------------------------------------------


def test_without_multi_line_enter_runs_what_is_typed(session: Session) -> None:
    run = drive(session, "SELECT 5 AS f\r", ".quit\r", config=Config(multi_line=False))
    assert "│ 5 │" in run.out


def test_vi_key_bindings(session: Session) -> None:
    # Escape, then x deletes the ';' under the cursor; A appends at the end.
    keys = ("SELECT 9 AS x;", "\x1b", "x", "A0;", "\r", ".quit\r")
    run = drive(session, *keys, pause=0.6, config=Config(key_bindings="vi"))
    assert "│ x0 │" in run.out


def test_history_size_keeps_the_newest_statements(session: Session, tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.write_text("".join(f"\n# 2026-01-0{i}\n+SELECT {i};\n" for i in range(1, 6)))
    run = drive(session, "\x1b[A\r", ".quit\r", history=history, config=Config(history_size=2))
    assert "│ 5 │" in run.out  # Up: the newest statement
    kept = re.findall(r"^\+(.*)$", history.read_text(), re.M)
    assert kept == ["SELECT 4;", "SELECT 5;", ".quit"]  # Up and Enter add no copy


def test_history_size_zero_keeps_no_file(session: Session, tmp_path: Path) -> None:
    history = tmp_path / "history"
    drive(session, "SELECT 1 AS a;\r", ".quit\r", history=history, config=Config(history_size=0))
    assert not history.exists()


def test_a_pager_command(session: Session, tmp_path: Path) -> None:
    paged = tmp_path / "paged.txt"
    pager = pager_of(f"cat > '{paged}'")
    assert pager is not None and pager_of(False) is None
    run = drive(
        session,
        "SELECT * FROM range(30) AS t(n);\r",
        ".quit\r",
        terminal=lambda: (80, 10),
        pager=pager,
    )
    assert "30 rows" in paged.read_text() and "30 rows" not in run.out


# -- the docs ------------------------------------------------------------------------------


def test_the_docs_list_every_key_with_its_default() -> None:
    """docs/shell.md's table of keys: each key of Config, with its default as TOML writes it."""
    text = DOCS.read_text()
    section = text.split("## The config file", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", section, re.M)
    expected = {
        f.name: json.dumps(getattr(Config, f.name), ensure_ascii=False) for f in fields(Config)
    }
    assert dict(rows) == expected
