"""Building provider registries at test time: our fixture documents published as archives
(signed with a key made for the test, in StackQL's ``.sig`` format), served on loopback by
the emulator kit's static registry.

The signer here is written from StackQL's format description, apart from the code under
test: base64 of ``STAMP + Ed25519(document + STAMP)``, STAMP being Go's
``time.MarshalBinary`` of the signing time (version 1: seconds since year 1, nanoseconds,
zone offset in minutes, -1 for UTC).
"""

from __future__ import annotations

import base64
import datetime
import shutil
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.registry import RegistryConfig, create_app, publish

FIXTURE = Path(__file__).parent / "fixtures" / "registry_pull"
PROVIDER = "taskboard"
FIXTURE_VERSION = "v1.0.0"
_YEAR_ONE = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)


def go_time_binary(moment: datetime.datetime) -> bytes:
    """Go's ``time.Time.MarshalBinary`` (version 1) of a UTC moment: 15 bytes."""
    since = moment - _YEAR_ONE
    seconds = since.days * 86_400 + since.seconds
    return struct.pack(">BqiH", 1, seconds, since.microseconds * 1000, 0xFFFF)


class Signer:
    """An Ed25519 key made for one test, signing as StackQL's registry does."""

    def __init__(self, stamp: bool = True) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.stamp = stamp

    def sign(self, document: bytes) -> bytes:
        """The ``.sig`` file of ``document``."""
        stamp = go_time_binary(datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC))
        stamp = stamp if self.stamp else b""
        return base64.b64encode(stamp + self.key.sign(document + stamp))

    def public_pem(self) -> bytes:
        """The public key, PEM ``PUBLIC KEY``."""
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def certificate_pem(self) -> bytes:
        """A self-signed certificate of the key, PEM ``CERTIFICATE`` (as StackQL's bundle)."""
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "registry test")])
        now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(1)
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(self.key, None)
        )
        return certificate.public_bytes(serialization.Encoding.PEM)


def documents(tmp: Path, version: str, marker: str = "") -> Path:
    """The fixture documents as ``version`` (its name written into them), in a new folder
    under ``tmp``; ``marker`` goes into the provider's description (to tell copies apart)."""
    folder = Path(tempfile.mkdtemp(prefix=f"documents-{version}-", dir=tmp)) / version
    shutil.copytree(FIXTURE, folder)
    for path in folder.rglob("*.yaml"):
        text = path.read_text().replace(FIXTURE_VERSION, version)
        if marker and path.name == "provider.yaml":
            text = text.replace("description: The tasks", f"description: {marker}. The tasks")
        path.write_text(text)
    return folder


def publish_versions(
    served: Path, tmp: Path, versions: list[str], signer: Signer | None = None
) -> None:
    """Publish the fixture under each of ``versions`` into the registry folder ``served``."""
    for version in versions:
        sign = signer.sign if signer else None
        publish(served, PROVIDER, version, documents(tmp, version), sign=sign)


@contextmanager
def registry_server(served: Path) -> Iterator[EmulatorServer]:
    """The static registry serving ``served`` on a free loopback port."""
    with EmulatorServer(create_app(RegistryConfig(served)), name="registry") as server:
        yield server


def registry_url(server: EmulatorServer) -> str:
    """The base URL a client is given (as ``https://registry.stackql.app/providers``)."""
    return f"{server.url}/providers"


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes): a directory's exact state."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
