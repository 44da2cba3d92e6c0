"""Start every emulator on loopback: ``sqlprovider sandbox`` and ``sqlprovider demo``."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette

from sqlprovider.emulators.kit import EmulatorServer


@dataclass(frozen=True)
class SandboxOptions:
    """How big the seeded data is and whether rate limits are enforced."""

    jobs: int = 1000  # DigitalOcean indexing jobs
    rate_limited: bool = True


@dataclass(frozen=True)
class EmulatorKind:
    """An emulator the sandbox can start.

    Attributes:
        name: the provider it stands in for.
        build: the app, for the sandbox's options.
        path: what follows the server's URL in the provider's base URL (``/api``).
        token: the credential it accepts, if any.
        env: the environment the provider reads its credential and settings from.
    """

    name: str
    build: Callable[[SandboxOptions], Starlette]
    path: str = ""
    token: str | None = None
    env: tuple[tuple[str, str], ...] = ()


def _digitalocean(options: SandboxOptions) -> Starlette:
    from sqlprovider.emulators import digitalocean

    config = digitalocean.DigitalOceanConfig(jobs=options.jobs, rate_limited=options.rate_limited)
    return digitalocean.create_app(config)


def _onyx(options: SandboxOptions) -> Starlette:
    from sqlprovider.emulators import onyx

    return onyx.create_app(onyx.OnyxConfig())


def _amperity(options: SandboxOptions) -> Starlette:
    from sqlprovider.emulators import amperity

    return amperity.create_app(amperity.AmperityConfig(rate_limited=options.rate_limited))


def _openverse(options: SandboxOptions) -> Starlette:
    from sqlprovider.emulators import openverse

    return openverse.create_app(openverse.OpenverseConfig())


EMULATORS: dict[str, EmulatorKind] = {
    kind.name: kind
    for kind in (
        EmulatorKind(
            "digitalocean",
            _digitalocean,
            token="sandbox-do-token",
            env=(("DIGITALOCEAN_TOKEN", "sandbox-do-token"),),
        ),
        EmulatorKind(
            "onyx",
            _onyx,
            path="/api",
            token="on_sandbox-onyx-key",
            env=(("ONYX_API_KEY", "on_sandbox-onyx-key"),),
        ),
        EmulatorKind(
            "amperity",
            _amperity,
            token="sandbox-amperity-token",
            env=(("AMPERITY_TOKEN", "sandbox-amperity-token"), ("AMPERITY_TENANT", "acme")),
        ),
        EmulatorKind("openverse", _openverse),
    )
}


def start_all(
    port: int = 0, host: str = "127.0.0.1", options: SandboxOptions | None = None
) -> list[EmulatorServer]:
    """Start every emulator; the first on ``port`` (0: any free port), the next ones after."""
    options = options or SandboxOptions()
    servers = []
    try:
        for offset, kind in enumerate(EMULATORS.values()):
            server = EmulatorServer(
                kind.build(options),
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


def base_url(server: EmulatorServer) -> str:
    """The base URL a provider uses to reach ``server``."""
    return server.url + EMULATORS[server.name].path


def environment(servers: list[EmulatorServer]) -> dict[str, str]:
    """The environment that points the engine at the servers."""
    values = {}
    for server in servers:
        values[f"SQLPROVIDER_{server.name.upper()}_URL"] = base_url(server)
        values.update(EMULATORS[server.name].env)
    return values


def environment_lines(servers: list[EmulatorServer]) -> list[str]:
    """The ``export`` lines that point the engine at the servers."""
    return [f"export {name}={value}" for name, value in environment(servers).items()]


def serve(port: int = 8080, host: str = "127.0.0.1", options: SandboxOptions | None = None) -> None:
    """Start every emulator, print how to use them, and serve until Ctrl-C or SIGTERM."""
    servers = start_all(port, host, options)
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
