"""The inventory: every fenced block of README.md and docs/*.md has a kind, and every block
of every kind is run or checked by a test of tests/docs."""

from __future__ import annotations

import pytest

from tests.docs import (
    test_doc_console,
    test_doc_json,
    test_doc_outputs,
    test_doc_python,
    test_doc_serve,
    test_doc_sh,
    test_doc_sql,
    test_doc_yaml,
)
from tests.docs.blocks import KINDS, Block, all_blocks, blocks_of, kind_of, pages
from tests.spark import test_spark_docs
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
    assert where(test_doc_json.BLOCKS) == where(blocks_of("json"))
    assert where(test_doc_serve.BLOCKS) == where(blocks_of("serve", "psql"))
    assert where(test_spark_docs.BLOCKS) == where(blocks_of("spark-python", "spark-sql"))
