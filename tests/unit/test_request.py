"""build_request, base_url_for and RequestSpec: what a request looks like before it is sent."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import pytest

from sqlprovider.errors import DataError, InterfaceError
from sqlprovider.http.auth import Credentials
from sqlprovider.http.request import RequestSpec, base_url_for, build_request
from sqlprovider.model import (
    AuthSpec,
    Location,
    Method,
    Param,
    Provider,
    Server,
    ServerVariable,
    SqlVerb,
)
from sqlprovider.providers import bundled_providers_dir, load_provider
from sqlprovider.secret import Secret

DO = load_provider(bundled_providers_dir() / "digitalocean.yaml")
BASE = "https://api.example.com"
TOKEN = "dop_v1_request_test_secret_77aa"


def method(
    path: str,
    *params: Param,
    verb: str = "GET",
    idempotent: bool = False,
    sql_verb: SqlVerb = SqlVerb.SELECT,
) -> Method:
    return Method(
        name="op",
        sql_verb=sql_verb,
        http_verb=verb,
        path=path,
        params=params,
        idempotent=idempotent,
    )


def param(name: str, where: Location, wire: str | None = None, default: Any = None) -> Param:
    return Param(name=name, location=where, wire_name=wire or name, default=default)


def do_method(resource: str, name: str) -> Method:
    [found] = [m for m in DO.services["genai"].resources[resource].methods if m.name == name]
    return found


def tenant_provider(*variables: ServerVariable, name: str = "acme") -> Provider:
    return Provider(
        name=name,
        server=Server(url="https://{tenant}.acme.test/{region}/api", variables=variables),
        auth=AuthSpec(),
        services={},
    )


TENANT = ServerVariable("tenant", env=("ACME_TENANT", "ACME_ORG"))
REGION = ServerVariable("region", default="eu1")


# --- path params ---------------------------------------------------------------------------

GET_ITEM = method("/v2/items/{id}/details", param("id", Location.PATH))
HOSTILE = [
    *["../admin", "a/b", "x?y=1", "#frag", "a b", "é€ü", "%2F", "a;b&c=d", "..%2F", "/"],
    *[".", ".."],  # dot segments, which URL normalisation would otherwise resolve
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_path_value_stays_one_segment(value: str) -> None:
    spec = build_request(GET_ITEM, BASE, {"id": value})
    url = httpx.URL(spec.url)
    assert url.host == "api.example.com"
    assert url.query == b"" and url.fragment == ""
    segments = url.raw_path.decode("ascii").split("/")
    assert segments[:3] == ["", "v2", "items"] and segments[4:] == ["details"]
    assert unquote(segments[3]) == value  # the value arrives intact, as one segment
    assert spec.query == ()


@pytest.mark.parametrize("value", [".", ".."])
def test_dot_segments_reach_the_wire_as_one_segment(value: str) -> None:
    spec = build_request(GET_ITEM, BASE, {"id": value})
    request = httpx.Request(spec.http_verb, spec.url)
    assert request.url.raw_path == f"/v2/items/{'%2E' * len(value)}/details".encode()


def test_path_value_is_encoded_through_to_the_wire() -> None:
    spec = build_request(GET_ITEM, BASE, {"id": "../admin?x=1"})
    request = httpx.Request(spec.http_verb, spec.url)
    assert request.url.raw_path == b"/v2/items/..%2Fadmin%3Fx%3D1/details"
    assert not request.url.params


@pytest.mark.parametrize(
    ("value", "segment"), [(42, "42"), (True, "true"), (False, "false"), ("plain-id", "plain-id")]
)
def test_path_values_are_written_as_text(value: object, segment: str) -> None:
    spec = build_request(GET_ITEM, BASE, {"id": value})
    assert spec.url == f"{BASE}/v2/items/{segment}/details"


def test_path_param_uses_its_wire_name() -> None:
    m = method("/kb/{knowledge_base_uuid}/jobs", param("kb", Location.PATH, "knowledge_base_uuid"))
    assert build_request(m, BASE, {"kb": "k1"}).url == f"{BASE}/kb/k1/jobs"


def test_shipped_provider_method_builds_its_url() -> None:
    m = do_method("indexing_jobs", "genai_list_indexing_jobs_by_knowledge_base")
    spec = build_request(m, "https://api.digitalocean.com", {"knowledge_base_uuid": "kb/1"})
    assert spec.http_verb == "GET"
    assert spec.url == "https://api.digitalocean.com/v2/gen-ai/knowledge_bases/kb%2F1/indexing_jobs"


# --- query params --------------------------------------------------------------------------

SEARCH = method(
    "/items",
    param("q", Location.QUERY),
    param("tag", Location.QUERY),
    param("active", Location.QUERY),
    param("size", Location.QUERY, "per_page", default=50),
)


def test_query_params_in_declared_order_with_default() -> None:
    spec = build_request(SEARCH, BASE, {"q": "x", "active": True})
    assert spec.query == (("q", "x"), ("active", "true"), ("per_page", "50"))
    assert spec.url == f"{BASE}/items"  # the query is kept apart from the URL


def test_unbound_query_param_without_default_is_left_out() -> None:
    assert build_request(SEARCH, BASE, {}).query == (("per_page", "50"),)


def test_list_value_repeats_the_query_key() -> None:
    spec = build_request(SEARCH, BASE, {"tag": ["a", "b"], "size": 10})
    assert spec.query == (("tag", "a"), ("tag", "b"), ("per_page", "10"))


@pytest.mark.parametrize("value", ["a&admin=1", "x y", "#top", "100%", "ü/?"])
def test_query_value_cannot_add_params(value: str) -> None:
    spec = build_request(SEARCH, BASE, {"q": value, "size": None})
    parts = urlsplit(spec.full_url())
    assert parts.path == "/items" and parts.fragment == ""
    assert parse_qsl(parts.query) == [("q", value)]
    assert httpx.URL(spec.full_url()).params.multi_items() == [("q", value)]


# --- header and body params ----------------------------------------------------------------

WRITE = method(
    "/items/{id}",
    param("id", Location.PATH),
    param("trace", Location.HEADER, "X-Trace-Id"),
    param("title", Location.BODY),
    param("item_id", Location.BODY, "id"),
    param("labels", Location.BODY),
    verb="PATCH",
    sql_verb=SqlVerb.UPDATE,
)


def test_header_param_is_sent_under_its_wire_name() -> None:
    spec = build_request(WRITE, BASE, {"id": "1", "trace": "t-9"})
    assert spec.headers == (("X-Trace-Id", "t-9"),)


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb"])
def test_header_value_with_a_line_break_is_refused(value: str) -> None:
    with pytest.raises(DataError, match="trace"):
        build_request(WRITE, BASE, {"id": "1", "trace": value})


def test_body_params_go_into_a_json_body_by_wire_name() -> None:
    values = {"id": "1", "title": "T", "item_id": "1", "labels": ["x", "y"]}
    spec = build_request(WRITE, BASE, values)
    assert spec.http_verb == "PATCH" and spec.url == f"{BASE}/items/1"
    assert spec.has_body
    assert spec.json == {"title": "T", "id": "1", "labels": ["x", "y"]}
    assert spec.bindings == values


def test_no_body_params_means_no_body() -> None:
    spec = build_request(WRITE, BASE, {"id": "1"})
    assert spec.json is None and not spec.has_body


def test_raw_body_is_sent_even_empty_and_body_params_are_set_in_it() -> None:
    assert build_request(WRITE, BASE, {"id": "1"}, raw_body={}).has_body
    raw = {"title": "old", "extra": {"k": 1}}
    spec = build_request(WRITE, BASE, {"id": "1", "title": "new"}, raw_body=raw)
    assert spec.json == {"title": "new", "extra": {"k": 1}}
    assert raw == {"title": "old", "extra": {"k": 1}}  # the caller's mapping is not changed


def test_shipped_cancel_method_puts_the_id_in_path_and_body() -> None:
    m = do_method("indexing_jobs", "genai_cancel_indexing_job")
    spec = build_request(m, "https://api.digitalocean.com", {"uuid": "j 1", "body_uuid": "j 1"})
    assert spec.http_verb == "PUT"
    assert spec.url == "https://api.digitalocean.com/v2/gen-ai/indexing_jobs/j%201/cancel"
    assert spec.json == {"uuid": "j 1"}


def test_idempotent_flag_comes_from_the_method() -> None:
    create = method("/jobs", param("name", Location.BODY), verb="POST", sql_verb=SqlVerb.INSERT)
    assert not build_request(create, BASE, {"name": "n"}).idempotent
    keyed = method("/jobs", verb="POST", idempotent=True, sql_verb=SqlVerb.INSERT)
    assert build_request(keyed, BASE, {}).idempotent
    assert not build_request(WRITE, BASE, {"id": "1"}).idempotent
    read = method("/search", param("q", Location.BODY), verb="POST")
    assert build_request(read, BASE, {"q": "x"}).idempotent  # a read by POST changes nothing


# --- RequestSpec ---------------------------------------------------------------------------

SPEC = RequestSpec(
    "GET",
    f"{BASE}/items",
    query=(("page", "1"), ("q", "a b&c")),
    headers=(("X-Trace-Id", "t"),),
)


def test_full_url_encodes_the_query() -> None:
    assert SPEC.full_url() == f"{BASE}/items?page=1&q=a+b%26c"
    assert RequestSpec("GET", f"{BASE}/items").full_url() == f"{BASE}/items"


def test_with_query_replaces_appends_and_leaves_the_original() -> None:
    spec = SPEC.with_query(page=3, archived=False)
    assert spec.query == (("q", "a b&c"), ("page", "3"), ("archived", "false"))
    assert SPEC.query == (("page", "1"), ("q", "a b&c"))
    assert (spec.http_verb, spec.url, spec.headers) == (SPEC.http_verb, SPEC.url, SPEC.headers)


def test_with_query_keeps_the_body_and_the_idempotent_flag() -> None:
    spec = RequestSpec("POST", f"{BASE}/search", json={"q": 1}, has_body=True, idempotent=True)
    paged = spec.with_query(page=2)
    assert paged.json == {"q": 1} and paged.has_body and paged.http_verb == "POST"
    assert paged.idempotent  # later pages of an idempotent POST are retried like the first


def test_with_url_drops_the_old_query() -> None:
    spec = SPEC.with_url(f"{BASE}/items?cursor=abc")
    assert spec.query == () and spec.full_url() == f"{BASE}/items?cursor=abc"
    assert spec.headers == SPEC.headers


@pytest.mark.parametrize("scheme", ["bearer", "basic", "api_key"])
def test_describe_with_redacted_auth_shows_no_secret(scheme: str) -> None:
    credentials = Credentials(scheme, Secret(TOKEN), header="X-Api-Key", username="me")
    spec = RequestSpec(
        "POST",
        f"{BASE}/jobs",
        query=(("page", "2"),),
        headers=SPEC.headers,
        json={"b": 1, "a": [2]},
        has_body=True,
    )
    text = spec.describe(credentials.redacted_headers())
    assert TOKEN not in text
    assert all(secret not in text for secret in credentials.secrets())
    assert "  X-Api-Key: " in text and "***" in text
    lines = text.splitlines()
    assert lines[0] == f"POST {BASE}/jobs?page=2"
    assert "  X-Trace-Id: t" in lines
    assert lines[-1] == "  body: " + json.dumps({"a": [2], "b": 1})  # keys sorted


def test_describe_without_body_or_auth() -> None:
    assert SPEC.describe() == f"GET {SPEC.full_url()}\n  X-Trace-Id: t"


def test_secret_never_shows_itself() -> None:
    secret = Secret(TOKEN)
    assert TOKEN not in f"{secret} {secret!r} {secret:>40}"
    assert secret.reveal() == TOKEN


# --- base_url_for --------------------------------------------------------------------------


def test_shipped_provider_uses_its_server_url() -> None:
    assert base_url_for(DO, environ={}) == "https://api.digitalocean.com"


def test_override_wins_over_env_and_loses_its_trailing_slash() -> None:
    env = {"SQLPROVIDER_DIGITALOCEAN_URL": "http://127.0.0.1:9000"}
    assert base_url_for(DO, "http://127.0.0.1:8080/", environ=env) == "http://127.0.0.1:8080"
    assert base_url_for(DO, environ=env) == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    "bad", ["ftp://host", "localhost:8080", "http://", "https:///path", "not a url", "//h"]
)
def test_override_must_be_an_http_url(bad: str) -> None:
    with pytest.raises(InterfaceError, match="must be an http"):
        base_url_for(DO, bad, environ={})
    with pytest.raises(InterfaceError, match="must be an http"):
        base_url_for(DO, environ={"SQLPROVIDER_DIGITALOCEAN_URL": bad})


def test_server_variables_from_arguments_env_and_default() -> None:
    provider = tenant_provider(TENANT, REGION)
    env = {"ACME_TENANT": "", "ACME_ORG": "from-env"}  # an empty variable counts as unset
    assert base_url_for(provider, environ=env) == "https://from-env.acme.test/eu1/api"
    chosen = {"tenant": "given", "region": "us2"}
    assert base_url_for(provider, variables=chosen, environ=env) == (
        "https://given.acme.test/us2/api"
    )
    first = {"ACME_TENANT": "first", "ACME_ORG": "second"}
    assert base_url_for(provider, environ=first).startswith("https://first.acme.test/")


def test_override_needs_no_server_variables() -> None:
    provider = tenant_provider(TENANT, REGION)
    env = {"SQLPROVIDER_ACME_URL": "http://127.0.0.1:7000"}
    assert base_url_for(provider, environ=env) == "http://127.0.0.1:7000"


def test_missing_server_variable_names_where_to_set_it() -> None:
    with pytest.raises(InterfaceError, match="ACME_TENANT or ACME_ORG"):
        base_url_for(tenant_provider(TENANT, REGION), environ={})
    no_env = ServerVariable("tenant")
    with pytest.raises(InterfaceError, match="SQLPROVIDER_ACME_URL"):
        base_url_for(tenant_provider(no_env, REGION), environ={})


@pytest.mark.parametrize("value", ["evil.com/x", "a.b", "-bad", "bad-", "x?y=1", "a b", "", "é"])
def test_server_variable_must_be_a_host_label(value: str) -> None:
    provider = tenant_provider(TENANT, REGION)
    with pytest.raises(DataError, match="host name label"):
        base_url_for(provider, variables={"tenant": value}, environ={})
    if value:  # env values are checked too (an empty one is simply unset)
        with pytest.raises(DataError, match="host name label"):
            base_url_for(provider, environ={"ACME_TENANT": value})
