"""The DB-API (PEP 249) surface against httpx.MockTransport: module attributes, cursors,
parameter binding (hostile values included), executemany, frames, the auth file, and the
asyncio twin."""

from __future__ import annotations

import datetime
import decimal
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

import sqlprovider
import sqlprovider.aio

TOKEN = "dop_v1_dbapi_unit_token_7d2e91"
JOBS = "digitalocean.genai.indexing_jobs"
KBS = "digitalocean.genai.knowledge_bases"
JOB_PATH = "/v2/gen-ai/indexing_jobs"
HOSTILE = [
    "x' OR '1'='1",
    "'); DROP TABLE t; --",
    "a\"b\\'c",
    "../../v2/account?x=1#frag",
    "$1 ? :name /* -- */",
]


def _job(number: int, status: str = "INDEX_JOB_STATUS_COMPLETED") -> dict[str, Any]:
    return {
        "uuid": f"job-{number}",
        "knowledge_base_uuid": f"kb-{number % 2}",
        "phase": "BATCH_JOB_PHASE_SUCCEEDED",
        "status": status,
        "created_at": f"2024-05-0{number}T10:00:00Z",
        "total_datasources": number,
        "data_source_uuids": [f"ds-{number}"],
    }


class FakeApi:
    """A small DigitalOcean: three jobs, one knowledge base; it records every request."""

    def __init__(self) -> None:
        self.jobs = [_job(1), _job(2, "INDEX_JOB_STATUS_FAILED"), _job(3)]
        self.requests: list[httpx.Request] = []
        self.created = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path  # decoded
        segments = request.url.raw_path.decode().split("?")[0].split("/")
        if request.method == "GET" and path == JOB_PATH:
            body = {"jobs": self.jobs, "links": {}, "meta": {"page": 1, "pages": 1}}
            return httpx.Response(200, json=body)
        if request.method == "GET" and len(segments) == 5 and path.startswith(JOB_PATH + "/"):
            found = [j for j in self.jobs if j["uuid"] == path.rsplit("/", 1)[1]]
            if not found:
                return httpx.Response(404, json={"id": "not_found", "message": "not found"})
            return httpx.Response(200, json={"job": found[0]})
        if request.method == "POST" and path == JOB_PATH:
            sent = json.loads(request.content)
            self.created += 1
            job = {"uuid": f"new-{self.created}", "phase": "BATCH_JOB_PHASE_PENDING", **sent}
            return httpx.Response(200, json={"job": job})
        if request.method == "PUT" and path.endswith("/cancel"):
            job_uuid = path.split("/")[-2]
            return httpx.Response(200, json={"job": {"uuid": job_uuid, "phase": "CANCELLED"}})
        if request.method == "GET" and path.startswith("/v2/gen-ai/knowledge_bases/"):
            # every knowledge base exists: a write reads it before it is changed
            kb_uuid = unquote(request.url.raw_path.decode().split("?")[0].rsplit("/", 1)[1])
            return httpx.Response(200, json={"knowledge_base": {"uuid": kb_uuid, "name": "kb"}})
        if request.method == "PUT" and path.startswith("/v2/gen-ai/knowledge_bases/"):
            kb = {"uuid": path.rsplit("/", 1)[1], **json.loads(request.content)}
            return httpx.Response(200, json={"knowledge_base": kb})
        return httpx.Response(404, json={"id": "not_found", "message": "no route"})

    def sent(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method]


@pytest.fixture(autouse=True)
def _no_user_auth_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the developer's ~/.config/sqlprovider/auth.yaml."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


def open_conn(api: Callable[[httpx.Request], httpx.Response], **options: Any) -> Any:
    options.setdefault("auth", {"digitalocean": {"token": TOKEN}})
    return sqlprovider.connect(transport=httpx.MockTransport(api), **options)


@pytest.fixture
def conn(api: FakeApi) -> Iterator[sqlprovider.Connection]:
    with open_conn(api) as connection:
        yield connection


# -- module and connection --------------------------------------------------------------------


