"""ApiClient against httpx.MockTransport: retries, rate limits, error mapping, secrecy, bounds.

No test sleeps: the client gets a fake ``sleep`` that records the delay it was asked for, and
an ``on_wait`` that records the lines it reports, both into one ordered event log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sqlprovider.errors import (
    AuthError,
    Error,
    HTTPStatusError,
    RetriesExhaustedError,
    TransportError,
)
from sqlprovider.http.auth import Credentials
from sqlprovider.http.client import UNKNOWN_OUTCOME, ApiClient
from sqlprovider.http.reply import Reply as ApiReply
from sqlprovider.http.request import RequestSpec
from sqlprovider.model import ErrorShape, Provider, RateLimit
from sqlprovider.providers import bundled_providers_dir, load_provider
from sqlprovider.secret import Secret

PROVIDER = load_provider(bundled_providers_dir() / "digitalocean.yaml")
MAX_DELAY = PROVIDER.retry.max_delay  # 60 s in the shipped definition
TOKEN = "dop_v1_unit_test_secret_4f1c9a"
BASE = "https://api.digitalocean.com"
GET = RequestSpec("GET", f"{BASE}/v2/gen-ai/indexing_jobs/job-1")
POST = RequestSpec(
    "POST",
    f"{BASE}/v2/gen-ai/indexing_jobs",
    json={"knowledge_base_uuid": "kb-1"},
    has_body=True,
)

Reply = Callable[[], httpx.Response]
Handler = Callable[[httpx.Request], httpx.Response]


def reply(
    status: int = 200,
    body: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
    text: str | None = None,
) -> Reply:
    """A factory of fresh responses (a Response object must not be served twice)."""

    def make() -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json={} if body is None else body, headers=headers)

    return make


def api_error(status: int, message: str, code: str = "server_error", rid: str = "rid-1") -> Reply:
    """A response in DigitalOcean's error shape."""
    return reply(status, {"id": code, "message": message, "request_id": rid})


def script(*replies: Reply) -> Handler:
    """Answers each request with the next reply; the last one repeats."""
    queue = list(replies)

    def handle(request: httpx.Request) -> httpx.Response:
        return (queue.pop(0) if len(queue) > 1 else queue[0])()

    return handle


def raising(exc_type: type[httpx.TransportError], *then: Reply) -> Handler:
    """Raises ``exc_type`` for the first request (every request if no replies follow)."""
    calls: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1 or not then:
            raise exc_type("simulated network failure", request=request)
        return script(*then)(request)

    return handle


def rate_limit(remaining: int, reset_in: float) -> dict[str, str]:
    """DigitalOcean's rate-limit headers: calls left, and the reset as epoch seconds."""
    return {
        "ratelimit-remaining": str(remaining),
        "ratelimit-reset": str(int(time.time() + reset_in)),
    }


@dataclass
class Outcome:
    """Everything one exchange showed: answers, the error, and what happened in order."""

    responses: list[ApiReply | None] = field(default_factory=list)
    error: Error | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    events: list[tuple[str, Any]] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def sleeps(self) -> list[float]:
        return [float(v) for kind, v in self.events if kind == "sleep"]

    @property
    def waits(self) -> list[str]:
        return [str(v) for kind, v in self.events if kind == "wait"]

    @property
    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]

    def raised(self) -> Error:
        assert self.error is not None, f"no error; responses {self.responses}"
        return self.error


def exchange(
    handler: Handler,
    specs: Sequence[RequestSpec] = (GET,),
    *,
    accept: tuple[int, ...] = (),
    provider: Provider = PROVIDER,
    context: str = "",
    **options: Any,
) -> Outcome:
    """Send ``specs`` one after another through one client; stop at the first error."""
    outcome = Outcome()

    def record(request: httpx.Request) -> httpx.Response:
        outcome.requests.append(request)
        outcome.events.append(("request", request.method))
        return handler(request)

    async def sleep(seconds: float) -> None:
        outcome.events.append(("sleep", seconds))

    def on_wait(line: str) -> None:
        outcome.events.append(("wait", line))

    async def main() -> None:
        client = ApiClient(
            provider,
            Credentials("bearer", Secret(TOKEN)),
            transport=httpx.MockTransport(record),
            sleep=sleep,
            on_wait=on_wait,
            **options,
        )
        try:
            for spec in specs:
                outcome.responses.append(await client.send(spec, accept=accept, context=context))
        except Error as exc:
            outcome.error = exc
        finally:
            outcome.stats = dict(client.stats)
            await client.aclose()

    asyncio.run(main())
    return outcome


