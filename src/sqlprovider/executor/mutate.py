"""Send a write: one request per row of the values query, concurrently, never twice.

Every row is converted and every request built before the first is sent, so a bad value
fails the statement without side effects. Outcomes are reported per request; RETURNING
reads the responses (or, after waiting, the jobs' final states) from a DuckDB table.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlprovider.errors import DataError, Error, WriteFailedError
from sqlprovider.executor.wait import Finished, WaitOptions, wait_for
from sqlprovider.http import ApiClient, RequestSpec, build_request
from sqlprovider.http.pagination import dig
from sqlprovider.model import Location, Method, Param
from sqlprovider.plan import Mutate
from sqlprovider.planner import RAW_BODY, Unsendable, param_for, to_wire
from sqlprovider.result import Result
from sqlprovider.store import Store, TableSpec

__all__ = ["MutationRun", "WaitOptions", "requests_for_rows"]

OUTCOME_COLUMNS = ["resource", "method", "http_status", "id", "outcome"]


@dataclass
class _Outcome:
    request: RequestSpec
    status: int | None = None
    body: bytes | None = None
    error: Error | None = None
    finished: Finished | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not (self.finished is not None and self.finished.failed)


class MutationRun:
    """One write statement in flight."""

    def __init__(
        self, mutate: Mutate, store: Store, client: ApiClient, base_url: str, wait: WaitOptions
    ) -> None:
        self.mutate = mutate
        self.store = store
        self.client = client
        self.base_url = base_url
        self.wait = wait
        self.requests = 0

    async def run(
        self, names: Mapping[str, str], finish: Callable[[str, Mapping[str, str]], Result]
    ) -> Result:
        """Send every request, wait if asked, and answer RETURNING or report outcomes."""
        rows = await asyncio.to_thread(self.store.query_rows, self.mutate.values_sql, names)
        requests = requests_for_rows(self.mutate, rows, self.base_url)
        if not requests:
            result = Result(columns=list(OUTCOME_COLUMNS), types=["VARCHAR"] * 5, rows=[])
            result.warnings.append("nothing was sent: the values to send had no rows")
            return result
        before = self.client.stats["requests"]
        outcomes = await asyncio.gather(*(self._send(r) for r in requests))
        self.requests = self.client.stats["requests"] - before
        if self.mutate.wait:
            await asyncio.gather(*(self._wait(o) for o in outcomes if o.error is None))
        failures = [self._describe_failure(i, o) for i, o in enumerate(outcomes) if not o.ok]
        if len(outcomes) == 1 and outcomes[0].error is not None:
            raise outcomes[0].error
        if self.mutate.returning:
            result = await self._returning(outcomes, names, finish)
        else:
            result = self._outcome_rows(outcomes)
        if failures:
            done = len(outcomes) - len(failures)
            what = "request" if len(outcomes) == 1 else "requests"
            raise WriteFailedError(
                f"{len(failures)} of {len(outcomes)} {what} to "
                f"{self.mutate.resource.qualified_name} failed ({done} succeeded and are "
                "shown in the result): " + "; ".join(failures),
                failures,
                result,
            )
        return result

    # -- sending ---------------------------------------------------------------------------

    async def _send(self, request: RequestSpec) -> _Outcome:
        outcome = _Outcome(request)
        try:
            reply = await self.client.send(request, context=self.mutate.resource.qualified_name)
        except Error as exc:
            outcome.error = exc
            outcome.status = getattr(exc, "status_code", None)
            return outcome
        assert reply is not None
        outcome.status = reply.status
        outcome.body = reply.content
        return outcome

    async def _wait(self, outcome: _Outcome) -> None:
        record = _record_of(outcome.body, self.mutate.method.records)
        try:
            outcome.finished = await wait_for(
                self.client,
                self.base_url,
                self.mutate.resource,
                self.mutate.method,
                record,
                self.wait,
                dict(self.mutate.poll_defaults),
            )
        except Error as exc:
            outcome.error = exc

    # -- answering -------------------------------------------------------------------------

    def _records_path(self) -> tuple[str, ...]:
        wait = self.mutate.method.wait
        if self.mutate.wait and wait is not None:
            poll = next(m for m in self.mutate.resource.methods if m.name == wait.method)
            return poll.records
        return self.mutate.method.records

    async def _returning(
        self,
        outcomes: list[_Outcome],
        names: Mapping[str, str],
        finish: Callable[[str, Mapping[str, str]], Result],
    ) -> Result:
        bodies = [
            o.finished.body if o.finished is not None else o.body
            for o in outcomes
            if o.body is not None and o.error is None
        ]
        records = self._records_path()
        documents = [json.loads(b) for b in bodies if b]
        columns = {c.name for c in self.mutate.resource.columns}
        keys: dict[str, None] = {}
        # The body's other top-level keys are columns of their own (RETURNING job), also
        # when the body is the record.
        for document in documents:
            if isinstance(document, dict):
                keys.update((k, None) for k in document if k not in columns)
        shape = "object"
        if documents:
            holder = dig(documents[0], records) if records else documents[0]
            shape = "list" if isinstance(holder, list) else "object"
        spec = TableSpec(
            name=self.mutate.response_table,
            records=records,
            record_columns=self.mutate.resource.columns,
            param_columns=(),
            top_level=tuple(keys),
            label=f"the response of {self.mutate.method.name}",
        )
        loader = await asyncio.to_thread(self.store.create, spec)
        if bodies:
            keys_order = [(i, 0) for i in range(len(bodies))]
            await asyncio.to_thread(loader.load, bodies, keys_order, [{}] * len(bodies), shape)
        await asyncio.to_thread(loader.finish)
        assert self.mutate.returning is not None
        labels = {**names, self.mutate.response_table: "the response"}
        return await asyncio.to_thread(finish, self.mutate.returning, labels)

    def _outcome_rows(self, outcomes: list[_Outcome]) -> Result:
        rows = []
        for outcome in outcomes:
            record = _record_of(outcome.body, self.mutate.method.records)
            if outcome.finished is not None:
                record = outcome.finished.record
            rows.append(
                (
                    self.mutate.resource.qualified_name,
                    self.mutate.method.name,
                    outcome.status,
                    _record_id(record, outcome.request, self.mutate.method),
                    self._outcome_text(outcome),
                )
            )
        types = ["VARCHAR", "VARCHAR", "INTEGER", "VARCHAR", "VARCHAR"]
        return Result(columns=list(OUTCOME_COLUMNS), types=types, rows=rows)

    def _outcome_text(self, outcome: _Outcome) -> str:
        if outcome.error is not None:
            return f"error: {outcome.error}"
        if outcome.finished is not None:
            return ("failed: " if outcome.finished.failed else "done: ") + outcome.finished.state
        return "ok"

    def _describe_failure(self, index: int, outcome: _Outcome) -> str:
        record = outcome.finished.record if outcome.finished is not None else None
        ident = _record_id(record, outcome.request, self.mutate.method)
        label = f"row {index + 1}" + (f" ({ident})" if ident else "")
        if outcome.error is not None:
            return f"{label}: {outcome.error}"
        assert outcome.finished is not None
        return f"{label}: the job ended {outcome.finished.state}"


def requests_for_rows(
    mutate: Mutate, rows: list[dict[str, Any]], base_url: str
) -> list[RequestSpec]:
    """One request per row of the values query; every value is checked before any is sent."""
    requests = []
    if mutate.distinct:
        rows = _first_of_each(rows)
    for index, row in enumerate(rows):
        where = f"{mutate.resource.qualified_name} (row {index + 1})"
        values: dict[str, Any] = dict(mutate.defaults)
        raw_body: dict[str, Any] | None = None
        for name in mutate.columns:
            value = row.get(name)
            if name == RAW_BODY:
                raw_body = _json_object(value, where)
                continue
            param = param_for(mutate.method, name)
            assert param is not None  # the planner checked every name
            converted = _convert(param, value, where)
            if converted is not None:
                values[param.name] = converted
        for param in mutate.method.params:
            if param.location is Location.PATH and values.get(param.name, param.default) is None:
                raise DataError(
                    f"{where}: {param.name} is NULL, and a NULL identifies nothing; nothing "
                    "was sent (leave such rows out with WHERE ... IS NOT NULL)"
                )
        _check_requirements(mutate.method, values, raw_body or {}, where)
        requests.append(build_request(mutate.method, base_url, values, raw_body))
    return requests


def _first_of_each(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without repeats, in order (values may be lists, so they are compared as
    their reprs)."""
    seen: set[str] = set()
    kept = []
    for row in rows:
        key = repr(sorted(row.items()))
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _check_requirements(
    method: Method, values: dict[str, Any], raw_body: dict[str, Any], where: str
) -> None:
    """The params a method needs only for some values of others (an action's fields)."""

    def given(name: str) -> bool:
        param = method.param(name)
        wire = param.wire_name if param is not None else name
        return values.get(name) is not None or raw_body.get(wire) is not None

    present = {**{k: v for k, v in raw_body.items()}, **values}
    for rule in method.requires:
        if not rule.applies(present):
            continue
        when = " and ".join(f"{name} is {present.get(name)!r}" for name, _ in rule.when)
        missing = [name for name in rule.params if not given(name)]
        if missing:
            spelled = ", ".join(_spelling(method, n) for n in missing)
            raise DataError(f"{where}: when {when}, {method.name} also needs {spelled}")
        if rule.one_of and not any(given(name) for name in rule.one_of):
            spelled = " or ".join(_spelling(method, n) for n in rule.one_of)
            raise DataError(f"{where}: when {when}, {method.name} needs {spelled}")


