"""Provider YAML: loading the shipped definition, the errors broken ones give, the registry.

Broken definitions are written to ``tmp_path``; every failure must be a ProviderError naming
the file, the key path and the problem. The validation cache lives in a per-test directory.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sqlprovider.errors import ProviderError, UnknownNameError
from sqlprovider.model import Location, PaginationKind, Provider, SqlVerb
from sqlprovider.providers import Registry, bundled_providers_dir, load_provider
from sqlprovider.providers.loader import format_key_path
from sqlprovider.providers.registry import PROVIDERS_PATH_ENV
from sqlprovider.providers.schema import PROVIDER as SCHEMA
from sqlprovider.session import Session

SHIPPED = bundled_providers_dir() / "digitalocean.yaml"
WIDGETS = "services.things.resources.widgets"
M0, M1, M2 = (f"{WIDGETS}.methods[{i}]" for i in range(3))
DELETE = object()  # as an edit: remove the key


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Validation markers go to this test's own directory, never the user's cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def base_doc(name: str = "demo") -> dict[str, Any]:
    """A small valid provider: a get, a paged list and a create that waits."""
    return {
        "name": name,
        "title": name.title(),
        "server": {"url": "https://api.demo.test/"},
        "auth": {"type": "bearer", "env": ["DEMO_TOKEN"]},
        "services": {
            "things": {
                "resources": {
                    "widgets": {
                        "columns": {
                            "id": {"type": "string"},
                            "size": {"type": "integer"},
                            "owner": {"type": "string", "path": "owner.name"},
                        },
                        "methods": [
                            {
                                "name": "get_widget",
                                "sql_verb": "select",
                                "http_verb": "GET",
                                "path": "/widgets/{id}",
                                "records": "widget",
                                "empty_on": [404],
                                "params": {"id": {"in": "path"}},
                            },
                            {
                                "name": "list_widgets",
                                "sql_verb": "select",
                                "http_verb": "GET",
                                "path": "/widgets",
                                "records": "widgets",
                                "pagination": {"type": "page_number", "page_param": "page"},
                            },
                            {
                                "name": "create_widget",
                                "sql_verb": "insert",
                                "http_verb": "POST",
                                "path": "/widgets",
                                "records": "widget",
                                "params": {"size": {"in": "body", "type": "integer"}},
                                "wait": {
                                    "method": "get_widget",
                                    "params": {"id": "id"},
                                    "done": {"field": "state", "in": ["ready"]},
                                },
                            },
                        ],
                    }
                }
            }
        },
    }


def edit(doc: dict[str, Any], key_path: str, value: object) -> dict[str, Any]:
    """Set (or with DELETE remove) the key at ``a.b[0].c`` in a copy of ``doc``."""
    doc = copy.deepcopy(doc)
    steps: list[Any] = [
        int(i) if i else k for k, i in re.findall(r"([^.\[\]]+)|\[(\d+)\]", key_path)
    ]
    target: Any = doc
    for step in steps[:-1]:
        target = target[step]
    if value is DELETE:
        del target[steps[-1]]
    else:
        target[steps[-1]] = value
    return doc


def write(directory: Path, doc: dict[str, Any], stem: str | None = None) -> Path:
    path = directory / f"{stem or doc['name']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def load_error(path: Path) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        load_provider(path)
    assert raised.value.file == str(path)
    return raised.value


def markers(cache: Path) -> list[Path]:
    folder = cache / "sqlprovider" / "validated"
    return sorted(folder.iterdir()) if folder.is_dir() else []


# -- the shipped provider --------------------------------------------------------------------


def test_the_shipped_digitalocean_provider_loads() -> None:
    provider = load_provider(SHIPPED)
    assert provider.name == "digitalocean"
    assert provider.source == str(SHIPPED)
    assert provider.server.url == "https://api.digitalocean.com"
    assert provider.auth.type == "bearer"
    assert provider.auth.env == ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")
    assert provider.retry.max_delay == 60.0
    assert provider.retry.remaining_header == "ratelimit-remaining"
    jobs = provider.services["genai"].resources["indexing_jobs"]
    get = next(m for m in jobs.methods if m.name == "genai_get_indexing_job")
    assert (get.http_verb, get.path, get.records, get.empty_on) == (
        "GET",
        "/v2/gen-ai/indexing_jobs/{uuid}",
        ("job",),
        (404,),
    )
    uuid = get.param("uuid")
    assert uuid is not None and uuid.location is Location.PATH and uuid.required
    listing = next(m for m in jobs.methods if m.name == "genai_list_indexing_jobs")
    assert listing.pagination.kind is PaginationKind.PAGE_NUMBER
    assert listing.pagination.total_pages_path == ("meta", "pages")
    assert (listing.pagination.size_param, listing.pagination.page_size) == ("per_page", 200)
    bases = provider.services["genai"].resources["knowledge_bases"]
    phase = bases.column("last_indexing_job_phase")
    assert phase is not None and phase.path == ("last_indexing_job", "phase")


def test_the_shipped_provider_has_every_declared_resource_method_and_column() -> None:
    declared = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    provider = load_provider(SHIPPED)
    assert list(provider.services) == list(declared["services"])
    for service_name, service_doc in declared["services"].items():
        resources = provider.services[service_name].resources
        assert list(resources) == list(service_doc["resources"])
        for resource_name, resource_doc in service_doc["resources"].items():
            resource = resources[resource_name]
            assert resource.qualified_name == f"digitalocean.{service_name}.{resource_name}"
            assert [c.name for c in resource.columns] == list(resource_doc["columns"])
            for column in resource.columns:
                spec = resource_doc["columns"][column.name]
                assert column.type == spec.get("type", "string")
                assert column.path == tuple(spec.get("path", column.name).split("."))
            assert [m.name for m in resource.methods] == [
                d["name"] for d in resource_doc["methods"]
            ]
            for method, doc in zip(resource.methods, resource_doc["methods"], strict=True):
                assert_method_as_declared(method, doc)


def assert_method_as_declared(method: Any, doc: dict[str, Any]) -> None:
    assert method.sql_verb is SqlVerb(doc["sql_verb"])
    assert (method.http_verb, method.path) == (doc["http_verb"], doc["path"])
    records = tuple(doc["records"].split(".")) if doc.get("records") else ()
    assert method.records == records
    assert method.empty_on == tuple(doc.get("empty_on", ()))
    assert method.destructive == doc.get("destructive", doc["http_verb"] == "DELETE")
    assert [p.name for p in method.params] == list(doc.get("params", {}))
    for param in method.params:
        spec = doc["params"][param.name]
        assert param.location is Location(spec["in"])
        assert param.wire_name == spec.get("wire_name", param.name)
        assert param.required == spec.get("required", spec["in"] == "path")
    if "pagination" in doc:
        assert method.pagination.kind is PaginationKind(doc["pagination"]["type"])
    if "wait" in doc:
        assert method.wait is not None and method.wait.method == doc["wait"]["method"]


def test_a_valid_definition_is_built_with_its_defaults(tmp_path: Path) -> None:
    provider = load_provider(write(tmp_path, base_doc()))
    assert isinstance(provider, Provider)
    assert provider.server.url == "https://api.demo.test"  # trailing slash dropped
    assert (provider.concurrency, provider.retry.max_attempts) == (8, 5)
    widgets = provider.services["things"].resources["widgets"]
    owner = widgets.column("owner")
    assert owner is not None and owner.path == ("owner", "name")
    get, listing, create = widgets.methods
    id_param = get.param("id")
    assert id_param is not None and id_param.required  # path params default to required
    assert listing.pagination.first_page == 1
    assert create.wait is not None and create.wait.params == (("id", ("id",)),)
    assert create.wait.done.values == ("ready",)
    assert not create.destructive


# -- schema errors: file, key path, problem --------------------------------------------------

# id: (key to edit, new value, expected key path (None: the key itself), problem)
Case = tuple[str, object, str | None, str]
SCHEMA_CASES: dict[str, Case] = {
    "missing key": (f"{M0}.path", DELETE, M0, "'path' is a required property"),
    "missing top key": ("server", DELETE, "(top level)", "'server' is a required property"),
    "missing columns": (f"{WIDGETS}.columns", DELETE, WIDGETS, "'columns' is a required"),
    "integer wanted": (
        f"{M1}.pagination.first_page",
        "one",
        None,
        "'one' is not of type 'integer'",
    ),
    "boolean wanted": (f"{M0}.params.id.required", "yes", None, "'yes' is not of type 'boolean'"),
    "mapping wanted": (f"{WIDGETS}.columns", ["id"], None, "is not of type 'object'"),
    "unknown key": (f"{M0}.verb", "GET", M0, "Additional properties are not allowed ('verb' was"),
    "unknown top key": ("colour", "red", "(top level)", "unknown key 'colour' (keys of your"),
    "bad sql_verb": (f"{M0}.sql_verb", "fetch", None, "'fetch' is not one of ['select'"),
    "bad http_verb": (f"{M0}.http_verb", "get", None, "'get' is not one of ['GET'"),
    "bad param in": (f"{M0}.params.id.in", "cookie", None, "'cookie' is not one of"),
    "bad column type": (f"{WIDGETS}.columns.id.type", "text", None, "'text' is not one of"),
    "bad paging type": (f"{M1}.pagination.type", "cursor", None, "'cursor' is not one of"),
    "relative path": (f"{M1}.path", "widgets", None, "'widgets' does not match '^/'"),
    "bad column path": (f"{WIDGETS}.columns.owner.path", "owner..name", None, "does not match"),
    "next_url key": (f"{M1}.pagination", {"type": "next_url"}, None, "'next_url' is a required"),
    "token source": (
        f"{M1}.pagination",
        {"type": "token", "token_param": "t"},
        None,
        "is not valid under any of the given schemas",
    ),
    "offset size": (
        f"{M1}.pagination",
        {"type": "offset", "offset_param": "o"},
        None,
        "'size_param' is a required property",
    ),
    "empty_on 200": (f"{M0}.empty_on", [200], f"{M0}.empty_on[0]", "200 is less than the minimum"),
    "no methods": (f"{WIDGETS}.methods", [], None, "[] should be non-empty"),
    "concurrency 0": ("http", {"concurrency": 0}, "http.concurrency", "0 is less than the minimum"),
    "server scheme": ("server.url", "ftp://x", None, "'ftp://x' does not match '^https?://'"),
    "wait done field": (f"{M2}.wait.done", {"in": ["x"]}, None, "'field' is a required property"),
}
SEMANTIC_CASES: dict[str, Case] = {
    "server variable": (
        "server.url",
        "https://{tenant}.demo.test",
        None,
        "{tenant} is used but not declared in server.variables",
    ),
    "auth env": ("auth", {"type": "bearer"}, "auth.env", "name the environment variables"),
    "duplicate method": (f"{M1}.name", "get_widget", None, "method names must be unique"),
    "wait method": (f"{M2}.wait.method", "nope", None, "no method 'nope' in this resource"),
    "wait param": (
        f"{M2}.wait.params",
        {"xyz": "id"},
        f"{M2}.wait.params.xyz",
        "get_widget has no param 'xyz'",
    ),
    "path variable": (
        f"{M1}.path",
        "/w/{shelf}",
        None,
        "{shelf} has no param declared with in: path",
    ),
    "unused path param": (
        f"{M0}.path",
        "/widgets",
        f"{M0}.params.id",
        "a path param must appear in the path as {id}",
    ),
    "optional path param": (
        f"{M0}.params.id.required",
        False,
        f"{M0}.params.id",
        "path params are always required",
    ),
}
CASES = SCHEMA_CASES | SEMANTIC_CASES


@pytest.mark.parametrize(("key", "value", "key_path", "problem"), CASES.values(), ids=CASES)
def test_a_broken_definition_names_file_key_and_problem(
    tmp_path: Path, key: str, value: object, key_path: str | None, problem: str
) -> None:
    path = write(tmp_path, edit(base_doc(), key, value))
    error = load_error(path)
    key_path = key_path or key
    assert error.key_path == key_path
    assert problem in error.problem
    assert str(error) == f"invalid provider definition {path}: {key_path}: {error.problem}"


def test_the_provider_name_must_match_the_file_name(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, base_doc(), stem="other"))
    assert (error.key_path, error.problem) == ("name", "the provider 'demo' must live in demo.yaml")


def test_a_provider_yaml_in_a_folder_may_have_any_name(tmp_path: Path) -> None:
    path = write(tmp_path / "anything", base_doc(), stem="provider")
    assert load_provider(path).name == "demo"


@pytest.mark.parametrize(
    "document",
    [
        {"name": 3, "server": "https://x", "services": []},
        {"name": "demo", "server": {"url": "https://x"}, "services": {"things": None}},
        {"name": "demo", "server": {"url": "https://x"}, "auth": [], "services": {}},
        edit(base_doc(), f"{M0}.params", ["id"]),
        edit(base_doc(), f"{M0}.params.id", None),
        edit(base_doc(), f"{WIDGETS}.methods", [None]),
        edit(base_doc(), f"{WIDGETS}.columns.id", None),
        edit(base_doc(), f"{M1}.pagination", None),
        edit(base_doc(), f"{M2}.wait", "get_widget"),
        edit(base_doc(), "http", {"retry": {"statuses": "429"}}),
    ],
)
def test_malformed_shapes_are_provider_errors_never_key_or_type_errors(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    error = load_error(write(tmp_path, document, stem="demo"))
    assert error.key_path and error.problem  # located and explained, whatever the shape


# -- YAML itself -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("name: demo\nserver:\n\turl: x\n", 3, "found character that cannot start any token"),
        ("name: demo\nservices: {a: [1, 2}\n", 2, "did not find expected ',' or ']'"),
        ("name: demo\n  title: x\n", 2, "mapping values are not allowed"),
    ],
)
def test_invalid_yaml_gives_the_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    error = load_error(path)
    assert re.fullmatch(rf"line {line}, column \d+", error.key_path)
    assert error.problem.startswith(f"not valid YAML: {problem}")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just text\n"])
def test_a_file_without_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    error = load_error(path)
    assert (error.key_path, error.problem) == ("", "the top level must be a mapping")
    assert str(error) == f"invalid provider definition {path}: the top level must be a mapping"


@pytest.mark.parametrize(
    "template",
    [
        "!!python/object/apply:os.system ['touch {flag}']\n",
        "name: demo\nserver: !!python/object/apply:os.system ['touch {flag}']\n",
        "name: !!python/name:os.system\n",
        "name: !!python/object/new:pathlib.Path ['{flag}']\n",
    ],
)
def test_python_tags_are_refused_not_run(tmp_path: Path, template: str) -> None:
    flag = tmp_path / "ran"
    path = tmp_path / "demo.yaml"
    path.write_text(template.format(flag=flag), encoding="utf-8")
    error = load_error(path)
    assert "could not determine a constructor for the tag" in error.problem
    assert re.fullmatch(r"line \d+, column \d+", error.key_path)
    assert not flag.exists()


def test_a_missing_file_is_a_provider_error(tmp_path: Path) -> None:
    error = load_error(tmp_path / "absent.yaml")
    assert error.problem.startswith("cannot read the file")


def test_an_unused_path_param_is_named_by_its_yaml_key_not_its_wire_name(
    tmp_path: Path,
) -> None:
    doc = edit(base_doc(), f"{M0}.path", "/widgets")
    doc = edit(doc, f"{M0}.params.id", {"in": "path", "wire_name": "widget_id"})
    error = load_error(write(tmp_path, doc))
    assert error.key_path == f"{M0}.params.id"
    assert error.problem == "a path param must appear in the path as {widget_id}"


def test_a_file_that_is_not_utf8_is_a_provider_error(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_bytes(b"name: d\xff\xfe\n")
    error = load_error(path)
    assert error.file == str(path) and "not UTF-8 text" in error.problem


def test_format_key_path() -> None:
    assert format_key_path(["services", "genai", "methods", 0, "path"]) == (
        "services.genai.methods[0].path"
    )
    assert format_key_path([]) == "(top level)"


# -- the validation cache --------------------------------------------------------------------


def test_a_validated_text_leaves_a_marker_named_by_its_hash(
    tmp_path: Path, cache_dir: Path
) -> None:
    path = write(tmp_path, base_doc())
    load_provider(path)
    text = path.read_text(encoding="utf-8")
    digest = hashlib.sha256((repr(SCHEMA) + "\0" + text).encode()).hexdigest()
    assert [m.name for m in markers(cache_dir)] == [digest]


def test_a_cached_text_is_not_validated_again(tmp_path: Path, cache_dir: Path) -> None:
    path = write(tmp_path, base_doc())
    load_provider(path)
    [marker] = markers(cache_dir)
    os.utime(marker, (0, 0))
    assert load_provider(path).name == "demo"
    assert marker.stat().st_mtime == 0  # the marker was found, not written again


def test_a_file_made_invalid_after_caching_still_fails(tmp_path: Path, cache_dir: Path) -> None:
    path = write(tmp_path, base_doc())
    load_provider(path)
    before = markers(cache_dir)
    write(tmp_path, edit(base_doc(), f"{M0}.sql_verb", "fetch"))
    for _ in range(2):  # a failed validation leaves no marker, so it fails every time
        error = load_error(path)
        assert error.key_path == f"{M0}.sql_verb"
    assert markers(cache_dir) == before


def test_semantic_checks_run_even_when_the_schema_check_is_cached(
    tmp_path: Path, cache_dir: Path
) -> None:
    path = write(tmp_path, edit(base_doc(), f"{M1}.name", "get_widget"))
    for _ in range(2):
        assert load_error(path).problem == "method names must be unique"
    assert len(markers(cache_dir)) == 1  # the schema passed; the marker says only that


def test_an_unwritable_cache_only_costs_a_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = write(tmp_path, base_doc())
    assert load_provider(path).name == "demo"
    assert load_error(write(tmp_path, edit(base_doc(), "colour", "red"))).key_path == "(top level)"


# -- the registry ----------------------------------------------------------------------------


@pytest.fixture
def session_dirs(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    return first, second


def test_the_registry_finds_and_caches_the_shipped_provider() -> None:
    registry = Registry()
    assert "digitalocean" in registry.names()
    assert registry.has("digitalocean")
    provider = registry.get("digitalocean")
    assert provider.source == str(SHIPPED)
    assert registry.get("digitalocean") is provider


def test_an_unknown_provider_suggests_the_near_miss() -> None:
    with pytest.raises(UnknownNameError) as raised:
        Registry().get("digitalocen")
    error = raised.value
    assert (error.kind, error.name, error.candidates) == (
        "provider",
        "digitalocen",
        ("digitalocean",),
    )
    assert str(error) == "unknown provider 'digitalocen'; did you mean 'digitalocean'?"


def test_an_unknown_provider_far_from_any_has_no_suggestion() -> None:
    with pytest.raises(UnknownNameError) as raised:
        Registry().get("zzzz")
    assert raised.value.candidates == ()
    assert str(raised.value) == "unknown provider 'zzzz'"


def test_unknown_services_and_resources_suggest_qualified_names() -> None:
    registry = Registry()
    assert registry.resource("digitalocean", "genai", "indexing_jobs").name == "indexing_jobs"
    with pytest.raises(UnknownNameError) as service:
        registry.resource("digitalocean", "gena", "indexing_jobs")
    assert (service.value.kind, service.value.candidates) == ("service", ("digitalocean.genai",))
    with pytest.raises(UnknownNameError) as resource:
        registry.resource("digitalocean", "genai", "indexing_job")
    assert resource.value.kind == "resource"
    assert resource.value.candidates[0] == "digitalocean.genai.indexing_jobs"


def test_the_env_path_adds_providers_and_overrides_shipped_ones(
    session_dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = session_dirs
    mine = write(first, base_doc("demo"))
    override = write(first, edit(base_doc("digitalocean"), "title", "Mine"))
    write(second, edit(base_doc("demo"), "title", "Shadowed"))
    write(second, base_doc("extra"), stem="extra")
    monkeypatch.setenv(PROVIDERS_PATH_ENV, os.pathsep.join([str(first), str(second)]))
    registry = Registry()
    assert {"demo", "digitalocean", "extra"} <= set(registry.names())
    assert registry.get("digitalocean").source == str(override)
    assert registry.get("digitalocean").title == "Mine"
    assert registry.get("demo").source == str(mine)  # the first directory wins
    assert registry.get("demo").title != "Shadowed"
    assert registry.get("extra").name == "extra"


def test_folders_yml_files_and_missing_directories(tmp_path: Path) -> None:
    write(tmp_path / "demo", base_doc("demo"), stem="provider")
    (tmp_path / "other.yml").write_text(yaml.safe_dump(base_doc("other")), encoding="utf-8")
    registry = Registry([tmp_path / "absent", tmp_path])
    assert registry.names() == ["demo", "other"]
    assert registry.get("demo").source == str(tmp_path / "demo" / "provider.yaml")
    assert registry.get("other").name == "other"
    assert not registry.has("digitalocean")  # explicit directories replace the defaults


def test_a_broken_provider_fails_alone(tmp_path: Path) -> None:
    broken = write(tmp_path, edit(base_doc("broken"), "server", DELETE))
    write(tmp_path, base_doc("demo"))
    registry = Registry([tmp_path])
    assert registry.has("broken")
    with pytest.raises(ProviderError) as raised:
        registry.get("broken")
    assert (raised.value.file, raised.value.key_path) == (str(broken), "(top level)")
    assert registry.get("demo").name == "demo"


def test_the_providers_path_option_is_searched_before_the_shipped_ones(
    session_dirs: tuple[Path, Path],
) -> None:
    first, _ = session_dirs
    override = write(first, base_doc("digitalocean"))
    session = Session(providers_path=[first])
    try:
        assert session.registry.directories == [first, bundled_providers_dir()]
        assert session.registry.get("digitalocean").source == str(override)
        assert "digitalocean" in session.registry.names()
    finally:
        session.close()