def test_module_globals_follow_pep_249() -> None:
    assert sqlprovider.apilevel == "2.0"
    assert sqlprovider.threadsafety == 2
    assert sqlprovider.paramstyle == "qmark"
    database_errors = [
        "DataError",
        "OperationalError",
        "IntegrityError",
        "InternalError",
        "ProgrammingError",
        "NotSupportedError",
    ]
    for name in database_errors:
        kind = getattr(sqlprovider, name)
        assert issubclass(kind, sqlprovider.DatabaseError), name
        assert getattr(sqlprovider.Connection, name) is kind
    assert issubclass(sqlprovider.InterfaceError, sqlprovider.Error)
    assert issubclass(sqlprovider.DatabaseError, sqlprovider.Error)
    assert issubclass(sqlprovider.Warning, Exception)
    assert sqlprovider.Connection.Error is sqlprovider.Error
    assert sqlprovider.Connection.Warning is sqlprovider.Warning


def test_type_objects_and_constructors() -> None:
    assert sqlprovider.STRING == "VARCHAR"
    assert sqlprovider.NUMBER == "UBIGINT"
    assert sqlprovider.NUMBER == "DECIMAL(18,3)"
    assert sqlprovider.DATETIME == "TIMESTAMP WITH TIME ZONE"
    assert sqlprovider.BINARY == "BLOB"
    assert sqlprovider.STRING != "BIGINT"
    assert sqlprovider.NUMBER != "VARCHAR"
    assert sqlprovider.Date(2024, 1, 2) == datetime.date(2024, 1, 2)
    assert sqlprovider.Binary(bytearray(b"ab")) == b"ab"
    assert isinstance(sqlprovider.TimestampFromTicks(0), datetime.datetime)
    assert isinstance(sqlprovider.DateFromTicks(0), datetime.date)
    assert isinstance(sqlprovider.TimeFromTicks(0), datetime.time)


def test_aio_is_reachable_from_the_package() -> None:
    assert sqlprovider.aio.connect is not None
    assert sqlprovider.aio.paramstyle == "qmark"


def test_commit_is_a_no_op_and_rollback_says_why_not(conn: sqlprovider.Connection) -> None:
    conn.commit()
    with pytest.raises(sqlprovider.NotSupportedError, match="cannot be undone"):
        conn.rollback()


def test_connection_context_manager_closes(api: FakeApi) -> None:
    with open_conn(api) as connection:
        assert connection.execute("SELECT 1").fetchall() == [(1,)]
        assert not connection.closed
    assert connection.closed
    assert "closed" in repr(connection)
    with pytest.raises(sqlprovider.InterfaceError, match="closed"):
        connection.execute("SELECT 1")
    with pytest.raises(sqlprovider.InterfaceError, match="closed"):
        connection.cursor()
    connection.close()  # a second close does nothing


def test_cursor_context_manager_closes(conn: sqlprovider.Connection) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 AS one")
        assert cur.fetchone() == (1,)
    with pytest.raises(sqlprovider.InterfaceError, match="closed"):
        cur.fetchall()
    with pytest.raises(sqlprovider.InterfaceError, match="closed"):
        cur.execute("SELECT 1")
    assert conn.execute("SELECT 2").fetchall() == [(2,)]  # the connection is still open


# -- cursors ------------------------------------------------------------------------------------


def test_description_rowcount_and_fetching(conn: sqlprovider.Connection) -> None:
    cur = conn.cursor()
    assert cur.description is None and cur.rowcount == -1 and cur.rownumber is None
    with pytest.raises(sqlprovider.InterfaceError, match="execute"):
        cur.fetchone()
    cur.execute("SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')) AS t(n, s)")
    assert cur.description == [
        ("n", "INTEGER", None, None, None, None, None),
        ("s", "VARCHAR", None, None, None, None, None),
    ]
    description = cur.description
    assert description is not None
    assert description[0][1] == sqlprovider.NUMBER
    assert description[1][1] == sqlprovider.STRING
    assert cur.rowcount == 4
    assert cur.arraysize == 1
    assert cur.fetchone() == (1, "a")
    assert cur.rownumber == 1
    assert cur.fetchmany() == [(2, "b")]
    cur.arraysize = 5
    assert cur.fetchmany() == [(3, "c"), (4, "d")]
    assert cur.fetchmany(2) == [] and cur.fetchone() is None and cur.fetchall() == []
    cur.execute("SELECT range AS n FROM range(3)")
    assert [row for row in cur] == [(0,), (1,), (2,)]
    cur.execute("SELECT range AS n FROM range(3)")
    assert next(cur) == (0,)
    assert cur.fetchall() == [(1,), (2,)]
    cur.setinputsizes([10])
    cur.setoutputsize(10)
    assert cur.lastrowid is None


