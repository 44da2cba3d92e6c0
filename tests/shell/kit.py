"""What the shell's tests share: an emulator, keys typed through prompt_toolkit's pipe input,
a real terminal (a pty) running ``sqlprovider``, and a server that never answers."""

from __future__ import annotations

import contextlib
import io
import os
import pty
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from sqlprovider.emulators.digitalocean import DigitalOceanConfig, create_app
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.session import Session
from sqlprovider.shell import Shell, commands
from sqlprovider.shell.completion import SqlCompleter

TOKEN = "shell-digitalocean-token-7d2e4b"
JOBS = "digitalocean.genai.indexing_jobs"
SRC = Path(__file__).resolve().parents[2] / "src"


def start_emulator(**config: Any) -> EmulatorServer:
    settings: dict[str, Any] = {"token": TOKEN, "jobs": 40, "rate_limited": False, **config}
    return EmulatorServer(create_app(DigitalOceanConfig(**settings))).start()


def connect(server: EmulatorServer, **options: Any) -> Session:
    """A Session whose DigitalOcean requests go to ``server``."""
    auth = {"digitalocean": {"token": TOKEN}}
    return Session(servers={"digitalocean": server.url}, auth=auth, **options)


def api(server: EmulatorServer, path: str, **params: Any) -> Any:
    """The emulator's answer, read directly (the ground truth)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = httpx.get(server.url + path, params=params, headers=headers)
    response.raise_for_status()
    return response.json()


def all_jobs(server: EmulatorServer) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = api(server, "/v2/gen-ai/indexing_jobs", per_page=200)["jobs"]
    return jobs


# -- keys through prompt_toolkit's pipe input ----------------------------------------------


@dataclass
class Run:
    """What a shell session printed."""

    out: str
    err: str
    code: int
    shell: Shell
    requests: list[tuple[str, str]] = field(default_factory=list)


def drive(session: Session, *keys: str, pause: float = 0.05, **options: Any) -> Run:
    """Type ``keys`` into an interactive shell (each string ``pause`` seconds after the
    previous one); returns what it printed once it ends."""

    def typing(typed: PipeInput, shell: Shell) -> None:
        typed.send_text(keys[0])
        feed(typed, keys[1:], pause)

    return drive_with(session, typing, **options)


def drive_with(
    session: Session,
    typing: Callable[[PipeInput, Shell], None],
    timeout: float = 30,
    **options: Any,
) -> Run:
    """Like ``drive``, with a function that types (and watches the shell as it goes).

    A shell still running ``timeout`` seconds after the typing is done (waiting for more
    of a statement it should have run), or at once when the typing failed (an assertion
    of its own), is ended (its prompt told to stop, whatever its key bindings, then Ctrl-C
    and Ctrl-D), so a test fails instead of hanging; the typing's failure is raised here.
    """
    out, err = io.StringIO(), io.StringIO()
    ended = threading.Event()
    failed: list[BaseException] = []
    with create_pipe_input() as typed:
        shell = Shell(session, input=typed, output=DummyOutput(), stdout=out, stderr=err, **options)

        def type_then_watch() -> None:
            try:
                typing(typed, shell)
            except BaseException as exc:  # raised in the test's thread, once the shell ends
                failed.append(exc)
            if not failed and ended.wait(timeout):
                return
            while not ended.is_set():
                hang_up(shell, typed)
                ended.wait(1)

        feeder = threading.Thread(target=type_then_watch, daemon=True)
        feeder.start()
        try:
            code = shell.interact()
        finally:
            ended.set()
        feeder.join(5)
    if failed:
        raise failed[0]
    return Run(out.getvalue(), err.getvalue(), code, shell)


def hang_up(shell: Shell, typed: PipeInput) -> None:
    """End the shell's prompt as Ctrl-D would, in any key binding mode or search."""
    prompt = shell._prompt
    app = None if prompt is None else prompt.app
    if app is not None and app.is_running and app.loop is not None:

        def stop() -> None:
            with contextlib.suppress(Exception):  # already ending: nothing to do
                app.exit(exception=EOFError())

        app.loop.call_soon_threadsafe(stop)
    else:  # between prompts (a statement running): cancel it, then leave
        typed.send_text("\x03")
        time.sleep(0.5)
        typed.send_text("\x04")


