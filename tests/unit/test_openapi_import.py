"""`sqlprovider providers import openapi`: what the importer makes of small specs (the cases of
tests/fixtures/openapi/cases.yaml, one rule each), the errors it gives, the CLI command, and
the example of docs/providers.md. Every result is also loaded by the provider loader (the
importer does that before it returns)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sqlprovider.cli.main import main
from sqlprovider.errors import InterfaceError
from sqlprovider.model import PaginationKind, SqlVerb
from sqlprovider.providers.openapi import import_openapi, import_openapi_document
from tests.docs.blocks import ROOT, read_blocks

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openapi"
CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "cases.yaml").read_text())
ABSENT = object()


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader's validation markers go to this test's own directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def spec_of(case: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "Acme", "version": "1"}, **case["spec"]}


def lookup(document: Any, key_path: str) -> Any:
    """The value at ``services.x.resources.y.methods[name].params.p`` (ABSENT if none)."""
    value = document
    for part in re.findall(r"[^.\[\]]+(?:\[[^\]]+\])?", key_path):
        key, _, chosen = part.partition("[")
        if not isinstance(value, dict) or key not in value:
            return ABSENT
        value = value[key]
        if chosen:
            name = chosen.rstrip("]")
            value = next((item for item in value if item.get("name") == name), ABSENT)
            if value is ABSENT:
                return ABSENT
    return value


def comments(text: str) -> str:
    """The comment lines of the text, joined into one line each paragraph."""
    return " ".join(line.strip().removeprefix("# ") for line in text.splitlines() if "# " in line)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_what_a_spec_becomes(case: dict[str, Any]) -> None:
    imported = import_openapi_document(spec_of(case), "acme", "case.yaml")
    written = yaml.safe_load(imported.text)
    for key_path, expected in (case.get("expect") or {}).items():
        assert lookup(written, key_path) == expected, key_path
    for key_path in case.get("absent") or ():
        assert lookup(written, key_path) is ABSENT, key_path
    said = comments(imported.text)
    for text in case.get("comments") or ():
        assert text in said


def test_every_operation_of_every_case_is_a_method_or_a_todo() -> None:
    for case in CASES:
        imported = import_openapi_document(spec_of(case), "acme")
        paths = {m.path for r in imported.provider.resources() for m in r.methods}
        said = comments(imported.text)
        for path, item in case["spec"]["paths"].items():
            for verb in item:
                if verb != "parameters":
                    assert path in paths or f"{verb.upper()} {path}" in said, (case["name"], path)


# -- the example of docs/providers.md --------------------------------------------------------


def docs_example() -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The columns and methods blocks of "Importing an OpenAPI spec", and their comments."""
    blocks = read_blocks("docs/providers.md")
    text = (ROOT / "docs" / "providers.md").read_text()
    start = text[: text.index("## Importing an OpenAPI spec")].count("\n") + 1
    columns, methods = [b for b in blocks if b.line > start and b.lang == "yaml"][:2]
    notes = [line.strip() for b in (columns, methods) for line in b.text.splitlines()]
    return (
        yaml.safe_load(columns.text),
        yaml.safe_load(methods.text),
        [n for n in notes if n.startswith("#")],
    )


def test_the_example_of_the_docs_is_what_the_importer_writes() -> None:
    imported = import_openapi(FIXTURES / "widgets.yaml", "widgets")
    resource = yaml.safe_load(imported.text)["services"]["api"]["resources"]["widgets"]
    columns, methods, notes = docs_example()
    assert columns == {"columns": resource["columns"]}
    written = {m["name"]: m for m in resource["methods"]}
    for method in methods["methods"]:
        assert method == written[method["name"]]
    said = comments(imported.text)
    for note in notes:
        assert note.removeprefix("# ") in said
    assert len(methods["methods"]) < len(written)  # "among others"


