"""docs/serve.md: its command lines (```sh blocks, kind ``serve``) and its psql session
(```psql, kind ``psql``), against ``sqlprovider serve`` on the sandbox's emulators; and its
tables of types and SQLSTATEs, against the code.

A ``serve`` block is run line by line: ``export`` lines set the environment, a
``sqlprovider serve`` line starts the server (on a free port instead of the one written, on
loopback instead of every address; TLS files are made for it), a ``psql`` line connects to
the last server started (its port put in) and counts the jobs. A ``psql`` block's typed lines
(after the ``sqlprovider=>`` prompt) are run by psql in one session, and what it prints is
compared with the block.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from sqlprovider.pgserver import pgtypes, sqlstate
from tests.docs.blocks import ROOT, Block, blocks_of
from tests.docs.conftest import Emulators

SERVE_BLOCKS = blocks_of("serve")
PSQL_BLOCKS = blocks_of("psql")
BLOCKS = SERVE_BLOCKS + PSQL_BLOCKS
PROMPT = "sqlprovider=> "


@contextmanager
def serving(
    args: list[str], emulators: Emulators, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> Iterator[int]:
    """``sqlprovider serve ARGS`` against ``emulators``, until the block ends; its port."""
    environment = {**os.environ, **emulators.env, **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "sqlprovider", "serve", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=cwd,
    )
    assert process.stderr is not None
    try:
        line = process.stderr.readline()
        assert "listening" in line, line + process.stderr.read()
        yield int(line.split(" on ", 1)[1].split()[0].rpartition(":")[2])
    finally:
        process.send_signal(2)
        process.wait(timeout=20)
        process.stderr.close()


def _adapted(argv: list[str]) -> list[str]:
    """The line's options, on a free port and on loopback (tests listen nowhere else)."""
    args, skip = [], False
    for i, word in enumerate(argv):
        if skip:
            skip = False
            continue
        if word in ("--port", "--host"):
            skip = True
            if word == "--host":
                assert argv[i + 1] in ("127.0.0.1", "0.0.0.0")
            continue
        args.append(word)
    return [*args, "--port", "0", "--host", "127.0.0.1"]


def _psql(dsn: str, port: int, env: dict[str, str], *commands: str) -> str:
    dsn = re.sub(r"port=\d+", f"port={port}", dsn)
    argv = ["psql", "-X", dsn, *(part for c in commands for part in ("-c", c))]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout


def _tls_files(folder: Path) -> None:
    from tests.serve.test_server import _self_signed

    cert, key = _self_signed(folder)
    cert.rename(folder / "server.crt")
    key.rename(folder / "server.key")


def test_the_command_lines_start_servers_psql_reaches(sandbox: Emulators, tmp_path: Path) -> None:
    assert SERVE_BLOCKS, "docs/serve.md has no command lines"
    _tls_files(tmp_path)
    jobs = len(sandbox.jobs())
    exported: dict[str, str] = {}
    with ExitStack() as stack:
        port: int | None = None
        for block in SERVE_BLOCKS:
            for line in block.text.splitlines():
                line = line.split(" #")[0].strip()
                if not line:
                    continue
                argv = shlex.split(line)
                if argv[0] == "export":
                    name, _, value = argv[1].partition("=")
                    exported[name] = value
                elif argv[:2] == ["sqlprovider", "serve"]:
                    args = _adapted(argv[2:])
                    port = stack.enter_context(serving(args, sandbox, exported, tmp_path))
                elif argv[0] == "psql":
                    assert port is not None, f"{block.where}: psql before any server"
                    env = {**os.environ, "PGUSER": "me", "PGCONNECT_TIMEOUT": "10"}
                    if "SERVE_PASSWORD" in exported:
                        env["PGPASSWORD"] = exported["SERVE_PASSWORD"]
                    count = "SELECT count(*) FROM digitalocean.genai_indexing_jobs"
                    printed = _psql(argv[1], port, env, count)
                    assert f" {jobs}\n" in printed, (block.where, printed)
                else:
                    raise AssertionError(f"{block.where}: no check for {line!r}")


@pytest.mark.parametrize("block", PSQL_BLOCKS, ids=[b.where for b in PSQL_BLOCKS])
def test_the_psql_session_prints_what_the_page_shows(block: Block, sandbox: Emulators) -> None:
    typed = [
        line.removeprefix(PROMPT) for line in block.text.splitlines() if line.startswith(PROMPT)
    ]
    assert typed, f"{block.where}: no typed line"
    with serving(["--port", "0"], sandbox) as port:
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        printed = _psql("host=127.0.0.1 port=0 dbname=sqlprovider user=me", port, env, *typed)
    shown = [line for line in block.text.splitlines() if not line.startswith(PROMPT)]
    assert _lines(printed) == _lines("\n".join(shown))


def _lines(text: str) -> list[str]:
    """Lines without their trailing spaces (psql pads its last column), blank lines between
    results kept, none at the end."""
    return [line.rstrip() for line in text.rstrip().splitlines()]


def _table(heading: str) -> list[list[str]]:
    """The rows of the first table under ``heading`` in docs/serve.md (cells stripped)."""
    text = (ROOT / "docs" / "serve.md").read_text(encoding="utf-8")
    rows: list[str] = []
    for line in text.split(heading, 1)[1].splitlines():
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break  # the table ended
    return [[c.strip().strip("`") for c in row.strip("|").split("|")] for row in rows[2:]]


def test_the_types_table_is_how_columns_are_sent() -> None:
    rows = _table("## Types")
    assert rows
    for duckdb_types, postgres in ((r[0], r[1]) for r in rows):
        for name in duckdb_types.replace("`", "").split(", "):
            assert pgtypes.type_name(pgtypes.oid_of(name)) == postgres, name


def test_the_sqlstate_table_holds_the_codes_errors_get() -> None:
    codes = {getattr(sqlstate, n) for n in dir(sqlstate) if n.isupper() and n[0] != "_"}
    rows = _table("## Errors")
    assert rows
    assert {r[0] for r in rows} <= codes | {"42P01", "42703", "25P02", "57014"}
