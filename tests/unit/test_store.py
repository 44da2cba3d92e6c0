"""The store loads API pages into typed DuckDB tables in bulk and keeps the API's row order."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from sqlglot import exp

from sqlprovider.errors import ProgrammingError
from sqlprovider.model import Column
from sqlprovider.store import Store, TableSpec, loaded_table


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store()
    yield s
    s.close()


COLUMNS = (
    Column("id", "string"),
    Column("count", "integer"),
    Column("big", "uint64"),
    Column("ratio", "number"),
    Column("ok", "boolean"),
    Column("at", "timestamp"),
    Column("tags", "string[]"),
    Column("meta", "json"),
    Column("meta_kind", "string", path=("meta", "kind")),
    Column("owner_name", "string", path=("owner", "name")),
)


def _query(store: Store, spec: TableSpec, sql: str) -> list[tuple[object, ...]]:
    table = loaded_table(spec.name).sql(dialect="duckdb")
    return store.run(sql.format(t=table)).rows


def test_types_paths_and_missing_fields(store: Store) -> None:
    spec = TableSpec("t1", ("items",), COLUMNS, (Column("page", "integer"),))
    loader = store.create(spec)
    body = json.dumps(
        {
            "items": [
                {
                    "id": "a",
                    "count": 3,
                    "big": "18446744073709551615",
                    "ratio": 0.5,
                    "ok": True,
                    "at": "2024-05-01T10:00:00Z",
                    "tags": ["x", "y"],
                    "meta": {"kind": "k", "n": [1]},
                    "owner": {"name": "ann"},
                },
                {"id": "b"},
            ]
        }
    )
    assert loader.load([body], [(0, 0)], [{"page": 7}], "list") == 2
    loader.finish()
    result = store.run(f"SELECT * FROM {loaded_table('t1').sql(dialect='duckdb')}")
    assert result.types == [
        "VARCHAR",
        "BIGINT",
        "UBIGINT",
        "DOUBLE",
        "BOOLEAN",
        "TIMESTAMP WITH TIME ZONE",
        "VARCHAR[]",
        "JSON",
        "VARCHAR",
        "VARCHAR",
        "BIGINT",
    ]
    first, second = result.rows
    assert first[0:5] == ("a", 3, 18446744073709551615, 0.5, True)
    assert first[5].isoformat() == "2024-05-01T10:00:00+00:00"
    assert first[6] == ["x", "y"]
    assert json.loads(first[7]) == {"kind": "k", "n": [1]}
    assert first[8:] == ("k", "ann", 7)
    assert second == ("b", None, None, None, None, None, None, None, None, None, 7)


def test_rows_keep_the_api_order_when_pages_arrive_out_of_order(store: Store) -> None:
    spec = TableSpec("t2", ("items",), (Column("id", "integer"),), ())
    loader = store.create(spec)
    pages = {i: json.dumps({"items": [{"id": i * 10 + k} for k in range(3)]}) for i in range(4)}
    arrival = [2, 0, 3, 1]
    loader.load([pages[i] for i in arrival], [(0, i) for i in arrival], [{}] * 4, "list")
    loader.finish()
    ids = [r[0] for r in _query(store, spec, "SELECT id FROM {t}")]
    assert ids == [i * 10 + k for i in range(4) for k in range(3)]


def test_single_object_records_and_missing_holders(store: Store) -> None:
    spec = TableSpec("t3", ("job",), (Column("id", "string"),), ())
    loader = store.create(spec)
    bodies = [json.dumps({"job": {"id": "x"}}), json.dumps({"other": 1}), json.dumps({"job": None})]
    assert loader.load(bodies, [(0, 0), (1, 0), (2, 0)], [{}, {}, {}], "object") == 1
    loader.finish()
    assert _query(store, spec, "SELECT id FROM {t}") == [("x",)]


def test_bound_values_fill_record_columns_the_record_lacks(store: Store) -> None:
    column = Column("parent", "string")
    spec = TableSpec("t4", ("items",), (Column("id", "string"), column), (), (column,))
    loader = store.create(spec)
    body = json.dumps({"items": [{"id": "a"}, {"id": "b", "parent": "p1"}]})
    loader.load([body], [(0, 0)], [{"parent": "p1"}], "list")
    loader.finish()
    assert _query(store, spec, "SELECT id, parent FROM {t}") == [("a", "p1"), ("b", "p1")]


def test_a_row_with_another_value_than_its_request_asked_for_is_left_to_that_request(
    store: Store,
) -> None:
    # Asked for source = web, an API may add a row of another source (a superset, or a
    # summary of a federated connector): it is kept only where its own value was asked for,
    # so fanning out IN never counts a row twice.
    column = Column("source", "string")
    spec = TableSpec("t5", ("items",), (Column("id", "string"), column), (), (column,))
    loader = store.create(spec)
    web = json.dumps({"items": [{"id": "w", "source": "web"}, {"id": "f", "source": "slack"}]})
    slack = json.dumps({"items": [{"id": "f", "source": "slack"}, {"id": "s", "source": "slack"}]})
    loader.load([web, slack], [(0, 0), (1, 0)], [{"source": "web"}, {"source": "slack"}], "list")
    loader.finish()
    assert _query(store, spec, "SELECT id, source FROM {t}") == [
        ("w", "web"),
        ("f", "slack"),
        ("s", "slack"),
    ]


def test_duckdb_errors_name_the_resource_not_the_loaded_table(store: Store) -> None:
    spec = TableSpec("_sp_9_jobs", ("items",), (Column("id", "string"),), ())
    store.create(spec).finish()
    table = loaded_table(spec.name).sql(dialect="duckdb")
    with pytest.raises(ProgrammingError) as raised:
        store.run(f"SELECT nope FROM {table}", {"_sp_9_jobs": "acme.svc.jobs"})
    assert "_sp_9" not in str(raised.value)
    assert "nope" in str(raised.value)


def test_loaded_data_never_enters_a_user_database_file(tmp_path: object) -> None:
    path = f"{tmp_path}/user.duckdb"
    store = Store(path)
    store.create(TableSpec("t5", (), (Column("id", "string"),), ())).finish()
    store.run("CREATE TABLE mine AS SELECT 1 AS x")
    store.close()
    reopened = Store(path)
    tables = reopened.run(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog <> '_sp'"
    )
    reopened.close()
    assert [r[0] for r in tables.rows] == ["mine"]


def test_records_under_every_element_with_fields_of_the_enclosing_ones(store: Store) -> None:
    spec = TableSpec(
        name="files",
        records=("data", "*", "tables", "*", "files"),
        record_columns=(
            Column("file_id"),
            Column("read", "integer"),
            Column("feed_id", path=("^feed_id",)),
            Column("job_id", path=("^^id",)),
        ),
        param_columns=(),
    )
    body = {
        "data": [
            {
                "id": "job-1",
                "tables": [
                    {"feed_id": "f1", "files": [{"file_id": "a", "read": 3}, {"file_id": "b"}]},
                    {"feed_id": "f2", "files": []},
                ],
            },
            {"id": "job-2", "tables": [{"feed_id": "f3", "files": [{"file_id": "c", "read": 5}]}]},
            {"id": "job-3", "tables": []},
        ]
    }
    loader = store.create(spec)
    assert loader.load([json.dumps(body)], [(0, 0)], [{}], "list") == 3
    loader.finish()
    assert _query(store, spec, "SELECT * FROM {t}") == [
        ("a", 3, "f1", "job-1"),
        ("b", None, "f1", "job-1"),
        ("c", 5, "f3", "job-2"),
    ]


def test_a_top_level_list_of_groups_is_flattened(store: Store) -> None:
    spec = TableSpec(
        name="statuses",
        records=("*", "indexing_statuses"),
        record_columns=(Column("cc_pair_id", "integer"), Column("group", path=("^source",))),
        param_columns=(),
    )
    body = [
        {"source": "web", "indexing_statuses": [{"cc_pair_id": 2}, {"cc_pair_id": 1}]},
        {"source": "slack", "indexing_statuses": [{"cc_pair_id": 7}]},
    ]
    loader = store.create(spec)
    loader.load([json.dumps(body)], [(0, 0)], [{}], "list")
    loader.finish()
    assert _query(store, spec, "SELECT * FROM {t}") == [(2, "web"), (1, "web"), (7, "slack")]


def test_rows_repeating_a_key_are_dropped_first_kept(store: Store) -> None:
    spec = TableSpec(
        name="jobs",
        records=("data",),
        record_columns=(Column("id"), Column("n", "integer")),
        param_columns=(),
        dedupe=("id",),
    )
    loader = store.create(spec)
    pages = [{"data": [{"id": "a", "n": 1}, {"id": "b", "n": 2}]}, {"data": [{"id": "a", "n": 9}]}]
    loader.load([json.dumps(p) for p in pages], [(0, 0), (1, 0)], [{}, {}], "list")
    loader.finish()
    assert _query(store, spec, "SELECT * FROM {t}") == [("a", 1), ("b", 2)]


# Field names come from API definitions and values from APIs: untrusted. Each reaches the
# INSERT as a quoted identifier or a string literal, so any character loads as written.
UNTRUSTED_KEYS = [
    "it's",
    'say "hi"',
    "back\\slash",
    "ünï €😀",
    "new\nline",
    "a.b[0]*",
    'x"); DROP TABLE t; --',
    "'); SELECT 1; --",
]


@pytest.mark.parametrize("key", UNTRUSTED_KEYS)
def test_untrusted_key_names_load_as_written(store: Store, key: str) -> None:
    bound = Column(f"bound {key}", path=("b", key))
    spec = TableSpec(
        name=f"t {key}",
        records=(key, "*", "items"),
        record_columns=(
            Column(f"col {key}", path=(key,)),
            Column("nested", path=("o", key)),
            Column("whole", "json", path=("j",)),
            Column("inside", path=("j", key)),
            Column("up", path=(f"^{key}",)),
            bound,
        ),
        param_columns=(Column(f"param {key}"),),
        bound_record_columns=(bound,),
        top_level=(key, "meta"),
    )
    item = {key: "V", "o": {key: "N"}, "j": {key: "J"}, "b": {}}
    body = {key: [{key: "U", "items": [item]}], "meta": {key: 1}}
    loader = store.create(spec)
    params = {f"param {key}": "P", f"bound {key}": "B"}
    assert loader.load([json.dumps(body)], [(0, 0)], [params], "list") == 1
    loader.finish()
    [row] = _query(store, spec, "SELECT * FROM {t}")
    whole, records, meta = (json.loads(str(row[i])) for i in (2, 7, 8))  # JSON columns
    assert (row[0], row[1], whole, row[3], row[4]) == ("V", "N", {key: "J"}, "J", "U")
    assert row[5:7] == ("B", "P")  # the bound value fills the field the record lacks
    assert (records, meta) == (body[key], {key: 1})


@pytest.mark.parametrize("key", UNTRUSTED_KEYS)
def test_an_untrusted_key_holding_the_record_becomes_a_struct(store: Store, key: str) -> None:
    spec = TableSpec(
        name="returned",
        records=(key,),
        record_columns=(Column("v", path=(key,)), Column("n", "integer", path=("o", key))),
        param_columns=(),
        top_level=(key,),
    )
    loader = store.create(spec)
    body = {key: {key: "v", "o": {key: 3}}}
    assert loader.load([json.dumps(body)], [(0, 0)], [{}], "object") == 1
    loader.finish()
    name = exp.to_identifier(key, quoted=True).sql(dialect="duckdb")
    rows = _query(store, spec, f"SELECT v, n, r.{name}.{name}, r.{name}.o.{name} FROM {{t}} AS r")
    assert rows == [("v", 3, "v", 3)]


def test_drop_removes_the_view_and_the_raw_table(store: Store) -> None:
    spec = TableSpec("gone", ("items",), (Column("id"),), ())
    loader = store.create(spec)
    loader.load([json.dumps({"items": [{"id": "a"}]})], [(0, 0)], [{}], "list")
    loader.finish()
    store.drop(["gone"])
    left = store.run("SELECT table_name FROM information_schema.tables WHERE table_catalog = '_sp'")
    assert left.rows == []


def test_export_writes_iso_times_and_reads_the_query_as_written(store: Store) -> None:
    stream = io.BytesIO()
    sql = "SELECT TIMESTAMPTZ '2024-01-01 10:00:05+00' AS at, 2 AS n, 3 AS n -- last"
    result = store.export(sql, fmt="csv", stream=stream)
    assert result.exported_rows == 1
    assert stream.getvalue().decode() == "at,n,n_1\n2024-01-01T10:00:05Z,2,3\n"
