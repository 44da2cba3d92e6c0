"""Every YAML block of the docs is a valid piece of what it shows: a whole provider loads with
``load_provider``; a fragment (columns, methods, keys of a method, params, pagination)
validates against that part of the provider JSON Schema; an auth file loads and its entries
reach an emulator. The kind of each block is decided in tests/docs/blocks.py; a block of no
known kind fails there.

``{...}``, ``[...]`` stand for a part the docs leave out; the test puts a minimal valid part
in its place, chosen by its key (an elision under any other key fails).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
import yaml

from sqlprovider.authfile import load_auth_file
from sqlprovider.providers.loader import load_provider
from sqlprovider.providers.schema import METHOD, PAGINATION, RESOURCE
from tests.docs.blocks import Block, blocks_of
from tests.docs.conftest import Emulators

BLOCKS = blocks_of(
    "yaml-provider",
    "yaml-columns",
    "yaml-methods",
    "yaml-method-keys",
    "yaml-params",
    "yaml-pagination",
)
# What a method needs besides the keys a block shows.
MINIMAL_METHOD = {"name": "list_items", "sql_verb": "select", "http_verb": "GET", "path": "/items"}
# The parts the docs leave out ({...}, [...]), by the key they are under.
STAND_INS: dict[str, Any] = {
    "columns": {"uuid": {"type": "string"}},
    "methods": [{**MINIMAL_METHOD, "records": "items"}],
    "pagination": {"type": "none"},
    "username_env": ["ACME_USER"],
}


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], schema["properties"])


COLUMNS = _properties(RESOURCE)["columns"]
PARAMS = _properties(METHOD)["params"]


def fill_elisions(document: Any, key: str = "") -> Any:
    """The document with every ``{...}``/``[...]`` replaced by the stand-in for its key."""
    if document == {"...": None} or document == ["..."]:
        assert key in STAND_INS, f"an elided part under {key!r}: no stand-in for it"
        return STAND_INS[key]
    if isinstance(document, dict):
        return {k: fill_elisions(v, k) for k, v in document.items()}
    if isinstance(document, list):
        return [fill_elisions(item, key) for item in document]
    return document


def problems(schema: dict[str, Any], document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def check_provider(document: dict[str, Any], folder: Path) -> None:
    path = folder / f"{document['name']}.yaml"  # the name must match the file's
    path.write_text(yaml.safe_dump(fill_elisions(document)))
    provider = load_provider(path)
    http = document["http"]
    assert provider.name == document["name"]
    assert provider.auth.env == tuple(document["auth"]["env"])
    assert provider.concurrency == http["concurrency"]
    assert provider.retry.max_attempts == http["retry"]["max_attempts"]
    assert provider.retry.statuses == tuple(http["retry"]["statuses"])
    assert provider.rate_limit is not None
    assert provider.rate_limit.per_second == http["rate_limit"]["per_second"]
    [variable] = provider.server.variables
    assert (variable.name, variable.env) == ("tenant", ("ACME_TENANT",))
    [service] = document["services"]
    [resource] = document["services"][service]["resources"]
    assert f"{provider.name}.{service}.{resource}" in {
        r.qualified_name for r in provider.resources()
    }


def check(block: Block, folder: Path) -> None:
    document = yaml.safe_load(block.text)
    kind = block.kind.removeprefix("yaml-")
    if kind == "provider":
        check_provider(document, folder)
        return
    if kind == "methods":
        methods = document["methods"] if isinstance(document, dict) else document
        assert methods
        for method in methods:
            assert problems(METHOD, fill_elisions(method)) == [], method["name"]
        return
    found = {
        "columns": lambda: problems(COLUMNS, document["columns"]),
        "method-keys": lambda: problems(METHOD, {**MINIMAL_METHOD, **document}),
        "params": lambda: problems(PARAMS, document.get("params", document)),
        "pagination": lambda: problems(PAGINATION, document["pagination"]),
    }[kind]()
    assert found == []


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_every_provider_yaml_block_is_valid(block: Block, tmp_path: Path) -> None:
    check(block, tmp_path)


def test_a_broken_fragment_is_found_broken(tmp_path: Path) -> None:
    """The checks above do fail: each kind, with a key misspelled."""
    broken = [
        "columns:\n  uuid: {type: strin}\n",
        "methods:\n  - name: m\n    sql_verb: select\n    http_verb: GET\n    path: /x\n"
        "    pagnation: {type: none}\n",
        "body: {a: 1}\nwindow: {start: a, end: b}\n",
        "params:\n  uuid: {in: paht}\n",
        "pagination:\n  type: page_number\n",
    ]
    for text in broken:
        with pytest.raises(AssertionError):
            check(Block("docs/providers.md", 1, "yaml", text), tmp_path)


# -- the auth file (docs/python-api.md) ------------------------------------------------------


def test_the_auth_file_loads_and_its_entries_reach_the_emulator(
    sandbox: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [block] = blocks_of("yaml-auth-file")
    path = tmp_path / "auth.yaml"
    path.write_text(block.text)
    entries = load_auth_file(path)
    assert sorted(entries) == sorted(yaml.safe_load(block.text))
    # digitalocean's entry reads its token from MY_DO_TOKEN, and that token gets in
    token = sandbox.servers["digitalocean"].token
    assert token is not None
    monkeypatch.setenv("MY_DO_TOKEN", token)
    with sandbox.connect(auth={}, auth_file=str(path)) as conn:
        [(count,)] = conn.execute("SELECT count(*) FROM digitalocean.genai.knowledge_bases")
    assert count == len(sandbox.knowledge_bases())
