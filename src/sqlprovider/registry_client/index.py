"""The registry's list of providers (``dist/providers.yaml``), its URLs and version order.

StackQL's public registry serves, under its base URL (``https://registry.stackql.app/providers``):

* ``dist/providers.yaml``: ``providers: {NAME: {versions: [v0.1.0, ...]}}``;
* ``dist/FOLDER/VERSION.tgz``: one archive per provider version, holding ``VERSION/``
  (``provider.yaml``, ``services/*.yaml`` and a detached ``.sig`` beside each document).

FOLDER is the provider's name, except ``google``, whose archives live under
``googleapis.com`` (StackQL's client renames it the same way, locally too).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from sqlprovider.errors import DataError, InterfaceError, UnknownNameError
from sqlprovider.providers.versions import newest, version_key

DEFAULT_REGISTRY_URL = "https://registry.stackql.app/providers"
REGISTRY_URL_ENV = "SQLPROVIDER_REGISTRY_URL"
INDEX_PATH = "dist/providers.yaml"
# StackQL publishes google's documents under the name of its API host.
FOLDERS = {"google": "googleapis.com"}
PROVIDERS_OF_FOLDERS = {folder: name for name, folder in FOLDERS.items()}
# Names become URL path segments and folder names: no separators, no dot-only names.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")


def check_name(kind: str, value: str) -> str:
    """``value`` if it can be a provider name or version, else an error naming the rule.

    Raises:
        InterfaceError: for an empty name, a path separator, ``..`` or another character.
    """
    if not _NAME.match(value) or ".." in value:
        raise InterfaceError(
            f"{value!r} is not a {kind} name: use letters, digits, '_', '-' and '.' "
            "(as `sqlprovider registry list` shows them)"
        )
    return value


def folder_of(provider: str) -> str:
    """The folder the registry (and the local registry) keeps ``provider``'s versions in."""
    return FOLDERS.get(provider, provider)


def provider_of(folder: str) -> str:
    """The provider name of a registry folder (``googleapis.com`` is ``google``)."""
    return PROVIDERS_OF_FOLDERS.get(folder, folder)


def index_url(base_url: str) -> str:
    """The URL of the registry's provider list."""
    return _below(base_url, INDEX_PATH)


def archive_url(base_url: str, provider: str, version: str) -> str:
    """The URL of one provider version's archive."""
    return _below(base_url, f"dist/{folder_of(provider)}/{version}.tgz")


def _below(base_url: str, path: str) -> str:
    """``path`` under the base URL's path; its query (a mirror's token) is kept.

    Raises:
        InterfaceError: the base URL is not an http(s) URL with a host.
    """
    try:
        parts = urlsplit(base_url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # a port that is no number raises here
    except ValueError:
        usable = False
    if not usable:
        raise InterfaceError(
            f"the registry URL {base_url.split('@')[-1]!r} is not an http or https URL with a "
            f"host; check --registry-url (or {REGISTRY_URL_ENV})"
        )
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{path}", fragment=""))


def parse_index(text: str, url: str) -> dict[str, tuple[str, ...]]:
    """Each provider the list offers, with its versions in ascending order.

    Raises:
        DataError: when the text is not a provider list.
    """
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _not_an_index(url, f"it is not YAML ({_first_line(exc)})") from None
    providers = document.get("providers") if isinstance(document, dict) else None
    if not isinstance(providers, dict):
        raise _not_an_index(url, "it has no 'providers' mapping")
    offered: dict[str, tuple[str, ...]] = {}
    for name, entry in providers.items():
        versions = entry.get("versions") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not isinstance(versions, list):
            raise _not_an_index(url, f"the entry {name!r} has no list of versions")
        offered[name] = tuple(sorted((str(v) for v in versions), key=version_key))
    return dict(sorted(offered.items()))


def latest(versions: Sequence[str]) -> str:
    """The newest release of ``versions``; the newest of all when none is a release (the
    loader's rule too: ``sqlprovider.providers.versions``)."""
    return newest(versions)


def choose_version(
    offered: Mapping[str, Sequence[str]], provider: str, version: str | None, url: str
) -> str:
    """The version of ``provider`` to pull: ``version`` as the registry spells it (a
    missing ``v`` is added), or the newest release.

    Raises:
        UnknownNameError: the registry has no such provider, or no such version of it.
    """
    if provider not in offered:
        raise UnknownNameError(
            "provider",
            provider,
            difflib.get_close_matches(provider, list(offered), n=3, cutoff=0.6),
            hint=f"`sqlprovider registry list` shows every provider of {url}",
        )
    versions = list(offered[provider])
    if not versions:
        raise UnknownNameError("version", f"{provider} (any)", hint=f"{url} lists none")
    if version is None:
        return latest(versions)
    for spelling in (version, f"v{version}"):
        if spelling in versions:
            return spelling
    raise UnknownNameError(
        "version",
        version,
        difflib.get_close_matches(version, versions, n=3, cutoff=0.5),
        hint=f"{provider} has {', '.join(versions)}",
    )


def _not_an_index(url: str, why: str) -> DataError:
    return DataError(
        f"{url} is not a provider registry's list of providers: {why}; check --registry-url "
        f"(or {REGISTRY_URL_ENV}): it names the folder that holds dist/providers.yaml"
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "unreadable"
