"""The shell sessions the docs show (```console blocks) are typed into the shell, and what it
prints is what the docs show.

A session that starts with ``$ sqlprovider shell ...`` is started with those arguments (parsed
by the command line's own parser) and compared from its banner on; one that starts at a prompt
is a part of a session, compared after the banner. Lines after ``sqlprovider>``, ``->`` and
``Send it? [y/N]`` are typed; every other line must be printed, in order, and nothing else.
In the docs' lines, ``...`` stands for any text (ids, and the spaces after them in a table).

Sessions run against the emulators: the docs' ``http://127.0.0.1:8080`` and
``https://api.digitalocean.com`` stand for where the DigitalOcean API is, and ``4f1c...``
for the id of a knowledge base.
"""

from __future__ import annotations

import io
import re
import shlex
import threading
import time
from dataclasses import dataclass, field

import pytest
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from sqlprovider.cli.connection import connect_options
from sqlprovider.cli.main import build_parser
from sqlprovider.session import Session
from sqlprovider.shell import Shell
from tests.docs.blocks import Block, blocks_of
from tests.docs.conftest import Emulators

BLOCKS = blocks_of("console")
TYPED = re.compile(r"^(sqlprovider> | +-> |Send (?:it|them)\? \[y/N\] )(?P<keys>.*)$")


@dataclass
class Transcript:
    """A shell session the docs show: the command, what is typed, what is printed."""

    argv: list[str]
    keys: list[str] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)
    from_start: bool = False


def parse(block: Block, emulators: Emulators) -> Transcript:
    lines = block.text.splitlines()
    session = Transcript(["sqlprovider", "shell"])
    if lines[0].startswith("$ "):
        command = lines.pop(0).removeprefix("$ ")
        session.argv = shlex.split(
            command.replace("http://127.0.0.1:8080", emulators.url("digitalocean"))
        )
        session.from_start = True
    assert session.argv[:2] == ["sqlprovider", "shell"], f"{block.where}: not a shell session"
    kb = emulators.knowledge_bases()[0]["uuid"]
    for line in lines:
        typed = TYPED.match(line)
        if typed:
            session.keys.append(typed.group("keys").replace("4f1c...", kb) + "\r")
        else:
            real = line.replace("https://api.digitalocean.com", emulators.url("digitalocean"))
            session.printed.append(real.replace("4f1c...", kb))
    return session


def shown(line: str) -> re.Pattern[str]:
    """A line of the docs as a pattern: ``...`` (and the spaces after it) is any text."""
    return re.compile(re.sub(r"\\\.\\\.\\\.(\\ )*", ".*", re.escape(line)))


def _feed(typed: PipeInput, keys: list[str]) -> None:
    for key in keys:
        time.sleep(0.1)  # each line after the previous one has been taken in
        typed.send_text(key)


def run(session: Transcript) -> list[str]:
    """Type the keys into a shell started as the session's command line; what it printed
    (results and messages, in order)."""
    parser = build_parser()
    args = parser.parse_args(session.argv[1:])
    printed = io.StringIO()
    opened = Session(connect_options(args, parser))
    try:
        with create_pipe_input() as typed:
            shell = Shell(
                opened,
                yes=args.yes,
                input=typed,
                output=DummyOutput(),
                stdout=printed,
                stderr=printed,
            )
            # Ctrl-D ends a part of a session that does not end it itself.
            keys = [*session.keys, "\x04"]
            feeder = threading.Thread(target=_feed, args=(typed, keys), daemon=True)
            feeder.start()
            assert shell.interact() == 0
            feeder.join(5)
    finally:
        opened.close()
    return printed.getvalue().splitlines()


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_every_shell_session_prints_what_the_docs_show(
    block: Block, sandbox: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = parse(block, sandbox)
    sandbox.use_environment(monkeypatch)
    if any(arg.startswith("--server") for arg in session.argv):
        monkeypatch.delenv("SQLPROVIDER_DIGITALOCEAN_URL")  # --server is what points it there
    sandbox.clear_logs()
    printed = run(session)
    if not session.from_start:
        printed = printed[1:]  # the banner, printed before the part the docs show
    assert len(printed) == len(session.printed), "\n".join(printed)
    for expected, line in zip(session.printed, printed, strict=True):
        assert shown(expected).fullmatch(line), f"{expected!r} != {line!r}"
    # Nothing the docs' sessions do changes anything: they read, or answer no.
    assert sandbox.requests("digitalocean", "POST", "PUT", "PATCH", "DELETE") == []
    assert sandbox.requests("digitalocean")  # and they did reach the emulator
