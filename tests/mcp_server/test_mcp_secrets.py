"""No tool answer, question to the user or audit record ever holds a credential: not the
token the server reads from its environment, not a token written in an auth file, even
when the assistant asks DuckDB for text that holds one, or an error quotes it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import TOKEN, Emulator
from tests.mcp_server.kit import JOBS, User, client, run, server_env, stdio, text

AUTH_FILE_SECRET = "literal-amperity-secret-4242"


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/environ")
def test_no_credential_in_any_answer_question_or_audit_record(
    emulator: Emulator, tmp_path: Path
) -> None:
    auth = tmp_path / "auth.yaml"
    auth.write_text(
        f"amperity:\n  type: api_key\n  header: X-Api-Key\n  token: {AUTH_FILE_SECRET}\n"
    )
    audit = tmp_path / "audit.jsonl"
    user = User("accept")
    seen: list[str] = []
    calls: list[tuple[str, dict[str, Any]]] = [
        ("server_info", {}),
        ("list_providers", {}),
        ("run_select_query", {"sql": f"SELECT '{TOKEN}' AS token"}),
        ("run_select_query", {"sql": f"SELECT '{AUTH_FILE_SECRET}' AS token"}),
        ("run_select_query", {"sql": "SELECT content FROM read_text('/proc/self/environ')"}),
        ("run_select_query", {"sql": f"SELECT CAST('{TOKEN}' AS INTEGER)"}),  # an error
        ("run_select_query", {"sql": f"SELECT * FROM {JOBS} WHERE uuid = '{TOKEN}'"}),
        ("validate_query", {"sql": f"SELECT '{TOKEN}'; SELECT '{AUTH_FILE_SECRET}'"}),
        ("validate_query", {"sql": f"SELECT '{TOKEN}"}),  # not valid
        ("run_mutation_query", {"sql": f"CREATE TABLE t AS SELECT '{TOKEN}' AS x"}),
        (
            "run_mutation_query",  # the question shows the body; the API's 404 quotes the id
            {"sql": f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{TOKEN}')"},
        ),
    ]
    server = stdio(emulator, server_env(tmp_path), "--auth", str(auth), "--audit-log", str(audit))

    async def session() -> None:
        async with client(server, "legacy", user) as mcp:
            for name, arguments in calls:
                result = await mcp.call_tool(name, arguments)
                seen.append(text(result))
                seen.append(json.dumps(result.structured_content))

    run(session)
    seen.extend(user.asked)
    seen.append(audit.read_text())
    everything = "\n".join(seen)
    assert "DIGITALOCEAN_TOKEN=***" in everything  # the environment was read, and hidden
    assert "Bearer ***" in everything and "(HTTP 404" in everything  # the places ran
    assert len(user.asked) == 2
    assert TOKEN not in everything
    assert AUTH_FILE_SECRET not in everything
