"""The local registry directory that pulls fill: ``ROOT/src/FOLDER/VERSION/``, the layout
StackQL's client writes and the StackQL loader reads.

Changes happen under a lock (``ROOT/.pull/lock``), in a staging folder beside the target
(``ROOT/.pull/ID/``, the same file system): a version appears by one rename, only once it
is whole and checked. Replacing a version moves the old one into the staging folder
first; if the process dies between the two renames, the next pull or remove puts the old
one back. Staging folders left by a killed pull are removed by the next one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlprovider.errors import OperationalError, UnknownNameError
from sqlprovider.providers.versions import version_key
from sqlprovider.registry_client.index import folder_of, provider_of

STAGING = ".pull"
JOURNAL = "replacing.json"  # names the target while its old copy sits in the staging folder

try:  # POSIX; elsewhere concurrent pulls into one directory are not guarded
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Installed:
    """One provider version in a local registry."""

    provider: str
    version: str
    path: Path


def installed(root: Path) -> list[Installed]:
    """Every provider version under ``root/src`` (those with a ``provider.yaml``), by
    provider and version."""
    found = []
    src = root / "src"
    for folder in _subfolders(src):
        for version in _subfolders(folder):
            if (version / "provider.yaml").is_file():
                found.append(Installed(provider_of(folder.name), version.name, version))
    return sorted(found, key=lambda i: (i.provider, version_key(i.version)))


def version_path(root: Path, provider: str, version: str) -> Path:
    """Where ``provider`` ``version`` lives (or will live) in the local registry."""
    return root / "src" / folder_of(provider) / version


@contextlib.contextmanager
def staging(root: Path) -> Iterator[Path]:
    """A fresh staging folder under the lock of ``root``; removed on the way out.

    Raises:
        OperationalError: another pull or remove holds the lock, or ``root`` is not
            writable.
    """
    area = root / STAGING
    try:
        area.mkdir(parents=True, exist_ok=True)
        lock = (area / "lock").open("a+")
    except OSError as exc:
        raise _unwritable(root, exc) from None
    with lock:
        _lock(lock, root)
        _recover(area)
        folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=area))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def install(folder: Path, tree: Path, target: Path) -> bool:
    """Move the checked version ``tree`` to ``target`` in one rename; an old copy of the
    same version is replaced. Returns whether one was.

    Raises:
        OperationalError: the rename failed (no room, no permission).
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.rename(tree, target)
            return False
        (folder / JOURNAL).write_text(json.dumps({"target": str(target)}))
        os.rename(target, folder / "previous")
        os.rename(tree, target)
        (folder / JOURNAL).unlink()
        return True
    except OSError as exc:
        _put_back(folder)
        raise _unwritable(target.parent, exc) from None


def remove(root: Path, folder: Path, provider: str, version: str | None) -> list[Installed]:
    """Remove ``provider`` (every version, or ``version``) from ``root``; returns what was
    removed. Each version leaves by one rename into the staging ``folder``.

    Raises:
        UnknownNameError: ``root`` has no such provider or version (candidates: what it has).
    """
    present = installed(root)
    mine = [i for i in present if i.provider == provider]
    if not mine:
        raise UnknownNameError(
            "provider",
            provider,
            sorted({i.provider for i in present}),
            hint=f"nothing of it is installed in {root}; `sqlprovider registry list "
            "--installed` shows what is",
        )
    if version is not None:
        mine = [i for i in mine if version in (i.version, i.version.removeprefix("v"))]
        if not mine:
            versions = ", ".join(i.version for i in present if i.provider == provider)
            raise UnknownNameError("version", version, hint=f"{root} has {provider} {versions}")
    for index, item in enumerate(mine):
        try:
            os.rename(item.path, folder / f"removed-{index}")
        except OSError as exc:
            raise _unwritable(item.path.parent, exc) from None
    with contextlib.suppress(OSError):  # the provider's folder, if no version is left
        mine[0].path.parent.rmdir()
    return mine


def _subfolders(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def _lock(lock: IO[str], root: Path) -> None:
    if fcntl is None:  # pragma: no cover
        return
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise OperationalError(
            f"another `sqlprovider registry` command is changing {root}; wait for it to "
            "finish and run this one again"
        ) from None


def _recover(area: Path) -> None:
    """Put back versions a killed replacement had moved aside; drop stale staging folders."""
    for folder in (p for p in area.iterdir() if p.is_dir()):
        _put_back(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _put_back(folder: Path) -> None:
    """If ``folder`` holds an old copy whose target is gone, move it back."""
    journal = folder / JOURNAL
    previous = folder / "previous"
    try:
        target = Path(json.loads(journal.read_text())["target"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    if previous.is_dir() and not target.exists():
        with contextlib.suppress(OSError):
            os.rename(previous, target)


def _unwritable(path: Path, exc: OSError) -> OperationalError:
    return OperationalError(
        f"cannot write into {path}: {exc.strerror or exc}; free some space or fix its "
        "permissions (or choose another directory with --registry)"
    )
