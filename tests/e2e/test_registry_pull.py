"""``sqlprovider registry list | pull | remove`` against the emulator kit's static registry
on loopback: real archives, built at test time from tests/fixtures/registry_pull, pulled
through the command (a subprocess) and through the Python function; downloads that break
off, a process killed mid-download, damaged and tampered archives all leave the installed
copy as it was."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sqlprovider.emulators.kit import EmulatorServer, free_port
from sqlprovider.emulators.openverse import OpenverseConfig
from sqlprovider.emulators.openverse import create_app as create_openverse
from sqlprovider.emulators.registry import publish
from sqlprovider.registry_client import RegistrySettings, installed, pull
from tests.registry_support import (
    PROVIDER,
    Signer,
    documents,
    publish_versions,
    registry_server,
    registry_url,
    tree,
)

ARCHIVE = f"/providers/dist/{PROVIDER}/v1.0.0.tgz"


@pytest.fixture
def served(tmp_path: Path) -> Path:
    folder = tmp_path / "served"
    publish_versions(folder, tmp_path, ["v1.0.0", "v1.1.0", "v2.0.0-rc.1"])
    return folder


@pytest.fixture
def server(served: Path) -> Iterator[EmulatorServer]:
    with registry_server(served) as running:
        yield running


def sqlprovider(
    *args: str, env: dict[str, str] | None = None, data: Path
) -> subprocess.CompletedProcess[str]:
    """Run the command with ``data`` as XDG_DATA_HOME (its default local registry)."""
    environment = {**os.environ, "XDG_DATA_HOME": str(data), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "sqlprovider", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def description(version_dir: Path) -> str:
    return next(
        line
        for line in (version_dir / "provider.yaml").read_text().splitlines()
        if line.startswith("description:")
    )


def test_list_pull_and_remove_through_the_command(server: EmulatorServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    local = data / "sqlprovider" / "registry"  # the XDG data dir's local registry
    env = {"SQLPROVIDER_REGISTRY_URL": registry_url(server)}
    listed = sqlprovider("registry", "list", "-o", "json", env=env, data=data)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"provider": PROVIDER, "latest": "v1.1.0", "installed": None, "path": None}
    ]
    pulled = sqlprovider("registry", "pull", PROVIDER, env=env, data=data)
    assert pulled.returncode == 0, pulled.stderr
    target = local / "src" / PROVIDER / "v1.1.0"
    assert pulled.stdout.splitlines()[0] == f"pulled {PROVIDER} v1.1.0 into {target}"
    assert "signatures not checked: no registry key" in pulled.stdout
    assert (target / "provider.yaml").read_bytes() == (
        documents(tmp_path, "v1.1.0") / "provider.yaml"
    ).read_bytes()
    older = sqlprovider(
        "registry", "pull", PROVIDER, "v1.0.0", "--registry-url", registry_url(server), data=data
    )
    assert older.returncode == 0, older.stderr
    listed = sqlprovider("registry", "list", "-o", "csv", env=env, data=data)
    assert listed.stdout.splitlines() == [
        "provider,latest,installed,path",
        f"{PROVIDER},v1.1.0,v1.0.0,{local / 'src' / PROVIDER / 'v1.0.0'}",
        f"{PROVIDER},v1.1.0,v1.1.0,{target}",
    ]
    removed = sqlprovider("registry", "remove", PROVIDER, "v1.1.0", data=data)
    assert removed.stdout == f"removed {PROVIDER} v1.1.0 ({target})\n"
    offline = sqlprovider("registry", "list", "--installed", "-o", "csv", data=data)
    assert offline.stdout.splitlines()[1:] == [
        f"{PROVIDER},v1.0.0,{local / 'src' / PROVIDER / 'v1.0.0'}"
    ]
    assert [e.path for e in server.log.entries()].count("/providers/dist/providers.yaml") == 4


def test_a_registry_directory_can_be_named(server: EmulatorServer, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    done = sqlprovider(
        "registry", "pull", PROVIDER, "--registry", str(mine),
        "--registry-url", registry_url(server), data=tmp_path / "data",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [(i.version, i.path) for i in installed(mine)] == [
        ("v1.1.0", mine / "src" / PROVIDER / "v1.1.0")
    ]
    assert not (tmp_path / "data").exists()


def test_the_python_function_pulls_signed_archives(tmp_path: Path) -> None:
    signer = Signer()
    served = tmp_path / "signed"
    publish_versions(served, tmp_path, ["v1.0.0"], signer=signer)
    key = tmp_path / "registry.pem"
    key.write_bytes(signer.certificate_pem())
    with registry_server(served) as server:
        settings = RegistrySettings(url=registry_url(server), key_file=key)
        pulled = pull(PROVIDER, root=tmp_path / "root", settings=settings)
        assert (pulled.version, pulled.verified, pulled.files) == ("v1.0.0", 2, 4)
        env = {
            "SQLPROVIDER_REGISTRY_URL": registry_url(server),
            "SQLPROVIDER_REGISTRY_KEY": str(key),
        }
        done = sqlprovider("registry", "pull", PROVIDER, env=env, data=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert f"2 signatures verified with {key}" in done.stdout


def test_a_tampered_archive_is_refused_and_the_installed_copy_kept(tmp_path: Path) -> None:
    signer = Signer()
    served = tmp_path / "signed"
    publish_versions(served, tmp_path, ["v1.0.0"], signer=signer)
    key = tmp_path / "registry.pem"
    key.write_bytes(signer.public_pem())
    local = tmp_path / "data" / "sqlprovider" / "registry"
    with registry_server(served) as server:
        env = {
            "SQLPROVIDER_REGISTRY_URL": registry_url(server),
            "SQLPROVIDER_REGISTRY_KEY": str(key),
        }
        assert (
            sqlprovider("registry", "pull", PROVIDER, env=env, data=tmp_path / "data").returncode
            == 0
        )
        before = tree(local / "src")
        server.app.state.registry.tamper(
            f"dist/{PROVIDER}/v1.0.0.tgz", "v1.0.0/services/ingestion.yaml", b"paths: {}\n"
        )
        refused = sqlprovider("registry", "pull", PROVIDER, env=env, data=tmp_path / "data")
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        f"error: pull {PROVIDER} v1.0.0: services/ingestion.yaml does not match its signature"
    )
    assert "nothing was changed" in refused.stderr and "Traceback" not in refused.stderr
    assert tree(local / "src") == before


@pytest.mark.parametrize("fault", ["cut", "truncate", "reset"])
def test_a_download_that_breaks_off_leaves_the_previous_copy(
    fault: str, server: EmulatorServer, served: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    settings = RegistrySettings(url=registry_url(server))
    pull(PROVIDER, "v1.0.0", root=root, settings=settings)
    first = tree(root / "src")
    publish(served, PROVIDER, "v1.0.0", documents(tmp_path, "v1.0.0", marker="Republished"))
    getattr(server.faults, fault)("GET", ARCHIVE)
    done = sqlprovider(
        "registry", "pull", PROVIDER, "v1.0.0", "--registry", str(root),
        "--registry-url", registry_url(server), data=tmp_path / "data",
    )  # fmt: skip
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    expected = {
        "cut": "the download of {url} broke off after",
        "truncate": "the archive is damaged",
        "reset": "the download of {url} broke off after 0 bytes",
    }[fault].format(url=server.url + ARCHIVE)
    assert expected in done.stderr and "nothing was changed" in done.stderr
    assert tree(root / "src") == first
    assert sorted(p.name for p in (root / ".pull").iterdir()) == ["lock"]
    again = pull(PROVIDER, "v1.0.0", root=root, settings=settings)  # the fault is used up
    assert again.replaced and "Republished" in description(again.path)


def test_a_pull_killed_mid_download_changes_nothing(
    server: EmulatorServer, served: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    settings = RegistrySettings(url=registry_url(server))
    pull(PROVIDER, "v1.0.0", root=root, settings=settings)
    first = tree(root / "src")
    publish(served, PROVIDER, "v1.0.0", documents(tmp_path, "v1.0.0", marker="Republished"))
    size = (served / "dist" / PROVIDER / "v1.0.0.tgz").stat().st_size
    server.faults.cut("GET", ARCHIVE, keep=size // 2, stall=60)
    command = [
        sys.executable, "-m", "sqlprovider", "registry", "pull", PROVIDER, "v1.0.0",
        "--registry", str(root), "--registry-url", registry_url(server),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        partial = _wait_for_partial(root, size // 2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert partial.stat().st_size == size // 2  # it was killed holding half the archive
    assert tree(root / "src") == first
    assert [i.version for i in installed(root)] == ["v1.0.0"]
    again = pull(PROVIDER, "v1.0.0", root=root, settings=settings)
    assert again.replaced and "Republished" in description(again.path)
    assert sorted(p.name for p in (root / ".pull").iterdir()) == ["lock"]  # its leftovers went


def _wait_for_partial(root: Path, size: int) -> Path:
    """The staging archive of a running pull, once it holds ``size`` bytes."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for partial in (root / ".pull").glob("*/archive.tgz"):
            if partial.stat().st_size >= size:
                return partial
        time.sleep(0.02)
    raise AssertionError("the pull never got half the archive")


