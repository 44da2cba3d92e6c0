"""The StackQL document loader in parts: registry directories and versions, JSONPath object
keys, inherited pagination and auth, the parsed-form cache, lazy services, and the order in
which registries, provider directories and bundled providers are searched."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from sqlprovider.model import AuthSpec, PaginationKind
from sqlprovider.providers import Registry, bundled_providers_dir
from sqlprovider.providers.stackql import choose, scan
from sqlprovider.providers.stackql.configs import (
    Level,
    Unsupported,
    auth_spec,
    json_path,
    pagination,
)
from sqlprovider.providers.stackql.documents import Document, cache_dir, read_data
from sqlprovider.providers.versions import version_key
from sqlprovider.registry_client.index import latest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stackql"


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("$.jobs", ("jobs",)),
        ("$.value[*]", ("value",)),
        ("$[*]", ()),
        ("$.data.users.edges[*].node", ("data", "users", "edges", "*", "node")),
        ("$['a.b'][*]", ("a.b",)),
        ("jobs", ("jobs",)),
        ("result_info.total_pages", ("result_info", "total_pages")),
        ("@odata.nextLink", ("@odata.nextLink",)),
    ],
)
def test_object_keys(key: str, path: tuple[str, ...]) -> None:
    assert json_path(key, "here") == path


@pytest.mark.parametrize("key", ["$..items", "$.items[0]", "$.items[?(@.a)]"])
def test_object_keys_sqlprovider_does_not_read(key: str) -> None:
    with pytest.raises(Unsupported, match="the JSONPath"):
        json_path(key, "components.x")


def test_versions_in_stackqls_order() -> None:
    versions = ["v24.10.00", "v24.11.00", "v24.11.00-rc1", "v3", "v00.00.00000", "latest"]
    ordered = sorted(versions, key=version_key)
    assert ordered == ["latest", "v00.00.00000", "v3", "v24.10.00", "v24.11.00-rc1", "v24.11.00"]
    assert sorted(["v1.0.0-rc.10", "v1.0.0-rc.2"], key=version_key) == [
        "v1.0.0-rc.2",
        "v1.0.0-rc.10",
    ]


def test_the_loader_and_pull_choose_alike(tmp_path: Path) -> None:
    """The newest release wins in a registry directory, as `registry pull` picks it; a
    pre-release only when pinned or when no release is there."""
    for version in ("v1.0.0", "v1.1.0", "v2.0.0-rc.1"):
        folder = tmp_path / "src" / "demo" / version
        folder.mkdir(parents=True)
        (folder / "provider.yaml").write_text("name: demo\n")
    found = scan(tmp_path)["demo"]
    versions = [v.version for v in found]
    assert versions == ["v1.0.0", "v1.1.0", "v2.0.0-rc.1"]
    assert choose(found, None).version == latest(versions) == "v1.1.0"  # type: ignore[union-attr]
    assert choose(found, "v2.0.0-rc.1").version == "v2.0.0-rc.1"  # type: ignore[union-attr]
    only_pre = [v for v in found if v.version.endswith("rc.1")]
    assert choose(only_pre, None).version == "v2.0.0-rc.1"  # type: ignore[union-attr]


def test_scan_and_choose() -> None:
    found = scan(FIXTURES)
    assert [v.version for v in found["digitalocean"]] == ["v24.10.00", "v24.11.00"]
    assert choose(found["digitalocean"], None).version == "v24.11.00"  # type: ignore[union-attr]
    assert choose(found["digitalocean"], "v24.10.00").version == "v24.10.00"  # type: ignore[union-attr]
    assert choose(found["digitalocean"], "v1") is None


def test_a_directory_that_is_no_sql_name_takes_the_declared_name(tmp_path: Path) -> None:
    """StackQL keeps google in googleapis.com/: the SQL name is provider.yaml's name."""
    home = tmp_path / "src" / "googleapis.com" / "v1.0.0"
    home.mkdir(parents=True)
    (home / "provider.yaml").write_text("id: google\nname: google\nversion: v1.0.0\n")
    assert list(scan(tmp_path)) == ["google"]
    assert list(scan(tmp_path / "src")) == ["google"]  # the src directory itself works too


def _level(**config: Any) -> tuple[Level, ...]:
    return (Level(config, "x-stackQL-config", "doc.yaml"),)


def test_pagination_mappings() -> None:
    default = pagination((), "digitalocean")
    assert (default.kind, default.token_path, default.token_param) == (
        PaginationKind.TOKEN,
        ("nextPageToken",),
        "pageToken",
    )
    assert pagination((), "github").kind is PaginationKind.LINK_HEADER
    whole = pagination(
        _level(
            pagination={
                "requestToken": {"key": "", "location": "request"},
                "responseToken": {"key": "$.links.pages.next", "location": "body"},
            }
        ),
        "x",
    )
    assert (whole.kind, whole.next_url_path) == (
        PaginationKind.NEXT_URL,
        ("links", "pages", "next"),
    )
    in_body = pagination(
        _level(
            pagination={
                "requestToken": {"key": "cursor", "location": "body"},
                "responseToken": {"key": "meta.next", "location": "body"},
            }
        ),
        "x",
    )
    assert (in_body.kind, in_body.token_location, in_body.token_path) == (
        PaginationKind.TOKEN,
        "body",
        ("meta", "next"),
    )


