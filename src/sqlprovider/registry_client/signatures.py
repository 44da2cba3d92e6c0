"""Checking the registry's signatures, in StackQL's format.

StackQL's registry signs each document of an archive (``provider.yaml``,
``services/*.yaml``) with Ed25519 and ships the signature beside it as ``NAME.sig``:
base64 of ``STAMP + SIGNATURE``, where SIGNATURE (the last 64 bytes) signs the document's
bytes followed by STAMP (the signing time, Go's ``time.MarshalBinary``, 15 bytes; may be
empty). The public key is not served by the registry: the user names a PEM file holding it
(``PUBLIC KEY``) or certificates carrying it (``CERTIFICATE``, as StackQL's signing bundle).

With a key, every file of the archive must carry a valid signature, or nothing is
installed. The certificates' validity dates are not checked: the time in STAMP is the
signer's own claim, and StackQL renews its certificate around the same key.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlprovider.errors import DataError, InterfaceError, OperationalError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

KEY_ENV = "SQLPROVIDER_REGISTRY_KEY"
SIGNATURE_BYTES = 64
SIGNATURES_INSTALL = "pip install 'sqlprovider[signatures]'"
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class TrustedKeys:
    """The Ed25519 keys a pull accepts signatures of, and the file they came from."""

    keys: tuple[Ed25519PublicKey, ...]
    source: Path


def load_keys(path: Path) -> TrustedKeys:
    """The Ed25519 public keys in the PEM file ``path`` (public keys or certificates).

    Raises:
        InterfaceError: the file is missing or holds no Ed25519 key.
        OperationalError: the ``cryptography`` package is not installed.
    """
    fix = f"check --registry-key (or {KEY_ENV})"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InterfaceError(
            f"cannot read the registry key {path}: {exc.strerror}; {fix}"
        ) from None
    crypto = _crypto()
    keys = []
    for block in _PEM.finditer(data):
        kind = block.group(1).decode()
        try:
            if kind == "CERTIFICATE":
                key = crypto.x509.load_pem_x509_certificate(block.group(0)).public_key()
            elif kind == "PUBLIC KEY":
                key = crypto.serialization.load_pem_public_key(block.group(0))
            else:
                continue
        except ValueError:
            raise InterfaceError(f"the registry key {path} holds a broken {kind}; {fix}") from None
        if not isinstance(key, crypto.Ed25519PublicKey):
            raise InterfaceError(
                f"the registry key {path} holds a {kind} that is not an Ed25519 key (the "
                f"registry signs with Ed25519); {fix}"
            )
        keys.append(key)
    if not keys:
        raise InterfaceError(
            f"the registry key {path} holds no PEM 'PUBLIC KEY' or 'CERTIFICATE'; {fix}"
        )
    return TrustedKeys(tuple(keys), path)


def verify_tree(root: Path, trusted: TrustedKeys, what: str) -> int:
    """Check the signature of every file under ``root``; returns how many were checked.

    Raises:
        DataError: a file has no signature, or one that none of the keys made.
    """
    crypto = _crypto()
    checked = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".sig"):
        name = path.relative_to(root).as_posix()
        stamp, signature = _read_signature(path.with_name(path.name + ".sig"), name, what)
        message = path.read_bytes() + stamp
        if not any(_verifies(crypto, key, signature, message) for key in trusted.keys):
            raise DataError(
                f"{what}: {name} does not match its signature under the key in "
                f"{trusted.source}: the download was altered, or signed with another key; "
                "it was refused and nothing was changed"
            )
        checked += 1
    return checked


def _read_signature(path: Path, name: str, what: str) -> tuple[bytes, bytes]:
    """The stamp and the 64-byte signature of the ``.sig`` file ``path``."""
    if not path.is_file():
        raise DataError(
            f"{what}: {name} has no signature ({name}.sig); with a registry key every file "
            "must be signed, so the archive was refused and nothing was changed"
        )
    try:
        raw = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) < SIGNATURE_BYTES:
        raise DataError(
            f"{what}: {name}.sig is not a signature (base64 of at least {SIGNATURE_BYTES} "
            "bytes); the archive was refused and nothing was changed"
        )
    return raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]


def _verifies(crypto: _Crypto, key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except crypto.InvalidSignature:
        return False
    return True


class _Crypto:
    """The parts of the ``cryptography`` package used here, imported on first use."""

    def __init__(self) -> None:
        from cryptography import exceptions, x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        self.x509 = x509
        self.serialization = serialization
        self.Ed25519PublicKey = ed25519.Ed25519PublicKey
        self.InvalidSignature = exceptions.InvalidSignature


def _crypto() -> _Crypto:
    try:
        return _Crypto()
    except ModuleNotFoundError:
        raise OperationalError(
            "checking the registry's signatures needs the 'cryptography' package; install "
            f"it with: {SIGNATURES_INSTALL} (or drop --registry-key / {KEY_ENV} to pull "
            "without checking signatures)"
        ) from None
