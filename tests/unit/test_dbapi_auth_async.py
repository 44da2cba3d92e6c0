"""The embedded API, continued: the auth file and the asyncio twin."""

from __future__ import annotations

import asyncio
import base64
import threading
from pathlib import Path

import httpx
import pytest

import sqlprovider
import sqlprovider.aio
from sqlprovider.authfile import AuthConfigError, default_auth_file, load_auth_file
from tests.unit.test_dbapi import (
    JOB_PATH,
    JOBS,
    TOKEN,
    FakeApi,
    _no_user_auth_file,
    api,
    conn,
    open_conn,
)

__all__ = ["_no_user_auth_file", "api", "conn"]  # fixtures shared with test_dbapi

# -- auth file ----------------------------------------------------------------------------------


def _auth_header(api: FakeApi) -> str | None:
    value: str | None = api.requests[-1].headers.get("authorization")
    return value


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_auth_file_token_env_overrides_the_provider_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", "from-provider-env-123")
    monkeypatch.setenv("MY_DO_TOKEN", "from-auth-file-env-456")
    file = _write(
        tmp_path / "auth.yaml", "digitalocean:\n  type: bearer\n  token_env: MY_DO_TOKEN\n"
    )
    with open_conn(api, auth=None, auth_file=file) as conn:
        conn.execute(f"SELECT uuid FROM {JOBS}")
    assert _auth_header(api) == "Bearer from-auth-file-env-456"


def test_connect_auth_overrides_the_file(tmp_path: Path, api: FakeApi) -> None:
    file = _write(tmp_path / "auth.yaml", "digitalocean:\n  token: from-the-file-789\n")
    with open_conn(api, auth={"digitalocean": {"token": "from-connect-000"}}, auth_file=file) as c:
        c.execute(f"SELECT uuid FROM {JOBS}")
    assert _auth_header(api) == "Bearer from-connect-000"


def test_auth_file_from_the_variable_and_the_default_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    named = _write(tmp_path / "named.yaml", "digitalocean:\n  token: named-file-token\n")
    monkeypatch.setenv("SQLPROVIDER_AUTH_FILE", str(named))
    with open_conn(api, auth=None) as conn:
        conn.execute(f"SELECT uuid FROM {JOBS}")
    assert _auth_header(api) == "Bearer named-file-token"
    monkeypatch.delenv("SQLPROVIDER_AUTH_FILE")
    default = default_auth_file()
    assert default == tmp_path / "xdg" / "sqlprovider" / "auth.yaml"
    _write(default, "digitalocean:\n  token: default-file-token\n")
    with open_conn(api, auth=None) as conn:
        conn.execute(f"SELECT uuid FROM {JOBS}")
        assert conn.session.auth_file == default
    assert _auth_header(api) == "Bearer default-file-token"


@pytest.mark.parametrize(
    ("entry", "header", "value"),
    [
        ("type: api_key\n  header: X-Custom\n  token_env: KEY_VAR", "x-custom", "secret-key-value"),
        ("type: header\n  header: X-Raw\n  token: raw-header-value", "x-raw", "raw-header-value"),
        (
            "type: basic\n  username_env: USER_VAR\n  password_env: KEY_VAR",
            "authorization",
            "Basic " + base64.b64encode(b"robot:secret-key-value").decode(),
        ),
        (
            "type: bearer\n  header: X-Bearer\n  token_env: KEY_VAR",
            "x-bearer",
            "Bearer secret-key-value",
        ),
    ],
)
def test_auth_file_types(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    api: FakeApi,
    entry: str,
    header: str,
    value: str,
) -> None:
    monkeypatch.setenv("KEY_VAR", "secret-key-value")
    monkeypatch.setenv("USER_VAR", "robot")
    file = _write(tmp_path / "auth.yaml", f"digitalocean:\n  {entry}\n")
    with open_conn(api, auth=None, auth_file=file) as conn:
        conn.execute(f"SELECT uuid FROM {JOBS}")
        lines = conn.dry_run(f"SELECT uuid FROM {JOBS}")
    assert api.requests[-1].headers.get(header) == value
    assert "secret-key-value" not in "\n".join(lines)
    assert "***" in "\n".join(lines)


def test_auth_type_none_sends_no_credential(tmp_path: Path, api: FakeApi) -> None:
    file = _write(tmp_path / "auth.yaml", "digitalocean:\n  type: none\n")
    with open_conn(api, auth=None, auth_file=file) as conn:
        conn.execute(f"SELECT uuid FROM {JOBS}")
    assert _auth_header(api) is None


