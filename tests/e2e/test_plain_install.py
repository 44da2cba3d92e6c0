"""A plain ``pip install .`` (no extras) runs every command it advertises.

The emulators' web stack (starlette, uvicorn) is the ``sandbox`` extra. This builds a fresh
virtual environment once per test session and installs the checkout into it as a user would:
a real wheel build and pip resolving the declared runtime dependencies (with pip's own
configuration and cache), so a core module that imports an extra's package, or a data file
the wheel leaves out, fails here. About 20 s on the 2-core CI machine; every command then runs
from a folder outside the checkout, so only the installed copy can be imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.providers import Registry

ROOT = Path(__file__).resolve().parents[2]
HINT = "pip install 'sqlprovider[sandbox]'"


class PlainInstall:
    """A virtual environment holding ``pip install <checkout>`` and nothing else."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.bin = home / "venv" / "bin"
        self.scratch = home / "cwd"  # not the checkout: its src/ must not shadow the install

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``sqlprovider ARGS...`` (or ``python ...`` when args[0] is "python")."""
        program = self.bin / ("python" if args[0] == "python" else "sqlprovider")
        command = [str(program), *(args[1:] if args[0] == "python" else args)]
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.scratch,
            env=_clean_env(),
            timeout=120,
        )
        if check:
            assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stderr}"
        return done


def _clean_env() -> dict[str, str]:
    """The caller's environment without anything that points Python at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="session")
def plain(tmp_path_factory: pytest.TempPathFactory) -> PlainInstall:
    install = PlainInstall(tmp_path_factory.mktemp("plain-install"))
    install.scratch.mkdir()
    venv.EnvBuilder(with_pip=True).create(install.home / "venv")
    pip = subprocess.run(
        [str(install.bin / "python"), "-m", "pip", "install", "--quiet", str(ROOT)],
        capture_output=True,
        text=True,
        cwd=install.scratch,
        env=_clean_env(),
        timeout=900,
    )
    assert pip.returncode == 0, f"pip install {ROOT} failed:\n{pip.stdout}\n{pip.stderr}"
    return install


def test_it_is_the_installed_copy_without_the_extra(plain: PlainInstall) -> None:
    found = plain.run(
        "python",
        "-c",
        "import importlib.util, sqlprovider\n"
        "print(sqlprovider.__file__)\n"
        "print([m for m in ('starlette', 'uvicorn') if importlib.util.find_spec(m)])",
    ).stdout.splitlines()
    assert Path(found[0]).is_relative_to(plain.home), found[0]
    assert found[1] == "[]", "the sandbox extra's packages came with a plain install"


def test_version_and_help(plain: PlainInstall) -> None:
    assert plain.run("--version").stdout.strip() == f"sqlprovider {sqlprovider.__version__}"
    listed = " ".join(plain.run("--help").stdout.split())  # unwrapped
    assert "exec" in listed and f"needs the sandbox extra: {HINT}" in listed
    for command in ("sandbox", "demo"):
        assert HINT in " ".join(plain.run(command, "--help").stdout.split())


def test_exec(plain: PlainInstall) -> None:
    done = plain.run("exec", "SELECT 42 AS answer")
    assert done.stdout.split() == ["answer", "42"]
    assert done.stderr == ""


def test_show_providers_finds_the_bundled_ones(plain: PlainInstall) -> None:
    rows = json.loads(plain.run("exec", "-o", "json", "SHOW PROVIDERS").stdout)
    assert sorted(row["provider"] for row in rows) == sorted(Registry().names())


def test_dry_run_plans_a_provider_table(plain: PlainInstall) -> None:
    # Loads and validates a bundled provider (jsonschema) and builds the request.
    done = plain.run(
        "exec", "--dry-run", "SELECT uuid FROM digitalocean.genai.indexing_jobs LIMIT 1"
    )
    assert "GET https://api.digitalocean.com/v2/gen-ai/indexing_jobs" in done.stdout


def test_shell_reads_standard_input(plain: PlainInstall) -> None:
    assert "42" in plain.run("shell", stdin="SELECT 42 AS answer;\n").stdout


def test_docs(plain: PlainInstall, tmp_path: Path) -> None:
    written = plain.run("docs", "--out", str(tmp_path)).stdout.split()
    assert str(tmp_path / "index.md") in written
    assert (tmp_path / "digitalocean" / "index.md").is_file()


@pytest.mark.parametrize("command", ["sandbox", "demo"])
def test_emulator_commands_name_the_extra(plain: PlainInstall, command: str) -> None:
    done = plain.run(command, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr  # one line
    assert HINT in done.stderr and "Traceback" not in done.stderr


def test_python_m_sqlprovider(plain: PlainInstall) -> None:
    assert plain.run("python", "-m", "sqlprovider", "exec", "SELECT 1").stdout.split() == ["1", "1"]


def test_the_shell_starts_on_a_terminal_and_highlights(plain: PlainInstall) -> None:
    # On a terminal the shell loads everything interactive use needs (the SQL lexer's
    # pygments among them); a pipe does not, so a missing dependency shows only here.
    import pty
    import select

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(plain.bin / "sqlprovider"), "shell"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=plain.scratch,
        env={**_clean_env(), "TERM": "xterm", "XDG_STATE_HOME": str(plain.home / "state")},
        close_fds=True,
    )
    os.close(terminal)
    seen = b""

    def read_until(text: bytes, seconds: float = 20.0) -> None:
        nonlocal seen
        import time

        deadline = time.monotonic() + seconds
        while text not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(controller, 4096)
                except OSError:
                    break
        assert text in seen, seen.decode(errors="replace")[-2000:]

    try:
        read_until(b"sqlprovider>")
        os.write(controller, b"SELECT 40 + 2 AS answer;\r")
        read_until(b"42")
        os.write(controller, b".quit\r")
        assert process.wait(timeout=20) == 0
        assert b"Traceback" not in seen and b"ModuleNotFoundError" not in seen
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)


def test_serve_names_its_extra(plain: PlainInstall) -> None:
    """Without the serve extra (the Postgres protocol), serve says how to get it: exit 2."""
    done = plain.run("serve", "--port", "0", check=False)
    assert done.returncode == 2, done.stderr
    assert "pip install 'sqlprovider[serve]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_mcp_names_its_extra(plain: PlainInstall) -> None:
    """Without the mcp extra (the MCP SDK), mcp says in one line how to get it: exit 2."""
    found = plain.run(
        "python", "-c", "import importlib.util; print(importlib.util.find_spec('mcp'))"
    )
    assert found.stdout.strip() == "None", "the mcp extra's SDK came with a plain install"
    done = plain.run("mcp", check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr == (
        "error: sqlprovider mcp needs the mcp extra (no module named 'mcp'); install it with: "
        "pip install 'sqlprovider[mcp]'\n"
    )
    listed = " ".join(plain.run("--help").stdout.split())
    assert "needs the mcp extra: pip install 'sqlprovider[mcp]'" in listed


def test_spark_names_its_extra(plain: PlainInstall) -> None:
    """Without the spark extra, importing sqlprovider.spark is one error naming the install
    line (PySpark's own ImportError is not what the user sees)."""
    code = (
        "import importlib.util, sqlprovider\n"
        "assert importlib.util.find_spec('pyspark') is None\n"
        "try:\n"
        "    import sqlprovider.spark\n"
        "except sqlprovider.InterfaceError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = plain.run("python", "-c", code)
    assert done.stdout.startswith("InterfaceError sqlprovider.spark needs PySpark 4.1"), done
    assert done.stdout.rstrip().endswith("pip install 'sqlprovider[spark]'")
