"""Property tests of the SQL front end and planner: whatever the text, planning gives a plan
or a ``sqlprovider.Error`` — never another exception type — and never sends a request."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sqlprovider
from sqlprovider.errors import Error, ParseError
from sqlprovider.planner import Planner
from sqlprovider.providers import Registry

PLANNER = Planner(Registry())

TABLES = [
    "digitalocean.genai.indexing_jobs",
    "digitalocean.genai.indexing_job_data_sources",
    "onyx.connector.indexing_status",
    "amperity.ingest.job_tables",
    "openverse.ingestion.tasks",
    "digitalocean.genai.nope",
    "nope.genai.indexing_jobs",
]
COLUMNS = ["uuid", "phase", "docs_indexed", "name", "started_at", "task_id", "*", "zzz"]
VALUES = ["'x'", "1", "-3", "NULL", "'%a%'", "now() - INTERVAL 1 DAY", "(SELECT 1)", "'a''b'"]
OPS = ["=", ">", "<", ">=", "IN", "LIKE", "ILIKE", "<>"]
TEMPLATES = [
    "SELECT {c} FROM {t} WHERE {c2} {op} {v}",
    "SELECT {c} FROM {t} a JOIN {t2} b ON a.{c2} = b.{c} WHERE b.{c2} {op} {v}",
    "INSERT INTO {t} (data__{c2}) VALUES ({v})",
    "UPDATE {t} SET data__{c2} = {v} WHERE {c} {op} {v}",
    "DELETE FROM {t} WHERE {c2} {op} {v}",
    "REPLACE {t} SET data__{c} = {v} WHERE {c2} = {v}",
    "EXEC {t}.method @{c2} = {v}",
    "EXPLAIN SELECT {c} FROM {t} LIMIT {v}",
    "DESCRIBE {t}",
    "SHOW METHODS IN {t}",
    "SELECT count(*) FROM {t} GROUP BY {c2} HAVING count(*) {op} {v}",
]


def _plan_all(text: str) -> None:
    with contextlib.suppress(Error):  # a clear, typed error is a fine answer
        PLANNER.plan_text(text)


statement = st.builds(
    lambda template, t, t2, c, c2, op, v: template.format(
        t=t, t2=t2, c=c, c2=c2.strip("*") or "uuid", op=op, v=f"({v})" if op == "IN" else v
    ),
    st.sampled_from(TEMPLATES),
    st.sampled_from(TABLES),
    st.sampled_from(TABLES),
    st.sampled_from(COLUMNS),
    st.sampled_from(COLUMNS),
    st.sampled_from(OPS),
    st.sampled_from(VALUES),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statement)
def test_generated_statements_plan_or_fail_clearly(text: str) -> None:
    _plan_all(text)


@settings(max_examples=300, deadline=None)
@given(statement, st.integers(min_value=0, max_value=200), st.text(max_size=6))
def test_mutated_statements_plan_or_fail_clearly(text: str, at: int, junk: str) -> None:
    cut = at % (len(text) + 1)
    _plan_all(text[:cut] + junk + text[cut:])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_plans_or_fails_clearly(text: str) -> None:
    _plan_all(text)


def test_an_unterminated_comment_in_exec_is_a_parse_error() -> None:
    # (a /* inside a -- comment is no comment: only an unterminated one counts)
    for text in ("EXEC a.b.c.d RETURNING /*", "EXEC a.b.c.d @x = 1 /* x"):
        with pytest.raises(ParseError):
            PLANNER.plan_text(text)


def test_running_a_fuzzed_statement_sends_nothing_unexpected() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"jobs": [], "meta": {"pages": 1}})

    with (
        sqlprovider.connect(
            transport=httpx.MockTransport(handler), auth={"digitalocean": {"token": "t0k3n-9"}}
        ) as conn,
        contextlib.suppress(Error),
    ):
        conn.execute("SELECT uuid FROM digitalocean.genai.indexing_jobs WHERE uuid = '../x'")
    assert [r.url.raw_path for r in sent] == [b"/v2/gen-ai/indexing_jobs/..%2Fx"]
