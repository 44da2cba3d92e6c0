"""StackQL documents of the fixture registry's ``lab`` providers against the lab API
(tests/stackql_lab.py): every pagination StackQL declares, each objectKey form, media
types, request bodies, servers and their variables, auth schemes, and what is not supported.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.errors import (
    AuthError,
    DataError,
    MissingParamsError,
    NotSupportedError,
    ProviderError,
)
from tests import stackql_lab

REGISTRY = Path(__file__).resolve().parents[1] / "fixtures" / "stackql"
PROVIDERS = (
    "lab",
    "lab_open",
    "lab_basic",
    "lab_basic_encoded",
    "lab_apikey",
    "lab_custom",
    "lab_google",
)
ENCODED = base64.b64encode(b"enc-user:enc-pass").decode()
ACCEPTED = {
    "bearer": {"authorization": "Bearer lab-token-1234567"},
    "basic": {"authorization": "Basic " + base64.b64encode(b"lab-user:lab-password").decode()},
    "basic_encoded": {"authorization": "Basic " + ENCODED},
    "api_key": {"authorization": "SSWS lab-api-key-123456"},
    "custom": {"x-api-key": "lab-key-1234567", "x-app-key": "lab-app-key-1234"},
}
ENVIRON = {
    "LAB_TOKEN": "lab-token-1234567",
    "LAB_USER": "lab-user",
    "LAB_PASSWORD": "lab-password",
    "LAB_BASIC_CREDENTIALS": ENCODED,
    "LAB_API_KEY": "lab-api-key-123456",
    "LAB_KEY": "lab-key-1234567",
    "LAB_APP_KEY": "lab-app-key-1234",
}


@pytest.fixture(scope="module")
def lab() -> Iterator[EmulatorServer]:
    server = stackql_lab.start(ACCEPTED)
    yield server
    server.stop()


def connect(lab: EmulatorServer, **options: Any) -> sqlprovider.Connection:
    options.setdefault("environ", ENVIRON)
    options.setdefault("servers", {name: lab.url for name in PROVIDERS})
    options.setdefault("registry", [REGISTRY])
    return sqlprovider.connect(**options)


@pytest.fixture
def conn(lab: EmulatorServer) -> Iterator[sqlprovider.Connection]:
    lab.log.clear()
    with connect(lab) as connection:
        yield connection


def requests(lab: EmulatorServer, path: str) -> list[Any]:
    return [e for e in lab.log.entries() if e.path == path]


# -- pagination ---------------------------------------------------------------------------------


def test_no_pagination_declared_is_stackqls_default(
    conn: sqlprovider.Connection, lab: EmulatorServer
) -> None:
    """lab_open declares none: nextPageToken in the body goes back as pageToken."""
    ids = [r[0] for r in conn.execute("SELECT id FROM lab_open.widgets.widgets").fetchall()]
    assert ids == [int(w["id"]) for w in stackql_lab.WIDGETS]
    assert [e.query for e in requests(lab, "/v1/widgets")] == ["", "pageToken=10", "pageToken=20"]


def test_a_token_in_the_body_declared_by_the_service(
    conn: sqlprovider.Connection, lab: EmulatorServer
) -> None:
    rows = conn.execute(
        "SELECT name FROM lab.things.search WHERE data__query = 'widget' ORDER BY name"
    ).fetchall()
    assert [r[0] for r in rows] == [w["name"] for w in stackql_lab.WIDGETS]
    sent = [e.json for e in requests(lab, "/v1/search")]
    assert sent == [
        {"query": "widget"},
        {"query": "widget", "cursor": "10"},
        {"query": "widget", "cursor": "20"},
    ]


def test_a_token_in_headers_declared_by_the_resource(
    conn: sqlprovider.Connection, lab: EmulatorServer
) -> None:
    assert conn.execute("SELECT count(*) FROM lab.things.feed").fetchall() == [(25,)]
    cursors = [e.headers.get("x-cursor") for e in requests(lab, "/v1/feed")]
    assert cursors == [None, "10", "20"]


def test_page_numbers_until_the_terminator(
    conn: sqlprovider.Connection, lab: EmulatorServer
) -> None:
    assert conn.execute("SELECT count(*), max(id) FROM lab.things.pages").fetchall() == [
        (25, 1_000_000_000_025)
    ]
    assert sorted(e.query for e in requests(lab, "/v1/pages")) == ["page=1", "page=2", "page=3"]


PAGED_UNDER_ANOTHER_NAME = """\
name: paged
server: {url: %s}
auth: {type: none}
services:
  things:
    resources:
      pages:
        columns: {id: {type: integer}, name: {type: string}}
        methods:
          - name: pages
            sql_verb: select
            http_verb: GET
            path: /v1/pages
            records: result
            params:
              page_no: {in: query, wire_name: page, type: integer}
            pagination:
              type: page_number
              page_param: page
              total_pages: result_info.total_pages
