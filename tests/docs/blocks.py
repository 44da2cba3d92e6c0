"""The fenced code blocks of README.md and docs/*.md, and the kind of each one.

Every block gets a kind here, and every kind is run or checked by a test in tests/docs (or
planned by tests/unit/test_doc_examples.py); a block of no known kind fails the inventory
test, so a new block is never silently left out.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import yaml

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*) *$")

# The kinds of blocks, and what is done with each.
KINDS = {
    "sql": "planned, and every statement executed against the emulators",
    "python": "executed (servers and credentials pointed at the emulators)",
    "sh": "every command run as a subprocess against the emulators, or listed as not run",
    "console": "a shell session: the typed lines driven through the shell, the output compared",
    "yaml-provider": "a whole provider: loaded with load_provider",
    "yaml-columns": "validated against the columns of RESOURCE",
    "yaml-methods": "each validated against METHOD",
    "yaml-method-keys": "keys of one method: validated against METHOD",
    "yaml-params": "validated against the params of METHOD",
    "yaml-pagination": "validated against PAGINATION",
    "yaml-auth-file": "loaded as an auth file, then used to reach an emulator",
    "output": "what a command or the API prints: compared with what it prints today",
    "generated": "generated from the code (docs/cli.md): compared with the generator's output",
    "json": "an MCP client configuration (its server started and spoken to), or what the MCP "
    "server writes (structured content, an audit record): compared with what it writes",
    "serve": "command lines of docs/serve.md: each server started, each psql line connected",
    "psql": "a psql session with `sqlprovider serve`: typed lines run, the output compared",
    "spark-python": "docs/scale-out.md: run in tests/spark's SparkSession against the emulators",
    "spark-sql": "docs/scale-out.md: run with spark.sql in tests/spark, answers as the engine's",
}
AUTH_TYPES = frozenset({"bearer", "api_key", "basic", "header", "none"})


def pages() -> list[str]:
    """README.md and every page of docs/, relative to the repository."""
    return ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language and its text (dedented)."""

    page: str
    line: int  # the line of the opening fence, 1-based
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def kind(self) -> str:
        return kind_of(self)


def read_blocks(page: str) -> list[Block]:
    """The fenced blocks of one page, in order."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    number = 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if opening is None:
            number += 1
            continue
        body: list[str] = []
        end = number + 1
        while end < len(lines) and not re.fullmatch(r" *``` *", lines[end]):
            body.append(lines[end])
            end += 1
        assert end < len(lines), f"{page}:{number + 1}: the block is never closed"
        text = textwrap.dedent("\n".join(body)) + "\n"
        found.append(Block(page, number + 1, opening.group("lang"), text))
        number = end + 1
    return found


@cache
def all_blocks() -> tuple[Block, ...]:
    return tuple(block for page in pages() for block in read_blocks(page))


def blocks_of(*kinds: str) -> list[Block]:
    """The blocks of these kinds, in page order."""
    return [block for block in all_blocks() if block.kind in kinds]


def kind_of(block: Block) -> str:
    """The kind of a block (see KINDS); ValueError for a block of no known kind."""
    if block.page == "docs/scale-out.md" and block.lang in ("python", "sql"):
        return "spark-" + block.lang  # Spark's own: tests/spark/test_spark_docs.py
    if block.lang == "sh" and block.page == "docs/serve.md":
        return "serve"  # servers that run until stopped: tests/docs/test_doc_serve.py
    if block.lang in ("sql", "python", "sh", "console", "json", "psql"):
        return block.lang
    if block.lang == "yaml":
        return "yaml-" + _yaml_kind(yaml.safe_load(block.text), block)
    if block.lang == "":
        return "generated" if block.page == "docs/cli.md" else "output"
    raise ValueError(f"{block.where}: a ```{block.lang} block: no test knows this kind")


def _yaml_kind(document: Any, block: Block) -> str:
    if isinstance(document, list) and all(_is_method(m) for m in document):
        return "methods"
    if not isinstance(document, dict) or not document:
        raise ValueError(f"{block.where}: a YAML block that is neither a mapping nor methods")
    if {"name", "services"} <= document.keys():
        return "provider"
    if len(document) == 1 and next(iter(document)) in ("columns", "params", "pagination"):
        return str(next(iter(document)))
    if len(document) == 1 and "methods" in document:
        return "methods"
    values = list(document.values())
    if all(isinstance(v, dict) and "in" in v for v in values):
        return "params"
    if all(isinstance(v, dict) and v.get("type") in AUTH_TYPES for v in values):
        return "auth-file"
    from sqlprovider.providers.schema import METHOD

    method_keys = cast(dict[str, Any], METHOD["properties"])
    if "name" not in document and document.keys() <= method_keys.keys():
        return "method-keys"
    raise ValueError(f"{block.where}: a YAML block of no known kind (keys {sorted(document)})")


def _is_method(item: Any) -> bool:
    return isinstance(item, dict) and {"name", "sql_verb"} <= item.keys()
