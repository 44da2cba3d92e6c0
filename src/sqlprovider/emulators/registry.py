"""A static provider registry in StackQL's download layout, for pulls over loopback.

It serves the files of a folder under ``/providers`` (as ``registry.stackql.app`` does):
``/providers/dist/providers.yaml`` and ``/providers/dist/FOLDER/VERSION.tgz``, ``GET``
only (405 otherwise), ``/ping`` answers 202 ``pong``, anything else 404. ``publish``
fills such a folder from a version's documents, signing each one when given a signer.

Beyond the kit's faults (``server.faults``: error statuses, resets, delays, truncated and
cut-off bodies), ``app.state.registry.tamper`` changes a document inside an archive as it
is served, after signing: the signature no longer matches.
"""

from __future__ import annotations

import io
import mimetypes
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sqlprovider.emulators.kit import with_recorder

PREFIX = "/providers"
INDEX = "dist/providers.yaml"
Signer = Callable[[bytes], bytes]  # a document's bytes -> its .sig file's bytes


@dataclass(frozen=True)
class RegistryConfig:
    """What the registry serves.

    Attributes:
        root: the folder whose files are served under ``/providers``.
    """

    root: Path


@dataclass
class RegistryFiles:
    """The served folder, and the documents to change in archives as they are served."""

    root: Path
    tampered: dict[tuple[str, str], bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tamper(self, archive: str, member: str, content: bytes) -> None:
        """Serve ``archive`` (``dist/FOLDER/VERSION.tgz``) with ``member`` (its path in the
        archive, ``VERSION/services/x.yaml``) replaced by ``content``, its ``.sig`` kept."""
        with self.lock:
            self.tampered[(archive, member)] = content

    def read(self, relative: str) -> bytes | None:
        """The bytes served for ``relative``, or None when there is no such file."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            return None
        data = path.read_bytes()
        with self.lock:
            changes = {m: c for (a, m), c in self.tampered.items() if a == relative}
        return _repacked(data, changes) if changes else data


def create_app(config: RegistryConfig) -> Starlette:
    """The registry app; ``app.state.registry`` is its ``RegistryFiles``."""
    files = RegistryFiles(config.root)

    async def ping(request: Request) -> Response:
        return PlainTextResponse("pong", status_code=202)

    async def serve(request: Request) -> Response:
        relative = request.path_params["path"]
        data = None if ".." in PurePosixPath(relative).parts else files.read(relative)
        if data is None:
            return PlainTextResponse("not found", status_code=404)
        kind = "application/gzip" if relative.endswith(".tgz") else _media_type(relative)
        return Response(data, media_type=kind)

    app = Starlette(
        routes=[
            Route(f"{PREFIX}/ping", ping, methods=["GET"]),
            Route("/ping", ping, methods=["GET"]),
            Route(PREFIX + "/{path:path}", serve, methods=["GET"]),
        ]
    )
    app.state.registry = files
    return with_recorder(app, lambda status, rid: {"error": status, "request_id": rid})


def publish(
    root: Path,
    provider: str,
    version: str,
    documents: Path,
    *,
    folder: str | None = None,
    sign: Signer | None = None,
) -> Path:
    """Pack ``documents`` (a version's ``provider.yaml`` and ``services/``) into
    ``root/dist/FOLDER/VERSION.tgz`` as ``VERSION/...``, with a ``.sig`` beside each file
    when ``sign`` is given, and list the version in ``root/dist/providers.yaml``.

    Args:
        folder: the archive's folder (default: the provider's name).
    Returns:
        The archive written.
    """
    archive = root / "dist" / (folder or provider) / f"{version}.tgz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(documents, arcname=version, recursive=False)
        for path in sorted(documents.rglob("*")):
            name = f"{version}/{path.relative_to(documents).as_posix()}"
            if path.is_dir():
                tar.add(path, arcname=name, recursive=False)
                continue
            data = path.read_bytes()
            _add_bytes(tar, name, data)
            if sign is not None:
                _add_bytes(tar, f"{name}.sig", sign(data))
    index = root / INDEX
    listed = yaml.safe_load(index.read_text()) if index.is_file() else None
    providers = (listed or {}).get("providers") or {}
    versions = providers.setdefault(provider, {}).setdefault("versions", [])
    if version not in versions:
        versions.append(version)
    index.write_text(yaml.safe_dump({"providers": providers}, sort_keys=True))
    return archive


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _repacked(archive: bytes, changes: dict[str, bytes]) -> bytes:
    """``archive`` (a .tgz) with the members named in ``changes`` given new content."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as source,
        tarfile.open(fileobj=out, mode="w:gz") as target,
    ):
        for member in source:
            if member.isfile() and member.name in changes:
                _add_bytes(target, member.name, changes[member.name])
            else:
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
    return out.getvalue()


def _media_type(name: str) -> str:
    if name.endswith((".yaml", ".yml")):
        return "text/plain"  # as StackQL's registry serves providers.yaml
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