"""


def test_a_page_param_whose_sql_name_is_not_its_wire_name(
    tmp_path: Path, lab: EmulatorServer
) -> None:
    """pagination.page_param is the name on the wire; WHERE names the param's SQL name."""
    (tmp_path / "paged.yaml").write_text(PAGED_UNDER_ANOTHER_NAME % lab.url)
    lab.log.clear()
    with sqlprovider.connect(providers_path=[tmp_path], environ={}) as conn:
        cursor = conn.execute("SELECT id FROM paged.things.pages WHERE page_no = 2")
        ids = [r[0] for r in cursor.fetchall()]
        warnings = cursor.warnings
    assert ids == [int(w["id"]) for w in stackql_lab.WIDGETS[10:20]]
    assert [e.query for e in requests(lab, "/v1/pages")] == ["page=2"]
    assert warnings == [
        "paged.things.pages: only the page named in WHERE page_no = ... is fetched; "
        "drop that condition to fetch all pages"
    ]


def test_odata_next_links_and_top(conn: sqlprovider.Connection, lab: EmulatorServer) -> None:
    assert conn.execute("SELECT count(*), max(Age) FROM lab.things.people").fetchall() == [(23, 43)]
    lab.log.clear()
    three = conn.execute("SELECT UserName FROM lab.things.people LIMIT 3").fetchall()
    assert three == [("user1",), ("user2",), ("user3",)]
    assert [e.query for e in requests(lab, "/v1/people")] == ["$top=3"]


def test_a_link_header_inherited_from_the_provider(
    conn: sqlprovider.Connection, lab: EmulatorServer
) -> None:
    assert conn.execute("SELECT count(*) FROM lab.stream.events").fetchall() == [(12,)]
    assert [e.query for e in requests(lab, "/v1/events")] == ["", "start=10"]


# -- records and columns ------------------------------------------------------------------------


def test_object_keys_and_column_types(conn: sqlprovider.Connection) -> None:
    cur = conn.execute(
        "SELECT id, name, price, active, created, tags, meta, shape FROM "
        "lab_open.widgets.widgets WHERE id = '1000000000003'"
    )
    types = [d[1] for d in cur.description or []]
    assert types == ["BIGINT", "VARCHAR", "DOUBLE", "BOOLEAN", "TIMESTAMP WITH TIME ZONE"] + 3 * [
        "JSON"
    ]
    row = cur.fetchone()
    assert row is not None and row[0] == 1_000_000_000_003 and row[7] == '{"radius":3}'
    graph = conn.execute("SELECT UserName, Age FROM lab.things.graph_users").fetchall()
    assert graph == [(p["UserName"], p["Age"]) for p in stackql_lab.PEOPLE[:5]]


def test_one_of_and_any_of_give_the_union_of_columns(conn: sqlprovider.Connection) -> None:
    columns = [r[0] for r in conn.execute("DESCRIBE lab_open.widgets.widgets").fetchall()]
    assert "error" in columns  # from the get method's oneOf alternative
    people = [r[0] for r in conn.execute("DESCRIBE lab.things.people").fetchall()]
    assert people[:2] == ["UserName", "Age"]  # anyOf of two objects


def test_without_sqlverbs_the_method_names_decide_and_the_first_match_runs(
    conn: sqlprovider.Connection,
) -> None:
    methods = {r[0]: r[1] for r in conn.execute("SHOW METHODS IN lab_open.widgets.widgets")}
    assert methods == {"list": "SELECT", "get": "SELECT", "create": "INSERT", "reset": "EXEC"}
    plan = "\n".join(
        r[0]
        for r in conn.execute(
            "EXPLAIN SELECT * FROM lab_open.widgets.widgets WHERE id = '1000000000003'"
        ).fetchall()
    )
    assert "method: list" in plan  # StackQL's choice: list comes first and can run


def test_an_empty_sqlverbs_list_means_no_method(conn: sqlprovider.Connection) -> None:
    with pytest.raises(NotSupportedError, match="no method for SELECT"):
        conn.execute("SELECT * FROM lab.things.gadgets")