# --- the reply ---------------------------------------------------------------------------


def test_a_reply_is_plain_data_with_headers_in_any_case_and_the_next_link() -> None:
    headers = {
        "X-Next-Token": "t2",
        "Link": f'<{BASE}/v2/gen-ai/indexing_jobs?page=2>; rel="next", <{BASE}/x>; rel="last"',
    }
    out = exchange(script(reply(200, {"jobs": []}, headers=headers)))
    [answer] = out.responses
    assert answer is not None and answer.status == 200
    assert json.loads(answer.content) == {"jobs": []}
    assert answer.url == GET.url
    assert answer.headers["x-next-token"] == answer.headers.get("X-NEXT-TOKEN") == "t2"
    assert "x-next-token" in answer.headers and "link" in set(answer.headers)
    assert answer.next_link == f"{BASE}/v2/gen-ai/indexing_jobs?page=2"
    assert repr(answer) == "Reply(status=200)"  # no body, header value or URL in a repr


def test_a_reply_without_a_link_header_has_no_next_link() -> None:
    [answer] = exchange(script(reply(200, {}))).responses
    assert answer is not None and answer.next_link is None


# --- retries -------------------------------------------------------------------------------


def test_get_503_then_200_is_retried_once_and_returns_the_200() -> None:
    out = exchange(script(api_error(503, "busy"), reply(200, {"job": {"uuid": "job-1"}})))
    [response] = out.responses
    assert response is not None and json.loads(response.content) == {"job": {"uuid": "job-1"}}
    assert len(out.requests) == 2
    assert out.stats["retries"] == 1 and out.stats["requests"] == 2
    [delay] = out.sleeps
    base = PROVIDER.retry.base_delay  # first backoff: jitter in [base/2, base]
    assert base / 2 <= delay <= base


def test_backoff_doubles_with_each_attempt() -> None:
    out = exchange(script(api_error(503, "busy")), max_attempts=4)
    base = PROVIDER.retry.base_delay
    assert len(out.sleeps) == 3
    for attempt, delay in enumerate(out.sleeps):
        ceiling = base * 2**attempt
        assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize("verb", ["GET", "PUT", "DELETE"])
def test_idempotent_verbs_are_retried(verb: str) -> None:
    spec = dataclasses.replace(GET, http_verb=verb)
    out = exchange(script(api_error(502, "gateway"), reply(204)), [spec])
    assert [r.method for r in out.requests] == [verb, verb]
    assert out.responses[0] is not None and out.responses[0].status == 204


def test_post_marked_idempotent_is_retried() -> None:
    spec = dataclasses.replace(POST, idempotent=True)
    out = exchange(script(api_error(500, "oops"), reply(200)), [spec])
    assert len(out.requests) == 2 and out.error is None


def test_retry_after_seconds_wins_over_backoff() -> None:
    out = exchange(script(reply(429, headers={"Retry-After": "7"}), reply(200)))
    assert out.sleeps == [7.0]
    assert out.error is None and len(out.requests) == 2


def test_retry_after_http_date_is_understood() -> None:
    when = datetime.now(UTC) + timedelta(seconds=20)
    date = email.utils.format_datetime(when, usegmt=True)  # "Wed, 21 Oct 2026 07:28:00 GMT"
    out = exchange(script(reply(429, headers={"Retry-After": date}), reply(200)))
    [delay] = out.sleeps
    assert delay == pytest.approx(20, abs=2)  # HTTP dates have whole seconds


def test_429_with_used_up_rate_limit_waits_for_the_reset() -> None:
    out = exchange(script(reply(429, headers=rate_limit(0, 5)), reply(200)))
    assert out.error is None and len(out.requests) == 2
    assert out.sleeps and out.sleeps[0] == pytest.approx(5, abs=1)
    # The fake sleep does not move the clock, so no wait may exceed the reset either.
    assert all(delay <= 5 for delay in out.sleeps)


