"""Import an OpenAPI 3 spec as a provider definition (``sqlprovider providers import openapi``).

The stages, each a module: ``spec`` reads the document and resolves ``$ref``/``allOf``/
``oneOf``/``anyOf``; ``operations`` turns one operation into a method (params, request body
fields, where the records are); ``pagination`` recognises how a list pages; ``grouping``
places the methods in services and resources; ``provider`` adds server, auth, columns and
keys; ``writer`` writes the YAML with comments where the importer guessed or gave up. The
result is loaded by the provider loader before it is handed back, so an import never writes
a file that does not load.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlprovider.errors import InterfaceError, ProviderError
from sqlprovider.model import Provider
from sqlprovider.providers.loader import load_provider
from sqlprovider.providers.openapi.naming import NAME
from sqlprovider.providers.openapi.provider import build_draft
from sqlprovider.providers.openapi.spec import Spec, check_openapi, plain, read_spec
from sqlprovider.providers.openapi.writer import render

__all__ = ["Imported", "import_openapi", "import_openapi_document"]


@dataclass(frozen=True)
class Imported:
    """The result of an import: the YAML text and the provider it loads as."""

    text: str
    provider: Provider

    @property
    def todos(self) -> int:
        """How many ``TODO:`` comments the text holds."""
        return sum(1 for line in self.text.splitlines() if line.lstrip().startswith("# TODO:"))


def check_name(name: str) -> None:
    """Raise InterfaceError unless ``name`` can name a provider."""
    if not NAME.match(name):
        raise InterfaceError(
            f"{name!r} is not a valid provider name: use lower-case letters, digits and _, "
            "starting with a letter or _ (for example acme_api)"
        )


def import_openapi(path: Path, name: str) -> Imported:
    """The provider ``name`` made from the OpenAPI 3 spec in ``path`` (YAML or JSON).

    Raises:
        InterfaceError: the name is not valid, or the file is missing or not OpenAPI 3.
    """
    check_name(name)
    return _imported(read_spec(path), name, path.name)


def import_openapi_document(
    document: Mapping[str, Any], name: str, source: str = "spec"
) -> Imported:
    """The provider ``name`` made from an OpenAPI 3 document already read."""
    check_name(name)
    check_openapi(document, source)
    return _imported(plain(dict(document)), name, source)


def _imported(document: dict[str, Any], name: str, source: str) -> Imported:
    draft = build_draft(Spec(document), name)
    text = render(draft, source, str(document.get("openapi")))
    return Imported(text, _load(text, name, source))


def _load(text: str, name: str, source: str) -> Provider:
    """Load the text with the provider loader, as a user's file would be."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_provider(path)
        except ProviderError as exc:  # an importer bug: say where it came from
            raise ProviderError(
                f"{name}.yaml imported from {source}", exc.key_path, exc.problem
            ) from None
