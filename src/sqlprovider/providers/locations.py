"""Where provider documents live on disk besides the bundled ones.

Two kinds of directory hold StackQL registry documents (``src/<provider>/<version>/``):
the ones a user names (``--registry DIR``, ``SQLPROVIDER_REGISTRY``, ``connect(registry=)``)
and the local registry that ``sqlprovider registry pull`` fills and every command loads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REGISTRY_ENV = "SQLPROVIDER_REGISTRY"  # registry directories, separated by os.pathsep


def local_registry_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The local registry that pulls write to: ``$XDG_DATA_HOME/sqlprovider/registry``, else
    ``~/.local/share/sqlprovider/registry``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "sqlprovider" / "registry"


def registry_dirs_from_env(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The registry directories ``SQLPROVIDER_REGISTRY`` names, in order."""
    env = os.environ if environ is None else environ
    return [Path(p) for p in env.get(REGISTRY_ENV, "").split(os.pathsep) if p]
