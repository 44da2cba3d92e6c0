"""The oracle over a StackQL registry provider: the fixture registry's digitalocean (StackQL's
format, loaded unmodified) replaces the bundled one. Generated reads must give what DuckDB
gives over the full data; generated writes must touch exactly the objects their WHERE
selects.

``indexing_jobs`` is left out: its list method has no objectKey, as in StackQL's public
registry, so listing gives one row per page while a read by uuid gives the job itself; which
rows a condition meets then depends on the method it picks, a table no pushdown rule can
keep exact (docs/registry.md says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.model import SqlVerb
from sqlprovider.providers import Registry, bundled_providers_dir
from tests.oracle.compare import check_statement
from tests.oracle.conftest import COMMON, examples
from tests.oracle.fulldata import FullData, load_resource, loader_for, oracle_database
from tests.oracle.harness import connect, engine_environment, sql_text, start_digitalocean
from tests.oracle.shapes import join_statement, limited, one_resource, whole_row_statement
from tests.oracle.writes import KB, KB_SOURCES, Target, check_write, world, write_where

REGISTRY = Path(__file__).resolve().parents[1] / "fixtures" / "stackql"
TABLES = (
    "digitalocean.genai.knowledge_bases",
    "digitalocean.genai.knowledge_base_data_sources",
    "digitalocean.genai.indexing_job_data_sources",
)


@pytest.fixture(scope="module")
def registry_server() -> Iterator[EmulatorServer]:
    server = start_digitalocean()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def registry_engine(registry_server: EmulatorServer) -> Iterator[sqlprovider.Connection]:
    with engine_environment():
        conn = connect({"digitalocean": registry_server}, [REGISTRY])
    with conn:
        yield conn


@pytest.fixture(scope="module")
def registry_full(
    registry_server: EmulatorServer, registry_engine: sqlprovider.Connection
) -> FullData:
    registry = Registry([bundled_providers_dir()], [REGISTRY])
    full = FullData(oracle_database())
    servers = {"digitalocean": registry_server}
    with engine_environment():
        for name in TABLES:
            resource = registry.resource(*name.split("."))
            assert resource.first_match and resource.methods_for(SqlVerb.SELECT)
            loader = loader_for(resource)
            assert loader is not None
            load_resource(registry_engine, full, resource, servers, loader)
    return full


def test_the_full_data_is_the_bundled_providers(registry_full: FullData, full: FullData) -> None:
    """Both emulators are seeded alike: the registry provider's full data holds what the
    hand-written provider's does (the columns both have), so the families below check the
    registry provider against the same data."""
    for name in TABLES:
        ours, theirs = registry_full.info(name), full.info(name)
        shared = [
            c
            for c, kind in zip(ours.columns, ours.types, strict=True)
            if c in theirs.columns and kind != "JSON" and not kind.endswith("[]")
        ]
        assert len(shared) >= 3, name
        query = f"SELECT {', '.join(repr(c).replace(chr(39), chr(34)) for c in shared)} FROM {name}"
        mine = sorted(registry_full.db.execute(query).fetchall(), key=repr)
        assert mine and mine == sorted(full.db.execute(query).fetchall(), key=repr), name


@settings(max_examples=examples(40), **COMMON)
@given(data=st.data())
def test_conditions_on_one_registry_resource(
    registry_engine: sqlprovider.Connection, registry_full: FullData, data: st.DataObject
) -> None:
    statement = data.draw(one_resource(registry_full))
    note(sql_text(statement))
    check_statement(registry_engine, registry_full, statement)


@settings(max_examples=examples(20), **COMMON)
@given(data=st.data())
def test_limits_on_registry_resources(
    registry_engine: sqlprovider.Connection, registry_full: FullData, data: st.DataObject
) -> None:
    statement = data.draw(limited(registry_full))
    note(sql_text(statement))
    check_statement(registry_engine, registry_full, statement)


@settings(max_examples=examples(20), **COMMON)
@given(data=st.data())
def test_joins_of_registry_resources(
    registry_engine: sqlprovider.Connection, registry_full: FullData, data: st.DataObject
) -> None:
    statement = data.draw(join_statement(registry_full))
    note(sql_text(statement))
    check_statement(registry_engine, registry_full, statement)


@settings(max_examples=examples(15), **COMMON)
@given(data=st.data())
def test_whole_rows_of_registry_resources(
    registry_engine: sqlprovider.Connection, registry_full: FullData, data: st.DataObject
) -> None:
    statement = data.draw(whole_row_statement(registry_full))
    note(sql_text(statement))
    check_statement(registry_engine, registry_full, statement)


OTHER = ("name", "region", "is_public", "created_at")
TARGETS = {
    # StackQL's registry serves the knowledge base PUT as REPLACE (update: []).
    "replace knowledge_bases": Target(
        KB,
        "digitalocean",
        f"REPLACE {KB} SET tags = ['oracle']",
        ("uuid",),
        "PUT",
        re.compile(r"^/v2/gen-ai/knowledge_bases/(?P<uuid>[^/]*)$"),
        {"tags": ["oracle"]},
        OTHER,
        (KB,),
    ),
    "delete knowledge_bases": Target(
        KB,
        "digitalocean",
        f"DELETE FROM {KB}",
        ("uuid",),
        "DELETE",
        re.compile(r"^/v2/gen-ai/knowledge_bases/(?P<uuid>[^/]*)$"),
        {},
        OTHER,
        (KB,),
    ),
    "delete knowledge_base_data_sources": Target(
        KB_SOURCES,
        "digitalocean",
        f"DELETE FROM {KB_SOURCES}",
        ("knowledge_base_uuid", "data_source_uuid"),
        "DELETE",
        re.compile(
            r"^/v2/gen-ai/knowledge_bases/(?P<knowledge_base_uuid>[^/]*)"
            r"/data_sources/(?P<data_source_uuid>[^/]*)$"
        ),
        {},
        ("chunking_algorithm", "created_at"),
        (KB, KB_SOURCES),
    ),
}


@pytest.mark.parametrize("name", list(TARGETS))
@settings(max_examples=examples(6), **COMMON)
@given(data=st.data())
def test_a_registry_write_touches_exactly_what_its_where_selects(
    name: str, data: st.DataObject
) -> None:
    target = TARGETS[name]
    with world(target.provider, target.loaded, [REGISTRY]) as w:
        where = data.draw(write_where(w, target))
        note(f"{target.head} WHERE {sql_text(where)}")
        check_write(w, target, where)