def test_errors_name_the_fix_and_no_traceback(server: EmulatorServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    nowhere = f"http://127.0.0.1:{free_port()}/providers"
    unreachable = sqlprovider("registry", "list", "--registry-url", nowhere, data=data)
    assert unreachable.returncode == 1
    assert unreachable.stderr == (
        "error: the registry's list of providers: cannot reach the registry at "
        f"{nowhere}/dist/providers.yaml (the connection was refused or the host is unknown); "
        "check the address, or point --registry-url (or SQLPROVIDER_REGISTRY_URL) at a registry\n"
    )
    env = {"SQLPROVIDER_REGISTRY_URL": registry_url(server)}
    unknown = sqlprovider("registry", "pull", "task-board", env=env, data=data)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith(
        "error: unknown provider 'task-board'; did you mean 'taskboard'?"
    )
    missing = sqlprovider("registry", "pull", PROVIDER, "v3", env=env, data=data)
    assert "(taskboard has v1.0.0, v1.1.0, v2.0.0-rc.1)" in missing.stderr
    nothing = sqlprovider("registry", "remove", PROVIDER, data=data)
    assert nothing.returncode == 1 and "nothing of it is installed" in nothing.stderr
    secret = f"http://reader:s3cret-token@127.0.0.1:{free_port()}/providers"
    hidden = sqlprovider("registry", "pull", PROVIDER, "--registry-url", secret, data=data)
    assert hidden.returncode == 1 and "s3cret" not in hidden.stderr + hidden.stdout
    assert "reader" not in hidden.stderr


def test_a_pulled_provider_answers_queries_against_its_api(tmp_path: Path) -> None:
    """End to end: pull the fixture provider, then every command loads it from the local
    registry; its table reads the Openverse emulator's task list (the oracle: the
    emulator's own answer)."""
    served = tmp_path / "served"
    publish_versions(served, tmp_path, ["v1.0.0"])
    data = tmp_path / "data"
    with (
        registry_server(served) as registry,
        EmulatorServer(create_openverse(OpenverseConfig(tasks=40))) as api,
    ):
        env = {"SQLPROVIDER_REGISTRY_URL": registry_url(registry)}
        assert sqlprovider("registry", "pull", PROVIDER, env=env, data=data).returncode == 0
        services = sqlprovider("exec", "-o", "csv", "SHOW SERVICES IN taskboard", data=data)
        assert services.returncode == 0, services.stderr
        assert [r["service"] for r in csv.DictReader(io.StringIO(services.stdout))] == ["ingestion"]
        select = (
            "SELECT task_id, model, action, error FROM taskboard.ingestion.tasks "
            "WHERE model = 'audio' ORDER BY task_id"
        )
        rows = sqlprovider(
            "exec", "-o", "csv", "--server", f"taskboard={api.url}", select, data=data
        )
        expected = sorted(
            (t["task_id"], t["model"], t["action"], str(t["error"]).lower())
            for t in httpx.get(f"{api.url}/task").json()
            if t["model"] == "audio"
        )
    assert rows.returncode == 0, rows.stderr
    got = [tuple(r.values()) for r in csv.DictReader(io.StringIO(rows.stdout))]
    assert got == expected and len(got) > 5
