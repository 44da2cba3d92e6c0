"""One error boundary per library: whatever httpx, h11, aiohttp or Jinja2 raise, and whatever
a value or an answer does to them, a ``sqlprovider.Error`` of the right branch comes out, with
a message that names the fix and no library class name, credential or internal table name.

The client gets an ``httpx.MockTransport`` (no monkeypatched I/O); where the real transport
matters (aiohttp under httpx), a loopback server: an emulator, a tiny Starlette app, or a
socket that answers broken HTTP.

aiohttp and Jinja2 are imported inside the tests, not at collection: importing them early
changes the timing of tests collected before this one (tests/e2e/test_amperity.py's burst
test drains its emulator's rate limit when the first client starts faster).
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import gzip
import json
import re
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sqlprovider
from sqlprovider.emulators.amperity import AmperityConfig
from sqlprovider.emulators.amperity import create_app as create_amperity
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.errors import (
    AuthError,
    DataError,
    Error,
    HTTPStatusError,
    OperationalError,
    ProgrammingError,
    TransportError,
)
from sqlprovider.http.auth import Credentials
from sqlprovider.http.client import NOT_SENT, UNKNOWN_OUTCOME, ApiClient
from sqlprovider.http.request import MAX_WINDOW_REQUESTS, RequestSpec, split_window
from sqlprovider.providers import bundled_providers_dir, load_provider
from sqlprovider.secret import Secret
from sqlprovider.template import render
from tests.e2e.conftest import Emulator, start

DO = load_provider(bundled_providers_dir() / "digitalocean.yaml")
AMPERITY = load_provider(bundled_providers_dir() / "amperity.yaml")
TOKEN = "dop_v1_boundary_test_secret_6b2e"
AMPERITY_TOKEN = "amperity-boundary-secret-0c4d"
BASE = "https://api.digitalocean.com"
JOBS = "digitalocean.genai.indexing_jobs"
GET = RequestSpec("GET", f"{BASE}/v2/gen-ai/indexing_jobs/job-1")
POST = RequestSpec(
    "POST", f"{BASE}/v2/gen-ai/indexing_jobs", json={"knowledge_base_uuid": "kb-1"}, has_body=True
)
RANGE = "created_from = '2024-10-01' AND created_to = '2024-10-02'"

Handler = Callable[[httpx.Request], httpx.Response]


# --- what every message must (not) hold ------------------------------------------------------


@functools.cache
def library_names() -> set[str]:
    """Class names of every exception httpx, aiohttp, Jinja2 and Python define."""
    import aiohttp
    import jinja2

    names = {"httpx", "aiohttp", "h11", "jinja", "jinja2", "Traceback", "dict object"}
    for module in (httpx, aiohttp, jinja2, builtins):
        names.update(
            obj.__name__
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, BaseException)
        )
    return names - {"Warning"}  # PEP 249's name too; no message says it


def assert_clean(error: BaseException, *secrets: str) -> str:
    """The message of ``error``: ours, one line of human words naming a fix, no secret."""
    assert isinstance(error, Error), f"{type(error).__name__} escaped: {error}"
    message = str(error)
    leaked = sorted(
        name for name in library_names() if re.search(rf"\b{re.escape(name)}\b", message)
    )
    assert not leaked, f"library names {leaked} in: {message}"
    assert "_sp_" not in message and "\n" not in message, message
    for secret in (TOKEN, AMPERITY_TOKEN, *secrets):
        assert secret not in message, message
    assert re.search(r"\b(check|try again|set|give|narrow|fix|pass|run)\b", message), message
    assert len(message) < 1200, message
    return message


# --- an ApiClient over a mock transport ------------------------------------------------------


def send(
    handler: Handler,
    spec: RequestSpec = GET,
    *,
    credentials: Credentials | None = None,
    **options: Any,
) -> tuple[Error, list[httpx.Request]]:
    """The error ``spec`` ends in, and the requests that reached the transport."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    async def no_sleep(seconds: float) -> None:
        return None

    async def main() -> Error:
        client = ApiClient(
            DO,
            credentials or Credentials("bearer", Secret(TOKEN)),
            transport=httpx.MockTransport(record),
            sleep=no_sleep,
            **options,
        )
        try:
            await client.send(spec, context=JOBS)
        except Error as exc:
            return exc
        finally:
            await client.aclose()
        raise AssertionError("no error")

    return asyncio.run(main()), seen


