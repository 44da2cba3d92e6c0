"""Fixtures of the doc tests: the four emulators as ``sqlprovider sandbox`` starts them (one
set for reads, one for writes), started once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer, LoggedRequest
from sqlprovider.emulators.sandbox import SandboxOptions, base_url, environment, start_all


class Emulators:
    """Running emulators (one per provider), reached as ``sqlprovider sandbox`` would be."""

    def __init__(self, servers: list[EmulatorServer]) -> None:
        self.servers = {server.name: server for server in servers}
        self.env = environment(servers)  # what `sqlprovider sandbox` prints
        self._handed_out: set[str] = set()

    def url(self, provider: str) -> str:
        """The base URL the provider's paths go under (``/api`` for Onyx)."""
        return base_url(self.servers[provider])

    def connect(self, **options: Any) -> sqlprovider.Connection:
        """An engine connection to every emulator (credentials passed unless ``auth`` is
        given, not read from the environment; Amperity's tenant comes from
        ``AMPERITY_TENANT``)."""
        options.setdefault(
            "auth", {n: {"token": s.token} for n, s in self.servers.items() if s.token}
        )
        return sqlprovider.connect(
            servers={name: self.url(name) for name in self.servers}, **options
        )

    def use_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Set the variables `sqlprovider sandbox` prints, as a user pastes them."""
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)

    # -- the emulators' own answers, read without the engine --------------------------------

    def request(self, provider: str, method: str, path: str, **options: Any) -> httpx.Response:
        server = self.servers[provider]
        headers = {"Authorization": f"Bearer {server.token}"} if server.token else {}
        if provider == "amperity":
            headers.update({"amperity-tenant": self.env["AMPERITY_TENANT"]})
            headers.update({"api-version": "2024-04-01"})
        return httpx.request(method, self.url(provider) + path, headers=headers, **options)

    def get(self, provider: str, path: str, **params: Any) -> Any:
        response = self.request(provider, "GET", path, params=params)
        response.raise_for_status()
        return response.json()

    def digitalocean_list(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every item of a paginated DigitalOcean list."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get("digitalocean", path, page=page, per_page=200)
            items.extend(body[key])
            if page >= body["meta"]["pages"]:
                return items
            page += 1

    def jobs(self) -> list[dict[str, Any]]:
        return self.digitalocean_list("/v2/gen-ai/indexing_jobs", "jobs")

    def knowledge_bases(self) -> list[dict[str, Any]]:
        return self.digitalocean_list("/v2/gen-ai/knowledge_bases", "knowledge_bases")

    def data_sources(self, kb: str) -> list[dict[str, Any]]:
        path = f"/v2/gen-ai/knowledge_bases/{kb}/data_sources"
        return self.digitalocean_list(path, "knowledge_base_data_sources")

    # -- ids for writes: each handed out once, so examples never act on each other's objects --

    def fresh_kb(self) -> str:
        """A knowledge base no other write of the doc tests uses."""
        for kb in self.knowledge_bases():
            if kb["uuid"] not in self._handed_out and "nightly-fail" not in kb["name"]:
                self._handed_out.add(kb["uuid"])
                return str(kb["uuid"])
        raise AssertionError("the emulator has no knowledge base left for the doc tests")

    def fresh_job(self, phase: str) -> str:
        """A seeded job in this phase that no other write of the doc tests uses."""
        for job in self.jobs():
            if job["phase"] == phase and job["uuid"] not in self._handed_out:
                self._handed_out.add(job["uuid"])
                return str(job["uuid"])
        raise AssertionError(f"the emulator has no {phase} job left for the doc tests")

    # -- the request log ----------------------------------------------------------------------

    def clear_logs(self) -> None:
        for server in self.servers.values():
            server.log.clear()

    def requests(self, provider: str, *methods: str) -> list[LoggedRequest]:
        """The requests the emulator received since ``clear_logs``, of these methods."""
        entries = self.servers[provider].log.entries()
        return [e for e in entries if not methods or e.method in methods]


# Where the `sqlprovider` command of this virtual environment is.
BIN = Path(sys.executable).parent


def run_sh(
    command: str, emulators: Emulators, cwd: Path, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a command line of the docs with ``sh``, in an environment with the exports
    `sqlprovider sandbox` prints for these emulators and this environment's ``sqlprovider``
    first on PATH."""
    env = {**os.environ, **emulators.env, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["sh", "-c", command],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _start() -> list[EmulatorServer]:
    # Rate limits lifted: the examples fan out (one request per failed job) and run often.
    return start_all(options=SandboxOptions(rate_limited=False))


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Emulators]:
    """The emulators the read-only examples and commands run against."""
    servers = _start()
    yield Emulators(servers)
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def writable() -> Iterator[Emulators]:
    """Emulators of their own for the examples that write (create, cancel, delete)."""
    servers = _start()
    yield Emulators(servers)
    for server in servers:
        server.stop()