def test_scim_media_types(conn: sqlprovider.Connection, lab: EmulatorServer) -> None:
    users = conn.execute("SELECT userName, active FROM lab.scim.users").fetchall()
    assert users == [("user1", True), ("user2", True), ("user3", True)]
    made = conn.execute(
        "INSERT INTO lab.scim.users (data__userName, data__active) SELECT 'new', true "
        "RETURNING id, userName"
    ).fetchall()
    assert made == [("u-1", "new")]
    [post] = [e for e in requests(lab, "/scim/v2/Users") if e.method == "POST"]
    assert post.headers["content-type"].startswith(stackql_lab.SCIM)


# -- request bodies -----------------------------------------------------------------------------


def test_nested_fields_and_a_base_template(conn: sqlprovider.Connection) -> None:
    """naive_spec: name and size are fields of spec; request.base adds kind."""
    rows = conn.execute(
        "INSERT INTO lab.things.gadgets (name, size) SELECT 'g1', 3 RETURNING received"
    ).fetchall()
    assert rows == [('{"kind":"gadget","spec":{"name":"g1","size":3}}',)]


def test_default_body_string_only_and_base(
    conn: sqlprovider.Connection, lab: EmulatorServer
) -> None:
    conn.execute("EXEC lab_open.widgets.widgets.reset")
    conn.execute(
        "INSERT INTO lab_open.widgets.widgets (data__name, data__labels, data__tags) "
        "SELECT 'w', '{\"a\": 1}', '[\"x\"]'"
    )
    bodies = [e.json for e in lab.log.entries() if e.method == "POST"]
    assert bodies == [
        {"all": True},  # request.default: no body field given
        {"source": "sqlprovider-test", "name": "w", "labels": '{"a": 1}', "tags": ["x"]},
    ]


# -- servers ------------------------------------------------------------------------------------


def test_server_variables_in_the_path(conn: sqlprovider.Connection, lab: EmulatorServer) -> None:
    default = conn.execute("SELECT base FROM lab.regional.things WHERE region = 'eu'").fetchall()
    assert default == [("v1",), ("v1",)]
    chosen = conn.execute(
        "SELECT base, basePath FROM lab.regional.things WHERE region = 'eu' AND basePath = 'v2'"
    ).fetchall()
    assert chosen == [("v2", "v2"), ("v2", "v2")]
    special = conn.execute("SELECT base FROM lab.regional.special WHERE region = 'eu'")
    assert special.fetchall() == [("v2",), ("v2",)]  # the operation's own server
    assert [e.path for e in lab.log.entries()] == [
        "/v1/regions/eu/things",
        "/v2/regions/eu/things",
        "/v2/regions/eu/special",
    ]


def test_an_unresolved_variable_is_a_missing_param(conn: sqlprovider.Connection) -> None:
    with pytest.raises(MissingParamsError, match="needs zone"):
        conn.execute("SELECT * FROM lab.regional.zoned WHERE region = 'eu'")
    rows = conn.execute("SELECT what FROM lab.regional.zoned WHERE region = 'eu' AND zone = 'z1'")
    assert rows.fetchall() == [("zoned",), ("zoned",)]


def test_host_variables_default_environment_and_where(lab: EmulatorServer) -> None:
    """Without a server override the host keeps its variables: the WHERE value wins over
    x-stackQL-envVar, which wins over the default; a value that is no host label is refused."""
    environ = {**ENVIRON, "LAB_TENANT": "from-env"}
    with connect(lab, servers={}, environ=environ) as conn:
        session = conn.session
        [(_, by_env)] = session.dry_run("SELECT * FROM lab.regional.things WHERE region = 'eu'")
        assert by_env[0].startswith("GET https://from-env.lab.example.com/v1/regions/eu/things")
        [(_, by_where)] = session.dry_run(
            "SELECT * FROM lab.regional.things WHERE region = 'eu' AND tenant = 'mine'"
        )
        assert by_where[0].startswith("GET https://mine.lab.example.com/v1/regions/eu/things")
        with pytest.raises(DataError, match="tenant must be a host name label"):
            session.dry_run(
                "SELECT * FROM lab.regional.things WHERE region = 'eu' AND tenant = 'evil.com/x'"
            )
    with connect(lab, servers={}, environ=ENVIRON) as conn:
        [(_, by_default)] = conn.session.dry_run(
            "SELECT * FROM lab.regional.things WHERE region = 'eu'"
        )
        assert by_default[0].startswith("GET https://acme.lab.example.com/v1/regions/eu/things")


