"""``sqlprovider mcp`` on the command line: what stops it from starting is said in one
line that names the fix, with the exit codes of the other commands (1: cannot start, 2:
wrong usage), before any client is served."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Emulator
from tests.mcp_server.kit import mcp_args, server_env


def sqlprovider_mcp(emulator: Emulator, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *mcp_args(emulator, *args)],
        env=server_env(home),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_a_port_in_use_is_named(emulator: Emulator, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = sqlprovider_mcp(emulator, tmp_path, "--transport", "http", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr == (
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "choose another port with --port N\n"
    )


def test_an_audit_log_that_cannot_be_written_is_named(emulator: Emulator, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    done = sqlprovider_mcp(emulator, tmp_path, "--audit-log", str(blocked / "audit.jsonl"))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot write the audit log {blocked}/audit.jsonl: ")
    assert done.stderr.rstrip().endswith("or turn it off with --no-audit-log")
    assert "Traceback" not in done.stderr


def test_a_malformed_auth_file_is_named(emulator: Emulator, tmp_path: Path) -> None:
    auth = tmp_path / "auth.yaml"
    auth.write_text("digitalocean:\n  tokn: x\n")
    done = sqlprovider_mcp(emulator, tmp_path, "--auth", str(auth), "--no-audit-log")
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: invalid auth config {auth}: digitalocean.tokn: ")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--row-limit", "0"), "expected 1 to 10000 rows, not '0'"),
        (("--mode", "yolo"), "invalid choice: 'yolo'"),
        (("--audit-log", "x", "--no-audit-log"), "not allowed with argument"),
    ],
)
def test_wrong_usage_exits_2(
    args: tuple[str, ...], said: str, emulator: Emulator, tmp_path: Path
) -> None:
    done = sqlprovider_mcp(emulator, tmp_path, *args)
    assert done.returncode == 2
    assert said in done.stderr and done.stderr.startswith("usage: sqlprovider mcp")