@pytest.mark.parametrize(
    "headers",
    # Built when the test runs: a reset time made at collection would age with the run.
    [lambda: {"Retry-After": "3600"}, lambda: rate_limit(0, 3600)],
    ids=["retry-after", "ratelimit-reset"],
)
def test_wait_longer_than_max_delay_fails_at_once(
    headers: Callable[[], dict[str, str]],
) -> None:
    out = exchange(script(reply(429, headers=headers()), reply(200)))
    error = out.raised()
    assert isinstance(error, RetriesExhaustedError)
    assert len(out.requests) == 1 and out.sleeps == []
    assert error.retry_after == pytest.approx(3600, abs=2)
    assert error.status_code == 429 and error.attempts == 1
    message = str(error)
    assert "60 min" in message
    assert "run the statement again" in message
    assert f"{MAX_DELAY:g} s" in message  # says how long sqlprovider would have waited


def test_used_up_limit_on_a_success_delays_the_next_request() -> None:
    handler = script(reply(200, headers=rate_limit(0, 5)), reply(200))
    out = exchange(handler, [GET, GET])
    assert out.kinds == ["request", "wait", "sleep", "wait", "request"]
    assert out.sleeps[0] == pytest.approx(5, abs=1)
    assert "rate limit" in out.waits[0] and out.waits[1] == ""
    assert out.stats["retries"] == 0


def test_used_up_limit_resetting_beyond_max_delay_is_not_slept_through() -> None:
    handler = script(reply(200, headers=rate_limit(0, MAX_DELAY * 10)), reply(200))
    out = exchange(handler, [GET, GET])
    assert out.kinds == ["request", "request"]


def test_limit_with_calls_remaining_causes_no_wait() -> None:
    out = exchange(script(reply(200, headers=rate_limit(3, 5))), [GET, GET])
    assert out.kinds == ["request", "request"]


def test_retries_exhausted_reports_the_api_message() -> None:
    handler = script(api_error(503, "The server is overloaded", rid="req-7f3a"))
    out = exchange(handler, max_attempts=3, context="digitalocean.genai.indexing_jobs")
    error = out.raised()
    assert isinstance(error, RetriesExhaustedError)
    assert len(out.requests) == 3 and len(out.sleeps) == 2
    assert error.attempts == 3 and error.status_code == 503
    message = str(error)
    assert "The server is overloaded" in message
    assert "3 attempts" in message
    assert message.startswith("digitalocean.genai.indexing_jobs:")
    assert "request id req-7f3a" in message


# --- writes and network errors -------------------------------------------------------------


def test_post_500_is_not_retried_and_says_the_outcome_is_unknown() -> None:
    out = exchange(script(api_error(500, "internal"), reply(200)), [POST])
    error = out.raised()
    assert isinstance(error, HTTPStatusError) and error.status_code == 500
    assert len(out.requests) == 1 and out.sleeps == []
    assert UNKNOWN_OUTCOME in str(error)


def test_post_429_is_not_retried() -> None:
    out = exchange(script(reply(429, headers={"Retry-After": "1"}), reply(200)), [POST])
    assert isinstance(out.raised(), HTTPStatusError)
    assert len(out.requests) == 1 and out.sleeps == []


def test_post_network_error_is_not_retried_and_says_the_outcome_is_unknown() -> None:
    out = exchange(raising(httpx.ReadError, reply(200)), [POST])
    error = out.raised()
    assert isinstance(error, TransportError)
    assert len(out.requests) == 1 and out.sleeps == []
    assert "outcome is unknown" in str(error)
    assert UNKNOWN_OUTCOME in str(error)


def test_post_that_never_connected_is_retried() -> None:
    out = exchange(raising(httpx.ConnectError, reply(200, {"ok": True})), [POST])
    assert out.error is None and len(out.requests) == 2  # nothing was sent the first time


def test_get_network_error_is_retried_then_succeeds() -> None:
    out = exchange(raising(httpx.ReadError, reply(200, {"ok": True})))
    assert out.error is None and len(out.requests) == 2
    assert out.stats["retries"] == 1 and len(out.sleeps) == 1


