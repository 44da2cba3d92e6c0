"""Unpacking a provider archive without trusting it.

Before anything is written, every member is checked: a relative path inside the version's
folder (no absolute path, no ``..``), a regular file or a folder (links, devices and fifos
are refused), sizes within the limits (each file, all files, how many). Extraction then
runs through tarfile's ``data`` filter as a second fence.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlprovider.errors import DataError

MiB = 1 << 20


@dataclass(frozen=True)
class ArchiveLimits:
    """How much a pull may download and unpack.

    Attributes:
        download_bytes: the archive's size.
        member_bytes: one unpacked file.
        total_bytes: all unpacked files together (a small archive that unpacks to a
            huge tree is refused).
        members: files and folders in the archive.
    """

    download_bytes: int = 256 * MiB
    member_bytes: int = 128 * MiB
    total_bytes: int = 1024 * MiB
    members: int = 20_000


def unpack(archive: Path, into: Path, version: str, limits: ArchiveLimits, what: str) -> Path:
    """Unpack ``archive`` into ``into``; returns the version's folder (``into/version``).

    Raises:
        DataError: the archive is damaged, breaks a rule above, or holds no
            ``VERSION/provider.yaml``.
    """
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = _checked_members(tar, version, limits, what)
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(
            f"{what}: the archive is damaged ({_cause(exc)}); nothing was changed; run the "
            "pull again (if it fails the same way, the registry's copy is broken)"
        ) from None
    root = into / version
    if not (root / "provider.yaml").is_file():
        raise DataError(
            f"{what}: the archive holds no {version}/provider.yaml, so it is not a provider "
            "archive; nothing was changed (check --registry-url)"
        )
    return root


def _checked_members(
    tar: tarfile.TarFile, version: str, limits: ArchiveLimits, what: str
) -> list[tarfile.TarInfo]:
    """Every member of ``tar``, each checked before any is written."""
    members: list[tarfile.TarInfo] = []
    total = 0
    for member in tar:  # headers one by one: a bad one stops the reading early
        if len(members) >= limits.members:
            raise _refused(what, f"it holds more than {limits.members} files and folders")
        name = _relative_name(member.name, version, what)
        if name is None and member.isdir():
            continue  # the archive's own "./"
        if name is None:
            raise _refused(what, f"{member.name!r} is outside the version's folder {version}/")
        member.name = name
        if not (member.isreg() or member.isdir()):
            kind = "a link" if member.issym() or member.islnk() else "a special file"
            raise _refused(what, f"{member.name} is {kind}; only files and folders are accepted")
        if member.size > limits.member_bytes:
            raise _refused(
                what, f"{member.name} is {member.size} bytes, past {limits.member_bytes}"
            )
        total += member.size
        if total > limits.total_bytes:
            raise _refused(what, f"it unpacks to more than {limits.total_bytes} bytes")
        members.append(member)
    return members


def _relative_name(name: str, version: str, what: str) -> str | None:
    """``name`` without a leading ``./``, if it stays inside the version's folder; None
    for the archive's root itself."""
    if "\\" in name or name.startswith("/") or PurePosixPath(name).is_absolute():
        raise _refused(what, f"{name!r} is an absolute path")
    parts = [p for p in PurePosixPath(name).parts if p != "."]
    if ".." in parts:
        raise _refused(what, f"{name!r} climbs out of its folder ('..')")
    if not parts:
        return None
    if parts[0] != version:
        raise _refused(what, f"{name!r} is outside the version's folder {version}/")
    return "/".join(parts)


def _refused(what: str, why: str) -> DataError:
    return DataError(f"{what}: the archive was refused: {why}; nothing was changed")


def _cause(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "it ends too early"
    text = str(exc).strip()
    return text.splitlines()[0] if text else "unreadable"
