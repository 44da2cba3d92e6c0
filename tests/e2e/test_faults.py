"""The fault matrix: whatever the network or the API throws at a query, it returns the right
rows or fails with one clear error; it never hangs, never returns fewer rows without saying
so, and never sends a write twice.

Each test injects a fault with the emulator kit's fault layer (``server.faults``) into the
DigitalOcean emulator and runs SQL through the engine. 450 jobs are 3 pages of 200.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sqlprovider
from sqlprovider.emulators.kit import EmulatorServer
from sqlprovider.emulators.onyx import OnyxConfig
from sqlprovider.emulators.onyx import create_app as create_onyx
from tests.e2e.conftest import TOKEN, Emulator

ONYX_KEY = "on_partial-test-key"

JOBS = "digitalocean.genai.indexing_jobs"
PATH = "/v2/gen-ai/indexing_jobs"
COUNT = f"SELECT uuid FROM {JOBS}"


@pytest.fixture
def emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    """450 jobs: three pages of 200 (the last holds 50)."""
    return make_emulator(jobs=450)


def uuids(conn: sqlprovider.Connection) -> list[str]:
    return [row[0] for row in conn.execute(COUNT).fetchall()]


def assert_every_job_once(emulator: Emulator, got: list[str]) -> None:
    """The rows are exactly the emulator's jobs: no duplicate, no gap."""
    expected = [job["uuid"] for job in emulator.all_jobs()]
    assert len(got) == len(set(got)) == 450
    assert sorted(got) == sorted(expected)


def gets(emulator: Emulator, page: int) -> list[int | None]:
    """The statuses of the engine's list requests for one page (None: no answer)."""
    return [
        e.status
        for e in emulator.server.log.entries()
        if e.method == "GET"
        and e.path == PATH
        and f"page={page}" in e.query.split("&")
        and e.headers.get("user-agent") == "sqlprovider"  # not the test's own reads
    ]


def knowledge_base(emulator: Emulator) -> str:
    kbs = emulator.api("/v2/gen-ai/knowledge_bases", per_page=200)["knowledge_bases"]
    return str(kbs[0]["uuid"])


# Error statuses: retried, and the result is whole.


@pytest.mark.parametrize("retry_after", [0.1, None])
def test_429_burst_is_retried_to_the_right_rows(
    emulator: Emulator, retry_after: float | None
) -> None:
    emulator.server.faults.fail("GET", PATH, status=429, times=2, retry_after=retry_after)
    with emulator.connect() as conn:
        cur = conn.execute(COUNT)
        got = [row[0] for row in cur.fetchall()]
        assert cur.stats["retries"] == 2
    assert_every_job_once(emulator, got)
    assert [e.status for e in emulator.server.log.entries() if e.path == PATH][:2] == [429, 429]


def test_retry_after_is_waited_for(emulator: Emulator) -> None:
    emulator.server.faults.fail("GET", PATH, status=429, times=1, retry_after=0.4, query="page=1")
    with emulator.connect() as conn:
        started = time.monotonic()
        got = uuids(conn)
        elapsed = time.monotonic() - started
    assert_every_job_once(emulator, got)
    first, second = [e for e in emulator.server.log.entries() if "page=1" in e.query][:2]
    assert (first.status, second.status) == (429, 200)
    assert second.time - first.time >= 0.35 and elapsed < 5


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_on_one_page_is_retried_without_duplicates_or_gaps(
    emulator: Emulator, status: int
) -> None:
    emulator.server.faults.fail("GET", PATH, status=status, times=1, query="page=2")
    with emulator.connect() as conn:
        cur = conn.execute(COUNT)
        got = [row[0] for row in cur.fetchall()]
        assert cur.stats["retries"] == 1
    assert_every_job_once(emulator, got)
    assert gets(emulator, 2) == [status, 200]
    assert gets(emulator, 1) == [200] and gets(emulator, 3) == [200]


