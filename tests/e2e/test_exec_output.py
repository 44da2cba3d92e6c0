"""``sqlprovider exec`` prints as the shell does, through the real command: on a terminal (a
pty of a known width) wide tables become records or are cut and say so, EXPLAIN is never
cut; into a pipe nothing is cut; a 429's wait counts down on the terminal; ``--debug`` and
``--trace`` are taken after the command; and the shell and exec print the same bytes.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlprovider.output import width
from tests.e2e.conftest import TOKEN, Emulator

JOBS = "digitalocean.genai.indexing_jobs"
WIDE = f"SELECT uuid, knowledge_base_uuid, status, phase FROM {JOBS} ORDER BY uuid LIMIT 3"
COLUMNS = 60


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def _environ(emulator: Emulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "PAGER", "LESS")}
    env.update(
        DIGITALOCEAN_TOKEN=TOKEN,
        SQLPROVIDER_DIGITALOCEAN_URL=emulator.url,
        PAGER="",  # a pager would wait for a key; its absence prints straight through
    )
    env.update(extra)
    return env


def sqlprovider(
    emulator: Emulator,
    *args: str,
    terminal: Sequence[str] = (),
    columns: int = COLUMNS,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``sqlprovider ARGS`` with the streams named in ``terminal`` on a pty of
    ``columns`` columns (the others are pipes); what each stream got, with the pty's
    ``\\r\\n`` read back as ``\\n``."""
    argv = [sys.executable, "-m", "sqlprovider", *args]
    ptys = {name: pty.openpty() for name in terminal}
    for _, child in ptys.values():
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    streams = {
        name: ptys[name][1] if name in ptys else subprocess.PIPE for name in ("stdout", "stderr")
    }
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        env=_environ(emulator, **(env or {})),
        stdout=streams["stdout"],
        stderr=streams["stderr"],
    )
    for _, child in ptys.values():
        os.close(child)
    if stdin is not None and process.stdin is not None:
        process.stdin.write(stdin.encode())
        process.stdin.close()
    readers = {ptys[n][0] if n in ptys else getattr(process, n).fileno(): n for n in streams}
    got = {name: b"" for name in streams}
    while readers:
        ready, _, _ = select.select(list(readers), [], [], 60)
        assert ready, "sqlprovider printed nothing for a minute"
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # a pty whose other end closed
                chunk = b""
            if chunk:
                got[readers[fd]] += chunk
            else:
                del readers[fd]
    code = process.wait(timeout=60)
    for parent, _ in ptys.values():
        os.close(parent)
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()
    text = {k: v.decode().replace("\r\n", "\n") for k, v in got.items()}
    return Run(code, text["stdout"], text["stderr"])


def test_exec_on_a_terminal_cuts_a_wide_table_and_says_so(emulator: Emulator) -> None:
    run = sqlprovider(emulator, "exec", "--expanded", "off", WIDE, terminal=["stdout"])
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("┌") and lines[-1] == "3 rows"
    assert all(width(line) <= COLUMNS for line in lines)
    assert sum(line.endswith("…") for line in lines) >= 5  # the box and each row
    assert "wide tables were cut to the terminal's width" in run.stderr


def test_exec_on_a_terminal_shows_rows_wider_than_it_as_records(emulator: Emulator) -> None:
    uuids = [job["uuid"] for job in sorted(emulator.all_jobs(), key=lambda j: j["uuid"])[:3]]
    run = sqlprovider(emulator, "exec", WIDE, terminal=["stdout"])
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line for line in lines if line.startswith("-[ RECORD")] == [
        line.split("+")[0] + "+" + line.split("+")[1]
        for line in lines
        if line.startswith("-[ RECORD")
    ]
    assert [line.split(" | ")[1] for line in lines if line.startswith("uuid ")] == uuids
    assert "…" not in run.stdout and "cut" not in run.stderr
    # a narrow table stays a table
    narrow = sqlprovider(emulator, "exec", "SELECT 1 AS one", terminal=["stdout"])
    assert narrow.stdout.splitlines()[0].startswith("┌")