def test_the_url_variable_replaces_scheme_host_and_port(lab: EmulatorServer) -> None:
    environ = {**ENVIRON, "SQLPROVIDER_LAB_URL": lab.url}
    lab.log.clear()
    with connect(lab, servers={}, environ=environ) as conn:
        rows = conn.execute("SELECT base FROM lab.regional.things WHERE region = 'x'").fetchall()
    assert rows == [("v1",), ("v1",)]  # the server's path (/v1) was kept
    assert [e.path for e in lab.log.entries()] == ["/v1/regions/x/things"]


# -- auth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "scheme"),
    [
        ("lab_basic", "basic"),
        ("lab_basic_encoded", "basic_encoded"),
        ("lab_apikey", "api_key"),
        ("lab_custom", "custom"),
    ],
)
def test_auth_schemes(conn: sqlprovider.Connection, provider: str, scheme: str) -> None:
    """The lab API says which credentials it recognised (it knows the right values)."""
    assert conn.execute(f"SELECT scheme FROM {provider}.whoami.whoami").fetchall() == [(scheme,)]


def test_bearer_auth(conn: sqlprovider.Connection, lab: EmulatorServer) -> None:
    conn.execute("SELECT count(*) FROM lab.stream.events").fetchall()
    assert {e.headers.get("authorization") for e in requests(lab, "/v1/events")} == {"Bearer ***"}


def test_an_empty_credential_variable_is_a_clear_error(lab: EmulatorServer) -> None:
    with (
        connect(lab, environ={**ENVIRON, "LAB_API_KEY": ""}) as conn,
        pytest.raises(AuthError, match="LAB_API_KEY is set but empty"),
    ):
        conn.execute("SELECT * FROM lab_apikey.whoami.whoami")


def test_an_unsupported_scheme_and_the_auth_file_that_overrides_it(
    lab: EmulatorServer, tmp_path: Path
) -> None:
    with (
        connect(lab) as conn,
        pytest.raises(NotSupportedError, match=r"config\.auth\.type: a Google service account"),
    ):
        conn.execute("SELECT * FROM lab_google.whoami.whoami")
    auth = tmp_path / "auth.yaml"
    auth.write_text("lab_google:\n  type: bearer\n  token_env: LAB_TOKEN\n")
    with connect(lab, auth_file=auth) as conn:
        assert conn.execute("SELECT scheme FROM lab_google.whoami.whoami").fetchall() == [
            ("bearer",)
        ]


# -- what is not supported ----------------------------------------------------------------------


def test_an_unsupported_method_is_one_clear_error_when_needed(
    conn: sqlprovider.Connection,
) -> None:
    with pytest.raises(NotSupportedError, match=r"broken.yaml: paths\./v1/report\.get: the media"):
        conn.execute("SELECT * FROM lab.broken.reports")
    # The resource's other methods still run: the unusable ones are never chosen.
    assert conn.execute("SELECT count(*) FROM lab.broken.events").fetchall() == [(12,)]
    methods = {r[0]: r[6] for r in conn.execute("SHOW METHODS IN lab.broken.events")}
    assert methods["transformed"].startswith("not usable: ")
    assert (
        "response.transform: a response transform is not supported yet" in (methods["transformed"])
    )
    with pytest.raises(NotSupportedError, match=r"objectKey: the JSONPath '\$\.\.seq'"):
        conn.execute("EXEC lab.broken.events.deep")


def test_a_broken_document_names_the_file(tmp_path: Path, lab: EmulatorServer) -> None:
    root = tmp_path / "src" / "lab_open" / "v1.0.0"
    (root / "services").mkdir(parents=True)
    source = REGISTRY / "src" / "lab_open" / "v1.0.0" / "provider.yaml"
    (root / "provider.yaml").write_text(
        source.read_text().replace("lab/v1.0.0/services", "lab_open/v1.0.0/services")
    )
    (root / "services" / "widgets.yaml").write_text("openapi: 3.0.0\npaths: [oops\n")
    with (
        connect(lab, registry=[tmp_path]) as conn,
        pytest.raises(ProviderError, match=r"widgets\.yaml: line 3, column 1: not valid YAML"),
    ):
        conn.execute("SELECT * FROM lab_open.widgets.widgets")