def test_persistent_503_is_one_clear_error_and_no_rows(emulator: Emulator) -> None:
    fault = emulator.server.faults.fail("GET", PATH, status=503, times=None, query="page=2")
    with emulator.connect(max_attempts=3) as conn:
        with pytest.raises(sqlprovider.RetriesExhaustedError) as raised:
            conn.execute(COUNT)
        error = raised.value
        message = str(error)
        assert message.startswith(f"{JOBS}: GET {emulator.url}{PATH} still failed after 3")
        assert "HTTP 503" in message and "request id req-" in message
        assert "run the statement again" in message
        assert (error.attempts, error.status_code) == (3, 503)
        assert fault.hits == 3 and gets(emulator, 2) == [503, 503, 503]
        # the connection stays usable, and nothing of the failed statement was kept
        emulator.server.faults.clear()
        assert_every_job_once(emulator, uuids(conn))


# The network: resets and slow answers.


def test_reset_on_a_get_is_retried_to_the_right_rows(emulator: Emulator) -> None:
    # Two resets: aiohttp resends an idempotent request once by itself on a dropped
    # connection, so the second reset is the one the engine's own retry handles.
    emulator.server.faults.reset("GET", PATH, times=2, query="page=2")
    with emulator.connect() as conn:
        cur = conn.execute(COUNT)
        got = [row[0] for row in cur.fetchall()]
        assert cur.stats["retries"] == 1
    assert_every_job_once(emulator, got)
    assert gets(emulator, 2) == [None, None, 200]


def test_persistent_reset_on_a_get_is_a_transport_error(emulator: Emulator) -> None:
    emulator.server.faults.reset("GET", PATH, times=None, query="page=2")
    with (
        emulator.connect(max_attempts=2) as conn,
        pytest.raises(sqlprovider.TransportError) as raised,
    ):
        conn.execute(COUNT)
    message = str(raised.value)
    assert f"{JOBS}: GET {emulator.url}{PATH} lost the connection before the answer" in message
    assert "after 2 attempts" in message and "could not connect" not in message


@pytest.mark.parametrize("after_app", [False, True], ids=["lost-request", "lost-answer"])
def test_reset_on_a_post_is_sent_once_and_the_outcome_is_unknown(
    emulator: Emulator, after_app: bool
) -> None:
    kb = knowledge_base(emulator)
    emulator.server.faults.reset("POST", PATH, after_app=after_app)
    with (
        emulator.connect() as conn,
        pytest.raises(sqlprovider.TransportError) as raised,
    ):
        conn.execute(f"INSERT INTO {JOBS} (data__knowledge_base_uuid) VALUES ('{kb}')")
    message = str(raised.value)
    assert f"{JOBS}: POST {emulator.url}{PATH} lost the connection" in message
    assert "the outcome is unknown" in message and "not retried" in message
    assert "check with a SELECT" in message
    posts = [e for e in emulator.server.log.entries() if e.method == "POST"]
    assert len(posts) == 1 and posts[0].fault == "reset"
    # the write took effect only when the app saw it: one job more, never two
    assert len(emulator.all_jobs()) == 450 + (1 if after_app else 0)


def test_a_slow_page_is_retried_then_succeeds(emulator: Emulator) -> None:
    emulator.server.faults.delay("GET", PATH, seconds=2, times=1, query="page=3")
    with emulator.connect(timeout=0.3) as conn:
        cur = conn.execute(COUNT)
        got = [row[0] for row in cur.fetchall()]
        assert cur.stats["retries"] == 1
    assert_every_job_once(emulator, got)
    assert gets(emulator, 3) == [None, 200]


def test_a_page_slower_than_the_timeout_is_a_bounded_timeout_error(emulator: Emulator) -> None:
    emulator.server.faults.delay("GET", PATH, seconds=2, times=None, query="page=2")
    started = time.monotonic()
    with (
        emulator.connect(timeout=0.3, max_attempts=2) as conn,
        pytest.raises(sqlprovider.TransportError) as raised,
    ):
        conn.execute(COUNT)
    elapsed = time.monotonic() - started
    message = str(raised.value)
    assert f"{JOBS}: GET {emulator.url}{PATH} timed out after 2 attempts" in message
    assert "raise the timeout" in message
    # two 0.3 s attempts and a short backoff; waiting the delay out would take 4 s
    assert elapsed < 3.5
    assert gets(emulator, 2) == [None, None]


