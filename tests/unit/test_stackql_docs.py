"""The reference pages sqlprovider writes for StackQL registry providers: every example on
the page of every resource of every fixture document plans (nothing is sent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlprovider.docgen import render_docs
from sqlprovider.model import Param, Resource, SqlVerb
from sqlprovider.planner import Planner
from sqlprovider.providers import Registry, bundled_providers_dir
from sqlprovider.sql import split_statements
from sqlprovider.template import render
from tests.unit.test_provider_docs import PLACEHOLDER, _examples, _sample

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stackql"


def _registry() -> Registry:
    return Registry([bundled_providers_dir()], [FIXTURES])


def _pages() -> list[tuple[str, str]]:
    registry = _registry()
    found: list[tuple[str, str]] = []
    for name in registry.names():
        if registry.get(name).version:  # the registry's providers only
            found.extend(
                (page, text)
                for page, text in render_docs(name, registry=registry).items()
                if page.startswith(f"{name}/") and page.count("/") == 2
            )
    return sorted(found)


PAGES = _pages()


def test_every_fixture_resource_has_a_page() -> None:
    registry = _registry()
    expected = {
        f"{p.name}/{s.name}/{r}.md"
        for name in registry.names()
        if (p := registry.get(name)).version
        for s in p.services.values()
        if s.name != "billing"  # listed by the registry, its document absent: no pages
        for r in s.resources
    }
    assert {page for page, _ in PAGES} == expected
    assert len(expected) >= 20


@pytest.mark.parametrize(("page", "text"), PAGES, ids=[p for p, _ in PAGES])
def test_every_example_on_the_page_plans(
    page: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_TENANT", "acme")
    registry = _registry()
    resource = registry.resource(*page.removesuffix(".md").split("/"))
    examples = _examples(text)
    usable = {m.name for m in resource.methods if not m.unsupported}
    assert {method for method, _ in examples} == usable
    planner = Planner(registry)
    params = {re.sub(r"\W", "_", p.name): p for m in reversed(resource.methods) for p in m.params}
    for method, sql in examples:
        values = {n: _value(resource, params[n]) for n in PLACEHOLDER.findall(sql)}
        [statement] = split_statements(render(sql, values))
        plan = planner.plan(statement)
        chosen = plan.mutation.method.name if plan.mutation else plan.fetches[0].method.name
        assert _documented_or_earlier(resource, method, chosen), (method, chosen, sql)


def _value(resource: Resource, param: Param) -> object:
    """A sample of the param's type; a number where the column of its name is one."""
    column = resource.column(param.name)
    if column is not None and column.type in ("integer", "uint64"):
        return 12
    return _sample(resource, param)


def _documented_or_earlier(resource: Resource, documented: str, chosen: str) -> bool:
    """StackQL's rule: the first runnable method in sqlVerbs order runs, so a SELECT example
    for a later method may run an earlier one that its params also satisfy."""
    if chosen == documented:
        return True
    order = [m.name for m in resource.methods_for(SqlVerb.SELECT)]
    return chosen in order and documented in order and order.index(chosen) < order.index(documented)
