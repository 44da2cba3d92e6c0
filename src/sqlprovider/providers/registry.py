"""Find provider definitions on disk and load each one the first time a statement needs it."""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Mapping
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
        """Whether a provider called ``name`` exists (names match whatever their case, as
        DuckDB's identifiers do)."""
        return name.lower() in self._loaded or _named(name, self._files()) is not None

    def get(self, name: str) -> Provider:
        """The provider called ``name`` (in any case).

        Raises:
            UnknownNameError: with the closest names.
            ProviderError: if its definition is broken.
        """
        with self._lock:
            if name.lower() in self._loaded:
                return self._loaded[name.lower()]
            files = self._files()
            found = _named(name, files)
            if found is None:
                raise UnknownNameError("provider", name, suggest(name, list(files)))
            provider = load_provider(files[found])
            self._loaded[name.lower()] = provider
            return provider

    def resource(self, provider: str, service: str, resource: str) -> Resource:
        """The resource ``provider.service.resource`` (each part in any case), with
        suggestions when a part is wrong."""
        prov = self.get(provider)
        service_name = _named(service, prov.services)
        if service_name is None:
            raise UnknownNameError(
                "service",
                f"{prov.name}.{service}",
                [f"{prov.name}.{s}" for s in suggest(service, list(prov.services))],
            )
        svc = prov.services[service_name]
        resource_name = _named(resource, svc.resources)
        if resource_name is None:
            every = {f"{s.name}.{r}": s for s in prov.services.values() for r in s.resources}
            near = suggest(f"{service_name}.{resource}", list(every))
            raise UnknownNameError(
                "resource", f"{prov.name}.{svc.name}.{resource}", [f"{prov.name}.{n}" for n in near]
            )
        return svc.resources[resource_name]


def _named(name: str, choices: Mapping[str, object]) -> str | None:
    """The key of ``choices`` that is ``name`` up to case (an exact match first)."""
    if name in choices:
        return name
    folded = name.lower()
    return next((key for key in choices if key.lower() == folded), None)
