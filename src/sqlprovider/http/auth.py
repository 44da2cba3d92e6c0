"""Credentials: where they come from, how they are sent, and how they stay secret."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlprovider.errors import AuthError
from sqlprovider.model import Provider
from sqlprovider.secret import REDACTED, Secret


@dataclass(frozen=True)
class Credentials:
    """The credential of one provider, ready to put on requests."""

    scheme: str  # bearer, api_key, basic or none
    secret: Secret | None
    header: str = "Authorization"
    username: str = ""

    def headers(self) -> dict[str, str]:
        """The auth headers with the real secret (only the HTTP client calls this)."""
        if self.secret is None or self.scheme == "none":
            return {}
        value = self.secret.reveal()
        if self.scheme == "bearer":
            return {self.header: f"Bearer {value}"}
        if self.scheme == "basic":
            pair = base64.b64encode(f"{self.username}:{value}".encode()).decode()
            return {self.header: f"Basic {pair}"}
        return {self.header: value}

    def redacted_headers(self) -> dict[str, str]:
        """The same headers with the secret replaced by ``***`` (dry runs, traces)."""
        if self.scheme == "none":
            return {}
        if self.scheme == "bearer":
            return {self.header: f"Bearer {REDACTED}"}
        if self.scheme == "basic":
            return {self.header: f"Basic {REDACTED}"}
        return {self.header: REDACTED}

    def secrets(self) -> list[str]:
        """Strings that must never appear in output."""
        if self.secret is None:
            return []
        found = [self.secret.reveal()]
        found.extend(self.headers().values())
        return [s for s in found if s]


def resolve_credentials(
    provider: Provider,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """The credentials for ``provider``: an explicit override first, else its env variables.

    A provider whose credential is not set gets ``secret=None``; ``require()`` raises then.
    """
    env = os.environ if environ is None else environ
    spec = provider.auth
    overrides = overrides or {}
    token = overrides.get("token")
    if token is None:
        token = next((env[name] for name in spec.env if env.get(name)), None)
    username = overrides.get("username") or next(
        (env[name] for name in spec.username_env if env.get(name)), ""
    )
    return Credentials(
        scheme=spec.type,
        secret=Secret(token) if token else None,
        header=spec.header,
        username=username,
    )


def require(provider: Provider, credentials: Credentials) -> None:
    """Raise AuthError naming the variables to set when a needed credential is missing."""
    if provider.auth.type == "none" or credentials.secret is not None:
        return
    names = provider.auth.env
    where = names[0] + (f" (or {', '.join(names[1:])})" if len(names) > 1 else "")
    raise AuthError(
        f"{provider.name} needs credentials: set {where} in the environment, or give "
        f"{provider.name} a token in an auth file (~/.config/sqlprovider/auth.yaml, or "
        "--auth FILE; docs/python-api.md shows the format)"
    )