def test_an_unset_variable_is_named_with_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    file = _write(tmp_path / "auth.yaml", "digitalocean:\n  token_env: NOT_SET_ANYWHERE\n")
    with open_conn(api, auth=None, auth_file=file) as conn:
        assert conn.execute("SELECT 1").fetchall() == [(1,)]  # only providers need it
        with pytest.raises(sqlprovider.AuthError) as raised:
            conn.execute(f"SELECT uuid FROM {JOBS}")
    assert str(file) in str(raised.value) and "NOT_SET_ANYWHERE" in str(raised.value)
    assert api.requests == []


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("digitalocean:\n  tokn: abcdef-secret\n", "digitalocean.tokn", "unknown key"),
        ("digitalocean:\n  type: oauth\n", "digitalocean.type", "must be one of"),
        ("digitalocean:\n  type: api_key\n  token_env: X\n", "digitalocean.header", "required"),
        ("digitalocean:\n  token: 123456789\n", "digitalocean.token", "non-empty string"),
        (
            "digitalocean:\n  token: abcdef-secret\n  token_env: X\n",
            "digitalocean.token",
            "not both",
        ),
        ("digitalocean:\n  token_env: not-a-name\n", "digitalocean.token_env", "environment"),
        (
            "digitalocean:\n  type: bearer\n  password: abcdef-secret\n",
            "digitalocean.password",
            "basic",
        ),
        ("digitalocean: abcdef-secret\n", "digitalocean", "must be a mapping"),
        ("- abcdef-secret\n", "", "mapping of provider"),
        ("digitalocean:\n  token: 'abcdef-secret\n", "", "line"),
    ],
)
def test_a_malformed_auth_file_names_the_file_and_key(
    tmp_path: Path, api: FakeApi, text: str, key: str, problem: str
) -> None:
    file = _write(tmp_path / "auth.yaml", text)
    with pytest.raises(AuthConfigError) as raised:
        open_conn(api, auth=None, auth_file=file)
    message = str(raised.value)
    assert isinstance(raised.value, sqlprovider.InterfaceError)
    assert str(file) in message and problem in message
    assert raised.value.key_path == key
    assert "abcdef-secret" not in message and "123456789" not in message


def test_a_missing_named_auth_file_is_an_error(tmp_path: Path, api: FakeApi) -> None:
    with pytest.raises(AuthConfigError, match="no such file"):
        open_conn(api, auth_file=tmp_path / "nope.yaml")


def test_connect_auth_takes_the_same_keys(monkeypatch: pytest.MonkeyPatch, api: FakeApi) -> None:
    monkeypatch.setenv("KEY_VAR", "env-key-value")
    auth = {"digitalocean": {"type": "api_key", "header": "X-Key", "token_env": "KEY_VAR"}}
    with open_conn(api, auth=auth) as conn:
        conn.execute(f"SELECT uuid FROM {JOBS}")
    assert api.requests[-1].headers.get("x-key") == "env-key-value"
    with pytest.raises(AuthConfigError, match=r"connect\(auth=...\): digitalocean.tokn"):
        open_conn(api, auth={"digitalocean": {"tokn": "x"}})


def test_credentials_never_show(tmp_path: Path) -> None:
    def echo(request: httpx.Request) -> httpx.Response:  # an API that repeats the header
        message = f"bad credentials: {request.headers['authorization']}"
        return httpx.Response(401, json={"id": "unauthorized", "message": message})

    file = _write(tmp_path / "auth.yaml", "digitalocean:\n  token: file-token-abcdef\n")
    entries = load_auth_file(file)
    shown = repr(entries) + str(entries["digitalocean"].secret)
    assert "file-token-abcdef" not in shown and "***" in shown
    with open_conn(echo, auth=None, auth_file=file) as conn:
        assert "file-token-abcdef" not in repr(conn) + repr(conn.session)
        with pytest.raises(sqlprovider.Error) as raised:
            conn.execute(f"SELECT uuid FROM {JOBS}")
    assert "file-token-abcdef" not in str(raised.value)
    assert "***" in str(raised.value)


# -- asyncio ------------------------------------------------------------------------------------


def test_async_execute_fetch_and_executemany(api: FakeApi) -> None:
    async def main() -> None:
        async with sqlprovider.aio.connect(
            transport=httpx.MockTransport(api), auth={"digitalocean": {"token": TOKEN}}
        ) as conn:
            cur = await conn.execute(f"SELECT uuid FROM {JOBS} WHERE uuid = ?", ["job-3"])
            assert cur.fetchall() == [("job-3",)]
            assert cur.description == [("uuid", "VARCHAR", None, None, None, None, None)]
            cur = await conn.execute("SELECT range FROM range(3)")
            assert [row async for row in cur] == [(0,), (1,), (2,)]
            cur = await conn.executemany(
                f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES (?)", [["a"], ["b"]]
            )
            assert cur.rowcount == 2 and len(api.sent("POST")) == 2
            with pytest.raises(sqlprovider.ProgrammingError, match="missing"):
                await conn.execute("SELECT ?, ?", [1])
            assert "<- 'x'" in await conn.explain(f"SELECT * FROM {JOBS} WHERE uuid = ?", ["x"])
            await conn.commit()
            with pytest.raises(sqlprovider.NotSupportedError):
                await conn.rollback()
        assert conn.closed

    asyncio.run(main())


def test_cancelling_the_task_cancels_the_request_in_flight() -> None:
    arrived = threading.Event()
    stopped: list[str] = []

    async def hang(request: httpx.Request) -> httpx.Response:
        arrived.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            stopped.append(request.url.path)
            raise
        return httpx.Response(200, json={"jobs": [], "meta": {"pages": 1}})

    async def main() -> None:
        conn = sqlprovider.aio.connect(
            transport=httpx.MockTransport(hang), auth={"digitalocean": {"token": TOKEN}}
        )
        task = asyncio.create_task(conn.execute(f"SELECT uuid FROM {JOBS}"))
        assert await asyncio.to_thread(arrived.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert stopped == [JOB_PATH]  # the request was cancelled before await returned

        async def expire_once_sent(scope: asyncio.Timeout) -> None:
            assert await asyncio.to_thread(arrived.wait, 10)
            scope.reschedule(asyncio.get_running_loop().time())

        arrived.clear()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(30) as scope:
                expiry = asyncio.create_task(expire_once_sent(scope))
                await conn.execute(f"SELECT uuid FROM {JOBS}")
        await expiry
        assert stopped == [JOB_PATH, JOB_PATH]
        cur = await conn.execute("SELECT 42")  # the connection still works
        assert cur.fetchall() == [(42,)]
        await conn.close()

    asyncio.run(main())
