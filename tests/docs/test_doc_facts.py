"""What the docs' prose says about the code's names holds: every option of `sqlprovider`
the docs name exists, the table of connect()'s options lists every connection option,
docs/emulators.md names every field of each emulator's config, the README's table of
providers lists every table of every bundled provider, and every variable the docs export is
one sqlprovider reads."""

from __future__ import annotations

import argparse
import dataclasses
import re

from sqlprovider.cli.main import build_parser
from sqlprovider.emulators.amperity import AmperityConfig
from sqlprovider.emulators.digitalocean import DigitalOceanConfig
from sqlprovider.emulators.onyx import OnyxConfig
from sqlprovider.emulators.openverse import OpenverseConfig
from sqlprovider.emulators.registry import RegistryConfig
from sqlprovider.options import ConnectOptions
from sqlprovider.providers import Registry
from tests.docs.blocks import ROOT, blocks_of, pages


def _options(parser: argparse.ArgumentParser | None = None) -> set[str]:
    """Every option of the command and of its subcommands, at any depth (``registry pull``)."""
    parser = parser or build_parser()
    found = {o for a in parser._actions for o in a.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _options(sub)
    return found


def test_every_option_the_docs_name_exists() -> None:
    options = _options()
    named = {
        (page, option)
        for page in pages()
        if page not in ("docs/cli.md", "docs/performance.md")  # generated; the benchmarks' own
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]+", (ROOT / page).read_text())
    }
    assert named and {(page, o) for page, o in named if o not in options} == set()


def test_the_connect_options_table_lists_every_connection_option() -> None:
    text = (ROOT / "docs" / "python-api.md").read_text()
    section = text.split("## `sqlprovider.connect(**options) -> Connection`")[1].split("\n## ")[0]
    rows = [line.split(" | ")[0] for line in section.splitlines() if line.startswith("| `")]
    named = [name for row in rows for name in re.findall(r"`(\w+)=", row)]
    assert sorted(named) == sorted(f.name for f in dataclasses.fields(ConnectOptions))


def test_docs_emulators_md_names_the_fields_of_every_emulator_config() -> None:
    text = (ROOT / "docs" / "emulators.md").read_text()
    # "`XConfig` fields: `a`, `b` (...)": the paragraph, or the list that follows it
    named = {
        m.group(1): set(re.findall(r"`([a-z_0-9]+)`(?!s)", m.group(2)))
        for m in re.finditer(r"`(\w+Config)` fields:(.*?)(?=\n\n(?!\* )|\Z)", text, re.S)
    }
    configs = (DigitalOceanConfig, OnyxConfig, AmperityConfig, OpenverseConfig, RegistryConfig)
    assert named == {c.__name__: {f.name for f in dataclasses.fields(c)} for c in configs}


def test_the_readme_lists_every_table_of_every_provider() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Providers")[1].split("\n\n")[1]
    listed = {
        row.split(" | ")[0].strip("| `"): set(re.findall(r"`(\w+\.\w+)`", row.split(" | ")[1]))
        for row in section.splitlines()[2:]
    }
    registry = Registry()
    assert listed == {
        name: {f"{r.service}.{r.name}" for r in registry.get(name).resources()}
        for name in registry.names()
    }


def test_every_variable_the_docs_export_is_read_by_sqlprovider() -> None:
    registry = Registry()
    read = {"SQLPROVIDER_AUTH_FILE", "SQLPROVIDER_PROVIDERS_PATH"}
    for provider in (registry.get(name) for name in registry.names()):
        read.add(f"SQLPROVIDER_{provider.name.upper()}_URL")
        read.update(provider.auth.env, provider.auth.username_env)
        read.update(e for variable in provider.server.variables for e in variable.env)
        read.update(
            e
            for resource in provider.resources()
            for method in resource.methods
            for param in method.params
            for e in param.env
        )
    exported = {
        name
        for block in blocks_of("sh")
        for name in re.findall(r"(?<![\w$])([A-Z][A-Z0-9_]+)=", block.text)
    }
    assert len(exported) >= 8 and exported - read == set()
