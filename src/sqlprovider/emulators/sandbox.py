"""Start every emulator on loopback: ``sqlprovider sandbox`` and ``sqlprovider demo``."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette

from sqlprovider.emulators.amperity.state import DEFAULT_TENANT as AMPERITY_TENANT
from sqlprovider.emulators.amperity.state import DEFAULT_TOKEN as AMPERITY_TOKEN
from sqlprovider.emulators.digitalocean.state import DEFAULT_TOKEN as DO_TOKEN
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.onyx.state import DEFAULT_API_KEY as ONYX_KEY


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
        token_env: where the provider reads that credential from.
        settings: other environment the provider reads (``AMPERITY_TENANT``).
    """

    name: str
    build: Callable[[SandboxOptions], Starlette]
    path: str = ""
    token: str | None = None
    token_env: str | None = None
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def env(self) -> dict[str, str]:
        """The environment that gives the provider this emulator's credential and settings."""
        found = {self.token_env: self.token} if self.token_env and self.token else {}
        return {**found, **dict(self.settings)}


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
        EmulatorKind("digitalocean", _digitalocean, token=DO_TOKEN, token_env="DIGITALOCEAN_TOKEN"),
        EmulatorKind("onyx", _onyx, path="/api", token=ONYX_KEY, token_env="ONYX_API_KEY"),
        EmulatorKind(
            "amperity",
            _amperity,
            token=AMPERITY_TOKEN,
            token_env="AMPERITY_TOKEN",
            settings=(("AMPERITY_TENANT", AMPERITY_TENANT),),
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
