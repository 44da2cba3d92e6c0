"""Fixtures of the MCP server's tests: a DigitalOcean emulator of their own, so that its
request log holds only what the test's server sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Emulator, start


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh emulator (250 jobs: more than two pages of the job list)."""
    server, settings = start(jobs=250)
    yield Emulator(server, settings)
    server.stop()
