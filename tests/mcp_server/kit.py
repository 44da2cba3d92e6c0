"""What the MCP server's tests share: the server started as a user's MCP client starts it
(``sqlprovider mcp`` as a subprocess, over stdio or streamable HTTP), clients of the official
SDK that answer the server's questions as a user would, and the emulator's request log."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult, TextContent

from sqlprovider.emulators.kit import free_port
from tests.conftest import PROVIDER_ENV
from tests.e2e.conftest import TOKEN, Emulator

JOBS = "digitalocean.genai.indexing_jobs"
KBS = "digitalocean.genai.knowledge_bases"
# The two ways a client and the server agree on a protocol: the initialize handshake (up to
# 2025-11-25: the server asks the user with a request of its own), and the 2026-07-28
# revision a client of this SDK discovers (the question comes back as input_required).
PROTOCOLS = ("legacy", "auto")


def server_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment a client starts the server in: no ambient credentials or
    sqlprovider settings, a state and config home of its own, the emulator's token."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SQLPROVIDER_") and k not in PROVIDER_ENV
    }
    env.update(
        XDG_STATE_HOME=str(home / "state"),
        XDG_CONFIG_HOME=str(home / "config"),
        DIGITALOCEAN_TOKEN=TOKEN,
    )
    env.update(extra)
    return env


def mcp_args(emulator: Emulator, *args: str) -> list[str]:
    """``python -m sqlprovider mcp`` pointed at the emulator."""
    return ["-m", "sqlprovider", "mcp", "--server", f"digitalocean={emulator.url}", *args]


def stdio(emulator: Emulator, env: dict[str, str], *args: str) -> StdioServerParameters:
    """The server as a stdio client starts it."""
    return StdioServerParameters(command=sys.executable, args=mcp_args(emulator, *args), env=env)


@contextmanager
def http_server(
    emulator: Emulator, env: dict[str, str], *args: str, stderr: Path | None = None
) -> Iterator[str]:
    """``sqlprovider mcp --transport http`` on a free port; yields its URL, and stops it
    with Ctrl-C (SIGINT) afterwards."""
    port = free_port()
    command = [sys.executable, *mcp_args(emulator, "--transport", "http", "--port", str(port))]
    with open(stderr or os.devnull, "w") as errors:
        process = subprocess.Popen([*command, *args], env=env, stderr=errors)
        try:
            _wait_for_port(port, process)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with code {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the server did not listen within 30 s")


@dataclass
class User:
    """Answers the server's questions as a person at the client would: always with
    ``action`` (accept, decline or cancel); remembers every question."""

    action: str = "accept"
    asked: list[str] = field(default_factory=list)

    async def __call__(
        self, context: ClientRequestContext, params: ElicitRequestParams
    ) -> ElicitResult:
        self.asked.append(params.message)
        content: dict[str, Any] | None = {} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)  # type: ignore[arg-type]


def client(server: Any, protocol: str, user: User | None = None) -> Client:
    """An SDK client of ``server`` (stdio parameters, a URL or an in-process server); with
    ``user``, it declares elicitation and lets ``user`` answer."""
    return Client(server, mode=protocol, elicitation_callback=user)


def text(result: CallToolResult) -> str:
    """The text the model reads."""
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def run(session: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body (the suite has no async plugin)."""
    anyio.run(session)


def requests(emulator: Emulator) -> list[tuple[str, str]]:
    """The requests the emulator received since its log was last cleared."""
    return [(e.method, e.path) for e in emulator.server.log.entries()]


def writes(emulator: Emulator) -> list[tuple[str, str]]:
    """Those of them that are not reads."""
    return [(m, p) for m, p in requests(emulator) if m != "GET"]


def audit_records(path: Path) -> list[dict[str, Any]]:
    """The audit log's records, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def first_kb(emulator: Emulator) -> str:
    """A knowledge base of the emulator, read without the engine."""
    return str(emulator.api("/v2/gen-ai/knowledge_bases")["knowledge_bases"][0]["uuid"])


def kb_exists(emulator: Emulator, uuid: str) -> bool:
    """Whether the emulator still has this knowledge base."""
    return any(kb["uuid"] == uuid for kb in _all_kbs(emulator))


def _all_kbs(emulator: Emulator) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = emulator.api("/v2/gen-ai/knowledge_bases", page=page, per_page=200)
        found.extend(body["knowledge_bases"])
        if page >= body["meta"]["pages"]:
            return found
        page += 1


@contextmanager
def in_process(
    emulator: Emulator,
    home: Path,
    mode: str = "safe",
    audit: Path | None = None,
    **settings: Any,
) -> Iterator[Any]:
    """The server built in this process (fast; the same tools and answers), pointed at the
    emulator with the emulator's token, the result cache on as in ``sqlprovider mcp`` (in a
    directory of the test's own: the process's memory cache is shared by every test)."""
    from sqlprovider.mcpserver import Mode, ServerSettings, build_server, open_app
    from sqlprovider.options import ConnectOptions

    options = ConnectOptions(
        servers={"digitalocean": emulator.url},
        auth={"digitalocean": {"token": TOKEN}},
        cache_ttl=300.0,
        cache_dir=home / "cache",
    )
    app = open_app(
        ServerSettings(mode=Mode(mode), audit_log=str(audit) if audit else None, **settings),
        options,
    )
    try:
        yield build_server(app)
    finally:
        if app.audit is not None:
            app.audit.close()
        app.session.close()
