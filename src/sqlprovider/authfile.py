"""Auth configuration: ``auth.yaml`` and ``connect(auth=...)``, keyed by provider.

A file looks like::

    digitalocean:
      type: bearer              # bearer | api_key | basic | header | none
      token_env: MY_DO_TOKEN    # read from this environment variable
    amperity:
      type: api_key
      header: X-Api-Key
      token_env: AMPERITY_KEY
    onyx:
      type: basic
      username_env: ONYX_USER
      password_env: ONYX_PASSWORD

``token: ...`` (and ``username:``/``password:``) give the value itself: allowed, but an
environment variable keeps it out of the file. Where the file is: ``connect(auth_file=...)``,
else ``$SQLPROVIDER_AUTH_FILE``, else ``$XDG_CONFIG_HOME/sqlprovider/auth.yaml`` (default
``~/.config/sqlprovider/auth.yaml``) if it exists.

An entry replaces the provider's own auth (its env variables); ``connect(auth=...)``
entries, which take the same keys, replace the file's. No value is ever shown: reprs give
``***`` and errors name keys and variables, never what they hold.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlprovider.errors import AuthError, InterfaceError
from sqlprovider.secret import Secret

if TYPE_CHECKING:
    from sqlprovider.http.auth import Credentials
    from sqlprovider.model import Provider

AUTH_FILE_ENV = "SQLPROVIDER_AUTH_FILE"
TYPES = ("bearer", "api_key", "basic", "header", "none")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SECRET_KEYS = ("token", "password")
_KEYS = {
    "type",
    "header",
    "token",
    "token_env",
    "username",
    "username_env",
    "password",
    "password_env",
}


class AuthConfigError(InterfaceError):
    """An auth file (or ``connect(auth=...)``) that cannot be used.

    Attributes:
        source: the file's path, or ``connect(auth=...)``.
        key_path: where, as ``digitalocean.token_env``.
        problem: what is wrong there (never the value).
    """

    def __init__(self, source: str, key_path: str, problem: str) -> None:
        self.source = source
        self.key_path = key_path
        self.problem = problem
        where = f"{source}: {key_path}" if key_path else source
        super().__init__(f"invalid auth config {where}: {problem}")


@dataclass(frozen=True)
class AuthEntry:
    """How to authenticate to one provider, as configured (values stay Secret: never shown).

    Attributes:
        provider: the provider it is for.
        source: where it was configured (the file, or ``connect(auth=...)``).
        type: the scheme, or None for the provider's own.
        header: the header to send it in, or None for the scheme's default.
        secret: the token (or password), given as a value.
        secret_env: the environment variable holding the token (or password).
        username / username_env: for basic auth.
    """

    provider: str
    source: str
    type: str | None = None
    header: str | None = None
    secret: Secret | None = None
    secret_env: str | None = None
    username: Secret | None = None
    username_env: str | None = None

    def secrets(self) -> list[str]:
        """Credentials given in the configuration itself, to keep out of messages."""
        return [] if self.secret is None else [self.secret.reveal()]

    def credentials(
        self, provider: Provider, environ: Mapping[str, str] | None = None
    ) -> Credentials:
        """The credentials this entry gives ``provider``.

        Raises:
            AuthError: an environment variable the entry names is not set.
        """
        from sqlprovider.http.auth import Credentials

        env = os.environ if environ is None else environ
        scheme = self.type or provider.auth.type
        if scheme == "none":
            return Credentials(scheme="none", secret=None)
        header = self.header or (
            provider.auth.header if scheme == provider.auth.type else "Authorization"
        )
        secret = Secret(self.secret.reveal()) if self.secret is not None else None
        if secret is None and self.secret_env is not None:
            value = env.get(self.secret_env)
            if not value:
                key = "password_env" if scheme == "basic" else "token_env"
                raise AuthError(
                    f"{provider.name}: {self.source} sets {key}: {self.secret_env}, but "
                    f"{self.secret_env} is not set in the environment"
                )
            secret = Secret(value)
        if secret is None:  # no credential named: the provider's own variables
            value = next((env[n] for n in provider.auth.env if env.get(n)), None)
            secret = Secret(value) if value else None
        username = self.username.reveal() if self.username is not None else ""
        if self.username_env is not None:
            username = env.get(self.username_env, "")
            if not username:
                raise AuthError(
                    f"{provider.name}: {self.source} sets username_env: "
                    f"{self.username_env}, but {self.username_env} is not set in the environment"
                )
        elif self.username is None and scheme == "basic":
            username = next((env[n] for n in provider.auth.username_env if env.get(n)), "")
        # The provider's own prefix (``SSWS ``) goes with its own scheme only.
        prefix = provider.auth.prefix if scheme == provider.auth.type else None
        return Credentials(
            scheme=scheme, secret=secret, header=header, username=username, prefix=prefix
        )

    def missing_message(self, provider: Provider) -> str:
        """What to do when the entry leads to no credential at all."""
        key = "password_env" if (self.type or provider.auth.type) == "basic" else "token_env"
        message = (
            f"{provider.name} needs credentials: its entry in {self.source} names none; "
            f"add {key}: NAME to it"
        )
        if provider.auth.env:
            message += f", or set {' or '.join(provider.auth.env)}"
        return message


def default_auth_file(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/sqlprovider/auth.yaml`` (``~/.config/...`` without the variable)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sqlprovider" / "auth.yaml"


def find_auth_file(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The auth file to read: ``explicit``, else ``$SQLPROVIDER_AUTH_FILE``, else the
    default one if it exists (None if there is none).

    Raises:
        AuthConfigError: a file named explicitly or by the variable does not exist.
    """
    env = os.environ if environ is None else environ
    named = explicit if explicit is not None else (env.get(AUTH_FILE_ENV) or None)
    if named is not None:
        path = Path(named).expanduser()
        if not path.is_file():
            how = "auth_file" if explicit is not None else AUTH_FILE_ENV
            raise AuthConfigError(str(path), "", f"no such file (named by {how})")
        return path
    default = default_auth_file(env)
    return default if default.is_file() else None