def test_get_connect_error_is_retried_then_names_the_server_fix() -> None:
    out = exchange(raising(httpx.ConnectError), max_attempts=3)
    error = out.raised()
    assert isinstance(error, TransportError)
    assert len(out.requests) == 3 and len(out.sleeps) == 2
    assert out.stats["retries"] == 2
    message = str(error)
    assert "could not connect after 3 attempts" in message
    assert "SQLPROVIDER_DIGITALOCEAN_URL" in message and "--server" in message


def test_timeout_says_so() -> None:
    error = exchange(raising(httpx.ReadTimeout), max_attempts=2).raised()
    assert isinstance(error, TransportError)
    assert "timed out" in str(error)


# --- status errors -------------------------------------------------------------------------


def test_401_is_an_auth_error_naming_the_env_vars_not_the_token() -> None:
    out = exchange(script(api_error(401, "Unable to authenticate you", "unauthorized")))
    error = out.raised()
    assert isinstance(error, AuthError)
    assert len(out.requests) == 1
    message = str(error)
    assert "DIGITALOCEAN_TOKEN" in message and "DIGITALOCEAN_ACCESS_TOKEN" in message
    assert "Unable to authenticate you" in message
    assert TOKEN not in message


def test_403_is_an_auth_error_about_permission() -> None:
    error = exchange(script(api_error(403, "Forbidden", "forbidden"))).raised()
    assert isinstance(error, AuthError)
    assert "lacks permission" in str(error) and "DIGITALOCEAN_TOKEN" in str(error)
    assert TOKEN not in str(error)


def test_404_is_a_status_error_with_the_api_fields() -> None:
    out = exchange(script(api_error(404, "not found", "not_found", rid="rid-404")))
    error = out.raised()
    assert isinstance(error, HTTPStatusError)
    assert error.status_code == 404
    assert error.api_message == "not found" and error.request_id == "rid-404"
    assert error.url == GET.url
    assert len(out.requests) == 1  # a 404 is not worth retrying
    assert "rid-404" in str(error) and "check the ids in WHERE" in str(error)


def test_404_in_accept_means_no_rows() -> None:
    out = exchange(script(api_error(404, "not found")), accept=(404,))
    assert out.responses == [None] and out.error is None
    assert len(out.requests) == 1


def test_400_names_the_values_as_the_fix() -> None:
    error = exchange(script(api_error(400, "bad uuid", "bad_request"))).raised()
    assert isinstance(error, HTTPStatusError)
    assert "bad_request: bad uuid" in str(error) and "check the values" in str(error)


def test_non_json_error_body_is_quoted_in_the_message() -> None:
    page = "<html><body>upstream connect error</body></html>"
    out = exchange(script(reply(400, text=page, headers={"x-request-id": "hdr-9"})))
    error = out.raised()
    assert isinstance(error, HTTPStatusError)
    assert error.api_message == page and page in str(error)
    assert error.request_id == "hdr-9"


def test_non_json_body_of_exhausted_retries_is_quoted_and_cut() -> None:
    text = "Bad gateway " + "x" * 1000
    error = exchange(script(reply(502, text=text)), max_attempts=2).raised()
    assert isinstance(error, RetriesExhaustedError)
    assert "Bad gateway xxx" in str(error)
    assert text not in str(error)  # a snippet, not the whole page


def test_error_shape_of_the_provider_is_followed() -> None:
    nested = ErrorShape(
        message=("error", "detail"), code=("error", "kind"), request_id=("meta", "trace")
    )
    provider = dataclasses.replace(PROVIDER, errors=nested)
    body = {"error": {"detail": "quota exceeded", "kind": "quota"}, "meta": {"trace": "t-1"}}
    error = exchange(script(reply(422, body)), provider=provider).raised()
    assert isinstance(error, HTTPStatusError)
    assert error.api_message == "quota exceeded" and error.request_id == "t-1"
    assert "HTTP 422 quota: quota exceeded" in str(error)


def test_other_message_paths_are_tried_in_turn() -> None:
    shape = ErrorShape(message=("message",), other_messages=(("detail",), ("title",)))
    provider = dataclasses.replace(PROVIDER, errors=shape)
    body = {"detail": "Access denied. User is not authenticated."}
    error = exchange(script(reply(403, body)), provider=provider).raised()
    assert "HTTP 403: Access denied. User is not authenticated." in str(error)


