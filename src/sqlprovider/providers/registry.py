"""Find provider definitions on disk and load each one the first time a statement needs it."""

from __future__ import annotations

import difflib
import os
import threading
from pathlib import Path

from sqlprovider.errors import UnknownNameError
from sqlprovider.model import Provider, Resource
from sqlprovider.providers.loader import load_provider

PROVIDERS_PATH_ENV = "SQLPROVIDER_PROVIDERS_PATH"


def bundled_providers_dir() -> Path:
    """The providers shipped with the package (the wheel's copy, else the source tree's)."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "_providers"
    if installed.is_dir():
        return installed
    return package.parent.parent / "providers"


def suggest(name: str, choices: list[str]) -> list[str]:
    """The names in ``choices`` closest to ``name``, best first."""
    return difflib.get_close_matches(name, choices, n=3, cutoff=0.5)


class Registry:
    """The providers a session can use, loaded lazily and cached.

    Directories are searched in order; the first ``<name>.yaml`` or ``<name>/provider.yaml``
    wins, so a user's directory (``SQLPROVIDER_PROVIDERS_PATH``) overrides a bundled provider.
    """

    def __init__(self, directories: list[Path] | None = None) -> None:
        if directories is None:
            extra = os.environ.get(PROVIDERS_PATH_ENV, "")
            directories = [Path(p) for p in extra.split(os.pathsep) if p]
            directories.append(bundled_providers_dir())
        self.directories = directories
        self._loaded: dict[str, Provider] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """Every provider name available, sorted."""
        return sorted(self._files())

    def _files(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for directory in self.directories:
            if not directory.is_dir():
                continue
            for entry in sorted(directory.iterdir()):
                if entry.suffix in (".yaml", ".yml") and entry.is_file():
                    found.setdefault(entry.stem, entry)
                elif (entry / "provider.yaml").is_file():
                    found.setdefault(entry.name, entry / "provider.yaml")
        return found

    def has(self, name: str) -> bool:
        """Whether a provider called ``name`` exists."""
        return name in self._loaded or name in self._files()

    def get(self, name: str) -> Provider:
        """The provider called ``name``.

        Raises:
            UnknownNameError: with the closest names.
            ProviderError: if its definition is broken.
        """
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            files = self._files()
            if name not in files:
                raise UnknownNameError("provider", name, suggest(name, list(files)))
            provider = load_provider(files[name])
            self._loaded[name] = provider
            return provider

    def resource(self, provider: str, service: str, resource: str) -> Resource:
        """The resource ``provider.service.resource``, with suggestions when a part is wrong."""
        prov = self.get(provider)
        if service not in prov.services:
            raise UnknownNameError(
                "service",
                f"{provider}.{service}",
                [f"{provider}.{s}" for s in suggest(service, list(prov.services))],
            )
        svc = prov.services[service]
        if resource not in svc.resources:
            every = {f"{s.name}.{r}": s for s in prov.services.values() for r in s.resources}
            near = suggest(f"{service}.{resource}", list(every))
            raise UnknownNameError(
                "resource", f"{provider}.{service}.{resource}", [f"{provider}.{n}" for n in near]
            )
        return svc.resources[resource]
