"""The inventory: every fenced block of README.md and docs/*.md has a kind, and every block
of every kind is run or checked by a test of tests/docs. And the options the docs name are
the code's: every option of `sqlprovider` the docs name exists, the table of connect()'s
options lists every connection option, and docs/emulators.md names every field of each
emulator's config."""

from __future__ import annotations

import argparse
import dataclasses
import re

import pytest

from sqlprovider.cli.main import build_parser
from sqlprovider.emulators.amperity import AmperityConfig
from sqlprovider.emulators.digitalocean import DigitalOceanConfig
from sqlprovider.emulators.onyx import OnyxConfig
from sqlprovider.emulators.openverse import OpenverseConfig
from sqlprovider.options import ConnectOptions
from tests.docs import (
    test_doc_console,
    test_doc_outputs,
    test_doc_python,
    test_doc_sh,
    test_doc_sql,
    test_doc_yaml,
)
from tests.docs.blocks import KINDS, ROOT, Block, all_blocks, blocks_of, kind_of, pages
from tests.unit import test_doc_examples


def test_every_block_has_a_known_kind() -> None:
    unknown = []
    for block in all_blocks():
        try:
            assert kind_of(block) in KINDS
        except ValueError as exc:
            unknown.append(str(exc))
    assert unknown == []
    assert {b.page for b in all_blocks()} == set(pages()) - {"docs/performance.md"}


def test_a_block_of_no_known_kind_fails() -> None:
    with pytest.raises(ValueError, match="no test knows this kind"):
        kind_of(Block("docs/x.md", 1, "ruby", "puts 1\n"))
    with pytest.raises(ValueError, match="no known kind"):
        kind_of(Block("docs/x.md", 1, "yaml", "colour: blue\n"))


def where(blocks: list[Block]) -> set[str]:
    return {b.where for b in blocks}


def test_every_block_of_every_kind_is_run_or_checked() -> None:
    sql = where(blocks_of("sql"))
    assert {w.split(" #")[0] for w, _ in test_doc_sql.STATEMENTS} == sql
    assert {w for w, _ in test_doc_examples.EXAMPLES} == sql
    assert where(test_doc_python.BLOCKS) == where(blocks_of("python"))
    assert {f"{c.page}:{c.block}" for c in test_doc_sh.COMMANDS} == where(blocks_of("sh"))
    assert where(test_doc_console.BLOCKS) == where(blocks_of("console"))
    yaml_kinds = [k for k in KINDS if k.startswith("yaml-") and k != "yaml-auth-file"]
    assert where(test_doc_yaml.BLOCKS) == where(blocks_of(*yaml_kinds))
    assert len(blocks_of("yaml-auth-file")) == 1  # test_doc_yaml's auth-file test takes one
    assert where(test_doc_outputs.BLOCKS) == where(blocks_of("output", "generated"))


def _options() -> set[str]:
    parser = build_parser()
    commands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    parsers = [parser, *(p for c in commands for p in c.choices.values())]
    return {o for p in parsers for a in p._actions for o in a.option_strings}


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
    configs = (DigitalOceanConfig, OnyxConfig, AmperityConfig, OpenverseConfig)
    assert named == {c.__name__: {f.name for f in dataclasses.fields(c)} for c in configs}
