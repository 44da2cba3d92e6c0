"""Body fields of ``requestBodyTranslate: naive`` methods under both of their names.

A naive method names a body field by its own name (``knowledge_base_uuid``), as StackQL
shows it; StackQL's reference pages write ``data__knowledge_base_uuid`` for the same field.
Both spellings plan the same requests wherever a field is named (INSERT columns, UPDATE and
REPLACE SET, EXEC arguments, WHERE of a read whose filters go in the body); one field under
both is an error; ``data__x`` never shadows a param or a column really called so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sqlprovider.errors import Error, ParseError, ProgrammingError
from sqlprovider.executor.mutate import requests_for_rows
from sqlprovider.http.request import RequestSpec
from sqlprovider.plan import Plan
from sqlprovider.planner import Planner
from sqlprovider.providers import Registry, bundled_providers_dir
from sqlprovider.sql import split_statements

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stackql"
JOBS = "digitalocean.genai.indexing_jobs"
KBS = "digitalocean.genai.knowledge_bases"
STATUS = "onyx.connector.indexing_status"
BASE = "http://127.0.0.1:1"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry([bundled_providers_dir()], [FIXTURES])


def _plan(registry: Registry, sql: str) -> Plan:
    [statement] = split_statements(sql)
    return Planner(registry).plan(statement)


def _requests(plan: Plan, values: list[Any]) -> list[RequestSpec]:
    """The requests of a write whose values query gave one row of ``values`` (the ids the
    read would select, then the SET values, or the INSERT's columns)."""
    mutate = plan.mutation
    assert mutate is not None
    return requests_for_rows(mutate, [dict(zip(mutate.columns, values, strict=True))], BASE)


# (own spelling, data__ spelling, the values query's row): each pair plans the same method
# and the same request.
WRITES = [
    (
        f"INSERT INTO {JOBS} (knowledge_base_uuid, data_source_uuids) SELECT 'kb', '[\"ds\"]'",
        f"INSERT INTO {JOBS} (data__knowledge_base_uuid, data__data_source_uuids) "
        "SELECT 'kb', '[\"ds\"]'",
        ["kb", '["ds"]'],
    ),
    (
        f"INSERT INTO {JOBS} (knowledge_base_uuid, data__data_source_uuids) SELECT 'kb', '[]'",
        f"INSERT INTO {JOBS} (data__knowledge_base_uuid, data_source_uuids) SELECT 'kb', '[]'",
        ["kb", "[]"],
    ),
    (
        f"EXEC {JOBS}.genai_create_indexing_job @knowledge_base_uuid = 'kb'",
        f"EXEC {JOBS}.genai_create_indexing_job @data__knowledge_base_uuid = 'kb'",
        ["kb"],
    ),
    (
        f"UPDATE {STATUS} SET status = 'PAUSED' WHERE cc_pair_id = 2",
        f"UPDATE {STATUS} SET data__status = 'PAUSED' WHERE cc_pair_id = 2",
        [2, "PAUSED"],
    ),
    (
        f"REPLACE {KBS} SET name = 'n', tags = '[\"t\"]' WHERE uuid = 'kb'",
        f"REPLACE {KBS} SET data__name = 'n', data__tags = '[\"t\"]' WHERE uuid = 'kb'",
        ["kb", "n", '["t"]'],
    ),
]


@pytest.mark.parametrize(("own", "prefixed", "row"), WRITES)
def test_both_spellings_plan_the_same_request(
    registry: Registry, own: str, prefixed: str, row: list[Any]
) -> None:
    first, second = _plan(registry, own), _plan(registry, prefixed)
    assert first.mutation is not None and second.mutation is not None
    assert first.mutation.method.name == second.mutation.method.name
    sent = _requests(first, row)
    assert sent == _requests(second, row)
    assert len(sent) == 1 and sent[0].json, "the request carries a body"


def test_the_seed_pages_statements_name_naive_fields(registry: Registry) -> None:
    """StackQL's reference page writes data__ against DigitalOcean's naive create."""
    plan = _plan(
        registry,
        f"INSERT INTO {JOBS} (data__data_source_uuids, data__knowledge_base_uuid) "
        "SELECT '[\"ds\"]', 'kb' RETURNING job",
    )
    assert plan.mutation is not None
    [request] = _requests(plan, ['["ds"]', "kb"])
    assert (request.http_verb, request.json) == (
        "POST",
        {"data_source_uuids": ["ds"], "knowledge_base_uuid": "kb"},
    )


def test_a_body_filter_binds_under_both_names(registry: Registry) -> None:
    """onyx's read by POST takes its filters in the body (naive): WHERE data__source binds
    the field source as WHERE source does, and DuckDB applies the same condition."""
    own = _plan(registry, f"SELECT name FROM {STATUS} WHERE source = 'web'")
    prefixed = _plan(registry, f"SELECT name FROM {STATUS} WHERE data__source = 'web'")
    [a], [b] = own.fetches, prefixed.fetches
    assert a.bindings == b.bindings and "source" in dict(a.bindings)
    assert a.exact == b.exact
    assert own.query == prefixed.query


def test_a_selected_alias_keeps_its_name(registry: Registry) -> None:
    plan = _plan(registry, f"SELECT s.data__source FROM {STATUS} s WHERE s.data__source = 'web'")
    assert "source" in dict(plan.fetches[0].bindings)
    assert plan.query.startswith('SELECT s.source AS "data__source" FROM')


REPEATS = [
    (
        f"INSERT INTO {JOBS} (knowledge_base_uuid, data__knowledge_base_uuid) SELECT 'a', 'b'",
        f"INSERT INTO {JOBS} gives knowledge_base_uuid as knowledge_base_uuid and "
        "data__knowledge_base_uuid; give it once",
    ),
    (
        f"INSERT INTO {JOBS} (knowledge_base_uuid, KNOWLEDGE_BASE_UUID) SELECT 'a', 'b'",
        "gives knowledge_base_uuid as knowledge_base_uuid and KNOWLEDGE_BASE_UUID",
    ),
    (
        f"UPDATE {STATUS} SET data__status = 'PAUSED', status = 'ACTIVE' WHERE cc_pair_id = 2",
        f"UPDATE {STATUS} gives status as data__status and status; give it once",
    ),
    (
        f"REPLACE {KBS} SET name = 'a', data__name = 'b' WHERE uuid = 'kb'",
        f"REPLACE {KBS} gives name as name and data__name; give it once",
    ),
    (
        f"EXEC {JOBS}.genai_create_indexing_job @data__knowledge_base_uuid = 'a', "
        "@knowledge_base_uuid = 'b'",
        f"EXEC {JOBS}.genai_create_indexing_job gives knowledge_base_uuid as "
        "data__knowledge_base_uuid and knowledge_base_uuid; give it once",
    ),
]


@pytest.mark.parametrize(("sql", "message"), REPEATS)
def test_one_field_under_two_names_is_an_error(registry: Registry, sql: str, message: str) -> None:
    with pytest.raises(ProgrammingError) as raised:
        _plan(registry, sql)
    assert message in str(raised.value)


def test_an_exec_argument_given_twice_is_an_error(registry: Registry) -> None:
    with pytest.raises(ParseError, match="EXEC gives @KB twice; give it once"):
        _plan(registry, f"EXEC {JOBS}.genai_create_indexing_job @kb = 'a', @KB = 'b'")


def test_describe_and_show_methods_list_a_field_once(registry: Registry) -> None:
    """Once, under its own name, as StackQL shows a naive method's fields; a field that
    collides with a path param is data__uuid there too."""
    plan = _plan(registry, f"SHOW METHODS IN {JOBS}")
    rows = {r[0]: r for r in _rows(plan)}
    optional = rows["genai_create_indexing_job"][3].split(", ")
    assert sorted(optional) == ["data_source_uuids", "knowledge_base_uuid"]
    assert rows["genai_cancel_indexing_job"][2:4] == ("uuid", "data__uuid")
    described = [r[0] for r in _rows(_plan(registry, f"DESCRIBE {STATUS}"))]
    assert described.count("source") == 1
    assert not [c for c in described if c.startswith("data__")]


def _rows(plan: Plan) -> list[tuple[Any, ...]]:
    assert plan.answer is not None
    return list(plan.answer.rows)


# A registry written here: a naive write with a query param really called data__name, and a
# naive read whose records have a column really called data__source.
SHADOW_PROVIDER = """
id: shadow
name: shadow
version: v1.0.0
providerServices:
  notes:
    id: notes:v1.0.0
    name: notes
    version: v1.0.0
    service:
      $ref: shadow/v1.0.0/services/notes.yaml
"""
SHADOW_SERVICE = """
openapi: 3.0.0
info: {title: Notes, version: '1.0'}
servers:
  - url: https://notes.example.com
paths:
  /v1/notes:
    post:
      operationId: create_note
      parameters:
        - {name: data__name, in: query, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                name: {type: string}
                text: {type: string}
      responses:
        '200': {description: ok}
  /v1/notes/search:
    post:
      operationId: search_notes
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                source: {type: string}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  properties:
                    id: {type: string}
                    data__source: {type: string}
components:
  x-stackQL-resources:
    notes:
      id: shadow.notes.notes
      name: notes
      methods:
        create_note:
          config:
            requestBodyTranslate: {algorithm: naive}
          operation: {$ref: '#/paths/~1v1~1notes/post'}
          response: {openAPIDocKey: '200'}
        search_notes:
          config:
            requestBodyTranslate: {algorithm: naive}
          operation: {$ref: '#/paths/~1v1~1notes~1search/post'}
          response: {openAPIDocKey: '200'}
      sqlVerbs:
        select:
          - $ref: '#/components/x-stackQL-resources/notes/methods/search_notes'
        insert:
          - $ref: '#/components/x-stackQL-resources/notes/methods/create_note'
"""


@pytest.fixture
def shadow(tmp_path: Path) -> Registry:
    version = tmp_path / "src" / "shadow" / "v1.0.0"
    (version / "services").mkdir(parents=True)
    (version / "provider.yaml").write_text(SHADOW_PROVIDER)
    (version / "services" / "notes.yaml").write_text(SHADOW_SERVICE)
    return Registry([bundled_providers_dir()], [tmp_path])


def test_data_prefix_never_shadows_a_param_of_that_name(shadow: Registry) -> None:
    both = _plan(shadow, "INSERT INTO shadow.notes.notes (data__name, name) SELECT 'q', 'b'")
    [request] = _requests(both, ["q", "b"])
    assert request.query == (("data__name", "q"),)
    assert request.json == {"name": "b"}


def test_data_prefix_never_shadows_a_column_of_that_name(shadow: Registry) -> None:
    plan = _plan(shadow, "SELECT id FROM shadow.notes.notes WHERE data__source = 'x'")
    assert "source" not in dict(plan.fetches[0].bindings)  # the column, not the body field
    assert "data__source = 'x'" in plan.query
    bound = _plan(shadow, "SELECT id FROM shadow.notes.notes WHERE source = 'x'")
    assert "source" in dict(bound.fetches[0].bindings)


def test_an_unknown_name_still_suggests_both_spellings(registry: Registry) -> None:
    with pytest.raises(Error, match="knowledge_base_uuid"):
        _plan(registry, f"EXEC {JOBS}.genai_create_indexing_job @data__knowledge_base = 'a'")