def _spelling(method: Method, name: str) -> str:
    param = method.param(name)
    if param is not None and param.location is Location.BODY:
        return f"{name} (data__{param.wire_name})"
    return name


def _convert(param: Param, value: Any, where: str) -> Any:
    """A value from SQL as the param's type; JSON text becomes a list or object."""
    if value is None:
        return None
    if param.type in ("array", "object"):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                if param.type == "array":
                    raise DataError(
                        f'{where}: {param.name} takes a JSON array like \'["a", "b"]\', '
                        f"not {value!r}"
                    ) from None
                raise DataError(
                    f"{where}: {param.name} takes a JSON object, not {value!r}"
                ) from None
        wanted = list if param.type == "array" else dict
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, wanted):
            raise DataError(f"{where}: {param.name} takes a JSON {param.type}, not {value!r}")
        return value
    try:
        return to_wire(param, value)
    except Unsendable as exc:
        raise DataError(
            f"{where}: {param.name} cannot be sent as {value!r}: {exc}; nothing was sent"
        ) from None


def _json_object(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise DataError(f"{where}: @@json is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise DataError(f"{where}: @@json must be a JSON object, not {value!r}")
    return value


def _record_of(body: bytes | None, records: tuple[str, ...]) -> Any:
    if not body:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return dig(document, records) if records else document


def _record_id(record: Any, request: RequestSpec, method: Method) -> str | None:
    """The id of the object a request acted on: the method's ``id_field`` in the record it
    returned, else the values of its path params."""
    if method.id_field and isinstance(record, dict):
        found = dig(record, method.id_field)
        if found not in (None, ""):
            return str(found)
    path_values = [
        str(request.bindings[p.name])
        for p in method.params
        if p.location is Location.PATH and p.name in request.bindings
    ]
    return "/".join(path_values) or None