def test_pagination_inherits_method_first() -> None:
    method = Level(
        {"pagination": {"responseToken": {"key": "Link", "location": "header"}}}, "m", "f"
    )
    service = Level(
        {
            "pagination": {
                "requestToken": {"key": "t", "location": "query"},
                "responseToken": {"key": "n", "location": "body"},
            }
        },
        "s",
        "f",
    )
    assert pagination((method, service), "x").kind is PaginationKind.LINK_HEADER
    assert pagination((Level({}, "m", "f"), service), "x").token_param == "t"


def test_pagination_sqlprovider_does_not_run() -> None:
    odd = _level(
        pagination={
            "requestToken": {"key": "c", "location": "cookie"},
            "responseToken": {"key": "n", "location": "body"},
        }
    )
    with pytest.raises(Unsupported, match="a token sent in 'cookie'"):
        pagination(odd, "x")


@pytest.mark.parametrize(
    ("doc", "spec"),
    [
        ({"type": "bearer", "credentialsenvvar": "T"}, AuthSpec(type="bearer", env=("T",))),
        (
            {"type": "basic", "username_var": "U", "password_var": "P"},
            AuthSpec(type="basic", env=("P",), username_env=("U",)),
        ),
        (
            {"type": "basic", "credentialsenvvar": "B"},
            AuthSpec(type="api_key", env=("B",), prefix="Basic "),
        ),
        (
            {"type": "api_key", "credentialsenvvar": "K", "valuePrefix": "SSWS "},
            AuthSpec(type="api_key", env=("K",), prefix="SSWS "),
        ),
        (
            {"type": "api_key", "credentialsenvvar": "K", "name": "X-Key"},
            AuthSpec(type="api_key", env=("K",), header="X-Key", prefix=""),
        ),
        ({"type": "null_auth"}, AuthSpec()),
    ],
)
def test_auth_mappings(doc: dict[str, Any], spec: AuthSpec) -> None:
    assert auth_spec(doc, "provider.yaml", "config.auth") == spec


def test_auth_sqlprovider_cannot_do_says_so() -> None:
    spec = auth_spec({"type": "oauth2"}, "p.yaml", "config.auth")
    assert spec.unsupported == (
        "p.yaml: config.auth.type: OAuth 2.0 client credentials is not supported yet"
    )


def test_the_parsed_form_is_kept_by_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    document = tmp_path / "doc.yaml"
    document.write_text("openapi: 3.0.0\ncreated: 2023-01-01T00:00:00Z\n")
    first = read_data(document)
    assert first == {"openapi": "3.0.0", "created": "2023-01-01T00:00:00Z"}  # dates stay text
    assert len(list(cache_dir().iterdir())) == 1
    assert read_data(document) == first  # from the cache
    document.write_text("openapi: 3.1.0\n")
    assert read_data(document) == {"openapi": "3.1.0"}  # an edit is read again
    assert len(list(cache_dir().iterdir())) == 2


def test_refs_are_json_pointers(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("paths:\n  /a/{b}:\n    get: {operationId: x}\nc: {$ref: '#/paths/~1a~1{b}'}\n")
    doc = Document.read(path)
    assert doc.resolve(doc.data["c"]) == {"get": {"operationId": "x"}}
    with pytest.raises(Exception, match="points to nothing"):
        doc.pointer("#/paths/~1nope")


def test_services_are_read_when_first_named(tmp_path: Path) -> None:
    registry = tmp_path / "reg"
    shutil.copytree(FIXTURES / "src" / "digitalocean", registry / "src" / "digitalocean")
    found = Registry([bundled_providers_dir()], [registry])
    provider = found.get("digitalocean")
    assert [s.read for s in provider.services.values()] == [False, False]
    found.resource("digitalocean", "genai", "knowledge_bases")
    assert [s.read for s in provider.services.values()] == [True, False]
    assert [r.name for r in provider.loaded_resources()] == ["knowledge_bases"]


def test_registries_come_first_then_paths_then_bundled(tmp_path: Path) -> None:
    path_dir = tmp_path / "mine"
    path_dir.mkdir()
    for name in ("onyx", "amperity"):
        (path_dir / f"{name}.yaml").write_text(
            (bundled_providers_dir() / f"{name}.yaml").read_text()
        )
    registry = Registry([path_dir, bundled_providers_dir()], [FIXTURES])
    assert registry.get("onyx").origin == f"registry {FIXTURES}"  # beats the path's
    assert registry.get("amperity").origin == f"path {path_dir}"  # beats the bundled one
    assert Registry([bundled_providers_dir()], [FIXTURES]).get("amperity").origin == "bundled"
    pinned = Registry([bundled_providers_dir()], [FIXTURES], {"digitalocean": "v24.10.00"})
    assert pinned.get("digitalocean").version == "v24.10.00"
