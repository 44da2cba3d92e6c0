"""Find provider definitions on disk and load each one the first time a statement needs it."""

from __future__ import annotations

import dataclasses
import difflib
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlprovider.errors import UnknownNameError
from sqlprovider.model import Provider, Resource
from sqlprovider.providers.loader import load_provider
from sqlprovider.providers.locations import local_registry_dir, registry_dirs_from_env
from sqlprovider.providers.stackql.directory import RegistryProvider, choose, scan
from sqlprovider.providers.versions import version_key

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


@dataclass(frozen=True)
class Found:
    """Where a provider's definition is: a sqlprovider YAML file, or a StackQL registry's
    ``provider.yaml`` (``stackql`` set)."""

    file: Path
    origin: str  # bundled, path DIR, registry DIR (what SHOW PROVIDERS calls its source)
    stackql: RegistryProvider | None = None


class Registry:
    """The providers a session can use, loaded lazily and cached.

    Providers are found, first one winning: in StackQL registry directories (the ones the
    user names, then the local registry ``sqlprovider registry pull`` fills), then in
    provider directories (``SQLPROVIDER_PROVIDERS_PATH``), then among the bundled ones. So
    a registry provider, or one of a user's directory, replaces a bundled provider of the
    same name.

    Args:
        directories: provider YAML directories, in order (default: the
            ``SQLPROVIDER_PROVIDERS_PATH`` ones, then the bundled one).
        registries: StackQL registry directories, in order (default, when
            ``directories`` is not given either: ``SQLPROVIDER_REGISTRY``'s, then the local
            registry; with ``directories`` given: none).
        versions: provider → the registry version to load instead of the newest.
    """

    def __init__(
        self,
        directories: list[Path] | None = None,
        registries: list[Path] | None = None,
        versions: Mapping[str, str] | None = None,
    ) -> None:
        if directories is None:
            extra = os.environ.get(PROVIDERS_PATH_ENV, "")
            directories = [Path(p) for p in extra.split(os.pathsep) if p]
            directories.append(bundled_providers_dir())
            if registries is None:
                registries = [*registry_dirs_from_env(), local_registry_dir()]
        self.directories = directories
        self.registries = list(registries or [])
        self.versions = dict(versions or {})
        self._loaded: dict[str, Provider] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """Every provider name available, sorted."""
        return sorted(self._found())

    def _found(self) -> dict[str, Found]:
        found: dict[str, Found] = {}
        for registry in self.registries:
            for name, versions in scan(registry).items():
                key = name.lower()
                if any(k.lower() == key for k in found):
                    continue
                chosen = choose(versions, self.versions.get(name))
                if chosen is not None:
                    found[name] = Found(chosen.file, f"registry {registry}", chosen)
        bundled = bundled_providers_dir()
        for directory in self.directories:
            if not directory.is_dir():
                continue
            origin = "bundled" if directory == bundled else f"path {directory}"
            for entry in sorted(directory.iterdir()):
                if entry.suffix in (".yaml", ".yml") and entry.is_file():
                    name, file = entry.stem, entry
                elif (entry / "provider.yaml").is_file():
                    name, file = entry.name, entry / "provider.yaml"
                else:
                    continue
                if not any(k.lower() == name.lower() for k in found):
                    found[name] = Found(file, origin)
        return found

    def _files(self) -> dict[str, Path]:
        return {name: found.file for name, found in self._found().items()}

    def has(self, name: str) -> bool:
        """Whether a provider called ``name`` exists (names match whatever their case, as
        DuckDB's identifiers do)."""
        return name.lower() in self._loaded or _named(name, self._found()) is not None

    def get(self, name: str) -> Provider:
        """The provider called ``name`` (in any case).

        Raises:
            UnknownNameError: with the closest names.
            ProviderError: if its definition is broken.
        """
        with self._lock:
            if name.lower() in self._loaded:
                return self._loaded[name.lower()]
            every = self._found()
            key = _named(name, every)
            pinned = next((v for p, v in self.versions.items() if p.lower() == name.lower()), None)
            if pinned is not None and (key is None or every[key].stackql is None):
                # A pin never falls back to another definition of the name (the bundled one).
                raise self._no_such_version(key or name, pinned)
            if key is None:
                raise UnknownNameError("provider", name, suggest(name, list(every)))
            found = every[key]
            if found.stackql is not None:
                from sqlprovider.providers.stackql.provider import load_stackql_provider

                entry = found.stackql
                provider = load_stackql_provider(entry.file, entry.name, entry.src, found.origin)
            else:
                provider = dataclasses.replace(load_provider(found.file), origin=found.origin)
            self._loaded[name.lower()] = provider
            return provider

    def _no_such_version(self, name: str, pinned: str) -> UnknownNameError:
        """The error for a pinned version that no registry directory holds."""
        held = sorted(
            {
                v.version
                for registry in self.registries
                for found, versions in scan(registry).items()
                if found.lower() == name.lower()
                for v in versions
            },
            key=version_key,
        )
        where = ", ".join(str(r) for r in self.registries) or "none given"
        hint = f"{name} has {', '.join(held)}" if held else f"registry directories: {where}"
        return UnknownNameError(
            "provider version",
            f"{name}@{pinned}",
            suggest(pinned, held),
            hint=f"no registry directory holds that version; {hint}",
        )

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
            # Names of this service and of services already read (reading every service of
            # a registry provider to suggest a name would read megabytes).
            every = {
                f"{s.name}.{r}": s
                for s in prov.services.values()
                if s is svc or s.read
                for r in s.resources
            }
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