class Body(httpx.AsyncByteStream):
    """A body read only when the client reads it, as from a network (``content=`` would be
    decoded while the mock builds the response)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


def answer(status: int = 200, content: bytes = b"{}", **headers: str) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, stream=Body(content), headers=headers)

    return handle


def raising(exc: BaseException) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc

    return handle


# --- the whole httpx family, raised by the transport -----------------------------------------


def _subclasses(root: type[Exception]) -> list[type[Exception]]:
    found = [root]
    for sub in root.__subclasses__():
        if sub.__module__.startswith("httpx"):
            found.extend(_subclasses(sub))
    return found


FAMILY = sorted(
    {
        *_subclasses(httpx.HTTPError),
        *_subclasses(httpx.StreamError),
        httpx.InvalidURL,
        httpx.CookieConflict,
    },
    key=lambda cls: cls.__name__,
)


def instance(kind: type[Exception], request: httpx.Request) -> Exception:
    """``kind`` built the way httpx builds it."""
    if issubclass(kind, httpx.HTTPStatusError):
        return kind("failed", request=request, response=httpx.Response(500, request=request))
    if issubclass(kind, httpx.RequestError):
        return kind("simulated", request=request)
    if issubclass(kind, httpx.StreamError) and kind is not httpx.StreamError:
        return kind()  # type: ignore[call-arg]  # its subclasses word their own message
    return kind("simulated")


def expected_branch(kind: type[Exception]) -> type[Error]:
    if issubclass(kind, httpx.DecodingError | httpx.InvalidURL):
        return DataError
    if issubclass(kind, httpx.HTTPStatusError):
        return HTTPStatusError
    return TransportError


@pytest.mark.parametrize("kind", FAMILY, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("spec", [GET, POST], ids=["GET", "POST"])
def test_every_httpx_exception_becomes_ours(kind: type[Exception], spec: RequestSpec) -> None:
    error, seen = send(lambda request: raise_(instance(kind, request)), spec)
    assert isinstance(error, expected_branch(kind)), (kind, type(error), error)
    assert isinstance(error, OperationalError | DataError)
    message = assert_clean(error)
    assert message.startswith(f"{JOBS}: {spec.http_verb} {spec.url}")
    if spec is POST:
        # A POST is resent only when it surely never left, and otherwise says so.
        assert len(seen) == 1 or issubclass(kind, NOT_SENT)
        if isinstance(error, TransportError) and not issubclass(kind, NOT_SENT):
            assert "outcome is unknown" in message and UNKNOWN_OUTCOME in message


def raise_(exc: Exception) -> httpx.Response:
    raise exc


@pytest.mark.parametrize("kind", [httpx.LocalProtocolError, httpx.UnsupportedProtocol])
def test_a_request_the_client_cannot_write_is_not_retried(kind: type[Exception]) -> None:
    error, seen = send(lambda request: raise_(instance(kind, request)), GET, max_attempts=5)
    assert isinstance(error, TransportError) and len(seen) == 1
    assert "outcome is unknown" not in assert_clean(error)


def aiohttp_error(name: str) -> Exception:
    import aiohttp

    if name == "ClientResponseError":  # what aiohttp raises for a malformed answer
        return aiohttp.ClientResponseError(None, (), status=400, message="bad")  # type: ignore[arg-type]
    if name == "InvalidURL":
        return aiohttp.InvalidURL("http://[x")
    if name == "ServerDisconnectedError":
        return aiohttp.ServerDisconnectedError()
    kind: type[Exception] = getattr(aiohttp, name)
    return kind("simulated")


@pytest.mark.parametrize(
    ("name", "branch"),
    [
        ("ClientResponseError", TransportError),
        ("ClientPayloadError", TransportError),
        ("ServerDisconnectedError", TransportError),
        ("ClientError", TransportError),
        ("InvalidURL", DataError),
    ],
)
def test_aiohttp_errors_httpx_aiohttp_lets_through_become_ours(
    name: str, branch: type[Error]
) -> None:
    error, _ = send(raising(aiohttp_error(name)))
    assert isinstance(error, branch)
    assert_clean(error)


@pytest.mark.parametrize(
    "exc",
    [
        UnicodeEncodeError("ascii", "acmé", 3, 4, "ordinal not in range(128)"),
        ValueError("Newline or carriage return character detected in HTTP header"),
    ],
    ids=["UnicodeEncodeError", "ValueError"],
)
def test_text_the_transport_cannot_write_is_a_data_error(exc: Exception) -> None:
    error, _ = send(raising(exc))
    assert isinstance(error, DataError)
    assert "check the values" in assert_clean(error)


# --- answers that lie about their encoding ---------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_lying_content_encoding_is_a_data_error_that_says_try_again(encoding: str) -> None:
    error, seen = send(answer(200, b'{"job": "not compressed"}', **{"Content-Encoding": encoding}))
    assert isinstance(error, DataError) and len(seen) == 1
    message = assert_clean(error)
    assert message == (
        f"{JOBS}: GET {GET.url}: the answer could not be decoded (it says it is "
        f"{encoding}-compressed but is not); the API or a proxy sent a broken response, "
        "try again"
    )


def test_a_post_whose_answer_cannot_be_decoded_is_sent_once_and_its_outcome_is_unknown() -> None:
    error, seen = send(answer(201, b"not gzip", **{"Content-Encoding": "gzip"}), POST)
    assert isinstance(error, DataError) and len(seen) == 1
    message = assert_clean(error)
    assert "could not be decoded" in message and "(HTTP 201)" in message
    assert "outcome is unknown" in message and "check with a SELECT" in message


def test_an_honest_gzip_answer_still_decodes() -> None:
    body = gzip.compress(b'{"job": {"uuid": "job-1"}}')

    async def main() -> Any:
        transport = httpx.MockTransport(answer(200, body, **{"Content-Encoding": "gzip"}))
        client = ApiClient(DO, Credentials("bearer", Secret(TOKEN)), transport=transport)
        try:
            reply = await client.send(GET)
            assert reply is not None
            return json.loads(reply.content)
        finally:
            await client.aclose()

    assert asyncio.run(main()) == {"job": {"uuid": "job-1"}}


# --- values the wire cannot carry ------------------------------------------------------------


def test_a_100000_character_path_value_names_the_param_and_is_not_sent() -> None:
    uuid = "a" * 100_000
    spec = RequestSpec("GET", f"{BASE}/v2/gen-ai/indexing_jobs/{uuid}", bindings={"uuid": uuid})
    error, seen = send(answer(), spec)
    assert isinstance(error, DataError) and not seen
    message = assert_clean(error)
    assert message.endswith(
        "the value of uuid is 100000 characters long, too long for a URL; check the value"
    )
    assert uuid not in message


def test_a_too_long_query_value_names_the_param() -> None:
    text = "q" * 70_000
    spec = RequestSpec("GET", f"{BASE}/v2/items", query=(("name", text),), bindings={"name": text})
    error, seen = send(answer(), spec)
    assert isinstance(error, DataError) and not seen
    assert "the value of name is 70000 characters long" in assert_clean(error)


@pytest.mark.parametrize("value", ["acmé", "\udc80", "a\x00b", "a\rb", "a\x7f"])
def test_a_header_that_cannot_be_sent_is_refused_by_the_client_too(value: str) -> None:
    spec = RequestSpec("GET", GET.url, headers=(("amperity-tenant", value),))
    error, seen = send(answer(), spec)
    assert isinstance(error, DataError) and not seen
    message = assert_clean(error)
    assert "header amperity-tenant" in message and "must be ASCII text" in message


@pytest.mark.parametrize(
    "token", [TOKEN + "\n", TOKEN + "\r\nX-Evil: 1", "tökén-" + TOKEN, TOKEN + "\x00"]
)
def test_a_credential_that_cannot_be_sent_is_an_auth_error_that_never_shows_it(token: str) -> None:
    error, seen = send(answer(), credentials=Credentials("bearer", Secret(token)))
    assert isinstance(error, AuthError) and not seen
    message = assert_clean(error, token.strip())
    assert "DIGITALOCEAN_TOKEN" in message and "set it again" in message


@pytest.mark.parametrize(
    ("body", "found"), [({"name": "\udc80"}, "'\\udc80'"), ({"size": float("nan")}, "NaN")]
)
def test_a_body_json_cannot_carry_is_a_data_error(body: dict[str, Any], found: str) -> None:
    error, seen = send(answer(), RequestSpec("POST", POST.url, json=body, has_body=True))
    assert isinstance(error, DataError) and not seen
    assert found in assert_clean(error)


# --- header params through connect() (Amperity's tenant header) -------------------------------


def amperity_connect(handler: Handler, **options: Any) -> sqlprovider.Connection:
    return sqlprovider.connect(
        servers={"amperity": "https://acme.amperity.test/api"},
        auth={"amperity": {"token": AMPERITY_TOKEN}},
        transport=httpx.MockTransport(handler),
        **options,
    )


def recording() -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": []})

    return handle, seen


BAD_TENANTS = {
    "non-ASCII": ("acmé", "holds 'é' at position 4, which is not ASCII"),
    "lone surrogate": ("\udc80", "holds '\\udc80' at position 1, which is not ASCII"),
    "NUL": ("acme\x00", "holds a NUL character at position 5"),
    "line break": ("ac\nme", "holds a line break (LF) at position 3"),
    "control": ("ac\x1bme", "holds the control character '\\x1b' at position 3"),
    "tab": ("ac\tme", "holds the control character '\\t' at position 3"),
}


@pytest.mark.parametrize(("tenant", "says"), BAD_TENANTS.values(), ids=BAD_TENANTS.keys())
def test_a_bad_tenant_in_where_is_refused_before_sending(tenant: str, says: str) -> None:
    handler, seen = recording()
    sql = f"SELECT id FROM amperity.ingest.jobs WHERE tenant = '{tenant}' AND {RANGE}"
    with amperity_connect(handler) as conn, pytest.raises(DataError) as raised:
        conn.execute(sql).fetchall()
    message = assert_clean(raised.value)
    assert message.startswith(f"header param tenant {says}")
    assert "header values must be ASCII text" in message
    assert not seen


def test_a_bad_tenant_from_the_environment_is_refused_the_same_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AMPERITY_TENANT", "acmé")
    handler, seen = recording()
    with amperity_connect(handler) as conn, pytest.raises(DataError) as raised:
        conn.execute(f"SELECT id FROM amperity.ingest.jobs WHERE {RANGE}").fetchall()
    assert "header param tenant holds 'é'" in assert_clean(raised.value)
    assert not seen


def test_a_good_tenant_reaches_the_wire() -> None:
    handler, seen = recording()
    with amperity_connect(handler) as conn:
        conn.execute(f"SELECT id FROM amperity.ingest.jobs WHERE tenant = 'acme' AND {RANGE}")
    assert [r.headers["amperity-tenant"] for r in seen] == ["acme"]


@pytest.mark.parametrize(
    ("where", "param"),
    [
        ("id = 'isj-\udc80'", "id"),  # a path param
        ("created_from = '\udc80' AND created_to = '2024-10-02'", "created_from"),  # query
    ],
    ids=["path", "query"],
)
def test_a_lone_surrogate_in_the_url_names_the_param(where: str, param: str) -> None:
    handler, seen = recording()
    sql = f"SELECT id FROM amperity.ingest.jobs WHERE tenant = 'acme' AND {where}"
    with amperity_connect(handler) as conn, pytest.raises(DataError) as raised:
        conn.execute(sql).fetchall()
    message = assert_clean(raised.value)
    assert message.startswith(f"param {param} holds '\\udc80' at position")
    assert "not valid text" in message
    assert not seen


def test_a_100000_character_id_through_connect_is_refused_before_sending() -> None:
    handler, seen = recording()
    sql = f"SELECT id FROM amperity.ingest.jobs WHERE tenant = 'acme' AND id = '{'j' * 100_000}'"
    with amperity_connect(handler) as conn, pytest.raises(DataError) as raised:
        conn.execute(sql).fetchall()
    message = assert_clean(raised.value)
    assert "the value of id is 100000 characters long, too long for a URL" in message
    assert not seen


# --- time windows ----------------------------------------------------------------------------

LIST_JOBS = next(m for m in AMPERITY.services["ingest"].resources["job_tables"].methods if m.window)


def window(start: str, end: str) -> list[dict[str, Any]]:
    return split_window(LIST_JOBS, {"created_from": start, "created_to": end})


def test_year_1_to_9999_is_refused_naming_the_range_the_count_and_the_fix() -> None:
    with pytest.raises(DataError) as raised:
        window("0001-01-01", "9999-12-31")
    message = assert_clean(raised.value)
    assert message == (
        "list_ingest_job_tables: the range created_from = '0001-01-01' to created_to = "
        "'9999-12-31' would take 521,723 requests of at most 7 days each, more than the "
        "10,000 sqlprovider sends for one range; narrow the range "
        "(WHERE started_at >= '...' AND started_at < '...')"
    )


def test_the_limit_is_exactly_max_window_requests() -> None:
    # 10,000 slices of 7 days: 70,000 days from 2000-01-01 end on 2191-08-27
    assert len(window("2000-01-01", "2191-08-27")) == MAX_WINDOW_REQUESTS
    with pytest.raises(DataError, match="would take 10,001 requests"):
        window("2000-01-01", "2191-08-27T00:00:01")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00:00+05:00", "0001-01-20"),  # starts before year 1 in UTC
        ("9999-12-20T00:00:00-05:00", "9999-12-31T23:00:00-05:00"),  # ends after 9999
    ],
)
def test_a_range_beyond_the_calendar_is_a_data_error(start: str, end: str) -> None:
    with pytest.raises(DataError) as raised:
        window(start, end)
    message = assert_clean(raised.value)
    assert "reaches beyond the dates sqlprovider can compute" in message
    assert "narrow the range" in message


def test_ranges_at_the_ends_of_the_calendar_split_cleanly() -> None:
    first = window("0001-01-01", "0001-01-15")
    assert [s["created_to"] for s in first] == ["0001-01-08T00:00:00Z", "0001-01-15T00:00:00Z"]
    last = window("9999-12-20", "9999-12-31T23:59:59")
    assert last[-1]["created_to"] == "9999-12-31T23:59:59Z"


def test_a_huge_range_through_connect_sends_nothing() -> None:
    handler, seen = recording()
    sql = (
        "SELECT job_id FROM amperity.ingest.job_tables WHERE tenant = 'acme' "
        "AND started_at >= '0001-01-01' AND started_at < '9999-12-31'"
    )
    with amperity_connect(handler) as conn, pytest.raises(DataError) as raised:
        conn.execute(sql).fetchall()
    message = assert_clean(raised.value)
    assert "would take 521,723 requests" in message and "narrow the range" in message
    assert not seen


# --- Jinja2 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "variables", "says"),
    [
        (
            "SELECT '{{ env.NOPE }}'",
            {},
            "the SQL uses {{ env.NOPE }} but the environment variable NOPE is not set; "
            "set it (export NOPE=...)",
        ),
        ("SELECT '{{ env['NOPE'] }}'", {}, "the environment variable NOPE is not set"),
        ("SELECT {{ limit }}", {}, "the SQL uses {{ limit }} but no value was given"),
        ("SELECT {{ n + 1 }}", {}, "pass --var n=..."),
        ("SELECT {{ x.y }}", {"x": "text"}, "asks for 'y' of a text that has none"),
        ("SELECT\n{{ x | round }}", {"x": "a"}, "template error at line 2: an expression failed"),
        ("SELECT {{ 1 + x }}", {"x": "a"}, "unsupported operand"),
        ("SELECT {{ 1 / x }}", {"x": 0}, "division by zero"),
        ("{% set x = 1 %}{% set x.a = 2 %}", {}, "cannot assign attribute"),
        (
            "SELECT {{ x | nope }}",
            {"x": 1},
            "template error at line 1: No filter named 'nope'; fix",
        ),
        ("SELECT {{ x }", {}, "template error at line 1: unexpected '}'"),
        ("{% include 'other.sql' %}", {}, "template error at line 1"),
    ],
)
def test_every_template_failure_is_a_programming_error(
    sql: str, variables: dict[str, Any], says: str
) -> None:
    with pytest.raises(ProgrammingError) as raised:
        render(sql, variables, environ={"HOME": "/home/u"})
    message = assert_clean(raised.value)
    assert says in message


def test_templates_can_still_test_and_default_missing_values() -> None:
    sql = "{{ env.NOPE | default('d') }} {% if env.NOPE is defined %}y{% else %}n{% endif %}"
    assert render(sql, {}, environ={}) == "d n"
    assert render("{{ env.HOME }}/{{ x }}", {"x": 1}, environ={"HOME": "/h"}) == "/h/1"


def test_a_template_error_is_not_a_jinja_exception() -> None:
    import jinja2

    with pytest.raises(ProgrammingError) as raised:
        render("{{ nope }}", {}, environ={})
    assert not isinstance(raised.value, jinja2.TemplateError)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


# --- through real servers (aiohttp under httpx) ----------------------------------------------


def lying_gzip(request: Request) -> Response:
    return Response(
        b'{"jobs": [], "meta": {"pages": 1}}',
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )


@pytest.fixture
def liar() -> Iterator[EmulatorServer]:
    app = Starlette(routes=[Route("/v2/gen-ai/indexing_jobs", lying_gzip)])
    with EmulatorServer(app, name="liar") as server:
        yield server


def test_a_lying_content_encoding_over_the_real_transport(liar: EmulatorServer) -> None:
    with (
        sqlprovider.connect(
            servers={"digitalocean": liar.url}, auth={"digitalocean": {"token": TOKEN}}
        ) as conn,
        pytest.raises(DataError) as raised,
    ):
        conn.execute(f"SELECT uuid FROM {JOBS}").fetchall()
    message = assert_clean(raised.value)
    assert message.startswith(f"{JOBS}: GET {liar.url}/v2/gen-ai/indexing_jobs: ")
    assert "could not be decoded (it says it is gzip-compressed but is not)" in message
    assert "try again" in message


@pytest.fixture
def broken_http() -> Iterator[str]:
    """A socket that answers every request with a malformed status line and headers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)  # so that the loop sees ``stop`` soon after the test
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    host, port = listener.getsockname()
    yield f"http://{host}:{port}"
    stop.set()
    thread.join(timeout=5)
    listener.close()


