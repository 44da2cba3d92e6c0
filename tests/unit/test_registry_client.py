"""The registry client against ``httpx.MockTransport`` registries: the provider list and
version order, safe unpacking (each rule refused before anything lands), signatures in
StackQL's format, the local directory's atomic installs and removals, and the messages."""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from sqlprovider.emulators.registry import publish
from sqlprovider.errors import (
    DataError,
    HTTPStatusError,
    InterfaceError,
    OperationalError,
    TransportError,
    UnknownNameError,
)
from sqlprovider.providers.versions import version_key
from sqlprovider.registry_client import (
    ArchiveLimits,
    RegistrySettings,
    installed,
    offered,
    pull,
    remove,
)
from sqlprovider.registry_client.index import choose_version, latest, parse_index
from tests.registry_support import PROVIDER, Signer, documents, tree

BASE = "https://registry.example/providers"
Handler = Callable[[httpx.Request], httpx.Response]


def serve_folder(served: Path, seen: list[str] | None = None) -> Handler:
    """A MockTransport handler answering GET BASE/PATH with the file ``served/PATH``."""

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request.url.path)
        relative = request.url.path.removeprefix("/providers/")
        path = served / relative
        if request.url.host != "registry.example" or not path.is_file():
            return httpx.Response(404, text="not found")
        return httpx.Response(200, content=path.read_bytes())

    return handle