def test_rowcount_of_local_statements(conn: sqlprovider.Connection) -> None:
    assert conn.execute("CREATE TABLE t (n INTEGER)").rowcount == -1
    assert conn.execute("INSERT INTO t VALUES (1), (2), (3)").rowcount == 3
    assert conn.execute("UPDATE t SET n = n + 1 WHERE n > 1").rowcount == 2
    assert conn.execute("DELETE FROM t WHERE n = 4").rowcount == 1
    assert conn.execute("SELECT * FROM t WHERE n > 100").rowcount == 0
    assert conn.execute("SHOW PROVIDERS").rowcount == 4


# -- parameter binding ----------------------------------------------------------------------------


def test_qmark_binds_the_path_param(conn: sqlprovider.Connection, api: FakeApi) -> None:
    cur = conn.execute(f"SELECT uuid, status FROM {JOBS} WHERE uuid = ?", ["job-2"])
    assert cur.fetchall() == [("job-2", "INDEX_JOB_STATUS_FAILED")]
    assert [r.url.path for r in api.requests] == [f"{JOB_PATH}/job-2"]


def test_named_params_bind_where_values(conn: sqlprovider.Connection, api: FakeApi) -> None:
    cur = conn.execute(
        f"SELECT uuid FROM {JOBS} WHERE status = :status AND total_datasources >= :least",
        {"status": "INDEX_JOB_STATUS_COMPLETED", "least": 2},
    )
    assert cur.fetchall() == [("job-3",)]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_is_one_path_segment(
    conn: sqlprovider.Connection, api: FakeApi, value: str
) -> None:
    rows = conn.execute(f"SELECT uuid FROM {JOBS} WHERE uuid = ?", [value]).fetchall()
    assert rows == []  # the API said 404: no such job, and nothing else was read
    [request] = api.requests
    assert request.url.raw_path.decode() == f"{JOB_PATH}/{quote(value, safe='')}"
    assert request.url.path == f"{JOB_PATH}/{value}"


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_is_one_string_in_duckdb(conn: sqlprovider.Connection, value: str) -> None:
    assert conn.execute("SELECT ? AS v", [value]).fetchall() == [(value,)]
    conn.execute("CREATE OR REPLACE TABLE t (v VARCHAR)")
    conn.execute("INSERT INTO t VALUES (?)", [value])
    assert conn.execute("SELECT v FROM t WHERE v = :v", {"v": value}).fetchall() == [(value,)]
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(1,)]


def test_insert_values_binds_body_fields(conn: sqlprovider.Connection, api: FakeApi) -> None:
    cur = conn.execute(
        f"INSERT INTO {JOBS} (data__knowledge_base_uuid, data__data_source_uuids) "
        "VALUES (?, ?) RETURNING job.uuid, job.knowledge_base_uuid",
        [HOSTILE[1], ["ds-1", HOSTILE[0]]],
    )
    assert cur.fetchall() == [("new-1", HOSTILE[1])]
    assert cur.rowcount == 1
    [post] = api.sent("POST")
    assert json.loads(post.content) == {
        "knowledge_base_uuid": HOSTILE[1],
        "data_source_uuids": ["ds-1", HOSTILE[0]],
    }


def test_update_set_binds_body_fields(conn: sqlprovider.Connection, api: FakeApi) -> None:
    conn.execute(
        f"UPDATE {KBS} SET data__name = ?, tags = ? WHERE uuid = ?",
        [HOSTILE[0], ["a", "b"], HOSTILE[3]],
    )
    [put] = api.sent("PUT")
    assert json.loads(put.content) == {"name": HOSTILE[0], "tags": ["a", "b"]}
    assert put.url.raw_path.decode() == f"/v2/gen-ai/knowledge_bases/{quote(HOSTILE[3], safe='')}"


