"""Start every emulator on loopback: ``sqlprovider sandbox`` and ``sqlprovider demo``."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette

from sqlprovider.emulators import digitalocean
from sqlprovider.emulators.kit import EmulatorServer


@dataclass(frozen=True)
class EmulatorKind:
    """An emulator the sandbox can start."""

    name: str  # the provider it stands in for
    token: str | None  # the credential it accepts
    token_env: str | None  # where the provider reads that credential from
    build: Callable[[int, bool], Starlette]  # (size, rate limits enforced) → app


EMULATORS: dict[str, EmulatorKind] = {
    "digitalocean": EmulatorKind(
        name="digitalocean",
        token=digitalocean.DEFAULT_TOKEN,
        token_env="DIGITALOCEAN_TOKEN",
        build=lambda jobs, limited: digitalocean.create_app(
            digitalocean.DigitalOceanConfig(jobs=jobs, rate_limited=limited)
        ),
    ),
}


def start_all(
    port: int = 0, host: str = "127.0.0.1", jobs: int = 1000, rate_limited: bool = True
) -> list[EmulatorServer]:
    """Start every emulator; the first on ``port`` (0: any free port), the next ones after.

    ``rate_limited=False`` lifts the APIs' rate limits (for load tests and benchmarks)."""
    servers = []
    try:
        for offset, kind in enumerate(EMULATORS.values()):
            server = EmulatorServer(
                kind.build(jobs, rate_limited),
                host=host,
                port=port + offset if port else 0,
                name=kind.name,
                token=kind.token,
            )
            servers.append(server.start())
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def environment_lines(servers: list[EmulatorServer]) -> list[str]:
    """The ``export`` lines that point the engine at the servers."""
    lines = []
    for server in servers:
        kind = EMULATORS[server.name]
        lines.append(f"export SQLPROVIDER_{server.name.upper()}_URL={server.url}")
        if kind.token_env and kind.token:
            lines.append(f"export {kind.token_env}={kind.token}")
    return lines


def serve(
    port: int = 8080, host: str = "127.0.0.1", jobs: int = 1000, rate_limited: bool = True
) -> None:
    """Start every emulator, print how to use them, and serve until Ctrl-C or SIGTERM."""
    servers = start_all(port, host, jobs, rate_limited)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print("# sqlprovider sandbox: paste these lines into the shell that runs queries")
        for line in environment_lines(servers):
            print(line)
        print("# Ctrl-C stops the emulators", flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for server in servers:
            server.stop()