def feed(typed: PipeInput, keys: tuple[str, ...], pause: float = 0.05) -> None:
    for key in keys:
        time.sleep(pause)
        typed.send_text(key)


def buffer_text(shell: Shell) -> str:
    """What the prompt holds now."""
    prompt = shell._prompt
    return "" if prompt is None else prompt.default_buffer.text


def menu(shell: Shell) -> list[str]:
    """The completions the prompt's menu shows."""
    state = None if shell._prompt is None else shell._prompt.default_buffer.complete_state
    return [] if state is None else [c.text for c in state.completions]


def wait_for(condition: Callable[[], bool], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def completions(
    session: Session, text: str, cursor: int | None = None, tab: bool = True
) -> list[str]:
    """What completion offers at ``cursor`` (Tab pressed, or only typing when not ``tab``)."""
    completer = SqlCompleter(
        session.registry, commands.names, commands.available_modes, session.store.local_tables
    )
    document = Document(text, len(text) if cursor is None else cursor)
    event = CompleteEvent(text_inserted=not tab, completion_requested=tab)
    return [c.text for c in completer.get_completions(document, event)]


# -- a server that never answers -----------------------------------------------------------


@dataclass
class Silent:
    """A TCP server on loopback that accepts connections and never answers."""

    url: str
    accepted: threading.Event = field(default_factory=threading.Event)
    hung_up: threading.Event = field(default_factory=threading.Event)  # the client closed


@contextlib.contextmanager
def silent_socket() -> Iterator[Silent]:
    listener = socket.create_server(("127.0.0.1", 0))
    silent = Silent(f"http://127.0.0.1:{listener.getsockname()[1]}")
    held: list[socket.socket] = []

    def listen(connection: socket.socket) -> None:
        try:
            while connection.recv(65536):
                pass
        except OSError:
            return
        silent.hung_up.set()

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)
            silent.accepted.set()
            threading.Thread(target=listen, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield silent
    finally:
        listener.close()
        for connection in held:
            connection.close()


# -- a real terminal -----------------------------------------------------------------------


class Terminal:
    """``sqlprovider`` in a pseudo-terminal (TERM=dumb: plain text, no cursor games)."""

    def __init__(self, args: list[str], home: Path, **env: str) -> None:
        boot = (
            "import fcntl, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
            "from sqlprovider.cli.main import main; sys.exit(main(sys.argv[1:]))"
        )
        environment = child_env(HOME=str(home), TERM="dumb", XDG_STATE_HOME="", **env)
        self.master, replica = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-c", boot, *args],
            stdin=replica,
            stdout=replica,
            stderr=replica,
            start_new_session=True,  # a session of its own, whose terminal is the pty
            env=environment,
        )
        os.close(replica)
        self.seen = b""

    def expect(self, text: str, timeout: float = 10) -> None:
        """Wait until ``text`` appears (what came before it is consumed)."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while wanted not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} did not appear; the terminal shows {self.seen!r}"
            self._read(left)
        self.seen = self.seen.split(wanted, 1)[1]

    def read_for(self, seconds: float) -> bytes:
        """Everything the terminal shows in the next ``seconds`` (not consumed)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._read(left)
        return self.seen

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            self.seen += os.read(self.master, 65536)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait(self) -> int:
        return self.process.wait(10)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        os.close(self.master)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQLPROVIDER_")}
    env.update({"DIGITALOCEAN_TOKEN": TOKEN, "PYTHONPATH": str(SRC), **extra})
    return env


def run_script(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``sqlprovider shell`` with ``script`` on standard input (not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "sqlprovider", "shell", *args],
        input=script,
        capture_output=True,
        text=True,
        env=child_env(**env),
        timeout=30,
    )