def test_exec_binds_arguments(conn: sqlprovider.Connection, api: FakeApi) -> None:
    cur = conn.execute(
        f"EXEC {JOBS}.genai_cancel_indexing_job @uuid = ?, @@json = ?",
        [HOSTILE[1], {"uuid": HOSTILE[1], "note": HOSTILE[0]}],
    )
    assert cur.rowcount == 1
    [put] = api.sent("PUT")
    assert put.url.raw_path.decode() == f"{JOB_PATH}/{quote(HOSTILE[1], safe='')}/cancel"
    assert json.loads(put.content) == {"uuid": HOSTILE[1], "note": HOSTILE[0]}


def test_values_of_every_supported_type(conn: sqlprovider.Connection) -> None:
    moment = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC)
    values = [
        None,
        True,
        42,
        -7,
        2.5,
        decimal.Decimal("1.25"),
        "text",
        moment,
        datetime.datetime(2024, 5, 1, 12, 30),
        datetime.date(2024, 5, 1),
        datetime.time(8, 15),
        datetime.timedelta(seconds=90),
        b"\x00\xff",
        uuid.UUID(int=1),
        [1, 2, 3],
        ("a", "b"),
        {"k": [1, "v"]},
    ]
    placeholders = ", ".join("?" for _ in values)
    [row] = conn.execute(f"SELECT {placeholders}", values).fetchall()
    assert row[:4] == (None, True, 42, -7)
    assert isinstance(row[4], float) and row[4] == 2.5
    assert isinstance(row[5], decimal.Decimal) and row[5] == decimal.Decimal("1.25")
    assert row[6] == "text"
    assert row[7] == moment
    assert row[8] == datetime.datetime(2024, 5, 1, 12, 30)
    assert row[9:12] == (datetime.date(2024, 5, 1), datetime.time(8, 15), values[11])
    assert row[12] == b"\x00\xff"
    assert row[13] == str(uuid.UUID(int=1))
    assert row[14] == [1, 2, 3] and row[15] == ["a", "b"]
    assert json.loads(row[16]) == {"k": [1, "v"]}


def test_in_takes_a_list(conn: sqlprovider.Connection, api: FakeApi) -> None:
    cur = conn.execute(
        f"SELECT uuid FROM {JOBS} WHERE uuid IN ? ORDER BY uuid", [["job-1", "job-3"]]
    )
    assert cur.fetchall() == [("job-1",), ("job-3",)]
    assert sorted(r.url.path for r in api.requests) == [f"{JOB_PATH}/job-1", f"{JOB_PATH}/job-3"]
    assert conn.execute("SELECT 2 IN (?, 5)", [[1, 2]]).fetchall() == [(True,)]
    with pytest.raises(sqlprovider.ProgrammingError, match="empty list"):
        conn.execute("SELECT 1 IN ?", [[]])


def test_placeholders_count_across_statements_in_written_order(
    conn: sqlprovider.Connection,
) -> None:
    cur = conn.execute(
        "CREATE TABLE t AS SELECT ? AS a; "
        "WITH w AS (SELECT ? AS b) SELECT a, b, ? FROM t, w LIMIT ? OFFSET ?",
        ["one", "two", "three", 5, 0],
    )
    assert cur.fetchall() == [("one", "two", "three")]


def test_other_placeholder_spellings(conn: sqlprovider.Connection) -> None:
    assert conn.execute("SELECT $1, $2, $1", [1, 2]).fetchall() == [(1, 2, 1)]
    assert conn.execute("SELECT :a, $b, :a AS c", {"a": "x", "b": "y"}).fetchall() == [
        ("x", "y", "x")
    ]
    assert conn.execute("SELECT ?::INTEGER + 1", ["41"]).fetchall() == [(42,)]
    assert conn.execute("SELECT '?', ?", ["v"]).fetchall() == [("?", "v")]


