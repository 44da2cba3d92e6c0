"""Fixtures of the shell's tests: an emulator, a Session on it, a server that never answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.session import Session
from tests.shell.kit import Silent, connect, silent_socket, start_emulator


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """One emulator for the read-only tests."""
    emulator = start_emulator()
    yield emulator
    emulator.stop()


@pytest.fixture
def session(server: EmulatorServer) -> Iterator[Session]:
    with_server = connect(server)
    yield with_server
    with_server.close()


@pytest.fixture
def silent_server() -> Iterator[Silent]:
    with silent_socket() as silent:
        yield silent