# --- what goes on the wire, and what never leaves ------------------------------------------


def test_request_carries_bearer_token_query_and_json_body() -> None:
    spec = dataclasses.replace(POST, query=(("page", "2"), ("tag", "a b")))
    out = exchange(script(reply(201, {"job": {}})), [spec])
    [request] = out.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert request.url.params.multi_items() == [("page", "2"), ("tag", "a b")]
    assert request.read() == b'{"knowledge_base_uuid":"kb-1"}'
    assert out.stats["bytes"] == len(b'{"job":{}}')


def test_the_token_stays_out_of_errors_and_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sqlprovider.http")
    spec = GET.with_query(page=1)
    handler = script(
        api_error(503, "busy"),
        reply(200),
        api_error(401, "bad token", "unauthorized"),
    )
    out = exchange(handler, [spec, spec])
    assert [r.headers["Authorization"] for r in out.requests] == [f"Bearer {TOKEN}"] * 3
    assert isinstance(out.raised(), AuthError)
    assert TOKEN not in str(out.raised())
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("-> 503" in r.getMessage() for r in debug)  # the requests were logged...
    for record in caplog.records:
        assert TOKEN not in record.getMessage()  # ...without the credential


# --- waits and concurrency -----------------------------------------------------------------


def test_long_wait_is_reported_before_and_cleared_after() -> None:
    out = exchange(script(reply(429, headers={"Retry-After": "2"}), reply(200)))
    assert out.kinds == ["request", "wait", "sleep", "wait", "request"]
    line, cleared = out.waits
    assert "HTTP 429" in line and "2 s" in line and "retry 1 of" in line
    assert cleared == ""


def test_context_names_the_wait() -> None:
    handler = script(reply(503, headers={"Retry-After": "3"}), reply(200))
    out = exchange(handler, context="digitalocean.genai.indexing_jobs")
    assert out.waits[0].startswith("digitalocean.genai.indexing_jobs: HTTP 503")


def test_short_wait_is_not_reported() -> None:
    out = exchange(script(api_error(503, "busy"), reply(200)))
    assert len(out.sleeps) == 1 and out.sleeps[0] < 1
    assert out.waits == []


def test_at_most_concurrency_requests_are_in_flight() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={})

    async def no_sleep(seconds: float) -> None:
        raise AssertionError(f"unexpected wait of {seconds} s")

    async def main() -> list[ApiReply | None]:
        client = ApiClient(
            PROVIDER,
            Credentials("bearer", Secret(TOKEN)),
            transport=httpx.MockTransport(handler),
            concurrency=2,
            sleep=no_sleep,
        )
        try:
            sent: list[ApiReply | None] = await asyncio.gather(
                *(client.send(GET) for _ in range(10))
            )
            return sent
        finally:
            await client.aclose()

    responses = asyncio.run(main())
    assert len(responses) == 10 and all(r is not None for r in responses)
    assert peak == 2  # bounded, and the bound is actually used


def test_concurrency_defaults_to_the_providers() -> None:
    async def main() -> int:
        client = ApiClient(PROVIDER, Credentials("none", None))
        await client.aclose()
        concurrency: int = client.concurrency
        return concurrency

    assert asyncio.run(main()) == PROVIDER.concurrency


# --- the provider's declared rate -------------------------------------------------------------


def test_a_declared_rate_paces_requests_after_the_burst() -> None:
    paced = dataclasses.replace(PROVIDER, rate_limit=RateLimit(per_second=10, burst=2))
    out = exchange(script(reply(200)), [GET] * 5, provider=paced)
    assert len(out.requests) == 5
    # Two go at once; then one every 0.1 s, each reserving the next slot. The fake sleep
    # does not move the clock, so the reservations add up.
    assert out.sleeps == pytest.approx([0.1, 0.2, 0.3], abs=0.02)
    assert out.kinds[:2] == ["request", "request"]


def test_no_declared_rate_means_no_pacing() -> None:
    out = exchange(script(reply(200)), [GET] * 5)
    assert out.sleeps == []