@pytest.mark.parametrize(
    ("sql", "parameters", "message"),
    [
        ("SELECT ?, ?", [1], "2 placeholders but 1 parameters.*missing a value for parameter 2"),
        ("SELECT ?", [1, 2, 3], "parameter 2, 3 would not be used"),
        ("SELECT 1", [1], "no placeholders but 1 parameters"),
        ("SELECT ?", None, "missing a value for parameter 1"),
        ("SELECT :a, :b", {"a": 1}, "missing values for :b"),
        ("SELECT :a", {"a": 1, "zz": 2}, "not used by the SQL: :zz"),
        ("SELECT :a", [1], "pass the parameters as a mapping"),
        ("SELECT ?", {"a": 1}, "pass the parameters as a sequence"),
        ("SELECT ?, :a", [1], "not both"),
        ("SELECT ?, $1", [1], "not both"),
        ("SELECT ?", "x", "not str"),
        ("SELECT ?", 5, "not int"),
        ("SELECT ?", [object()], "parameter 1 .*cannot bind a value of type object"),
        ("SHOW PROVIDERS LIKE ?", ["d%"], "no value can be bound"),
    ],
)
def test_parameters_that_do_not_fit_say_what_is_wrong(
    conn: sqlprovider.Connection, api: FakeApi, sql: str, parameters: Any, message: str
) -> None:
    with pytest.raises(sqlprovider.ProgrammingError, match=message):
        conn.execute(sql, parameters)
    assert api.requests == []


def test_a_bad_parameter_count_sends_nothing(conn: sqlprovider.Connection, api: FakeApi) -> None:
    with pytest.raises(sqlprovider.ProgrammingError, match="missing a value for parameter 2"):
        conn.execute(
            f"INSERT INTO {JOBS} (data__knowledge_base_uuid, data__uuid) VALUES (?, ?)", ["kb"]
        )
    assert api.requests == []


def test_explain_and_dry_run_take_parameters(conn: sqlprovider.Connection, api: FakeApi) -> None:
    plan = conn.explain(f"SELECT * FROM {JOBS} WHERE uuid = ?", ["job-1"])
    assert "param uuid (path) <- 'job-1'" in plan
    lines = conn.dry_run(f"EXEC {JOBS}.genai_cancel_indexing_job @uuid = ?", ["a/b"])
    assert f"PUT https://api.digitalocean.com{JOB_PATH}/a%2Fb/cancel" in lines[-1]
    assert "Bearer ***" in lines[-1] and TOKEN not in "\n".join(lines)
    explained = conn.execute(f"EXPLAIN SELECT * FROM {JOBS} WHERE uuid = ?", ["job-9"]).fetchall()
    assert any("<- 'job-9'" in row[0] for row in explained)
    assert api.requests == []


# -- executemany --------------------------------------------------------------------------------


def test_executemany_on_a_local_table(conn: sqlprovider.Connection) -> None:
    conn.execute("CREATE TABLE t (n INTEGER, s VARCHAR)")
    cur = conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, HOSTILE[1])])
    assert cur.rowcount == 3
    assert conn.execute("SELECT * FROM t ORDER BY n").fetchall() == [
        (1, "a"),
        (2, "b"),
        (3, HOSTILE[1]),
    ]
    assert conn.cursor().executemany("INSERT INTO t VALUES (?, ?)", []).rowcount == 0


def test_executemany_sends_one_request_per_set(conn: sqlprovider.Connection, api: FakeApi) -> None:
    cur = conn.executemany(
        f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES (:kb) RETURNING job.uuid",
        ({"kb": f"kb-{n}"} for n in range(3)),
    )
    assert [json.loads(p.content) for p in api.sent("POST")] == [
        {"knowledge_base_uuid": "kb-0"},
        {"knowledge_base_uuid": "kb-1"},
        {"knowledge_base_uuid": "kb-2"},
    ]
    assert cur.rowcount == 3
    assert cur.fetchall() == [("new-1",), ("new-2",), ("new-3",)]
    assert cur.stats["requests"] == 3


