"""Pull, list and remove providers: the registry (its list and archives) and the local
registry directory (``local_registry_dir()`` unless one is named) brought together."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sqlprovider.providers.locations import local_registry_dir
from sqlprovider.registry_client import local_registry
from sqlprovider.registry_client.archive import ArchiveLimits, unpack
from sqlprovider.registry_client.index import (
    DEFAULT_REGISTRY_URL,
    REGISTRY_URL_ENV,
    archive_url,
    check_name,
    choose_version,
    index_url,
    parse_index,
)
from sqlprovider.registry_client.local_registry import Installed
from sqlprovider.registry_client.signatures import KEY_ENV, TrustedKeys, load_keys, verify_tree
from sqlprovider.registry_client.transfer import Transfer, shown

log = logging.getLogger(__name__)

INDEX_MAX_BYTES = 16 << 20


@dataclass(frozen=True)
class RegistrySettings:
    """Where providers are pulled from and how a pull is checked.

    Attributes:
        url: the registry's base URL (the folder holding ``dist/``).
        key_file: a PEM file with the registry's Ed25519 public key (or certificates);
            with it every document must carry a valid signature.
        timeout: seconds to wait for a connection or for more bytes.
        limits: how much may be downloaded and unpacked.
        transport: the httpx transport (tests: ``httpx.MockTransport``).
    """

    url: str = DEFAULT_REGISTRY_URL
    key_file: Path | None = None
    timeout: float = 60.0
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    transport: httpx.BaseTransport | None = None

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        url: str | None = None,
        key_file: str | Path | None = None,
    ) -> RegistrySettings:
        """Settings from the arguments, else ``SQLPROVIDER_REGISTRY_URL`` and
        ``SQLPROVIDER_REGISTRY_KEY``, else the defaults (StackQL's public registry, no key)."""
        env = os.environ if environ is None else environ
        key = key_file or env.get(KEY_ENV) or None
        return cls(
            url=url or env.get(REGISTRY_URL_ENV) or DEFAULT_REGISTRY_URL,
            key_file=Path(key).expanduser() if key else None,
        )


@dataclass(frozen=True)
class Pulled:
    """What a pull did.

    Attributes:
        provider: the provider pulled.
        version: the version pulled.
        path: where it now lives.
        replaced: whether a copy of the same version was there before.
        archive_bytes: the size of the archive downloaded.
        files: the files unpacked (documents and signatures).
        verified: documents whose signature was checked (0: no key was given).
        key_file: the key they were checked with.
    """

    provider: str
    version: str
    path: Path
    replaced: bool
    archive_bytes: int
    files: int
    verified: int
    key_file: Path | None


def offered(settings: RegistrySettings | None = None) -> dict[str, tuple[str, ...]]:
    """Every provider the registry offers, with its versions (oldest first).

    Raises:
        TransportError, HTTPStatusError: the registry cannot be reached or refused.
        DataError: its answer is not a list of providers.
    """
    settings = settings or RegistrySettings.from_env()
    with Transfer(settings.timeout, settings.transport) as transfer:
        return _offered(transfer, settings.url)


def installed(root: Path | None = None) -> list[Installed]:
    """The provider versions in the local registry ``root`` (default
    ``local_registry_dir()``)."""
    return local_registry.installed(root or local_registry_dir())


def pull(
    provider: str,
    version: str | None = None,
    *,
    root: Path | None = None,
    settings: RegistrySettings | None = None,
) -> Pulled:
    """Download ``provider`` (``version``, else its newest release) into ``root``.

    The archive goes to a staging folder beside the target, is checked (sizes, paths,
    signatures when ``settings.key_file`` is set) and unpacked there, and only then takes
    its place by one rename: a failed or interrupted pull leaves ``root`` as it was.

    Raises:
        UnknownNameError: no such provider or version (with the ones that exist).
        TransportError, HTTPStatusError: the registry cannot be reached, refused, or the
            download broke off.
        DataError: the archive is damaged, unsafe, too large, or its signatures fail.
        InterfaceError: a bad name or key file.
    """
    settings = settings or RegistrySettings.from_env()
    root = root or local_registry_dir()
    check_name("provider", provider)
    if version is not None:
        check_name("version", version)
    trusted = load_keys(settings.key_file) if settings.key_file else None
    with Transfer(settings.timeout, settings.transport) as transfer:
        version = choose_version(
            _offered(transfer, settings.url), provider, version, shown(settings.url)
        )
        what = f"pull {provider} {version}"
        target = local_registry.version_path(root, provider, version)
        with local_registry.staging(root) as folder:
            archive = folder / "archive.tgz"
            url = archive_url(settings.url, provider, version)
            size = transfer.download(url, archive, settings.limits.download_bytes, what)
            tree = unpack(archive, folder / "tree", version, settings.limits, what)
            verified = _verify(tree, trusted, what)
            files = sum(1 for p in tree.rglob("*") if p.is_file())
            replaced = local_registry.install(folder, tree, target)
    log.debug("%s: %d bytes, %d files into %s", what, size, files, target)
    return Pulled(provider, version, target, replaced, size, files, verified, settings.key_file)


def remove(
    provider: str, version: str | None = None, *, root: Path | None = None
) -> list[Installed]:
    """Delete ``provider`` (every version, or ``version``) from the local registry
    ``root``; returns what was removed.

    Raises:
        UnknownNameError: it is not installed there (with what is).
    """
    root = root or local_registry_dir()
    check_name("provider", provider)
    with local_registry.staging(root) as folder:
        return local_registry.remove(root, folder, provider, version)


def _offered(transfer: Transfer, url: str) -> dict[str, tuple[str, ...]]:
    where = index_url(url)
    text = transfer.text(where, INDEX_MAX_BYTES, "the registry's list of providers")
    return parse_index(text, shown(where))


def _verify(tree: Path, trusted: TrustedKeys | None, what: str) -> int:
    if trusted is None:
        return 0
    return verify_tree(tree, trusted, what)
