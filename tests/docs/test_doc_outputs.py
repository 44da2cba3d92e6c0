"""What the docs show the code printing (plain ``` blocks) is what it prints today: error
messages, the error tree, the generated CLI reference.

Each block is matched by exactly one check, by its first line; a block without a check
fails. In the docs' lines, ``...`` stands for any text.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.cli.reference import render
from sqlprovider.providers.loader import load_provider
from tests.docs.blocks import ROOT, Block, blocks_of
from tests.docs.conftest import BIN, Emulators, run_sh

BLOCKS = blocks_of("output", "generated")


def shown(line: str) -> re.Pattern[str]:
    """A line of the docs as a pattern: ``...`` is any text."""
    return re.compile(re.escape(line).replace(r"\.\.\.", ".*"))


def missing_params_error() -> sqlprovider.MissingParamsError:
    with (
        sqlprovider.connect() as conn,
        pytest.raises(sqlprovider.MissingParamsError) as raised,
    ):
        conn.execute("SELECT * FROM digitalocean.genai.indexing_job_data_sources")
    return raised.value


def check_missing_params(block: Block, ctx: Context) -> None:
    """docs/providers.md shows the message; docs/sql.md the line the shell prints."""
    error = missing_params_error()
    line = f"error: {error}" if block.text.startswith("error: ") else str(error)
    assert block.text == line + "\n"
    assert error.missing  # the method → params it names


def check_invalid_provider(block: Block, ctx: Context) -> None:
    """A method with ``pagination`` misspelled, in providers/acme.yaml."""
    folder = ctx.tmp_path / "providers"
    folder.mkdir()
    (folder / "acme.yaml").write_text(
        "name: acme\n"
        "server: {url: https://acme.example.com}\n"
        "services:\n"
        "  jobs:\n"
        "    resources:\n"
        "      runs:\n"
        "        columns: {id: {type: string}}\n"
        "        methods:\n"
        "          - {name: list_runs, sql_verb: select, http_verb: GET, path: /runs,\n"
        "             pagnation: {type: none}}\n"
    )
    ctx.monkeypatch.chdir(ctx.tmp_path)
    with pytest.raises(sqlprovider.ProviderError) as raised:
        load_provider(Path("providers/acme.yaml"))
    assert block.text == f"{raised.value}\n"


def check_error_tree(block: Block, ctx: Context) -> None:
    """Each class is a subclass of the one it hangs from; every exception class the module
    exports is in the tree; the attributes named in parentheses are its constructor's."""
    stack: list[tuple[int, type]] = []
    shown_classes: list[type] = []
    with_attributes = []
    for line in block.text.splitlines():
        name = re.search(r"[A-Z]\w+", line)
        assert name, line
        depth = name.start() // 4
        cls = getattr(sqlprovider, name.group())
        stack = stack[:depth]
        if stack:
            assert cls.__base__ is stack[-1][1], f"{cls.__name__} under {stack[-1][1].__name__}"
        else:
            assert cls.__base__ is Exception, cls
        stack.append((depth, cls))
        shown_classes.append(cls)
        attributes = re.search(r"\(([^)]*)\)$", line)
        named = (
            [p.split(":")[0].strip() for p in attributes.group(1).split(",")] if attributes else []
        )
        if named and all(re.fullmatch(r"[a-z_]+", n) for n in named):  # not prose in brackets
            parameters = inspect.signature(cls.__init__).parameters
            assert set(named) <= set(parameters), f"{cls.__name__}: {named}"
            with_attributes.append(cls)
    assert sqlprovider.HTTPStatusError in with_attributes
    exported = [
        getattr(sqlprovider, n)
        for n in sqlprovider.__all__
        if inspect.isclass(getattr(sqlprovider, n))
        and issubclass(getattr(sqlprovider, n), BaseException)
    ]
    assert sorted(c.__name__ for c in shown_classes) == sorted(c.__name__ for c in exported)


