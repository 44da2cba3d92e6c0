"""How a connection is opened: one value every way in takes (``sqlprovider.connect()``,
``sqlprovider.aio.connect()``, the CLI's commands, and the servers to come), documented once.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlprovider.errors import InterfaceError


@dataclass(frozen=True)
class ConnectOptions:
    """The options of a connection.

    Attributes:
        servers: provider → base URL (``{"digitalocean": "http://127.0.0.1:8080"}``);
            otherwise ``SQLPROVIDER_<PROVIDER>_URL``, otherwise the provider's own server.
        auth: provider → settings: ``{"token": "..."}``, or an auth file entry's keys
            (``type``, ``header``, ``token_env``, ``username``/``username_env``,
            ``password``/``password_env``). Overrides the auth file, which overrides the
            provider's environment variables.
        auth_file: an auth YAML file; default ``$SQLPROVIDER_AUTH_FILE``, else
            ``$XDG_CONFIG_HOME/sqlprovider/auth.yaml`` (``~/.config/...``) if it exists.
        database: a DuckDB file to keep local tables in, or ``:memory:``.
        concurrency: requests in flight per provider (default: each provider's, else 8).
        transport: an httpx async transport for every provider (unit tests pass
            ``httpx.MockTransport``).
        timeout: seconds per HTTP request.
        max_attempts: tries per idempotent request before giving up (default: the
            provider's, else 5); 1 turns retries off.
        verify_tls: check the servers' TLS certificates (default); False only for a server
            you trust on a network you control, and a warning says so.
        allow_partial: a query over several provider tables returns the rows of those that
            could be fetched, with a warning naming the others, instead of failing.
        providers_path: extra directories of provider YAML, searched before the bundled one.
        wait_timeout: seconds to wait for a job a write started (``wait=True`` or
            ``/*+ AWAIT */``); default: the provider's.
        wait_interval: seconds before the first poll of a started job; it doubles after
            each, up to the provider's maximum.
        progress: called with one-line status updates while waiting (jobs, rate limits).
        environ: the environment credentials, server URLs and params with ``env`` are read
            from (default: the process's, read when a statement is planned).
        cache_ttl: seconds a read's answer is served again from the result cache (the same
            request, under the same credentials); 0 (the default) turns the cache off. A
            write drops its provider's cached reads; the reads of a write never use it.
        cache_dir: a directory that also keeps the cache, shared by every process that
            names it (default: memory only, shared by the process's connections).
        registry: StackQL registry directories (``DIR/src/<provider>/<version>/``), read
            unmodified and searched first, then the local registry that
            ``sqlprovider registry pull`` fills, then ``providers_path``, then the bundled
            providers; a registry provider replaces a bundled one of its name (default:
            ``$SQLPROVIDER_REGISTRY``, directories separated by ``:``).
        provider_versions: provider → the registry version to load
            (``{"digitalocean": "v24.10.00"}``); default: the newest of each.
    """

    servers: Mapping[str, str] = field(default_factory=dict)
    auth: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    auth_file: str | os.PathLike[str] | None = None
    database: str = ":memory:"
    concurrency: int | None = None
    transport: Any = None  # an httpx.AsyncBaseTransport; typed loosely so httpx loads late
    timeout: float = 30.0
    max_attempts: int | None = None
    verify_tls: bool = True
    allow_partial: bool = False
    providers_path: tuple[str | Path, ...] = ()
    wait_timeout: float | None = None
    wait_interval: float | None = None
    progress: Callable[[str], None] | None = None
    environ: Mapping[str, str] | None = None
    cache_ttl: float = 0.0
    cache_dir: str | os.PathLike[str] | None = None
    registry: tuple[str | Path, ...] = ()
    provider_versions: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # auth holds secrets: name the providers only
        configured = ", ".join(sorted(self.auth)) or "none"
        return f"ConnectOptions(database={self.database!r}, auth for: {configured})"

    @classmethod
    def of(cls, options: ConnectOptions | None = None, **settings: Any) -> ConnectOptions:
        """``options`` (or the defaults) with ``settings`` set over them.

        Raises:
            InterfaceError: for a setting that is no option, naming the options.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise InterfaceError(
                f"unknown connection option {unknown[0]!r}; the options are "
                + ", ".join(sorted(known))
            )
        if settings.get("servers") is None:
            settings.pop("servers", None)
        if settings.get("auth") is None:
            settings.pop("auth", None)
        for name in ("providers_path", "registry"):
            if name in settings:
                given = settings[name] or ()
                settings[name] = (given,) if isinstance(given, str | Path) else tuple(given)
        if "provider_versions" in settings:
            settings["provider_versions"] = dict(settings["provider_versions"] or {})
        base = options if options is not None else cls()
        return dataclasses.replace(base, **settings)
