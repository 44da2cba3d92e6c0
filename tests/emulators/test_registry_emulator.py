"""The static provider registry of the emulator kit: StackQL's download layout served from
a folder, its answers, and the faults pulls are tested against (a body cut off mid-way, a
truncated body, a document changed after signing)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import httpx
import pytest
import yaml

from sqlprovider.emulators.registry import publish
from tests.registry_support import PROVIDER, Signer, documents, registry_server, registry_url


@pytest.fixture
def served(tmp_path: Path) -> Path:
    folder = tmp_path / "served"
    signer = Signer()
    for version in ("v1.0.0", "v1.1.0"):
        publish(folder, PROVIDER, version, documents(tmp_path, version), sign=signer.sign)
    return folder


def members(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def test_publish_writes_the_list_and_archives_as_stackql_lays_them_out(
    served: Path, tmp_path: Path
) -> None:
    listed = yaml.safe_load((served / "dist" / "providers.yaml").read_text())
    assert listed == {"providers": {PROVIDER: {"versions": ["v1.0.0", "v1.1.0"]}}}
    archive = (served / "dist" / PROVIDER / "v1.1.0.tgz").read_bytes()
    files = members(archive)
    assert set(files) == {
        "v1.1.0/provider.yaml",
        "v1.1.0/provider.yaml.sig",
        "v1.1.0/services/ingestion.yaml",
        "v1.1.0/services/ingestion.yaml.sig",
    }
    source = documents(tmp_path, "v1.1.0")
    assert files["v1.1.0/provider.yaml"] == (source / "provider.yaml").read_bytes()


def test_it_serves_files_under_providers_and_nothing_else(served: Path) -> None:
    with registry_server(served) as server, httpx.Client(base_url=registry_url(server)) as client:
        index = client.get("/dist/providers.yaml")
        assert index.status_code == 200 and index.headers["content-type"].startswith("text/plain")
        assert index.content == (served / "dist" / "providers.yaml").read_bytes()
        archive = client.get(f"/dist/{PROVIDER}/v1.0.0.tgz")
        assert archive.headers["content-type"] == "application/gzip"
        assert archive.content == (served / "dist" / PROVIDER / "v1.0.0.tgz").read_bytes()
        assert client.get("/ping").status_code == 202 and client.get("/ping").text == "pong"
        assert client.get(f"/dist/{PROVIDER}/v9.tgz").status_code == 404
        assert client.get("/dist/%2e%2e/%2e%2e/secret").status_code == 404
        assert client.post("/dist/providers.yaml").status_code == 405
        assert httpx.get(f"{server.url}/dist/providers.yaml").status_code == 404  # not /providers
        assert [e.path for e in server.log.entries()][:2] == [
            "/providers/dist/providers.yaml",
            f"/providers/dist/{PROVIDER}/v1.0.0.tgz",
        ]


def test_a_cut_fault_announces_the_whole_body_and_closes_half_way(served: Path) -> None:
    path = f"/providers/dist/{PROVIDER}/v1.0.0.tgz"
    size = (served / "dist" / PROVIDER / "v1.0.0.tgz").stat().st_size
    with registry_server(served) as server:
        fault = server.faults.cut("GET", path, keep=100)
        received = bytearray()
        with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", server.url + path) as r:
            assert r.headers["content-length"] == str(size)
            for chunk in r.iter_raw():
                received.extend(chunk)
        assert len(received) == 100 and fault.hits == 1
        assert server.log.entries()[-1].fault == "cut"
        assert len(httpx.get(server.url + path).content) == size  # used up: whole again


def test_a_truncate_fault_sends_a_shorter_body_with_a_matching_length(served: Path) -> None:
    path = f"/providers/dist/{PROVIDER}/v1.0.0.tgz"
    whole = (served / "dist" / PROVIDER / "v1.0.0.tgz").read_bytes()
    with registry_server(served) as server:
        server.faults.truncate("GET", path, keep=0.5)
        answer = httpx.get(server.url + path)
        assert answer.status_code == 200 and answer.content == whole[: len(whole) // 2]


def test_tamper_changes_a_document_after_signing(served: Path) -> None:
    archive = f"dist/{PROVIDER}/v1.0.0.tgz"
    with registry_server(served) as server:
        server.app.state.registry.tamper(archive, "v1.0.0/services/ingestion.yaml", b"x: 1\n")
        files = members(httpx.get(f"{registry_url(server)}/{archive}").content)
    original = members((served / archive).read_bytes())
    assert files["v1.0.0/services/ingestion.yaml"] == b"x: 1\n"
    assert (
        files["v1.0.0/services/ingestion.yaml.sig"]
        == original["v1.0.0/services/ingestion.yaml.sig"]
    )
    assert files["v1.0.0/provider.yaml"] == original["v1.0.0/provider.yaml"]
