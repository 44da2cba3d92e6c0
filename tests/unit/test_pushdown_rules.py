"""Pushdown rules declared in YAML: comparisons on a column, list params, environment
fallbacks, windows split into slices, and conditional requirements of writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sqlprovider.errors import DataError, MissingParamsError
from sqlprovider.executor.mutate import requests_for_rows
from sqlprovider.http import build_request, split_window
from sqlprovider.plan import Fetch
from sqlprovider.planner import Planner
from sqlprovider.providers import Registry
from sqlprovider.sql import split_statements
from sqlprovider.store import Store

PROVIDER = """
name: acme
server: {url: https://api.acme.test}
services:
  ops:
    resources:
      connectors:
        columns:
          id: {type: integer}
          name: {type: string}
          access_type: {type: string}
          docs_indexed: {type: integer}
        methods:
          - name: search
            sql_verb: select
            http_verb: POST
            path: /search
            body: {get_all: true}
            params:
              access_type: {in: body, wire_name: access_type_filters, many: true}
              docs_count_value:
                in: body
                type: integer
                filtering: loose
                column: docs_indexed
                operators: [">", "<", "="]
                operator_param: docs_count_operator
                operator_values: {"=": "eq"}
              docs_count_operator: {in: body, filtering: loose}
              name_filter: {in: body, filtering: loose, column: name, operators: [icontains]}
      jobs:
        key: [id]
        columns:
          id: {type: string}
          started_at: {type: timestamp}
        methods:
          - name: list_jobs
            sql_verb: select
            http_verb: GET
            path: /jobs
            records: data
            window: {start: created_from, end: created_to, max_span: 7d}
            params:
              created_from: {in: query, required: true, column: started_at, operators: [">=", ">"]}
              created_to: {in: query, required: true, column: started_at, operators: ["<"]}
              tenant: {in: header, wire_name: acme-tenant, required: true, env: [ACME_TENANT]}
      tasks:
        columns:
          task_id: {type: string}
        methods:
          - name: start_task
            sql_verb: insert
            http_verb: POST
            path: /task
            requires:
              - when: {action: [POINT_ALIAS, PROMOTE]}
                params: [alias, index_suffix]
              - when: {action: DELETE_INDEX}
                one_of: [alias, index_suffix]
            destructive_when: {action: DELETE_INDEX}
            params:
              action:
                in: body
                required: true
                enum: [REINDEX, POINT_ALIAS, PROMOTE, DELETE_INDEX]
              alias: {in: body}
              index_suffix: {in: body}
"""


@pytest.fixture
def planner(tmp_path: Path) -> Planner:
    (tmp_path / "acme.yaml").write_text(PROVIDER)
    return Planner(Registry([tmp_path]))


def fetch_of(planner: Planner, sql: str) -> Fetch:
    [fetch] = planner.plan(split_statements(sql)[0]).fetches
    return fetch


def bound(fetch: Fetch) -> dict[str, tuple[Any, ...]]:
    return {name: source.values for name, source in fetch.bindings}


@pytest.mark.parametrize(
    ("condition", "value", "operator"),
    [
        ("docs_indexed > 100", 100, ">"),
        ("100 > docs_indexed", 100, "<"),  # written the other way round
        ("docs_indexed = 7", 7, "eq"),  # the wire value declared for =
    ],
)
def test_a_comparison_binds_the_value_and_the_operator(
    planner: Planner, condition: str, value: int, operator: str
) -> None:
    fetch = fetch_of(planner, f"SELECT id FROM acme.ops.connectors WHERE {condition}")
    assert bound(fetch) == {"docs_count_value": (value,), "docs_count_operator": (operator,)}


def test_an_operator_the_api_lacks_is_sent_as_a_wider_one(planner: Planner) -> None:
    # >= 5 on integers is > 4: the same rows, with the operator the API has.
    fetch = fetch_of(planner, "SELECT id FROM acme.ops.connectors WHERE docs_indexed >= 5")
    assert bound(fetch) == {"docs_count_value": (4,), "docs_count_operator": (">",)}


def test_a_fraction_against_an_integer_column_stays_local(planner: Planner) -> None:
    # No integer param value means < 0.5 exactly; DuckDB alone filters.
    fetch = fetch_of(planner, "SELECT id FROM acme.ops.connectors WHERE docs_indexed < 0.5")
    assert bound(fetch) == {}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("name ILIKE '%wiki%'", {"name_filter": ("wiki",)}),
        ("name LIKE '%Eng%'", {"name_filter": ("Eng",)}),
        ("name ILIKE 'wiki%'", {"name_filter": ("wiki",)}),  # containing it is a superset
        ("name ILIKE '%ab_cde%'", {"name_filter": ("cde",)}),  # the longest literal part
        ("name NOT ILIKE '%wiki%'", {}),  # a negation selects what the filter drops
        ("name ILIKE '%wikï%'", {}),  # case folding outside ASCII differs: left to DuckDB
    ],
)
def test_contains_patterns_bind_a_substring_filter(
    planner: Planner, condition: str, expected: dict[str, tuple[Any, ...]]
) -> None:
    fetch = fetch_of(planner, f"SELECT id FROM acme.ops.connectors WHERE {condition}")
    assert bound(fetch) == expected


def test_in_on_a_many_param_is_one_request_with_a_list(planner: Planner) -> None:
    sql = "SELECT id FROM acme.ops.connectors WHERE access_type IN ('public', 'sync')"
    fetch = fetch_of(planner, sql)
    assert bound(fetch) == {"access_type": ("public", "sync")}
    values = {"access_type": ["public", "sync"]}
    request = build_request(fetch.method, "https://api.acme.test", values)
    assert request.json == {"get_all": True, "access_type_filters": ["public", "sync"]}
    assert request.idempotent  # a read by POST changes nothing, so it may be retried


def test_a_range_on_a_column_binds_a_required_window(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(PROVIDER)
    # The session's environment is passed into planning; the plan carries what it gave.
    planner = Planner(Registry([tmp_path]), environ={"ACME_TENANT": "acme-prod"})
    fetch = fetch_of(
        planner,
        "SELECT id FROM acme.ops.jobs "
        "WHERE started_at >= '2024-10-01' AND started_at < '2024-10-31'",
    )
    assert bound(fetch) == {
        "created_from": ("2024-10-01T00:00:00Z",),
        "created_to": ("2024-10-31T00:00:00Z",),
    }
    assert fetch.defaults == (("tenant", "acme-prod"),)
    request = build_request(fetch.method, "https://api.acme.test", dict(fetch.defaults))
    assert ("acme-tenant", "acme-prod") in request.headers


def test_a_missing_required_param_names_every_way_to_give_it(planner: Planner) -> None:
    with pytest.raises(MissingParamsError) as raised:
        fetch_of(planner, "SELECT id FROM acme.ops.jobs WHERE started_at >= '2024-10-01'")
    message = str(raised.value)
    assert "needs created_to and tenant (WHERE created_to = '...' AND tenant = '...')" in message
    assert "created_to can also be given as started_at < '...'" in message
    assert "tenant can also be set in ACME_TENANT" in message


def test_a_long_window_is_split_into_consecutive_slices(planner: Planner) -> None:
    fetch = fetch_of(
        planner,
        "SELECT id FROM acme.ops.jobs WHERE created_from = '2024-10-01' "
        "AND created_to = '2024-10-31' AND tenant = 't'",
    )
    values = {"created_from": "2024-10-01", "created_to": "2024-10-31", "tenant": "t"}
    slices = split_window(fetch.method, values)
    assert [(s["created_from"], s["created_to"]) for s in slices] == [
        ("2024-10-01T00:00:00Z", "2024-10-08T00:00:00Z"),
        ("2024-10-08T00:00:00Z", "2024-10-15T00:00:00Z"),
        ("2024-10-15T00:00:00Z", "2024-10-22T00:00:00Z"),
        ("2024-10-22T00:00:00Z", "2024-10-29T00:00:00Z"),
        ("2024-10-29T00:00:00Z", "2024-10-31T00:00:00Z"),
    ]
    assert all(s["tenant"] == "t" for s in slices)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-10-01", "2024-10-08"),  # exactly the span: sent as written
        ("2024-10-01T00:00:00+02:00", "2024-10-03T00:00:00Z"),
        ("yesterday", "today"),  # not dates: the API judges them
    ],
)
def test_a_window_within_the_span_is_sent_as_written(
    planner: Planner, start: str, end: str
) -> None:
    method = fetch_of(
        planner,
        f"SELECT id FROM acme.ops.jobs WHERE created_from = '{start}' "
        f"AND created_to = '{end}' AND tenant = 't'",
    ).method
    values = {"created_from": start, "created_to": end}
    assert split_window(method, values) == [values]


def test_conditional_requirements_are_checked_before_anything_is_sent(
    planner: Planner,
) -> None:
    def mutation_rows(sql: str, *values: dict[str, Any]) -> list[Any]:
        plan = planner.plan(split_statements(sql)[0])
        assert plan.mutation is not None
        return requests_for_rows(plan.mutation, list(values), "https://api.acme.test")

    insert = "INSERT INTO acme.ops.tasks (data__action, data__alias, data__index_suffix) "
    insert += "VALUES ('x', 'y', 'z')"
    assert len(mutation_rows(insert, {"data__action": "REINDEX"})) == 1
    ok = {"data__action": "POINT_ALIAS", "data__alias": "image", "data__index_suffix": "v2"}
    assert mutation_rows(insert, ok)[0].json == {
        "action": "POINT_ALIAS",
        "alias": "image",
        "index_suffix": "v2",
    }
    with pytest.raises(DataError) as raised:
        mutation_rows(insert, ok, {**ok, "data__alias": None})
    assert "(row 2)" in str(raised.value)
    assert "when action is 'POINT_ALIAS', start_task also needs alias (data__alias)" in str(
        raised.value
    )
    with pytest.raises(DataError, match=r"needs alias \(data__alias\) or index_suffix"):
        mutation_rows(insert, {"data__action": "DELETE_INDEX"})


def test_column_free_expressions_are_computed_and_sent(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(PROVIDER)
    store = Store()
    try:
        planner = Planner(Registry([tmp_path]), evaluator=store)
        fetch = fetch_of(
            planner,
            "SELECT id FROM acme.ops.jobs WHERE tenant = 't' "
            "AND started_at >= DATE '2024-10-01' + INTERVAL 2 DAY "
            "AND started_at < strftime(DATE '2024-10-09', '%Y-%m-%d')",
        )
    finally:
        store.close()
    assert bound(fetch)["created_from"] == ("2024-10-03T00:00:00Z",)
    assert bound(fetch)["created_to"] == ("2024-10-09T00:00:00Z",)


def test_times_are_read_in_the_session_time_zone(tmp_path: Path) -> None:
    # DuckDB reads a time without a zone in the session's zone; the request carries that
    # very instant.
    (tmp_path / "acme.yaml").write_text(PROVIDER)
    store = Store()
    try:
        store.run("SET TimeZone = 'Asia/Tokyo'")
        planner = Planner(Registry([tmp_path]), evaluator=store)
        fetch = fetch_of(
            planner,
            "SELECT id FROM acme.ops.jobs WHERE tenant = 't' "
            "AND started_at >= '2024-10-01' AND started_at < '2024-10-02 09:00'",
        )
    finally:
        store.close()
    assert bound(fetch)["created_from"] == ("2024-09-30T15:00:00Z",)
    assert bound(fetch)["created_to"] == ("2024-10-02T00:00:00Z",)


def test_a_computed_time_is_fixed_in_the_query_so_both_sides_use_one_instant(
    planner: Planner,
) -> None:
    plan = planner.plan(
        split_statements(
            "SELECT id FROM acme.ops.jobs WHERE tenant = 't' "
            "AND started_at >= now() - INTERVAL 1 DAY AND started_at < now()"
        )[0]
    )
    [fetch] = plan.fetches
    assert "now()" not in plan.query.lower()
    sent = bound(fetch)["created_to"][0]
    assert sent.endswith("Z")
    assert sent[:19].replace("T", " ") in plan.query


def test_a_call_can_be_destructive_for_some_values_only(planner: Planner) -> None:
    plan = planner.plan(
        split_statements("INSERT INTO acme.ops.tasks (data__action) VALUES ('REINDEX')")[0]
    )
    assert plan.mutation is not None
    method = plan.mutation.method
    assert method.destructive_for({"action": "DELETE_INDEX"})
    assert not method.destructive_for({"action": "REINDEX"})