# Broken bodies: a clear DataError, never fewer rows. Not retried: a 200 whose body is cut
# or not JSON is the API's (or a proxy's) bug; one error that names the page and says to
# run the statement again is more honest than resending and hoping.


@pytest.mark.parametrize("page", [2, 3])
@pytest.mark.parametrize("keep", [100, 0.5])
def test_truncated_page_is_a_data_error(emulator: Emulator, page: int, keep: float) -> None:
    emulator.server.faults.truncate("GET", PATH, keep=keep, query={"page": page})
    with emulator.connect() as conn, pytest.raises(sqlprovider.DataError) as raised:
        conn.execute(COUNT)
    message = str(raised.value)
    assert "Malformed JSON" in message and "unexpected end of data" in message
    assert "indexing_jobs" in message
    assert gets(emulator, page) == [200]  # not retried


def test_a_page_that_is_not_json_is_a_data_error_naming_the_page(emulator: Emulator) -> None:
    emulator.server.faults.garble("GET", PATH, query="page=2")
    with emulator.connect() as conn, pytest.raises(sqlprovider.DataError) as raised:
        conn.execute(COUNT)
    message = str(raised.value)
    assert message.startswith(f"{JOBS}: page 2 of 3: the API sent a body that is not valid JSON")
    assert "run the statement again" in message


def test_an_empty_page_inside_the_known_total_is_an_error(emulator: Emulator) -> None:
    def empty(document: Any) -> None:
        document["jobs"] = []

    emulator.server.faults.transform("GET", PATH, empty, query="page=2")
    with emulator.connect() as conn, pytest.raises(sqlprovider.DataError) as raised:
        conn.execute(COUNT)
    message = str(raised.value)
    assert message.startswith(f"{JOBS}: page 2 of 3 has an empty list at 'jobs'")
    assert "rows would be missing" in message


def test_a_missing_records_key_inside_the_known_total_is_an_error(emulator: Emulator) -> None:
    emulator.server.faults.transform(
        "GET", PATH, lambda d: {k: v for k, v in d.items() if k != "jobs"}, query="page=2"
    )
    with emulator.connect() as conn, pytest.raises(sqlprovider.DataError, match="has no list"):
        conn.execute(COUNT)


# Schema drift, on the first page's first records.


def test_schema_drift_missing_extra_and_mistyped_fields(emulator: Emulator) -> None:
    originals: list[dict[str, Any]] = []

    def drift(document: Any) -> None:
        first, second, third, fourth = document["jobs"][:4]
        originals.extend(dict(j) for j in (first, second, third, fourth))
        del first["phase"]  # missing field
        second["surprise"] = {"nested": [1, 2]}  # extra field
        third["total_datasources"] = "lots"  # a word where an integer is declared
        fourth["total_tokens"] = "12"  # digits in a string where a uint64 is declared

    emulator.server.faults.transform("GET", PATH, drift, query="page=1")
    sql = (
        f"SELECT uuid, phase, total_datasources, total_tokens, status FROM {JOBS} "
        "WHERE page = 1 AND per_page = 4"
    )
    with emulator.connect() as conn:
        rows = conn.execute(sql).fetchall()
        columns = [c[0] for c in conn.execute(f"SELECT * FROM {JOBS} LIMIT 1").description or []]
    first, second, third, fourth = rows
    # a missing field is NULL in that column for that row; the rest of the row is intact
    assert first[0] == originals[0]["uuid"] and first[1] is None
    assert first[4] == originals[0]["status"]
    # an extra field is ignored: no column for it, the row is as the API sent it
    assert "surprise" not in columns
    assert second[1:4] == (
        originals[1]["phase"],
        originals[1]["total_datasources"],
        int(originals[1]["total_tokens"]),  # uint64 travels as a string, as in the real API
    )
    # a string that is not a number where a number is declared: NULL (DuckDB's from_json
    # does not fail on it); digits in a string are converted
    assert third[2] is None and third[3] == int(originals[2]["total_tokens"])
    assert fourth[3] == 12
    assert len(rows) == 4


