"""Registry directories in StackQL's layout: ``DIR/src/<provider>/<version>/provider.yaml``.

Several versions of a provider may sit side by side: the newest release wins (the order of
``sqlprovider.providers.versions``, which ``registry pull`` uses too: ``v24.11.00`` is
``24.11.0`` as a semantic version, a pre-release before its release and chosen only when
no release is there) unless the user pins one (``digitalocean@v24.10.00``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlprovider.providers.versions import newest, version_key

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RegistryProvider:
    """One provider version found in a registry directory.

    Attributes:
        name: its SQL name.
        version: the version directory's name.
        file: its ``provider.yaml``.
        src: the registry's ``src/`` directory (service ``$ref``\\ s are relative to it).
        registry: the registry directory the user named.
    """

    name: str
    version: str
    file: Path
    src: Path
    registry: Path


def src_of(registry: Path) -> Path:
    """The ``src/`` directory of a registry (the directory itself if it is one)."""
    inner = registry / "src"
    return inner if inner.is_dir() else registry


def scan(registry: Path) -> dict[str, list[RegistryProvider]]:
    """Every provider of ``registry``, each with its versions, oldest first."""
    src = src_of(registry)
    found: dict[str, list[RegistryProvider]] = {}
    if not src.is_dir():
        return found
    for provider_dir in sorted(p for p in src.iterdir() if p.is_dir()):
        versions = [v for v in provider_dir.iterdir() if (v / "provider.yaml").is_file()]
        if not versions:
            continue
        name = _sql_name(provider_dir)
        entries = [
            RegistryProvider(name, v.name, v / "provider.yaml", src, registry)
            for v in sorted(versions, key=lambda v: version_key(v.name))
        ]
        found.setdefault(name, []).extend(entries)
    return found


def choose(versions: list[RegistryProvider], pinned: str | None) -> RegistryProvider | None:
    """The version to load: the pinned one (None if it is not there), else the newest
    release (a pre-release when there is no release)."""
    if pinned is not None:
        return next((v for v in versions if v.version == pinned), None)
    if not versions:
        return None
    chosen = newest([v.version for v in versions])
    return next(v for v in versions if v.version == chosen)


def _sql_name(provider_dir: Path) -> str:
    """The directory's name, or, when that is no SQL name (``googleapis.com``), the
    ``name`` its newest ``provider.yaml`` declares (``google``)."""
    if _IDENTIFIER.match(provider_dir.name):
        return provider_dir.name
    for version in sorted(provider_dir.iterdir(), key=lambda v: version_key(v.name), reverse=True):
        declared = _declared_name(version / "provider.yaml")
        if declared:
            return declared
    return provider_dir.name


def _declared_name(file: Path) -> str | None:
    """The top-level ``name:`` of a provider.yaml, read from its first lines (no YAML
    parse: the name is needed to list providers, and some provider files are large)."""
    try:
        with file.open(encoding="utf-8") as handle:
            for _, line in zip(range(400), handle, strict=False):
                match = re.match(r"^name:\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?\s*$", line)
                if match:
                    return match.group(1)
    except (OSError, UnicodeDecodeError):
        return None
    return None


def parse_pins(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["digitalocean@v24.10.00"]`` → ``{"digitalocean": "v24.10.00"}``.

    Raises:
        ValueError: for an item without ``@``.
    """
    pins = {}
    for item in items:
        name, sep, version = item.partition("@")
        if not sep or not name or not version:
            raise ValueError(f"a provider version is PROVIDER@VERSION, not {item!r}")
        pins[name.strip()] = version.strip()
    return pins