def test_the_widgets_provider_has_every_verb_and_typed_params() -> None:
    provider = import_openapi(FIXTURES / "widgets.yaml", "widgets").provider
    [resource] = provider.resources()
    assert resource.qualified_name == "widgets.api.widgets"
    verbs = {m.name: m.sql_verb for m in resource.methods}
    assert verbs == {
        "list_widgets": SqlVerb.SELECT,
        "create_widget": SqlVerb.INSERT,
        "get_widget": SqlVerb.SELECT,
        "update_widget": SqlVerb.UPDATE,
        "delete_widget": SqlVerb.DELETE,
        "polish_widget": SqlVerb.EXEC,
    }
    listing = resource.methods[0]
    assert listing.pagination.kind is PaginationKind.TOKEN
    assert listing.pagination.max_page_size == 100
    assert provider.auth.env == ("WIDGETS_TOKEN",)
    assert provider.server.url == "https://{region}.widgets.example.com"


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"swagger": "2.0", "paths": {}},
            "a Swagger 2.0 document; convert it to OpenAPI 3 first (for example with "
            "swagger2openapi)",
        ),
        ({"paths": {"/x": {}}}, "not an OpenAPI 3 document (no 'openapi: 3.x' key at the top)"),
        (
            {"openapi": "2.1", "paths": {"/x": {}}},
            "OpenAPI 2.1 is not supported (only OpenAPI 3.x)",
        ),
        ({"openapi": "3.0.0", "paths": {}}, "the document has no paths"),
        ([1, 2], "not an OpenAPI document (not a mapping)"),
    ],
)
def test_a_document_that_is_not_openapi_3_is_one_clear_error(
    document: Any, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InterfaceError) as raised:
        import_openapi(path, "acme")
    assert str(raised.value) == f"cannot import {path}: {message}"


def test_a_missing_or_unreadable_file_and_a_bad_name_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InterfaceError, match=r"cannot import .*nope\.yaml: no such file$"):
        import_openapi(tmp_path / "nope.yaml", "acme")
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.0\npaths: [\n")
    with pytest.raises(InterfaceError, match=r"broken\.yaml: not valid YAML \(line \d+: "):
        import_openapi(broken, "acme")
    with pytest.raises(InterfaceError, match="'Acme-API' is not a valid provider name"):
        import_openapi(FIXTURES / "widgets.yaml", "Acme-API")


def test_a_yaml_date_in_the_spec_is_sent_as_text() -> None:
    case = copy.deepcopy(next(c for c in CASES if c["name"].startswith("params keep")))
    version = case["spec"]["components"]["parameters"]["Version"]["schema"]
    version["enum"], version["default"] = [yaml.safe_load("2024-04-01")], None
    written = yaml.safe_load(import_openapi_document(spec_of(case), "acme").text)
    param = lookup(
        written, "services.shop.resources.orders.methods[list_orders].params.api_version"
    )
    assert param["enum"] == ["2024-04-01"]


# -- the command -----------------------------------------------------------------------------


def test_the_command_prints_or_writes_the_provider(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = str(FIXTURES / "widgets.yaml")
    assert main(["providers", "import", "openapi", spec, "--name", "widgets"]) == 0
    printed = capsys.readouterr()
    assert printed.out == import_openapi(Path(spec), "widgets").text
    out = tmp_path / "widgets.yaml"
    assert (
        main(["providers", "import", "openapi", spec, "--name", "widgets", "--out", str(out)]) == 0
    )
    assert out.read_text() == printed.out
    assert capsys.readouterr().err == (
        f"wrote {out}: 1 service(s), 1 resource(s), 6 method(s); 0 TODO comment(s) to review\n"
    )
    assert main(["providers", "import", "openapi", spec, "--name", "widgets", "--out", "-"]) == 0
    assert capsys.readouterr().out == printed.out


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["nope.yaml", "--name", "acme"], "error: cannot import nope.yaml: no such file\n"),
        (
            ["widgets.yaml", "--name", "9lives"],
            "error: '9lives' is not a valid provider name: use lower-case letters, digits and _, "
            "starting with a letter or _ (for example acme_api)\n",
        ),
    ],
)
def test_the_command_fails_with_one_line(
    args: list[str], error: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    assert main(["providers", "import", "openapi", *args]) == 1
    assert capsys.readouterr() == ("", error)