@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_a_malformed_answer_over_the_real_transport(broken_http: str, verb: str) -> None:
    async def main() -> Error:
        client = ApiClient(DO, Credentials("bearer", Secret(TOKEN)), max_attempts=2)
        spec = RequestSpec(verb, broken_http + "/v2/gen-ai/indexing_jobs")
        try:
            await client.send(spec, context=JOBS)
        except Error as exc:
            return exc
        finally:
            await client.aclose()
        raise AssertionError("no error")

    error = asyncio.run(main())
    assert isinstance(error, TransportError)
    message = assert_clean(error)
    assert "breaks the HTTP protocol" in message
    if verb == "POST":
        assert "outcome is unknown" in message


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    server, settings = start(jobs=3)
    yield Emulator(server, settings)
    server.stop()


def test_a_100000_character_uuid_never_reaches_the_emulator(emulator: Emulator) -> None:
    with emulator.connect() as conn, pytest.raises(DataError) as raised:
        conn.execute(f"SELECT uuid FROM {JOBS} WHERE uuid = '{'u' * 100_000}'").fetchall()
    message = assert_clean(raised.value)
    assert message == (
        f"{JOBS}: GET {emulator.url}/v2/gen-ai/indexing_jobs/"
        + "u" * (200 - len(emulator.url) - len("/v2/gen-ai/indexing_jobs/"))
        + "...: the value of uuid is 100000 characters long, too long for a URL; check the value"
    )
    assert not [e for e in emulator.server.log.entries() if e.path.startswith("/v2/gen-ai")]


@pytest.fixture
def amperity_emulator() -> Iterator[EmulatorServer]:
    config = AmperityConfig(token=AMPERITY_TOKEN, tenant="acme", rate_limited=False)
    with EmulatorServer(create_amperity(config), name="amperity") as server:
        yield server


@pytest.mark.parametrize("tenant", ["acmé", "ac\x00me", "\udc80"])
def test_a_bad_tenant_never_reaches_the_amperity_emulator(
    amperity_emulator: EmulatorServer, tenant: str
) -> None:
    with (
        sqlprovider.connect(
            servers={"amperity": amperity_emulator.url},
            auth={"amperity": {"token": AMPERITY_TOKEN}},
        ) as conn,
        pytest.raises(DataError) as raised,
    ):
        conn.execute(
            f"SELECT id FROM amperity.ingest.jobs WHERE tenant = '{tenant}' AND {RANGE}"
        ).fetchall()
    assert "header param tenant" in assert_clean(raised.value)
    assert not amperity_emulator.log.entries()
