"""Credentials: where they come from, how they are sent, and how they stay secret."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlprovider.errors import AuthError, NotSupportedError
from sqlprovider.model import AuthSpec, Provider
from sqlprovider.secret import REDACTED, Secret


@dataclass(frozen=True)
class Credentials:
    """The credential of one provider, ready to put on requests.

    ``prefix`` replaces the scheme's own text before the value (``SSWS `` for an api_key;
    for basic, the value is then sent as it is: already encoded); ``also`` are further
    credentials sent in headers of their own.
    """

    scheme: str  # bearer, api_key, basic or none
    secret: Secret | None
    header: str = "Authorization"
    username: str = ""
    prefix: str | None = None
    also: tuple[Credentials, ...] = ()

    def headers(self) -> dict[str, str]:
        """The auth headers with the real secret (only the HTTP client calls this)."""
        found: dict[str, str] = {}
        for extra in self.also:
            found.update(extra.headers())
        if self.secret is None or self.scheme == "none":
            return found
        found[self.header] = self._value(self.secret.reveal())
        return found

    def _value(self, value: str) -> str:
        if self.scheme == "bearer":
            return f"Bearer {value}"
        if self.scheme == "basic" and self.prefix is None:
            pair = base64.b64encode(f"{self.username}:{value}".encode()).decode()
            return f"Basic {pair}"
        if self.scheme == "basic" and self.username:
            pair = base64.b64encode(f"{self.username}:{value}".encode()).decode()
            return f"{self.prefix}{pair}"
        return f"{self.prefix or ''}{value}"

    def redacted_headers(self) -> dict[str, str]:
        """The same headers with the secret replaced by ``***`` (dry runs, traces)."""
        found: dict[str, str] = {}
        for extra in self.also:
            found.update(extra.redacted_headers())
        if self.scheme == "none":
            return found
        if self.scheme == "bearer":
            found[self.header] = f"Bearer {REDACTED}"
        elif self.scheme == "basic" and self.prefix is None:
            found[self.header] = f"Basic {REDACTED}"
        else:
            found[self.header] = f"{self.prefix or ''}{REDACTED}"
        return found

    def secrets(self) -> list[str]:
        """Strings that must never appear in output."""
        found = [s for extra in self.also for s in extra.secrets()]
        if self.secret is not None:
            found.append(self.secret.reveal())
            found.append(self._value(self.secret.reveal()))
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
        prefix=spec.prefix,
        also=tuple(_further(provider, extra, env) for extra in spec.also),
    )


def _further(provider: Provider, spec: AuthSpec, env: Mapping[str, str]) -> Credentials:
    token = next((env[name] for name in spec.env if env.get(name)), None)
    return Credentials(
        scheme=spec.type,
        secret=Secret(token) if token else None,
        header=spec.header,
        prefix=spec.prefix,
    )


def require(
    provider: Provider, credentials: Credentials, environ: Mapping[str, str] | None = None
) -> None:
    """Raise AuthError naming the variables to set when a needed credential is missing
    (NotSupportedError when the provider's scheme is one sqlprovider cannot use)."""
    if provider.auth.unsupported:
        raise NotSupportedError(
            f"{provider.auth.unsupported}; give {provider.name} a token in an auth file "
            "(~/.config/sqlprovider/auth.yaml, or --auth FILE; docs/python-api.md shows the "
            "format)"
        )
    env = os.environ if environ is None else environ
    pending = [(provider.auth, credentials)]
    pending.extend(zip(provider.auth.also, credentials.also, strict=False))
    for spec, given in pending:
        if spec.type == "none" or given.secret is not None:
            continue
        names = spec.env
        empty = [n for n in names if n in env and not env[n]]
        if empty and len(empty) == len(names):
            raise AuthError(
                f"{provider.name} needs credentials: {empty[0]} is set but empty; set it to "
                f"the credential, or give {provider.name} a token in an auth file"
            )
        if not names:
            raise AuthError(
                f"{provider.name} needs credentials its definition names no variable for; "
                f"give {provider.name} a token in an auth file (docs/python-api.md)"
            )
        where = names[0] + (f" (or {', '.join(names[1:])})" if len(names) > 1 else "")
        raise AuthError(
            f"{provider.name} needs credentials: set {where} in the environment, or give "
            f"{provider.name} a token in an auth file (~/.config/sqlprovider/auth.yaml, or "
            "--auth FILE; docs/python-api.md shows the format)"
        )
