"""MCP client sessions through the official SDK against ``sqlprovider mcp`` started as a
client starts it (stdio, and streamable HTTP), in each mode: every tool is called and its
answer compared with the emulator's own data or the engine's; the emulator's request log
shows what each call sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

import sqlprovider
from sqlprovider.model import param_columns
from sqlprovider.providers import Registry
from tests.e2e.conftest import Emulator
from tests.mcp_server.kit import (
    JOBS,
    KBS,
    User,
    audit_records,
    client,
    first_kb,
    http_server,
    kb_exists,
    requests,
    run,
    server_env,
    stdio,
    text,
    writes,
)

MODES = ("read_only", "safe", "full_access")


@contextmanager
def served(transport: str, emulator: Emulator, home: Path, *args: str) -> Iterator[Any]:
    """What a client connects to: stdio parameters, or the URL of a running HTTP server."""
    env = server_env(home)
    if transport == "stdio":
        yield stdio(emulator, env, *args)
    else:
        with http_server(emulator, env, *args) as url:
            yield url


@pytest.mark.parametrize("transport", ["stdio", "http"])
@pytest.mark.parametrize("mode", MODES)
def test_every_tool_in_every_mode(
    transport: str, mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    user = User("accept")
    # stdio speaks the 2026-07-28 revision, HTTP the handshake: each path of the protocol.
    protocol = "auto" if transport == "stdio" else "legacy"
    with served(transport, emulator, tmp_path, "--mode", mode, "--audit-log", str(audit)) as to:

        async def session() -> None:
            async with client(to, protocol, user) as mcp:
                await check_catalog(mcp, mode)
                await check_validate_sends_nothing(mcp, emulator, mode)
                await check_reads(mcp, emulator)
                await check_write(mcp, emulator, mode, user)

        run(session)
    tools = [r["tool"] for r in audit_records(audit)]
    assert set(tools) == set(TOOLS), tools  # every tool ran, and was audited


TOOLS = (
    "server_info",
    "list_providers",
    "list_services",
    "list_resources",
    "list_methods",
    "describe_resource",
    "validate_query",
    "run_select_query",
    "run_mutation_query",
)


async def check_catalog(mcp: Client, mode: str) -> None:
    listed = await mcp.list_tools()
    assert sorted(t.name for t in listed.tools) == sorted(TOOLS)
    writer = next(t for t in listed.tools if t.name == "run_mutation_query")
    assert writer.annotations is not None
    assert writer.annotations.read_only_hint is (mode == "read_only")
    assert writer.annotations.destructive_hint is (mode != "read_only")
    registry = Registry()
    info = (await mcp.call_tool("server_info", {})).structured_content
    assert info is not None
    assert (info["mode"], info["read_only"]) == (mode, mode == "read_only")
    assert info["providers"] == registry.names()
    providers = await mcp.call_tool("list_providers", {})
    assert providers.structured_content is not None
    assert [r["provider"] for r in providers.structured_content["rows"]] == registry.names()
    assert "| digitalocean |" in text(providers)
    do = registry.get("digitalocean")
    named: dict[str, Any] = {"provider": "digitalocean"}
    services = (await mcp.call_tool("list_services", named)).structured_content
    assert services is not None and [r["service"] for r in services["rows"]] == list(do.services)
    named["service"] = "genai"
    resources = (await mcp.call_tool("list_resources", named)).structured_content
    genai = do.services["genai"]
    assert resources is not None
    assert [r["resource"] for r in resources["rows"]] == list(genai.resources)
    named["resource"] = "knowledge_bases"
    methods = (await mcp.call_tool("list_methods", named)).structured_content
    kbs = genai.resources["knowledge_bases"]
    assert methods is not None and [r["method"] for r in methods["rows"]] == [
        m.name for m in kbs.methods
    ]
    described = await mcp.call_tool("describe_resource", {**named, "extended": True})
    columns = [c.name for c in kbs.columns] + [c.name for c in param_columns(kbs)]
    assert described.structured_content is not None
    assert [r["column"] for r in described.structured_content["rows"]] == columns
    with sqlprovider.connect() as conn:  # the same rows DESCRIBE EXTENDED gives
        expected = conn.execute(f"DESCRIBE EXTENDED {KBS}").fetchall()
    assert [tuple(r.values()) for r in described.structured_content["rows"]] == expected


async def check_validate_sends_nothing(mcp: Client, emulator: Emulator, mode: str) -> None:
    kb = first_kb(emulator)
    emulator.server.log.clear()
    sql = (
        f"SELECT uuid FROM {JOBS} WHERE uuid IN ('a', 'b');"
        f"DELETE FROM {KBS} WHERE uuid = '{kb}';"
        f"INSERT INTO {JOBS} (data__knowledge_base_uuid) SELECT uuid FROM {KBS}"
    )
    checked = await mcp.call_tool("validate_query", {"sql": sql})
    assert requests(emulator) == []
    content = checked.structured_content
    assert content is not None and content["valid"] is True
    kinds = [(s["kind"], s["tool"]) for s in content["statements"]]
    assert kinds == [
        ("read", "run_select_query"),
        ("write", "run_mutation_query"),
        ("write", "run_mutation_query"),
    ]
    assert "genai_delete_knowledge_base" in content["statements"][1]["plan"]
    expected = {"read_only": "refused", "safe": "runs once the user", "full_access": "runs ("}
    assert content["statements"][1]["allowed"].startswith(expected[mode])


async def check_reads(mcp: Client, emulator: Emulator) -> None:
    sql = f"SELECT uuid, phase FROM {JOBS} ORDER BY uuid"
    answer = await mcp.call_tool("run_select_query", {"sql": sql, "row_limit": 1000})
    truth = sorted((j["uuid"], j["phase"]) for j in emulator.all_jobs())
    content = answer.structured_content
    assert content is not None and not answer.is_error
    assert [(r["uuid"], r["phase"]) for r in content["rows"]] == truth
    assert (content["row_count"], content["truncated"], content["note"]) == (250, False, None)
    assert content["requests"] == 2  # 250 jobs at 200 a page
    cut = await mcp.call_tool("run_select_query", {"sql": sql, "row_limit": 10})
    assert cut.structured_content is not None
    assert [(r["uuid"], r["phase"]) for r in cut.structured_content["rows"]] == truth[:10]
    assert cut.structured_content["truncated"] is True
    assert "Showing the first 10 of 250 rows" in text(cut)
    # The same read within the cache's TTL (on by default in mcp): its answer, both pages.
    assert (cut.structured_content["requests"], cut.structured_content["cached_requests"]) == (0, 1)


async def check_write(mcp: Client, emulator: Emulator, mode: str, user: User) -> None:
    kb = first_kb(emulator)
    emulator.server.log.clear()
    done = await mcp.call_tool(
        "run_mutation_query", {"sql": f"DELETE FROM {KBS} WHERE uuid = '{kb}'"}
    )
    if mode == "read_only":
        assert done.is_error and "read-only" in text(done)
        assert requests(emulator) == []  # nothing at all was sent
        assert kb_exists(emulator, kb)
        assert user.asked == []
        return
    assert not done.is_error, text(done)
    assert writes(emulator) == [("DELETE", f"/v2/gen-ai/knowledge_bases/{kb}")]
    assert not kb_exists(emulator, kb)
    content = done.structured_content
    assert content is not None
    assert [(r["id"], r["outcome"]) for r in content["rows"]] == [(kb, "ok")]
    if mode == "safe":
        assert content["confirmation"] == "accepted"
        [question] = user.asked
        assert f"DELETE {emulator.url}/v2/gen-ai/knowledge_bases/{kb}" in question
        assert "Authorization: Bearer ***" in question
    else:
        assert content["confirmation"] == "not needed"
        assert user.asked == []  # full_access does not ask


# -- safe mode: the user's answer decides --------------------------------------------------


# Accepting over stdio with the 2026-07-28 revision is test_every_tool_in_every_mode's; a
# dismissed question is tested over HTTP (a server there takes many client sessions).
@pytest.mark.parametrize(
    ("protocol", "action"), [("legacy", "accept"), ("legacy", "decline"), ("auto", "decline")]
)
def test_safe_mode_over_stdio_sends_only_what_the_user_accepts(
    protocol: str, action: str, emulator: Emulator, tmp_path: Path
) -> None:
    env = server_env(tmp_path)
    audit = tmp_path / "audit.jsonl"
    user = User(action)

    async def session() -> None:
        async with client(stdio(emulator, env, "--audit-log", str(audit)), protocol, user) as mcp:
            await check_answered(mcp, emulator, user, action)

    run(session)
    outcome = {"accept": "ok", "decline": "declined", "cancel": "cancelled"}[action]
    last = audit_records(audit)[-1]
    assert (last["tool"], last["outcome"], last["mode"]) == ("run_mutation_query", outcome, "safe")
    if action != "accept":
        answered = {"decline": "declined", "cancel": "cancelled"}[action]
        assert (last["requests"], last["confirmation"]) == (0, answered)


@pytest.mark.parametrize("protocol", ["legacy", "auto"])
def test_safe_mode_over_http(protocol: str, emulator: Emulator, tmp_path: Path) -> None:
    with http_server(emulator, server_env(tmp_path), "--no-audit-log") as url:

        async def sessions() -> None:
            for action in ("accept", "decline", "cancel"):  # a client session each
                user = User(action)
                async with client(url, protocol, user) as mcp:
                    await check_answered(mcp, emulator, user, action)

        run(sessions)


async def check_answered(mcp: Client, emulator: Emulator, user: User, action: str) -> None:
    """An INSERT (its dry run reads nothing), then a DELETE (its dry run reads the object
    it selects): sent when the user accepts; otherwise no write, and for the INSERT no
    request at all."""
    kb = first_kb(emulator)
    emulator.server.log.clear()
    insert = f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}')"
    created = await mcp.call_tool("run_mutation_query", {"sql": insert})
    assert f"POST {emulator.url}/v2/gen-ai/indexing_jobs" in user.asked[0]
    assert f'body: {{"knowledge_base_uuid": "{kb}"}}' in user.asked[0]
    if action == "accept":
        assert not created.is_error, text(created)
        assert requests(emulator) == [("POST", "/v2/gen-ai/indexing_jobs")]
    else:
        assert created.is_error
        said = "declined" if action == "decline" else "dismissed"
        assert text(created).startswith(f"not sent: the user {said}")
        assert requests(emulator) == []  # not even a read
    emulator.server.log.clear()
    delete = f"DELETE FROM {KBS} WHERE uuid = '{kb}'"
    deleted = await mcp.call_tool("run_mutation_query", {"sql": delete})
    assert len(user.asked) == 2
    read = ("GET", f"/v2/gen-ai/knowledge_bases/{kb}")
    if action == "accept":
        assert not deleted.is_error, text(deleted)
        assert writes(emulator) == [("DELETE", f"/v2/gen-ai/knowledge_bases/{kb}")]
        assert not kb_exists(emulator, kb)
    else:
        assert deleted.is_error and "nothing was written" in text(deleted)
        assert requests(emulator) == [read]  # the dry run read the object; nothing written
        assert kb_exists(emulator, kb)


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_safe_mode_refuses_a_client_that_cannot_ask(
    transport: str, emulator: Emulator, tmp_path: Path
) -> None:
    kb = first_kb(emulator)
    with served(transport, emulator, tmp_path, "--no-audit-log") as to:

        async def session() -> None:
            for protocol in ("legacy", "auto"):
                async with client(to, protocol) as mcp:  # no elicitation declared
                    emulator.server.log.clear()
                    refused = await mcp.call_tool(
                        "run_mutation_query", {"sql": f"DELETE FROM {KBS} WHERE uuid = '{kb}'"}
                    )
                    assert refused.is_error
                    assert "cannot ask" in text(refused) and "--mode full_access" in text(refused)
                    assert requests(emulator) == []

        run(session)
    assert kb_exists(emulator, kb)
