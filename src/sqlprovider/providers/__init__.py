"""Provider definitions: find, load and validate YAML into the model."""

from __future__ import annotations

from sqlprovider.providers.loader import load_provider
from sqlprovider.providers.registry import Registry, bundled_providers_dir

__all__ = ["Registry", "bundled_providers_dir", "load_provider"]