def settings(handler: Handler, **options: object) -> RegistrySettings:
    return RegistrySettings(url=BASE, transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """A registry folder with the fixture provider as v1.0.0, v1.1.0 and v2.0.0-rc.1."""
    folder = tmp_path / "served"
    for version in ("v1.0.0", "v1.1.0", "v2.0.0-rc.1"):
        publish(folder, PROVIDER, version, documents(tmp_path, version))
    return folder


def only_archive(handler_bytes: bytes, index: str) -> Handler:
    """A registry whose list is ``index`` and whose every archive is ``handler_bytes``."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/dist/providers.yaml"):
            return httpx.Response(200, text=index)
        return httpx.Response(200, content=handler_bytes)

    return handle


def archive_of(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info


GOOD: list[tuple[tarfile.TarInfo, bytes | None]] = [
    (member("v1/provider.yaml"), b"id: x\n"),
    (member("v1/services/s.yaml"), b"a: 1\n"),
]
INDEX_V1 = "providers:\n  x:\n    versions: [v1]\n"


# -- the provider list and versions ----------------------------------------------------------


def test_the_provider_list_is_read_in_version_order(served: Path) -> None:
    seen: list[str] = []
    assert offered(settings(serve_folder(served, seen))) == {
        PROVIDER: ("v1.0.0", "v1.1.0", "v2.0.0-rc.1")
    }
    assert seen == ["/providers/dist/providers.yaml"]  # StackQL's path for the list


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<html>maintenance</html>", "no 'providers' mapping"),
        ("providers: [a, b]", "no 'providers' mapping"),
        ("providers:\n  a: {}\n", "the entry 'a' has no list of versions"),
        ("providers: {a: [\n", "it is not YAML"),
    ],
)
def test_a_list_that_is_not_a_provider_list_names_the_setting(text: str, problem: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_index(text, BASE + "/dist/providers.yaml")
    message = str(caught.value)
    assert problem in message and "--registry-url" in message
    assert "SQLPROVIDER_REGISTRY_URL" in message


VERSIONS = st.builds(
    lambda major, minor, patch, pre: (
        f"v{major}.{minor}.{patch}" + (f"-{pre[0]}.{pre[1]}" if pre else "")
    ),
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 300),
    st.none() | st.tuples(st.sampled_from(["alpha", "beta", "rc"]), st.integers(0, 20)),
)


@given(st.lists(VERSIONS, min_size=1, max_size=12, unique=True))
def test_version_order_agrees_with_packaging(versions: list[str]) -> None:
    """Differential: our semantic-version order is PEP 440's on the versions both read alike."""
    ours = sorted(versions, key=version_key)
    theirs = sorted(versions, key=lambda v: Version(v))
    assert ours == theirs
    stable = [v for v in versions if "-" not in v]
    assert latest(versions) == max(stable or versions, key=lambda v: Version(v))


def test_the_version_is_chosen_as_written_or_the_newest_release() -> None:
    offer = {"p": ("v0.9.0", "v0.10.0", "v1.0.0-rc.1")}
    assert choose_version(offer, "p", None, BASE) == "v0.10.0"  # not v0.9.0, not the rc
    assert choose_version(offer, "p", "0.9.0", BASE) == "v0.9.0"  # the v may be left out
    assert choose_version({"p": ("v1.0.0-rc.1",)}, "p", None, BASE) == "v1.0.0-rc.1"


def test_an_unknown_provider_gets_suggestions_and_where_to_look(
    served: Path, tmp_path: Path
) -> None:
    with pytest.raises(UnknownNameError) as caught:
        pull("taskbord", root=tmp_path / "root", settings=settings(serve_folder(served)))
    assert caught.value.candidates == (PROVIDER,)
    assert "did you mean 'taskboard'" in str(caught.value)
    assert "sqlprovider registry list" in str(caught.value)
    assert not (tmp_path / "root" / "src").exists()


def test_a_missing_version_lists_the_available_ones(served: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError) as caught:
        pull(PROVIDER, "v1.2.0", root=tmp_path / "root", settings=settings(serve_folder(served)))
    assert "taskboard has v1.0.0, v1.1.0, v2.0.0-rc.1" in str(caught.value)
    assert "v1.1.0" in caught.value.candidates


@pytest.mark.parametrize("name", ["../etc", "a/b", "", "..", ".hidden", "x y"])
def test_names_that_could_leave_the_directory_are_refused(name: str, tmp_path: Path) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    with pytest.raises(InterfaceError, match="is not a provider name"):
        pull(name, root=tmp_path, settings=settings(never))
    with pytest.raises(InterfaceError, match="is not a version name"):
        pull("p", name or "/", root=tmp_path, settings=settings(never))


# -- pulling -----------------------------------------------------------------------------------


def test_a_pull_lays_out_src_provider_version_and_replaces_only_its_own_version(
    served: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    seen: list[str] = []
    first = pull(PROVIDER, "v1.0.0", root=root, settings=settings(serve_folder(served, seen)))
    assert seen[-1] == "/providers/dist/taskboard/v1.0.0.tgz"
    assert first.path == root / "src" / PROVIDER / "v1.0.0" and not first.replaced
    assert set(tree(first.path)) == {"provider.yaml", "services/ingestion.yaml"}
    newest = pull(PROVIDER, root=root, settings=settings(serve_folder(served)))
    assert newest.version == "v1.1.0" and newest.files == 2 and newest.verified == 0
    again = pull(PROVIDER, "v1.1.0", root=root, settings=settings(serve_folder(served)))
    assert again.replaced
    assert [(i.provider, i.version) for i in installed(root)] == [
        (PROVIDER, "v1.0.0"),
        (PROVIDER, "v1.1.0"),
    ]
    assert sorted(p.name for p in (root / ".pull").iterdir()) == ["lock"]  # no staging left


def test_google_lives_under_googleapis_com_as_in_stackql(tmp_path: Path) -> None:
    seen: list[str] = []
    served = tmp_path / "served"
    publish(served, "google", "v1", documents(tmp_path, "v1"), folder="googleapis.com")
    pulled = pull("google", root=tmp_path / "root", settings=settings(serve_folder(served, seen)))
    assert seen[-1] == "/providers/dist/googleapis.com/v1.tgz"
    assert pulled.path == tmp_path / "root" / "src" / "googleapis.com" / "v1"
    assert [i.provider for i in installed(tmp_path / "root")] == ["google"]
    assert [i.version for i in remove("google", root=tmp_path / "root")] == ["v1"]


UNSAFE: dict[str, list[tuple[tarfile.TarInfo, bytes | None]]] = {
    "absolute path": [(member("/etc/x"), b"x")],
    "parent folder": [(member("v1/../../x"), b"x")],
    "outside the version": [(member("v2/provider.yaml"), b"x")],
    "symlink": [*GOOD, (member("v1/link", tarfile.SYMTYPE, linkname="../../x"), None)],
    "symlink inside": [*GOOD, (member("v1/link", tarfile.SYMTYPE, linkname="provider.yaml"), None)],
    "hard link": [*GOOD, (member("v1/hard", tarfile.LNKTYPE, linkname="v1/provider.yaml"), None)],
    "device": [*GOOD, (member("v1/dev", tarfile.CHRTYPE, devmajor=1, devminor=3), None)],
    "fifo": [*GOOD, (member("v1/fifo", tarfile.FIFOTYPE), None)],
    "backslash": [(member("v1\\..\\..\\x"), b"x")],
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_archives_are_refused_before_anything_lands(case: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    handler = only_archive(archive_of(UNSAFE[case]), INDEX_V1)
    with pytest.raises(DataError, match="the archive was refused") as caught:
        pull("x", root=root, settings=settings(handler))
    assert "nothing was changed" in str(caught.value)
    assert tree(root / "src") == {} and not (tmp_path / "x").exists()
    assert sorted(p.name for p in (root / ".pull").iterdir()) == ["lock"]


@pytest.mark.parametrize(
    ("limits", "problem"),
    [
        (ArchiveLimits(download_bytes=100), "past the limit of 100 bytes"),
        (ArchiveLimits(member_bytes=5), "v1/provider.yaml is 6 bytes, past 5"),
        (ArchiveLimits(total_bytes=8), "it unpacks to more than 8 bytes"),
        (ArchiveLimits(members=1), "it holds more than 1 files and folders"),
    ],
)
def test_size_limits_are_kept(limits: ArchiveLimits, problem: str, tmp_path: Path) -> None:
    data = archive_of([*GOOD, (member("v1/pad"), b"\0" * 5000)])
    with pytest.raises(DataError) as caught:
        pull("x", root=tmp_path, settings=settings(only_archive(data, INDEX_V1), limits=limits))
    assert problem in str(caught.value)
    assert tree(tmp_path / "src") == {}


def test_a_small_archive_that_unpacks_huge_is_refused_from_its_headers(tmp_path: Path) -> None:
    bomb = archive_of([*GOOD, (member("v1/zeros"), b"\0" * (4 << 20))])
    assert len(bomb) < 10_000
    limits = ArchiveLimits(total_bytes=1 << 20)
    with pytest.raises(DataError, match="unpacks to more than 1048576 bytes"):
        pull("x", root=tmp_path, settings=settings(only_archive(bomb, INDEX_V1), limits=limits))


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"this is not gzip", "the archive is damaged"),
        (None, "the archive is damaged"),  # a gzip stream cut in the middle
    ],
)
def test_damaged_archives_leave_the_previous_copy(
    body: bytes | None, problem: str, served: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    pull(PROVIDER, "v1.0.0", root=root, settings=settings(serve_folder(served)))
    before = tree(root / "src")
    good = (served / "dist" / PROVIDER / "v1.0.0.tgz").read_bytes()
    bad = body if body is not None else good[: len(good) // 2]
    index = (served / "dist" / "providers.yaml").read_text()
    with pytest.raises(DataError, match=problem) as caught:
        pull(PROVIDER, "v1.0.0", root=root, settings=settings(only_archive(bad, index)))
    assert "run the pull again" in str(caught.value)
    assert tree(root / "src") == before


def test_an_archive_without_provider_yaml_is_not_a_provider(tmp_path: Path) -> None:
    data = archive_of([(member("v1/services/s.yaml"), b"a: 1\n")])
    with pytest.raises(DataError, match=r"holds no v1/provider\.yaml"):
        pull("x", root=tmp_path, settings=settings(only_archive(data, INDEX_V1)))


# -- transfer failures -------------------------------------------------------------------------


def test_an_unreachable_registry_names_the_url_and_the_setting(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    with pytest.raises(TransportError) as caught:
        offered(settings(refuse))
    message = str(caught.value)
    assert f"cannot reach the registry at {BASE}/dist/providers.yaml" in message
    assert "--registry-url" in message and "SQLPROVIDER_REGISTRY_URL" in message
    assert "ConnectError" not in message and "httpx" not in message


def test_a_registry_answering_404_is_named_with_the_fix() -> None:
    with pytest.raises(HTTPStatusError) as caught:
        offered(settings(lambda request: httpx.Response(404)))
    assert caught.value.status_code == 404
    assert (
        "HTTP 404 Not Found for GET https://registry.example/providers/dist/providers.yaml"
        in str(caught.value)
    )
    assert "dist/providers.yaml" in str(caught.value)


def test_credentials_in_the_url_never_reach_a_message() -> None:
    secret_url = "https://reader:hunter2-secret@registry.example/providers?token=abc-secret"

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler in (refuse, lambda r: httpx.Response(500)):
        with pytest.raises((TransportError, HTTPStatusError)) as caught:
            offered(RegistrySettings(url=secret_url, transport=httpx.MockTransport(handler)))
        assert "secret" not in str(caught.value) and "reader" not in str(caught.value)
        assert "https://registry.example/providers/dist/providers.yaml" in str(caught.value)


def test_a_body_shorter_than_announced_is_a_broken_download(tmp_path: Path) -> None:
    def short(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("providers.yaml"):
            return httpx.Response(200, text=INDEX_V1)
        return httpx.Response(200, headers={"content-length": "5000"}, content=b"\x1f\x8b" * 10)

    with pytest.raises(TransportError, match=r"broke off after 20 of 5000 bytes"):
        pull("x", root=tmp_path, settings=settings(short))
    assert tree(tmp_path / "src") == {}


# -- signatures --------------------------------------------------------------------------------


@pytest.fixture
def signer() -> Signer:
    return Signer()


def signed_registry(
    tmp_path: Path, signer: Signer, versions: tuple[str, ...] = ("v1.0.0",)
) -> Path:
    served = tmp_path / "signed"
    for version in versions:
        publish(served, PROVIDER, version, documents(tmp_path, version), sign=signer.sign)
    return served


@pytest.mark.parametrize("form", ["public key", "certificate", "no stamp"])
def test_signed_archives_are_verified_document_by_document(form: str, tmp_path: Path) -> None:
    signer = Signer(stamp=form != "no stamp")
    key = tmp_path / "key.pem"
    key.write_bytes(signer.certificate_pem() if form == "certificate" else signer.public_pem())
    served = signed_registry(tmp_path, signer)
    pulled = pull(
        PROVIDER, root=tmp_path / "root", settings=settings(serve_folder(served), key_file=key)
    )
    assert pulled.verified == 2 and pulled.files == 4 and pulled.key_file == key
    assert set(tree(pulled.path)) == {
        "provider.yaml",
        "provider.yaml.sig",
        "services/ingestion.yaml",
        "services/ingestion.yaml.sig",
    }


def edit_archive(archive: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Rewrite ``archive``: each file's bytes through ``change`` (None drops the file)."""
    out = io.BytesIO()
    with tarfile.open(archive) as source, tarfile.open(fileobj=out, mode="w:gz") as target:
        for info in source:
            data = source.extractfile(info).read() if info.isfile() else None  # type: ignore[union-attr]
            if data is not None:
                data = change(info.name, data)
                if data is None:
                    continue
                info.size = len(data)
            target.addfile(info, io.BytesIO(data) if data is not None else None)
    archive.write_bytes(out.getvalue())


TAMPERINGS: dict[str, tuple[Callable[[str, bytes], bytes | None], str]] = {
    "changed document": (
        lambda name, data: data + b"# injected\n" if name.endswith("ingestion.yaml") else data,
        "services/ingestion.yaml does not match its signature",
    ),
    "missing signature": (
        lambda name, data: None if name.endswith("ingestion.yaml.sig") else data,
        "services/ingestion.yaml has no signature",
    ),
    "not a signature": (
        lambda name, data: b"bm90IGEgc2ln" if name.endswith("provider.yaml.sig") else data,
        "provider.yaml.sig is not a signature",
    ),
    "extra unsigned file": (
        lambda name, data: data,
        "services/extra.yaml has no signature",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERINGS))
def test_a_bad_signature_refuses_the_pull_and_keeps_the_previous_copy(
    case: str, signer: Signer, tmp_path: Path
) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(signer.public_pem())
    served = signed_registry(tmp_path, signer)
    root = tmp_path / "root"
    options = settings(serve_folder(served), key_file=key)
    pull(PROVIDER, root=root, settings=options)
    before = tree(root / "src")
    archive = served / "dist" / PROVIDER / "v1.0.0.tgz"
    change, problem = TAMPERINGS[case]
    edit_archive(archive, change)
    if case == "extra unsigned file":
        with tarfile.open(archive) as source:
            kept = [(i, source.extractfile(i).read() if i.isfile() else None) for i in source]  # type: ignore[union-attr]
        archive.write_bytes(archive_of([*kept, (member("v1.0.0/services/extra.yaml"), b"x: 1\n")]))
    with pytest.raises(DataError) as caught:
        pull(PROVIDER, root=root, settings=options)
    assert problem in str(caught.value)
    assert "nothing was changed" in str(caught.value)
    assert tree(root / "src") == before


def test_a_signature_by_another_key_is_refused(signer: Signer, tmp_path: Path) -> None:
    key = tmp_path / "other.pem"
    key.write_bytes(Signer().public_pem())
    served = signed_registry(tmp_path, signer)
    with pytest.raises(DataError, match=f"under the key in {re.escape(str(key))}"):
        pull(PROVIDER, root=tmp_path / "r", settings=settings(serve_folder(served), key_file=key))
    assert tree(tmp_path / "r" / "src") == {}


def test_without_a_key_signatures_are_kept_but_not_checked(signer: Signer, tmp_path: Path) -> None:
    served = signed_registry(tmp_path, signer)
    edit_archive(served / "dist" / PROVIDER / "v1.0.0.tgz", TAMPERINGS["changed document"][0])
    pulled = pull(PROVIDER, root=tmp_path / "r", settings=settings(serve_folder(served)))
    assert pulled.verified == 0 and pulled.files == 4


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read the registry key"),
        (b"hello", "holds no PEM 'PUBLIC KEY' or 'CERTIFICATE'"),
        (
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "holds a broken PUBLIC KEY",
        ),
    ],
)
def test_an_unusable_key_file_stops_the_pull_before_any_download(
    content: bytes | None, problem: str, tmp_path: Path
) -> None:
    key = tmp_path / "key.pem"
    if content is not None:
        key.write_bytes(content)

    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    with pytest.raises(InterfaceError) as caught:
        pull(PROVIDER, root=tmp_path, settings=settings(never, key_file=key))
    assert problem in str(caught.value) and "--registry-key" in str(caught.value)


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = tmp_path / "ec.pem"
    key.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(InterfaceError, match="not an Ed25519 key"):
        pull(
            PROVIDER, root=tmp_path, settings=settings(lambda r: httpx.Response(500), key_file=key)
        )


# -- the local directory -----------------------------------------------------------------------


def test_remove_deletes_one_version_or_all_and_says_what(served: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    for version in ("v1.0.0", "v1.1.0", "v2.0.0-rc.1"):
        pull(PROVIDER, version, root=root, settings=settings(serve_folder(served)))
    removed = remove(PROVIDER, "1.1.0", root=root)
    assert [(i.version, i.path) for i in removed] == [
        ("v1.1.0", root / "src" / PROVIDER / "v1.1.0")
    ]
    assert [i.version for i in installed(root)] == ["v1.0.0", "v2.0.0-rc.1"]
    with pytest.raises(UnknownNameError, match=re.escape("has taskboard v1.0.0, v2.0.0-rc.1")):
        remove(PROVIDER, "v9", root=root)
    assert [i.version for i in remove(PROVIDER, root=root)] == ["v1.0.0", "v2.0.0-rc.1"]
    assert installed(root) == [] and not (root / "src" / PROVIDER).exists()
    with pytest.raises(UnknownNameError, match="nothing of it is installed"):
        remove(PROVIDER, root=root)


def test_a_replacement_cut_between_its_renames_is_put_back(served: Path, tmp_path: Path) -> None:
    """A process killed after moving the old copy aside (before the new one took its place)
    leaves a journal; the next command puts the old copy back."""
    root = tmp_path / "root"
    pull(PROVIDER, "v1.0.0", root=root, settings=settings(serve_folder(served)))
    before = tree(root / "src")
    target = root / "src" / PROVIDER / "v1.0.0"
    stale = root / ".pull" / "4242-killed"
    stale.mkdir()
    (stale / "replacing.json").write_text(f'{{"target": "{target}"}}')
    target.rename(stale / "previous")
    assert installed(root) == []
    with pytest.raises(UnknownNameError):  # any command that takes the lock mends it
        remove("other", root=root)
    assert tree(root / "src") == before
    assert sorted(p.name for p in (root / ".pull").iterdir()) == ["lock"]


def test_a_second_command_on_a_locked_directory_is_told_to_wait(
    served: Path, tmp_path: Path
) -> None:
    from sqlprovider.registry_client import local_registry

    root = tmp_path / "root"
    busy = "another `sqlprovider registry` command is changing"
    with local_registry.staging(root), pytest.raises(OperationalError, match=busy):
        pull(PROVIDER, root=root, settings=settings(serve_folder(served)))
    assert pull(PROVIDER, root=root, settings=settings(serve_folder(served))).version == "v1.1.0"


@pytest.mark.parametrize(
    "url",
    ["registry.example", "http://", "http://[::1", "ftp://registry.example/p", "http://h:x/p"],
)
def test_a_registry_url_that_is_no_http_url_is_refused_before_any_request(url: str) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    with pytest.raises(InterfaceError) as caught:
        offered(RegistrySettings(url=url, transport=httpx.MockTransport(never)))
    assert "is not an http or https URL" in str(caught.value)
    assert "--registry-url" in str(caught.value)
