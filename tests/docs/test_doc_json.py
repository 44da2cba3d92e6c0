"""The ```json blocks of the docs (docs/mcp.md): MCP client configurations, whose server is
started as the client would start it (stdio) or reached at its URL (HTTP) and spoken to
through the MCP SDK; and what the server writes (a tool's structured content, an audit
record), compared with what it writes today against the emulators.

Each block is matched by exactly one check; a block without a check fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp_types import ElicitResult

from tests.docs.blocks import Block, blocks_of
from tests.docs.conftest import BIN, Emulators

BLOCKS = blocks_of("json")


def _env(emulators: Emulators, home: Path, given: dict[str, str]) -> dict[str, str]:
    """The environment of the server: the sandbox's exports (URLs and tokens), the config's
    own variables with their placeholder values replaced by the sandbox's, a home of its
    own for the audit log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQLPROVIDER_")}
    env.update(emulators.env)
    env.update({k: emulators.env.get(k, v) for k, v in given.items()})
    env.update(XDG_STATE_HOME=str(home / "state"), XDG_CONFIG_HOME=str(home / "config"))
    return env


def _option(args: list[str], name: str, default: str) -> str:
    return args[args.index(name) + 1] if name in args else default


async def _check_a_session(server: Any, args: list[str], emulators: Emulators) -> None:
    async with Client(server) as mcp:
        info = (await mcp.call_tool("server_info", {})).structured_content
        assert info is not None
        assert info["mode"] == _option(args, "--mode", "safe")
        assert info["row_limit"] == int(_option(args, "--row-limit", "100"))
        assert info["transport"] == _option(args, "--transport", "stdio")
        count = await mcp.call_tool(
            "run_select_query",
            {"sql": "SELECT count(*) AS n FROM digitalocean.genai.indexing_jobs"},
        )
        assert count.structured_content is not None, count.content
        assert count.structured_content["rows"] == [{"n": len(emulators.jobs())}]


def check_config(block: Block, emulators: Emulators, home: Path) -> None:
    """Every server of the configuration answers: stdio ones started with the command and
    arguments given, HTTP ones started as the docs say and reached at their URL."""
    document = json.loads(block.text)
    servers = document.get("mcpServers") or document["servers"]
    for name, entry in servers.items():
        assert name == "sqlprovider"
        if "url" in entry:
            assert entry["type"] == "http"
            with _http(emulators, home, entry["url"]) as (url, args):
                anyio.run(_check_a_session, url, args, emulators)
            continue
        assert entry.get("type", "stdio") == "stdio" and entry["command"] == "sqlprovider"
        args = list(entry["args"])
        params = StdioServerParameters(
            command=str(BIN / "sqlprovider"),
            args=args,
            env=_env(emulators, home, entry.get("env", {})),
        )
        anyio.run(_check_a_session, params, args, emulators)


@contextmanager
def _http(emulators: Emulators, home: Path, url: str) -> Iterator[tuple[str, list[str]]]:
    """`sqlprovider mcp --transport http --port 8000`, as docs/mcp.md starts it, on a free
    port instead (8000 may be taken on a test machine)."""
    assert url == "http://127.0.0.1:8000/mcp"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["mcp", "--transport", "http", "--port", str(port)]
    process = subprocess.Popen(
        [str(BIN / "sqlprovider"), *args],
        env=_env(emulators, home, {}),
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            assert process.poll() is None and time.monotonic() < deadline, "not listening"
            time.sleep(0.05)
        yield url.replace(":8000/", f":{port}/"), args
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def _call(
    emulators: Emulators, home: Path, tool: str, arguments: dict[str, Any], *args: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """One tool call to a stdio server whose user declines every question; its
    structured content and the audit records."""
    audit = home / "audit.jsonl"

    async def decline(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="decline")

    params = StdioServerParameters(
        command=str(BIN / "sqlprovider"),
        args=["mcp", "--audit-log", str(audit), *args],
        env=_env(emulators, home, {}),
    )
    async with Client(params, elicitation_callback=decline) as mcp:
        result = await mcp.call_tool(tool, arguments)
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    return result.structured_content, records


def check_query_content(block: Block, emulators: Emulators, home: Path) -> None:
    """The structured content of the query the docs name, with the row limit they name."""
    shown = json.loads(block.text)
    sql = "SELECT uuid, phase FROM digitalocean.genai.indexing_jobs"
    content, _ = anyio.run(_call, emulators, home, "run_select_query", {"sql": sql, "row_limit": 1})
    assert content == shown


def check_audit_record(block: Block, emulators: Emulators, home: Path) -> None:
    """The record of a DELETE the user declines: the same, but for its time and duration
    (and the knowledge base's id, ``kb-1`` in the docs)."""
    shown = json.loads(block.text)
    kb = emulators.fresh_kb()
    sql = shown["statement"].replace("'kb-1'", f"'{kb}'")
    _, records = anyio.run(_call, emulators, home, "run_mutation_query", {"sql": sql})
    [record] = records
    for volatile in ("time", "seconds"):
        assert type(record[volatile]) is type(shown[volatile]), volatile
        record[volatile] = shown[volatile]
    assert record == {**shown, "statement": sql}
    assert kb in {k["uuid"] for k in emulators.knowledge_bases()}  # declined: still there


CHECKS: list[tuple[Callable[[Any], bool], Callable[[Block, Emulators, Path], None]]] = [
    (lambda doc: "mcpServers" in doc or "servers" in doc, check_config),
    (lambda doc: {"columns", "rows", "requests"} <= doc.keys(), check_query_content),
    (lambda doc: {"tool", "outcome", "mode"} <= doc.keys(), check_audit_record),
]


def check_for(block: Block) -> Callable[[Block, Emulators, Path], None]:
    document = json.loads(block.text)
    matching = [check for matches, check in CHECKS if matches(document)]
    assert len(matching) == 1, f"{block.where}: {len(matching)} checks match"
    return matching[0]


def test_every_check_is_of_a_block_of_the_docs() -> None:
    for matches, check in CHECKS:
        assert any(matches(json.loads(b.text)) for b in BLOCKS), check.__name__


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_every_json_block_is_what_the_server_takes_or_writes(
    block: Block, sandbox: Emulators, writable: Emulators, tmp_path: Path
) -> None:
    check = check_for(block)
    check(block, writable if check is check_audit_record else sandbox, tmp_path)
