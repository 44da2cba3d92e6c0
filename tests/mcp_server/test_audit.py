"""The audit log: one JSON line per tool call (time, tool, statement, mode, outcome, the
requests sent and those the result cache answered), in the XDG state directory unless told
otherwise, readable by its owner only; ``--audit-log -`` writes to standard error and
``--no-audit-log`` writes nothing."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.conftest import Emulator
from tests.mcp_server.kit import (
    JOBS,
    KBS,
    User,
    audit_records,
    client,
    first_kb,
    http_server,
    in_process,
    requests,
    run,
    server_env,
    stdio,
)

FIELDS = {
    "time",
    "tool",
    "mode",
    "statement",
    "arguments",
    "outcome",
    "confirmation",
    "requests",
    "dry_run_reads",
    "cached_requests",
    "cache_age",
    "rows",
    "seconds",
    "error",
}


def test_each_call_leaves_one_record_that_says_what_it_sent(
    emulator: Emulator, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    kb = first_kb(emulator)
    sent: list[int] = []
    select = f"SELECT uuid FROM {JOBS} WHERE phase = 'BATCH_JOB_PHASE_FAILED'"

    async def session() -> None:
        async with client(server, "auto", User("decline")) as mcp:
            await mcp.call_tool("list_services", {"provider": "digitalocean"})
            emulator.server.log.clear()
            await mcp.call_tool("run_select_query", {"sql": select})
            sent.append(len(requests(emulator)))
            await mcp.call_tool("run_select_query", {"sql": select})  # from the cache
            sent.append(len(requests(emulator)))
            await mcp.call_tool(
                "run_mutation_query", {"sql": f"DELETE FROM {KBS} WHERE uuid = '{kb}'"}
            )
            await mcp.call_tool("run_select_query", {"sql": "SELEC 1"})
            await mcp.call_tool("validate_query", {"sql": "SELEC 1"})

    started = datetime.now(UTC)
    with in_process(emulator, tmp_path, audit=audit) as server:
        run(session)
    records = audit_records(audit)
    assert [set(r) for r in records] == [FIELDS] * 6
    for record in records:
        when = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
        assert started - timedelta(seconds=1) <= when <= datetime.now(UTC)
        assert record["mode"] == "safe"
    listing, fresh, cached, delete, broken, invalid = records
    assert listing["statement"] == 'SHOW SERVICES IN "digitalocean"'
    assert listing["arguments"] == {"provider": "digitalocean"}
    assert (listing["outcome"], listing["requests"], listing["rows"]) == ("ok", 0, 1)
    assert fresh["statement"] == select
    assert (fresh["requests"], fresh["cached_requests"]) == (sent[0], 0) and sent[0] == 2
    assert (cached["requests"], cached["cached_requests"]) == (0, 1)
    assert sent[1] == sent[0]  # the emulator saw nothing more
    assert cached["cache_age"] is not None and 0 <= cached["cache_age"] < 60
    assert cached["rows"] == fresh["rows"]
    assert (delete["outcome"], delete["confirmation"], delete["requests"]) == (
        "declined",
        "declined",
        0,
    )
    assert delete["dry_run_reads"] == 1  # the question's dry run read the knowledge base
    assert (broken["outcome"], broken["requests"]) == ("error", None)
    assert broken["error"].startswith("syntax error at line 1")
    assert (invalid["tool"], invalid["outcome"]) == ("validate_query", "invalid")


def test_the_log_goes_to_the_state_directory_unless_told_otherwise(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = server_env(tmp_path)
    default = tmp_path / "state" / "sqlprovider" / "mcp-audit.jsonl"

    async def session(*args: str) -> None:
        async with client(stdio(emulator, env, *args), "legacy") as mcp:
            await mcp.call_tool("server_info", {})

    run(lambda: session("--no-audit-log"))
    assert not default.exists()
    run(session)
    [record] = audit_records(default)
    assert (record["tool"], record["outcome"]) == ("server_info", "ok")
    assert stat.S_IMODE(default.stat().st_mode) == 0o600
    assert stat.S_IMODE(default.parent.stat().st_mode) == 0o700

    errors = tmp_path / "stderr.txt"
    with http_server(emulator, env, "--audit-log", "-", stderr=errors) as url:

        async def over_http() -> None:
            async with client(url, "auto") as mcp:
                await mcp.call_tool("list_providers", {})

        run(over_http)
    lines = errors.read_text().splitlines()
    assert lines[0].startswith("sqlprovider mcp: serving MCP on http://127.0.0.1:")
    assert "audit log standard error" in lines[0]
    record = json.loads(next(line for line in lines if line.startswith("{")))
    assert (record["tool"], record["statement"]) == ("list_providers", "SHOW PROVIDERS")
    assert len(audit_records(default)) == 1  # the HTTP server wrote to standard error only
