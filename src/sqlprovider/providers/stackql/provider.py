"""A StackQL ``provider.yaml`` as a model Provider whose services are read when first named.

``providerServices.<name>.service.$ref`` paths are relative to the registry's ``src/``
directory (``digitalocean/v00.00.00000/services/genai.yaml``); a path relative to the
provider's own directory is accepted too. A registry may list services whose files are
absent: ``SHOW SERVICES`` answers from ``provider.yaml`` alone, and naming such a service is
an error that names the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlprovider.errors import ProviderError
from sqlprovider.model import LazyMapping, Provider, Resource, Server, Service
from sqlprovider.providers.stackql.configs import Level, auth_spec
from sqlprovider.providers.stackql.documents import Document
from sqlprovider.providers.stackql.resources import ServiceSource
from sqlprovider.providers.stackql.schemas import first_mapping


def load_stackql_provider(path: Path, name: str, src: Path, origin: str = "") -> Provider:
    """The provider defined by the StackQL ``provider.yaml`` at ``path``.

    Args:
        path: the ``provider.yaml``.
        name: its SQL name (the registry's directory name).
        src: the registry's ``src/`` directory, which service ``$ref``\\ s are relative to.
        origin: where it was found, for ``SHOW PROVIDERS``.

    Raises:
        ProviderError: naming the file when it cannot be read.
    """
    doc = Document.read(path)
    data = doc.data
    config = first_mapping(data.get("config"))
    provider_level = Level(config, "config", str(path))
    services: dict[str, Service] = {}
    for key, entry in first_mapping(data.get("providerServices")).items():
        entry = first_mapping(entry)
        loader = _ServiceLoader(path, src, name, str(key), entry, provider_level)
        services[str(key)] = Service(
            name=str(key),
            resources=LazyMapping(loader.names, loader.resource),
            description=" ".join(str(entry.get("description") or "").split()),
            title=str(entry.get("title") or ""),
        )
    return Provider(
        name=name,
        title=str(data.get("title") or data.get("name") or name),
        description=" ".join(str(data.get("description") or "").split()),
        server=Server(url=""),  # every method has a server of its own
        auth=auth_spec(config.get("auth"), str(path), "config.auth"),
        services=services,
        source=str(path),
        version=str(data.get("version") or path.parent.name),
        origin=origin,
    )


class _ServiceLoader:
    """Reads one service document the first time its resources are asked for."""

    def __init__(
        self,
        provider_file: Path,
        src: Path,
        provider: str,
        key: str,
        entry: Mapping[str, Any],
        provider_level: Level,
    ) -> None:
        self.provider_file = provider_file
        self.src = src
        self.provider = provider
        self.key = key
        self.entry = entry
        self.provider_level = provider_level
        self._source: ServiceSource | None = None

    def source(self) -> ServiceSource:
        """The service document, read once."""
        if self._source is None:
            doc = Document.read(self._file())
            own = first_mapping(doc.data.get("x-stackQL-config")) or first_mapping(
                first_mapping(doc.data.get("components")).get("x-stackQL-config")
            )
            levels = (
                Level(own, "x-stackQL-config", str(doc.path)),
                Level(
                    first_mapping(self.entry.get("config")),
                    f"providerServices.{self.key}.config",
                    str(self.provider_file),
                ),
                self.provider_level,
            )
            self._source = ServiceSource(doc, self.provider, self.key, levels)
        return self._source

    def _file(self) -> Path:
        where = f"providerServices.{self.key}.service.$ref"
        ref = first_mapping(self.entry.get("service")).get("$ref")
        if not isinstance(ref, str) or not ref:
            raise ProviderError(str(self.provider_file), where, "the service names no document")
        for base in (self.src, self.provider_file.parent):
            candidate = (base / ref).resolve()
            if candidate.is_file():
                return candidate
        raise ProviderError(
            str(self.provider_file),
            where,
            f"the service document {ref} is not in this registry (looked in {self.src})",
        )

    def names(self) -> list[str]:
        return self.source().resource_names()

    def resource(self, name: str) -> Resource:
        return self.source().resource(name)