def check_script_error_line(block: Block, ctx: Context) -> None:
    """A script whose statement on line 7 is refused with a 403: the results before it
    are printed, then the line the docs show (their https://... is the API's URL)."""
    script = (
        "-- knowledge bases, then jobs\n"
        "SELECT count(*) AS knowledge_bases\n"
        "FROM digitalocean.genai.knowledge_bases;\n"
        "\n"
        "\n"
        "-- every job\n"
        "SELECT uuid FROM digitalocean.genai.indexing_jobs;\n"
        "SELECT 'never run' AS after;\n"
    )
    (ctx.tmp_path / "report.sql").write_text(script)
    fault = ctx.sandbox.servers["digitalocean"].faults.fail(
        "GET", "/v2/gen-ai/indexing_jobs", status=403, times=1
    )
    ran = run_sh("sqlprovider exec -f report.sql", ctx.sandbox, ctx.tmp_path)
    assert fault.hits == 1
    assert ran.returncode == 1
    assert ran.stdout == f"knowledge_bases\n{len(ctx.sandbox.knowledge_bases())}\n"
    url = ctx.sandbox.url("digitalocean")
    expected = block.text.strip().replace("https://...", f"{url}/...")
    assert shown(expected).fullmatch(ran.stderr.strip()), ran.stderr


def check_generated(block: Block, ctx: Context) -> None:
    assert f"```\n{block.text}```" in render()


def check_registry_pull(block: Block, ctx: Context) -> None:
    """docs/registry.md: what a pull prints. Our fixture provider (tests/fixtures/
    registry_pull), published as okta v0.1.0 on the static registry on loopback, pulled
    into the default local registry of a HOME of its own."""
    from sqlprovider.emulators.registry import publish
    from tests.registry_support import documents, registry_server, registry_url

    served = ctx.tmp_path / "served"
    publish(served, "okta", "v0.1.0", documents(ctx.tmp_path, "v0.1.0"))
    home = ctx.tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    with registry_server(served) as server:
        env.update(HOME=str(home), SQLPROVIDER_REGISTRY_URL=registry_url(server))
        done = subprocess.run(
            [str(BIN / "sqlprovider"), "registry", "pull", "okta"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert (done.returncode, done.stderr) == (0, "")
    printed = done.stdout.replace(str(home), "~").splitlines()
    lines = block.text.splitlines()
    assert len(printed) == len(lines)
    assert all(shown(line).fullmatch(out) for line, out in zip(lines, printed, strict=True))
    assert (home / ".local/share/sqlprovider/registry/src/okta/v0.1.0/provider.yaml").is_file()


def check_null_example(block: Block, ctx: Context) -> None:
    """docs/scripts.md: the command its prose names, run with the format the block shows
    (csv or jsonl), prints the block."""
    text = (ROOT / block.page).read_text()
    [command] = re.findall(r'`(sqlprovider exec -o csv "SELECT NULL AS nothing[^"]*")`', text)
    if block.text.startswith("{"):
        command = command.replace("-o csv", "-o jsonl")
    ran = run_sh(command, ctx.sandbox, ctx.tmp_path)
    assert (ran.returncode, ran.stderr) == (0, "")
    assert ran.stdout == block.text


def check_record(block: Block, ctx: Context) -> None:
    """docs/shell.md: a row shown as a record is laid out as the formatter lays it out (the
    values, made up, are read from the block)."""
    from sqlprovider.output import OutputOptions, render
    from sqlprovider.result import Result

    pairs = [line.split(" | ") for line in block.text.splitlines()[1:-1]]
    names = [name.rstrip() for name, _ in pairs]
    result = Result(names, ["VARCHAR"] * len(names), [tuple(value for _, value in pairs)])
    assert render(result, OutputOptions(expanded="on")) == block.text


CHECKS: list[tuple[str, Callable[[Block, Context], None]]] = [
    (r"-\[ RECORD 1 \]-", check_record),
    (r"nothing,empty,word,", check_null_example),
    (r'\{"nothing":null,', check_null_example),
    (r"(error: )?digitalocean\.genai\.indexing_job_data_sources needs ", check_missing_params),
    (r"invalid provider definition providers/acme\.yaml: ", check_invalid_provider),
    (r"Error$", check_error_tree),
    (r"error: report\.sql:7: ", check_script_error_line),
    (r"usage: sqlprovider", check_generated),
    (r"pulled okta ", check_registry_pull),
]


class Context:
    def __init__(self, sandbox: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sandbox = sandbox
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch


def check_for(block: Block) -> Callable[[Block, Context], None]:
    first = block.text.splitlines()[0]
    matching = [check for pattern, check in CHECKS if re.match(pattern, first)]
    assert len(matching) == 1, f"{block.where}: {len(matching)} checks match {first!r}"
    return matching[0]


def test_every_check_is_of_a_block_of_the_docs() -> None:
    for pattern, _ in CHECKS:
        assert any(re.match(pattern, b.text.splitlines()[0]) for b in BLOCKS), pattern


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_every_output_the_docs_show_is_what_the_code_prints(
    block: Block, sandbox: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_for(block)(block, Context(sandbox, tmp_path, monkeypatch))
