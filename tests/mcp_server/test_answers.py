"""What the tools answer, through an SDK client of the server built in this process: rows
cut at the row limit with a note, structured content that fits the published output
schemas, tool annotations that follow the mode, and errors that are one message naming the
fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.e2e.conftest import Emulator
from tests.mcp_server.kit import (
    JOBS,
    KBS,
    client,
    first_kb,
    in_process,
    requests,
    run,
    text,
    writes,
)

JOB_ROWS = f"SELECT uuid FROM {JOBS} ORDER BY uuid"


def table_rows(markdown: str) -> list[str]:
    """The body rows of the markdown table in a text (header and separator left out)."""
    lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    return lines[2:]


def test_rows_are_cut_at_the_row_limit_and_the_answer_says_so(
    emulator: Emulator, tmp_path: Path
) -> None:
    truth = sorted(job["uuid"] for job in emulator.all_jobs())

    async def session() -> None:
        async with client(server, "legacy") as mcp:
            default = await mcp.call_tool("run_select_query", {"sql": JOB_ROWS})
            content = default.structured_content
            assert content is not None
            assert [r["uuid"] for r in content["rows"]] == truth[:7]  # the server's --row-limit
            assert (content["row_count"], content["truncated"]) == (250, True)
            assert content["note"] in text(default)
            assert "Showing the first 7 of 250 rows" in content["note"]
            assert "row_limit (at most 10,000)" in content["note"]
            assert table_rows(text(default)) == [f"| {u} |" for u in truth[:7]]
            whole = await mcp.call_tool("run_select_query", {"sql": JOB_ROWS, "row_limit": 250})
            assert whole.structured_content is not None
            assert [r["uuid"] for r in whole.structured_content["rows"]] == truth
            assert whole.structured_content["note"] is None
            assert "Showing" not in text(whole)
            too_many = await mcp.call_tool("run_select_query", {"sql": JOB_ROWS, "row_limit": 0})
            assert too_many.is_error
            assert text(too_many) == (
                "wrong arguments for run_select_query: row_limit: input should be greater "
                "than or equal to 1 (the tool's input schema lists its arguments)"
            )
            empty = await mcp.call_tool(
                "run_select_query", {"sql": f"SELECT uuid FROM {JOBS} WHERE uuid = 'none'"}
            )
            assert empty.structured_content is not None
            assert empty.structured_content["rows"] == [] and "(no rows)" in text(empty)

    with in_process(emulator, tmp_path, row_limit=7) as server:
        run(session)


def test_structured_content_fits_the_published_output_schemas(
    emulator: Emulator, tmp_path: Path
) -> None:
    kb = first_kb(emulator)
    named = {"provider": "digitalocean", "service": "genai", "resource": "knowledge_bases"}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("server_info", {}),
        ("list_providers", {}),
        ("list_services", {"provider": "digitalocean"}),
        ("list_resources", {"provider": "digitalocean", "service": "genai"}),
        ("list_methods", named),
        ("describe_resource", {**named, "extended": True}),
        ("validate_query", {"sql": "SELECT 1; SELEC 2"}),
        ("validate_query", {"sql": f"SELECT * FROM {JOBS} LIMIT 3"}),
        ("run_select_query", {"sql": f"SELECT * FROM {JOBS} LIMIT 3"}),
        ("run_mutation_query", {"sql": f"UPDATE {KBS} SET name = 'renamed' WHERE uuid = '{kb}'"}),
    ]

    async def session() -> None:
        async with client(server, "auto") as mcp:
            schemas = {t.name: t.output_schema for t in (await mcp.list_tools()).tools}
            for name, arguments in calls:
                result = await mcp.call_tool(name, arguments)
                assert not result.is_error, (name, text(result))
                assert result.structured_content is not None and schemas[name] is not None
                jsonschema.validate(result.structured_content, schemas[name])

    with in_process(emulator, tmp_path, mode="full_access") as server:
        run(session)
    assert emulator.api(f"/v2/gen-ai/knowledge_bases/{kb}")["knowledge_base"]["name"] == "renamed"


@pytest.mark.parametrize(
    ("mode", "read_only", "destructive"),
    [("read_only", True, False), ("safe", False, True), ("full_access", False, True)],
)
def test_the_annotations_follow_the_mode(
    mode: str, read_only: bool, destructive: bool, emulator: Emulator, tmp_path: Path
) -> None:
    async def session() -> None:
        async with client(server, "legacy") as mcp:
            tools = {t.name: t for t in (await mcp.list_tools()).tools}
            for name, tool in tools.items():
                hints = tool.annotations
                assert hints is not None, name
                if name == "run_mutation_query":
                    assert (hints.read_only_hint, hints.destructive_hint) == (
                        read_only,
                        destructive,
                    )
                    assert mode in (tool.description or "") or "read-only" in (
                        tool.description or ""
                    )
                else:  # every other tool only reads, whatever the mode
                    assert (hints.read_only_hint, hints.destructive_hint) == (True, False), name
            assert tools["run_select_query"].annotations.open_world_hint is True  # type: ignore[union-attr]
            assert tools["list_providers"].annotations.open_world_hint is False  # type: ignore[union-attr]

    with in_process(emulator, tmp_path, mode=mode) as server:
        run(session)


ERRORS: list[tuple[str, dict[str, Any], str]] = [
    (
        "list_services",
        {"provider": "digitalocan"},
        "unknown provider 'digitalocan'; did you mean 'digitalocean'? (list_providers names them)",
    ),
    (
        "describe_resource",
        {"provider": "digitalocean", "service": "genai", "resource": "kbs"},
        "unknown resource 'digitalocean.genai.kbs'; did you mean ",
    ),
    ("run_select_query", {"sql": "SELEC 1"}, "syntax error at line 1, column "),
    ("run_select_query", {}, "wrong arguments for run_select_query: sql is required"),
    ("list_methods", {"provider": "digitalocean"}, "wrong arguments for list_methods: service "),
    (
        "run_select_query",
        {"sql": "SELECT * FROM digitalocean.genai.indexing_job_data_sources"},
        "digitalocean.genai.indexing_job_data_sources needs indexing_job_uuid "
        "(WHERE indexing_job_uuid = '...')",
    ),
    (
        "run_select_query",
        {"sql": "SELECT 1; SELECT 2"},
        "run_select_query takes one statement; this has 2: send them one at a time",
    ),
    (
        "run_select_query",
        {"sql": f"SELECT nme FROM {KBS}"},
        "",  # DuckDB's binder names the column; the engine suggests the nearest
    ),
    (
        "run_select_query",
        {"sql": "CREATE TABLE t AS SELECT 1 AS x"},
        "not run: run_select_query only reads, and this statement is a local change",
    ),
    (
        "run_mutation_query",
        {"sql": f"SELECT uuid FROM {KBS}"},
        "not run: this statement only reads; run it with run_select_query",
    ),
]


def test_errors_are_one_message_that_names_the_fix(emulator: Emulator, tmp_path: Path) -> None:
    async def session() -> None:
        async with client(server, "legacy") as mcp:
            for name, arguments, message in ERRORS:
                result = await mcp.call_tool(name, arguments)
                said = text(result)
                assert result.is_error, (name, arguments)
                assert said.startswith(message), said
                assert result.structured_content is None
                assert "Traceback" not in said and "Error executing tool" not in said
                assert not any(w in said for w in ("sqlglot", "duckdb.", "httpx", "pydantic"))

    with in_process(emulator, tmp_path, mode="full_access") as server:
        emulator.server.log.clear()
        run(session)
    assert requests(emulator) == []  # every one of them failed before a request


def test_duckdb_statements_that_change_something_are_writes(
    emulator: Emulator, tmp_path: Path
) -> None:
    """EXPLAIN ANALYZE of a local DELETE runs the DELETE, so it is no read."""

    async def session() -> None:
        async with client(server, "legacy") as mcp:
            made = await mcp.call_tool(
                "run_mutation_query", {"sql": "CREATE TABLE t AS SELECT 1 AS x"}
            )
            assert not made.is_error, text(made)
            for sql in ("EXPLAIN ANALYZE DELETE FROM t", "COPY t TO 'out.csv'", "DROP TABLE t"):
                refused = await mcp.call_tool("run_select_query", {"sql": sql})
                assert refused.is_error and "send it with run_mutation_query" in text(refused)
            for sql in ("EXPLAIN DELETE FROM t", "SHOW TABLES", "DESCRIBE t", "SUMMARIZE t"):
                read = await mcp.call_tool("run_select_query", {"sql": sql})
                assert not read.is_error, (sql, text(read))
            left = await mcp.call_tool("run_select_query", {"sql": "SELECT x FROM t"})
            assert left.structured_content is not None
            assert left.structured_content["rows"] == [{"x": 1}]

    with in_process(emulator, tmp_path, mode="full_access") as server:
        run(session)


def test_a_write_that_partly_fails_says_what_each_request_did(
    emulator: Emulator, tmp_path: Path
) -> None:
    kb = first_kb(emulator)
    sql = f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}'), ('no-such-kb')"

    async def session() -> None:
        async with client(server, "legacy") as mcp:
            result = await mcp.call_tool("run_mutation_query", {"sql": sql})
            said = text(result)
            assert result.is_error
            assert "no-such-kb" in said and "What each request did:" in said
            outcomes = [row for row in table_rows(said) if "genai_create_indexing_job" in row]
            assert len(outcomes) == 2 and sum("| ok |" in row for row in outcomes) == 1

    with in_process(emulator, tmp_path, mode="full_access") as server:
        emulator.server.log.clear()
        run(session)
    assert writes(emulator) == [("POST", "/v2/gen-ai/indexing_jobs")] * 2