def test_exec_on_a_terminal_pages_tall_output_with_the_shells_pager(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The config file's pager, as the shell uses it; a short result is not paged."""
    config = tmp_path / "sqlprovider" / "config.toml"
    config.parent.mkdir()
    config.write_text("pager = \"sed 's/^/paged: /'\"\n")
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    tall = f"SELECT uuid FROM {JOBS} ORDER BY uuid LIMIT 40"
    run = sqlprovider(emulator, "exec", tall, terminal=["stdout"], env=env)
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 45 and all(line.startswith("paged: ") for line in lines)
    short = sqlprovider(emulator, "exec", "SELECT 1 AS one", terminal=["stdout"], env=env)
    assert "paged" not in short.stdout and short.stdout.endswith("1 row\n")


def test_exec_into_a_pipe_never_cuts(emulator: Emulator) -> None:
    run = sqlprovider(emulator, "exec", "-o", "table", "--expanded", "off", WIDE)
    assert run.code == 0, run.stderr
    assert max(width(line) for line in run.stdout.splitlines()) > 100  # whole, not cut
    assert "…" not in run.stdout and run.stderr == ""
    # nor does auto turn it into records: a pipe has no width
    assert sqlprovider(emulator, "exec", "-o", "table", WIDE).stdout == run.stdout


def test_explain_is_never_cut_on_a_narrow_terminal(emulator: Emulator) -> None:
    statement = f"EXPLAIN SELECT uuid FROM {JOBS} WHERE status = 'INDEX_JOB_STATUS_FAILED'"
    run = sqlprovider(emulator, "exec", statement, terminal=["stdout"], columns=40)
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    method = next(line for line in lines if line.strip().startswith("method:"))
    assert width(method) > 40 and method.rstrip().endswith(")")  # the key line, whole
    assert "…" not in run.stdout and not run.stdout.startswith("┌")
    assert lines[-1].startswith("2. run in DuckDB:") and "INDEX_JOB_STATUS_FAILED" in lines[-1]


def test_debug_and_trace_are_taken_after_the_command_as_before_it(emulator: Emulator) -> None:
    traced = sqlprovider(emulator, "exec", "--trace", f"SELECT uuid FROM {JOBS} LIMIT 1")
    assert traced.code == 0, traced.stderr
    assert "GET " in traced.stderr and "/v2/gen-ai/indexing_jobs" in traced.stderr
    assert TOKEN not in traced.stderr
    for command in (["exec", "--debug"], ["--debug", "exec"]):
        failed = sqlprovider(emulator, *command, "SELECT * FROM nowhere")
        assert failed.code == 1
        assert "Traceback (most recent call last)" in failed.stderr  # --debug took effect
    plain = sqlprovider(emulator, "exec", "SELECT * FROM nowhere")
    assert "Traceback" not in plain.stderr and plain.stderr.startswith("error: ")


def test_a_429_wait_counts_down_on_the_terminal(
    make_emulator: Callable[..., Emulator],
) -> None:
    emulator = make_emulator(jobs=5, burst_429=1, retry_after=3)
    run = sqlprovider(emulator, "exec", f"SELECT count(*) AS n FROM {JOBS}", terminal=["stderr"])
    assert run.code == 0, run.stderr
    assert run.stdout == "n\n5\n"
    shown = [part for part in run.stderr.split("\r\033[K") if part]
    countdown = [line for line in shown if "HTTP 429" in line]
    assert [line.rsplit(" in ", 1)[1] for line in countdown] == ["3 s", "2 s", "1 s"]
    assert run.stderr.endswith("\r\033[K")  # the line is cleared at the end


MIXED = (
    f"SELECT uuid, created_at, NULL AS nothing, '' AS empty, 'NULL' AS word, "
    f"['a', 'b'] AS tags FROM {JOBS} ORDER BY uuid LIMIT 2"
)


def test_the_shell_and_exec_print_the_same_bytes(emulator: Emulator) -> None:
    """The defect: timestamps, lists, NULL and '' printed differently by the two. A table
    (Python writes it) and csv and json (DuckDB writes them for exec); every mode is proved
    in-process by tests/unit/test_output_format.py."""
    modes = ("table", "csv", "json")
    script = "".join(f".mode {mode}\n{MIXED};\n" for mode in modes)
    shell = sqlprovider(emulator, "shell", stdin=script)
    assert shell.code == 0, shell.stderr
    printed = [sqlprovider(emulator, "exec", "-o", mode, MIXED) for mode in modes]
    assert all(run.code == 0 for run in printed), [run.stderr for run in printed]
    assert shell.stdout == "".join(run.stdout for run in printed)
    assert "T" in printed[1].stdout and "+00:00" not in printed[1].stdout  # ISO 8601, Z