def load_auth_file(path: str | os.PathLike[str]) -> dict[str, AuthEntry]:
    """The entries of an auth file, by provider.

    Raises:
        AuthConfigError: the file cannot be read, is not YAML, or an entry is malformed;
            the message names the file and the key, never a value.
    """
    import yaml

    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
        raise AuthConfigError(source, "", f"cannot read it ({reason})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # Only the problem and its position: the YAML library's message quotes the line,
        # which may hold a token.
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise AuthConfigError(source, "", f"{problem}{where}") from None
    if document is None:
        return {}
    return parse_auth_entries(document, source)


def parse_auth_entries(document: Any, source: str) -> dict[str, AuthEntry]:
    """Entries from a provider → settings mapping (a loaded file or ``connect(auth=...)``).

    Raises:
        AuthConfigError: naming ``source`` and the key of the first problem.
    """
    if not isinstance(document, Mapping):
        raise AuthConfigError(source, "", "must be a mapping of provider name → settings")
    entries = {}
    for provider, settings in document.items():
        if not isinstance(provider, str) or not provider:
            raise AuthConfigError(source, str(provider), "provider names are strings")
        entries[provider] = _entry(provider, settings, source)
    return entries


def _entry(provider: str, settings: Any, source: str) -> AuthEntry:
    if not isinstance(settings, Mapping):
        raise AuthConfigError(source, provider, "must be a mapping (type, token_env, header, ...)")
    for key in settings:
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise AuthConfigError(source, f"{provider}.{key}", f"unknown key; known: {known}")
    values: dict[str, str] = {}
    for key, value in settings.items():
        if not isinstance(value, str) or not value:
            shown = (
                "" if key in _SECRET_KEYS or key == "username" else f" (got {type(value).__name__})"
            )
            raise AuthConfigError(source, f"{provider}.{key}", f"must be a non-empty string{shown}")
        values[key] = value
    kind = values.get("type")
    if kind is not None and kind not in TYPES:
        raise AuthConfigError(
            source, f"{provider}.type", f"must be one of {', '.join(TYPES)}, not {kind!r}"
        )
    for key in ("token_env", "username_env", "password_env"):
        name = values.get(key)
        if name is not None and not _ENV_NAME.match(name):
            raise AuthConfigError(
                source,
                f"{provider}.{key}",
                "must name an environment variable (letters, digits, _)",
            )
    header = values.get("header")
    if header is not None and not _HEADER_NAME.match(header):
        raise AuthConfigError(source, f"{provider}.header", "is not a valid HTTP header name")
    if kind in ("api_key", "header") and header is None:
        raise AuthConfigError(
            source, f"{provider}.header", f"is required for type {kind} (e.g. header: X-Api-Key)"
        )
    if kind == "basic":
        for key in ("token", "token_env"):
            if key in values:
                raise AuthConfigError(
                    source, f"{provider}.{key}", "type basic takes password / password_env"
                )
    elif kind is not None:
        for key in ("username", "username_env", "password", "password_env"):
            if key in values:
                raise AuthConfigError(
                    source,
                    f"{provider}.{key}",
                    f"only type basic takes {key}; type {kind} does not",
                )
    pairs = (("token", "token_env"), ("password", "password_env"), ("username", "username_env"))
    for plain, env in pairs:
        if plain in values and env in values:
            raise AuthConfigError(source, f"{provider}.{plain}", f"give {plain} or {env}, not both")
    secret_value = values.get("token") or values.get("password")
    secret_env = values.get("token_env") or values.get("password_env")
    if secret_value is not None and secret_env is not None:
        raise AuthConfigError(
            source, provider, "give one credential: token(_env) or password(_env)"
        )
    return AuthEntry(
        provider=provider,
        source=source,
        type=kind,
        header=header,
        secret=Secret(secret_value) if secret_value is not None else None,
        secret_env=secret_env,
        username=Secret(values["username"]) if "username" in values else None,
        username_env=values.get("username_env"),
    )
