"""Shared fixtures: test tokens, and the rule that tests only ever talk to loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).parent / "unit" / "fixtures"


def load_fixture(name: str) -> list[dict[str, Any]]:
    """The cases of a YAML fixture file, for pytest.mark.parametrize."""
    cases: list[dict[str, Any]] = yaml.safe_load((FIXTURES / name).read_text())
    return cases


def _provider_env() -> frozenset[str]:
    """Every environment variable a bundled provider reads: credentials, server variables,
    params with env fallbacks."""
    from sqlprovider.providers import Registry, bundled_providers_dir

    registry = Registry([bundled_providers_dir()])
    names: set[str] = set()
    for provider in (registry.get(n) for n in registry.names()):
        names.update(provider.auth.env, provider.auth.username_env)
        for variable in provider.server.variables:
            names.update(variable.env)
        for resource in provider.resources():
            for method in resource.methods:
                for param in method.params:
                    names.update(param.env)
    return frozenset(names)


PROVIDER_ENV = _provider_env()


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any) -> None:
    """Tests never see the developer's real tokens, auth file, local registry or server
    overrides."""
    import os

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    # No provider from the developer's local registry (sqlprovider registry pull).
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))

    for name in list(os.environ):
        if name.startswith("SQLPROVIDER_") or name in PROVIDER_ENV:
            monkeypatch.delenv(name, raising=False)


class Clock:
    """A clock tests move by hand (emulators take it as their ``clock``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A fresh hand-moved clock."""
    return Clock()
