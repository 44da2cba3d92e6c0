"""The provider reference pages in docs/providers/ are current, and every example on them runs.

Examples are checked by planning them: each ```sql block, with its {{ placeholders }} filled
with values of the right type, must plan without error and choose the method it documents.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sqlprovider.docgen import render_docs, write_docs
from sqlprovider.errors import UnknownNameError
from sqlprovider.model import Param, Resource
from sqlprovider.planner import Planner
from sqlprovider.providers import Registry, bundled_providers_dir
from sqlprovider.sql import split_statements
from sqlprovider.template import render

PAGES = Path(__file__).resolve().parents[2] / "docs" / "providers"
REGENERATE = "run `sqlprovider docs --out docs/providers` to regenerate the provider pages"
SQL_BLOCK = re.compile(r"^### (?P<method>\w+)$|^```sql\n(?P<sql>.*?)^```$", re.M | re.S)
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@pytest.fixture(autouse=True)
def _tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Amperity's tenant header falls back to AMPERITY_TENANT, as the examples rely on."""
    monkeypatch.setenv("AMPERITY_TENANT", "acme")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_committed_pages_are_current(tmp_path: Path) -> None:
    written = write_docs(tmp_path)
    fresh, committed = _files(tmp_path), _files(PAGES)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(fresh)
    missing = sorted(set(fresh) - set(committed))
    extra = sorted(set(committed) - set(fresh))
    assert not missing, f"docs/providers/ lacks {missing}; {REGENERATE}"
    assert not extra, (
        f"docs/providers/ has pages of no resource: {extra}; delete them and {REGENERATE}"
    )
    stale = sorted(name for name in fresh if fresh[name] != committed[name])
    assert not stale, f"docs/providers/ is out of date: {stale}; {REGENERATE}"


def _resource_pages() -> list[tuple[str, Resource]]:
    registry = Registry([bundled_providers_dir()])  # collected before conftest clears the env
    pages = []
    for name in sorted(render_docs(registry=registry)):
        parts = name.removesuffix(".md").split("/")
        if len(parts) == 3:
            pages.append((name, registry.resource(*parts)))
    return pages


RESOURCE_PAGES = _resource_pages()


def _sample(resource: Resource, param: Param) -> Any:
    """A plausible value for ``param``, of its type and within its enum."""
    for method in resource.methods:
        window = method.window
        if window is not None and param.name in (window.start, window.end):
            return "2025-05-01" if param.name == window.start else "2025-05-08"
    column = resource.column(param.column) if param.column else None
    if param.enum:
        return param.enum[0]
    if (column is not None and column.type in ("timestamp", "date")) or "date" in param.name:
        return "2025-05-01"
    samples = {"integer": 12, "number": 2.5, "boolean": "true", "array": '["a-1", "a-2"]'}
    if param.type in samples:
        return samples[param.type]
    if param.type == "object":
        return '{"key": "value"}'
    if "uuid" in param.name or "id" in param.name:
        return f"{param.name}-0001"
    return "sample text"


def _examples(page: str) -> list[tuple[str, str]]:
    """(method, SQL) for every ```sql block, by the ### heading above it."""
    method, examples = "", []
    for match in SQL_BLOCK.finditer(page):
        if match.group("method"):
            method = match.group("method")
        else:
            examples.append((method, match.group("sql")))
    return examples


def _check_examples(page: str, resource: Resource, registry: Registry) -> None:
    """Every method has an example; each plans, choosing that method (and AWAIT if hinted)."""
    examples = _examples(page)
    assert {method for method, _ in examples} == {m.name for m in resource.methods}
    params = {p.name: p for m in reversed(resource.methods) for p in m.params}
    planner = Planner(registry)
    for method, sql in examples:
        values = {name: _sample(resource, params[name]) for name in PLACEHOLDER.findall(sql)}
        text = render(sql, values)
        [statement] = split_statements(text)
        plan = planner.plan(statement)
        if plan.mutation is None:
            assert [f.method.name for f in plan.fetches] == [method], text
        else:
            assert plan.mutation.method.name == method, text
            assert plan.mutation.wait == ("/*+ AWAIT */" in sql), text


@pytest.mark.parametrize(("page", "resource"), RESOURCE_PAGES, ids=[p for p, _ in RESOURCE_PAGES])
def test_every_example_plans_with_its_method(page: str, resource: Resource) -> None:
    _check_examples((PAGES / page).read_text(), resource, Registry())


EDGE_PROVIDER = """
name: edgecase
title: "Edge | case"
server: {url: "https://{region}.example.com", variables: {region: {default: eu}}}
auth: {type: api_key, env: [EDGE_KEY], header: X-Api-Key}
services:
  things:
    resources:
      items:
        description: "Columns named by reserved words | a pipe"
        columns: {table: {type: string}, order: {type: integer}, id: {type: string}}
        methods:
          - name: list_items
            sql_verb: select
            http_verb: GET
            path: /items
            params: {min_order: {in: query, type: integer, column: order, operators: [">="]}}
          - {name: ping_items, sql_verb: insert, http_verb: POST, path: /items/ping}
          - name: touch_item
            sql_verb: update
            http_verb: PATCH
            path: /items/{id}
            params: {id: {in: path}}
          - {name: purge_items, sql_verb: delete, http_verb: DELETE, path: /items}
"""