def test_executemany_checks_every_set_before_sending(
    conn: sqlprovider.Connection, api: FakeApi
) -> None:
    with pytest.raises(sqlprovider.ProgrammingError, match="missing a value"):
        conn.executemany(f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES (?)", [["a"], []])
    assert api.requests == []


# -- DuckDB and loading API data ----------------------------------------------------------------


def test_create_table_as_select_keeps_api_rows(conn: sqlprovider.Connection, api: FakeApi) -> None:
    cur = conn.execute(
        f"CREATE TABLE jobs AS SELECT uuid, status FROM {JOBS} WHERE status = ?",
        ["INDEX_JOB_STATUS_COMPLETED"],
    )
    assert cur.rowcount == 2
    assert cur.stats["requests"] == 1
    cur = conn.execute(
        f"INSERT INTO jobs SELECT uuid, status FROM {JOBS} WHERE uuid = ?", ["job-2"]
    )
    assert cur.rowcount == 1
    duck = conn.duckdb
    assert duck.execute("SELECT uuid FROM jobs ORDER BY uuid").fetchall() == [
        ("job-1",),
        ("job-2",),
        ("job-3",),
    ]
    leftovers = duck.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = '_sp'"
    ).fetchall()
    assert leftovers == [(0,)]  # what was loaded for the statement is gone
    assert "CREATE TABLE" in conn.explain("CREATE TABLE j2 AS SELECT uuid FROM " + JOBS)


# -- frames -------------------------------------------------------------------------------------


FRAME_SQL = f"SELECT uuid, total_datasources, created_at, data_source_uuids FROM {JOBS}"


def test_arrow_is_typed_from_duckdb(conn: sqlprovider.Connection) -> None:
    pa = pytest.importorskip("pyarrow")
    cur = conn.execute(FRAME_SQL)
    assert cur.fetchone() is not None
    table = cur.arrow()
    assert table.num_rows == 2  # the rest: like DuckDB's, arrow() consumes the rows
    assert table.schema.field("uuid").type == pa.string()
    assert table.schema.field("total_datasources").type == pa.int64()
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("data_source_uuids").type == pa.list_(pa.string())
    empty = conn.execute(FRAME_SQL + " WHERE uuid = ?", ["none"]).arrow()
    assert empty.num_rows == 0
    assert empty.schema.field("total_datasources").type == pa.int64()


def test_df_and_pl(conn: sqlprovider.Connection) -> None:
    pytest.importorskip("pandas")
    polars = pytest.importorskip("polars")
    frame = conn.execute(FRAME_SQL + " ORDER BY uuid").df()
    assert list(frame.columns) == ["uuid", "total_datasources", "created_at", "data_source_uuids"]
    assert frame["uuid"].tolist() == ["job-1", "job-2", "job-3"]
    assert str(frame["created_at"].dtype).startswith("datetime64")
    assert str(frame["created_at"].dt.tz) == "UTC"
    table = conn.execute(FRAME_SQL + " ORDER BY uuid").pl()
    assert table["total_datasources"].to_list() == [1, 2, 3]
    assert table.schema["total_datasources"] == polars.Int64


def test_frames_without_pyarrow(
    conn: sqlprovider.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("polars")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails
    frame = conn.execute("SELECT 1 AS n, 'a' AS s").df()
    assert frame.to_dict("records") == [{"n": 1, "s": "a"}]
    assert conn.execute("SELECT 1 AS n").pl()["n"].to_list() == [1]
    with pytest.raises(sqlprovider.InterfaceError, match=r"pip install 'sqlprovider\[frames\]'"):
        conn.execute("SELECT 1").arrow()


@pytest.mark.parametrize(("module", "method"), [("pandas", "df"), ("polars", "pl")])
def test_a_missing_frames_package_says_how_to_install_it(
    conn: sqlprovider.Connection, monkeypatch: pytest.MonkeyPatch, module: str, method: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    cur = conn.execute("SELECT 1")
    with pytest.raises(sqlprovider.InterfaceError, match=rf"needs {module}.*sqlprovider\[frames\]"):
        getattr(cur, method)()
