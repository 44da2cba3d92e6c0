"""Providers from a StackQL-format registry: ``sqlprovider registry list | pull | remove``.

::

    offered()              what the registry offers (dist/providers.yaml)
    pull(provider, ...)    download, check and unpack one version into the local registry
    installed(), remove()  what the local registry holds; delete from it

Modules: ``index`` (the provider list, URLs, version order), ``transfer`` (downloads; the
boundary where httpx's failures become our errors), ``archive`` (safe unpacking),
``signatures`` (Ed25519, StackQL's ``.sig`` format), ``local_registry`` (the directory,
its lock and atomic renames), ``client`` (the operations).
"""

from __future__ import annotations

from sqlprovider.registry_client.archive import ArchiveLimits
from sqlprovider.registry_client.client import (
    Pulled,
    RegistrySettings,
    installed,
    offered,
    pull,
    remove,
)
from sqlprovider.registry_client.index import DEFAULT_REGISTRY_URL, REGISTRY_URL_ENV, latest
from sqlprovider.registry_client.local_registry import Installed
from sqlprovider.registry_client.signatures import KEY_ENV, SIGNATURES_INSTALL

__all__ = [
    "DEFAULT_REGISTRY_URL",
    "KEY_ENV",
    "REGISTRY_URL_ENV",
    "SIGNATURES_INSTALL",
    "ArchiveLimits",
    "Installed",
    "Pulled",
    "RegistrySettings",
    "installed",
    "latest",
    "offered",
    "pull",
    "remove",
]
