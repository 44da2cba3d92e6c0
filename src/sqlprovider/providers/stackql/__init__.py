"""StackQL registry documents, loaded unmodified into the provider model.

``directory`` finds providers in a registry directory (``DIR/src/<provider>/<version>/``),
``provider`` reads a ``provider.yaml`` (services are read when first named), ``resources``
and ``operations`` convert ``x-stackQL-resources``, ``schemas`` turns OpenAPI schemas into
columns, ``configs`` maps inherited ``x-stackQL-config`` (pagination, auth, body naming),
``documents`` reads YAML through a parsed-form cache and resolves ``$ref`` pointers.
"""

from __future__ import annotations

from sqlprovider.providers.stackql.directory import (
    RegistryProvider,
    choose,
    parse_pins,
    scan,
)

__all__ = ["RegistryProvider", "choose", "parse_pins", "scan"]