# Pointer pagination whose next link repeats.

LOOPING = """
name: looping
server: {{url: '{url}'}}
auth: {{type: bearer, env: [LOOPING_TOKEN]}}
services:
  genai:
    resources:
      jobs:
        columns:
          uuid: {{type: string}}
        methods:
          - name: list_jobs
            sql_verb: select
            http_verb: GET
            path: /v2/gen-ai/indexing_jobs
            records: jobs
            pagination: {{type: next_url, next_url: links.pages.next}}
"""


def test_a_repeated_next_link_is_detected_not_followed_forever(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "looping.yaml").write_text(LOOPING.format(url=emulator.url))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def point_at_itself(document: Any) -> None:
        document["links"]["pages"]["next"] = f"{emulator.url}{PATH}?page=2&per_page=20"

    # page 1 links to page 2 (20 a page by default); page 2 links to itself
    fault = emulator.server.faults.transform(
        "GET", PATH, point_at_itself, times=None, query="page=2"
    )
    started = time.monotonic()
    with (
        sqlprovider.connect(
            providers_path=[tmp_path],
            auth={"looping": {"token": emulator.config.token}},
        ) as conn,
        pytest.raises(sqlprovider.OperationalError) as raised,
    ):
        conn.execute("SELECT uuid FROM looping.genai.jobs")
    message = str(raised.value)
    assert message.startswith("looping.genai.jobs: the API sent the same next-page pointer twice")
    assert "page=2" in message and "endless loop" in message
    # page 1 pointed at page 2, page 2 at itself: the engine stopped before fetching it again
    assert fault.hits == 1
    assert [e.query for e in emulator.server.log.entries()] == ["", "page=2&per_page=20"]
    assert time.monotonic() - started < 5


def _two_providers(
    make_emulator: Callable[..., Emulator],
) -> Iterator[tuple[Emulator, EmulatorServer]]:
    do = make_emulator(jobs=30)
    with EmulatorServer(create_onyx(OnyxConfig(api_key=ONYX_KEY, connectors=20))) as onyx:
        onyx.faults.fail("POST", "*", status=503, times=None)
        yield do, onyx


CROSS = (
    "SELECT 'digitalocean' AS platform, count(*) AS n FROM digitalocean.genai.indexing_jobs "
    "UNION ALL SELECT 'onyx', count(*) FROM onyx.connector.indexing_status"
)


def test_a_query_over_providers_fails_as_a_whole_by_default(
    make_emulator: Callable[..., Emulator],
) -> None:
    for do, onyx in _two_providers(make_emulator):
        with (
            sqlprovider.connect(
                servers={"digitalocean": do.url, "onyx": onyx.url + "/api"},
                auth={"digitalocean": {"token": TOKEN}, "onyx": {"token": ONYX_KEY}},
                max_attempts=2,
            ) as conn,
            pytest.raises(
                sqlprovider.RetriesExhaustedError, match=r"onyx\.connector\.indexing_status"
            ),
        ):
            conn.execute(CROSS)


def test_allow_partial_returns_what_succeeded_and_names_what_did_not(
    make_emulator: Callable[..., Emulator],
) -> None:
    for do, onyx in _two_providers(make_emulator):
        with sqlprovider.connect(
            servers={"digitalocean": do.url, "onyx": onyx.url + "/api"},
            auth={"digitalocean": {"token": TOKEN}, "onyx": {"token": ONYX_KEY}},
            max_attempts=2,
            allow_partial=True,
        ) as conn:
            cur = conn.execute(CROSS)
            rows: dict[str, int] = {str(k): int(v) for k, v in cur.fetchall()}
        assert rows == {"digitalocean": 30, "onyx": 0}
        [warning] = cur.warnings
        assert warning.startswith("onyx.connector.indexing_status: no rows, the API failed")
        assert "HTTP 503" in warning