def test_awkward_definitions_still_give_runnable_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "edgecase.yaml").write_text(EDGE_PROVIDER)
    registry = Registry([tmp_path])
    pages = render_docs("edgecase", registry=registry)
    page = pages["edgecase/things/items.md"]
    assert "| [edgecase](edgecase/index.md) | Edge \\| case | 1 |" in pages["index.md"]
    auth = "| Auth | `api_key` in header `X-Api-Key`, from `EDGE_KEY` (the first one set) |"
    assert auth in pages["edgecase/index.md"]
    assert 'SELECT\n    "table",\n    "order",\n    id\n' in page  # reserved words quoted
    assert "WHERE \"order\" >= '{{ min_order }}';" in page
    # nothing to write as a column or in SET: the example names the method instead
    assert "EXEC edgecase.things.items.ping_items\nRETURNING *;" in page
    assert "EXEC edgecase.things.items.touch_item\n    @id = '{{ id }}'\nRETURNING *;" in page
    _check_examples(page, registry.resource("edgecase", "things", "items"), registry)


def test_indexing_jobs_page() -> None:
    page = render_docs("digitalocean")["digitalocean/genai/indexing_jobs.md"]
    assert page.startswith("# digitalocean.genai.indexing_jobs\n")
    assert "| **Id** | `digitalocean.genai.indexing_jobs` |" in page
    assert "| `total_items_failed` | `uint64` (UBIGINT) | Total items failed |" in page
    rows = [
        "| [genai_get_indexing_job](#genai_get_indexing_job) | `SELECT` | "
        "`GET /v2/gen-ai/indexing_jobs/{uuid}` | `uuid` |  | Get the status of one indexing job. |",
        "| [genai_list_indexing_jobs](#genai_list_indexing_jobs) | `SELECT` | "
        "`GET /v2/gen-ai/indexing_jobs` |  | `page`, `per_page` | List all indexing jobs. |",
        "| [genai_cancel_indexing_job](#genai_cancel_indexing_job) | `REPLACE` | "
        "`PUT /v2/gen-ai/indexing_jobs/{uuid}/cancel` | `uuid` | `body_uuid` | "
        "Cancel an indexing job. |",
    ]
    for row in rows:
        assert row in page
    examples = dict(_examples(page))  # the last block of each method
    get = examples["genai_get_indexing_job"]
    assert get.startswith("SELECT\n    uuid,\n")
    assert get.endswith("FROM digitalocean.genai.indexing_jobs\nWHERE uuid = '{{ uuid }}';\n")
    assert examples["genai_list_indexing_jobs"].endswith("FROM digitalocean.genai.indexing_jobs;\n")
    assert examples["genai_create_indexing_job"] == (
        "INSERT /*+ AWAIT */ INTO digitalocean.genai.indexing_jobs (\n"
        "    data__knowledge_base_uuid,\n    data__data_source_uuids\n)\n"
        "SELECT\n    '{{ knowledge_base_uuid }}',\n    '{{ data_source_uuids }}'\nRETURNING *;\n"
    )
    assert examples["genai_cancel_indexing_job"] == (
        "REPLACE /*+ AWAIT */ digitalocean.genai.indexing_jobs\n"
        "SET\n    data__uuid = '{{ body_uuid }}'\nWHERE uuid = '{{ uuid }}'\nRETURNING *;\n"
    )


def test_filters_say_how_each_param_is_bound() -> None:
    page = render_docs("onyx")["onyx/connector/indexing_status.md"]
    filters = page.split("## Filters that are sent to the API")[1].split("## Methods")[0]
    row = {line.split(" | ")[0]: line for line in filters.splitlines() if line.startswith("| `")}
    assert "`IN (...)`: every value in one request (a list)" in row["| `access_type`"]
    assert "body (`access_type_filters`)" in row["| `access_type`"]
    assert "`docs_indexed > value`" in row["| `docs_count_value`"]
    assert "the operator goes in `docs_count_operator`" in row["| `docs_count_value`"]
    assert "set by comparisons on `docs_indexed`" in row["| `docs_count_operator`"]
    assert "`name LIKE '%text%'`" in row["| `name_filter`"]
    assert "AND name ILIKE '%{{ name_filter }}%'" in page
    tables = render_docs("amperity")["amperity/ingest/job_tables.md"]
    assert "else from `AMPERITY_TENANT`" in tables
    assert "slices of at most 7 days" in tables
    assert (
        "WHERE started_at >= '{{ created_from }}'\n  AND started_at < '{{ created_to }}';" in tables
    )


def test_provider_index_pages() -> None:
    pages = render_docs("amperity")
    assert "| [amperity](amperity/index.md) | Amperity | 3 |" in pages["index.md"]
    assert "| [onyx](onyx/index.md) | Onyx | 5 |" in pages["index.md"]  # always every provider
    index = pages["amperity/index.md"]
    assert "| Auth | `bearer`, from `AMPERITY_TOKEN` (the first one set) |" in index
    assert "| Rate limit | 10 requests per second, bursts of 1 |" in index
    assert "| [jobs](ingest/jobs.md) | SELECT |" in index
    assert "| Retry |" in render_docs("digitalocean")["digitalocean/index.md"]


def test_one_provider_only(tmp_path: Path) -> None:
    written = write_docs(tmp_path, provider="openverse")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "index.md",
        "openverse/index.md",
        "openverse/ingestion/health.md",
        "openverse/ingestion/index_stats.md",
        "openverse/ingestion/tasks.md",
    ]
    with pytest.raises(UnknownNameError, match="did you mean 'openverse'"):
        write_docs(tmp_path, provider="openvers")
