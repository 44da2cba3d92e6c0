"""The oracle's plumbing: the emulators on a frozen clock, engine connections to them, the
emulators' own view of their ids (read without the engine), SQL building helpers and the
request log."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import os
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlglot import exp

import sqlprovider
from sqlprovider.emulators.amperity import AmperityConfig
from sqlprovider.emulators.amperity import create_app as amperity_app
from sqlprovider.emulators.digitalocean import DigitalOceanConfig
from sqlprovider.emulators.digitalocean import create_app as digitalocean_app
from sqlprovider.emulators.kit import EmulatorServer, LoggedRequest
from sqlprovider.emulators.onyx import OnyxConfig
from sqlprovider.emulators.onyx import create_app as onyx_app
from sqlprovider.emulators.openverse import OpenverseConfig
from sqlprovider.emulators.openverse import create_app as openverse_app

DO_TOKEN = "oracle-digitalocean-token"
ONYX_KEY = "on_oracle-onyx-key"
AMPERITY_TOKEN = "oracle-amperity-token"
AMPERITY_TENANT = "acme-oracle"
# Every seeded Amperity job started in the 90 days before 2025-06-01 (plus three in flight
# in the hour before): this range covers them all.
AMPERITY_FROM = "2025-03-02"
AMPERITY_TO = "2025-06-02"
UNKNOWN_UUID = "00000000-0000-4000-8000-00000000dead"
UNKNOWN_NAME = "oracle-no-such-index"
UNKNOWN_CC_PAIR = 987654


def frozen_clock() -> float:
    """The emulators' clock: time never moves, so the data stays what was loaded."""
    return 1000.0


# -- emulators -------------------------------------------------------------------------------


def start_digitalocean(jobs: int = 450, knowledge_bases: int = 25) -> EmulatorServer:
    config = DigitalOceanConfig(
        token=DO_TOKEN,
        jobs=jobs,
        knowledge_bases=knowledge_bases,
        rate_limited=False,
        clock=frozen_clock,
    )
    return EmulatorServer(digitalocean_app(config), name="digitalocean").start()


def start_onyx(connectors: int = 1000) -> EmulatorServer:
    config = OnyxConfig(api_key=ONYX_KEY, connectors=connectors, clock=frozen_clock)
    return EmulatorServer(onyx_app(config), name="onyx").start()


def start_amperity(jobs: int = 300) -> EmulatorServer:
    config = AmperityConfig(
        token=AMPERITY_TOKEN,
        tenant=AMPERITY_TENANT,
        jobs=jobs,
        rate_limited=False,
        clock=frozen_clock,
    )
    return EmulatorServer(amperity_app(config), name="amperity").start()


def start_openverse() -> EmulatorServer:
    return EmulatorServer(
        openverse_app(OpenverseConfig(clock=frozen_clock)), name="openverse"
    ).start()


def base_url(server: EmulatorServer) -> str:
    """The URL the provider's paths go under (Onyx keeps the cloud's ``/api``)."""
    return server.url + "/api" if server.name == "onyx" else server.url


AUTH = {
    "digitalocean": {"token": DO_TOKEN},
    "onyx": {"token": ONYX_KEY},
    "amperity": {"token": AMPERITY_TOKEN},
}


def connect(
    servers: dict[str, EmulatorServer], registry: Sequence[Path] = ()
) -> sqlprovider.Connection:
    """An engine connection to these emulators (one try per request: nothing here is
    transient, and a retried 5xx would only slow the run down); ``registry``: StackQL
    registry directories whose providers replace the bundled ones of their names."""
    return sqlprovider.connect(
        servers={name: base_url(s) for name, s in servers.items()},
        auth={name: AUTH[name] for name in servers if name in AUTH},
        max_attempts=1,
        timeout=60,
        registry=list(registry),
    )


@contextlib.contextmanager
def engine_environment() -> Iterator[None]:
    """The environment a session-scoped fixture runs the engine in: no ambient credentials
    or server overrides, and the Amperity tenant the emulator expects."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("SQLPROVIDER_") or name in ("DIGITALOCEAN_TOKEN", "ONYX_API_KEY"):
                patch.delenv(name)
        patch.setenv("AMPERITY_TENANT", AMPERITY_TENANT)
        yield


def do_get(server: EmulatorServer, path: str, **params: Any) -> Any:
    response = httpx.get(
        server.url + path, params=params, headers={"Authorization": f"Bearer {DO_TOKEN}"}
    )
    response.raise_for_status()
    return response.json()


def do_list(server: EmulatorServer, path: str, key: str) -> list[dict[str, Any]]:
    """Every item of a paginated DigitalOcean list, read without the engine."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = do_get(server, path, page=page, per_page=200)
        items.extend(body[key])
        if page >= body["meta"]["pages"]:
            return items
        page += 1


def onyx_rows(server: EmulatorServer) -> list[dict[str, Any]]:
    """Every indexing-status row, read without the engine."""
    response = httpx.post(
        server.url + "/api/manage/admin/connector/indexing-status",
        json={"get_all_connectors": True},
        headers={"Authorization": f"Bearer {ONYX_KEY}"},
    )
    response.raise_for_status()
    return [row for group in response.json() for row in group["indexing_statuses"]]


def openverse_names(server: EmulatorServer) -> list[str]:
    """Every index and alias name the emulated Elasticsearch holds."""
    state = server.app.state.openverse
    return sorted([*state.indices, *state.aliases])


# -- SQL helpers -------------------------------------------------------------------------------


def literal(value: Any) -> exp.Expr:
    """A SQL literal for a Python value (never pasted text)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))
    return exp.Literal.string(str(value))


def table(name: str, alias: str | None = None) -> exp.Table:
    ref = exp.to_table(name, dialect="duckdb")
    if alias:
        ref.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return ref


def column(name: str, qualifier: str | None = None) -> exp.Column:
    return exp.column(name, table=qualifier)


def in_list(expression: exp.Expr, values: Sequence[Any]) -> exp.In:
    return exp.In(this=expression, expressions=[literal(v) for v in values])


def sql_text(expression: exp.Expr) -> str:
    return expression.sql(dialect="duckdb")


def select_everything(name: str, where: exp.Expr | None = None) -> str:
    query = exp.select("*").from_(table(name))
    if where is not None:
        query = query.where(where)
    return sql_text(query)


# -- comparing values -----------------------------------------------------------------------


def normal(value: Any) -> Any:
    """A comparable, hashable form of a value: instants in UTC, floats exactly, types kept
    apart (True is not 1)."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, decimal.Decimal):
        return ("decimal", str(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return ("instant", value.astimezone(dt.UTC).isoformat())
        return ("datetime", value.isoformat())
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return (type(value).__name__, str(value))
    if isinstance(value, uuid.UUID):
        return ("uuid", str(value))
    if isinstance(value, dict):
        return ("struct", tuple((k, normal(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("list", tuple(normal(v) for v in value))
    if isinstance(value, bytes):
        return ("bytes", value)
    return (type(value).__name__, str(value))


def rows_key(rows: Sequence[Sequence[Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(normal(v) for v in row) for row in rows)


# -- request logs -----------------------------------------------------------------------------


def is_write(entry: LoggedRequest) -> bool:
    """A request that changes something (Onyx reads its indexing status with a POST)."""
    if entry.method in ("GET", "HEAD", "OPTIONS"):
        return False
    return not entry.path.endswith("/admin/connector/indexing-status")


def write_requests(server: EmulatorServer) -> list[LoggedRequest]:
    return [e for e in server.log.entries() if is_write(e)]
