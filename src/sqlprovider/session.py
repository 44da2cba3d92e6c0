"""A Session: registry, DuckDB store, HTTP clients and an event loop, behind a sync API."""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import os
import re
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from sqlprovider.authfile import AuthEntry, find_auth_file, load_auth_file, parse_auth_entries
from sqlprovider.errors import AuthError, Error, InterfaceError, ProgrammingError, UnknownNameError
from sqlprovider.model import Provider
from sqlprovider.options import ConnectOptions
from sqlprovider.providers import Registry
from sqlprovider.providers.locations import local_registry_dir, registry_dirs_from_env
from sqlprovider.providers.registry import PROVIDERS_PATH_ENV, bundled_providers_dir

if TYPE_CHECKING:
    import asyncio
    from concurrent.futures import Future

    from sqlprovider.cache import CacheUse
    from sqlprovider.executor import Executor, Finish
    from sqlprovider.http import ApiClient, Credentials
    from sqlprovider.plan import Plan
    from sqlprovider.planner import Planner
    from sqlprovider.result import Result
    from sqlprovider.store import Store

T = TypeVar("T")
_NO_TABLE = re.compile(r"Table with name (\S+) does not exist")
# (format, stream, render): DuckDB writes query rows to the stream in the format; rows that
# only exist in Python (the outcomes of writes) are written with ``render``.
Export = tuple[str, BinaryIO, Callable[["Result"], str]]
# Values for placeholders: a sequence for ``?``, a mapping for ``:name``.
Parameters = Sequence[Any] | Mapping[str, Any]


class _LoopThread:
    """An asyncio loop on a daemon thread; the sync API submits coroutines to it."""

    def __init__(self) -> None:
        import asyncio  # only statements that fetch need an event loop

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="sqlprovider-io", daemon=True
        )
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        import asyncio

        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # Ctrl-C in the caller cancels the requests in flight
            raise

    def submit(
        self, coroutine: Coroutine[Any, Any, T]
    ) -> tuple[concurrent.futures.Future[T], Callable[[], None]]:
        """Start ``coroutine`` on the loop; its outcome, and a function that cancels it.

        The outcome is set only once the coroutine has really ended (cancelled included),
        so a caller that waits for it knows nothing of the work is still running.
        """
        outcome: concurrent.futures.Future[T] = concurrent.futures.Future()
        tasks: list[asyncio.Task[T]] = []

        def copy(task: asyncio.Task[T]) -> None:
            if task.cancelled():
                outcome.cancel()
            elif (error := task.exception()) is not None:
                outcome.set_exception(error)
            else:
                outcome.set_result(task.result())

        def start() -> None:
            task = self.loop.create_task(coroutine)
            task.add_done_callback(copy)
            tasks.append(task)

        def cancel() -> None:
            for task in tasks:
                task.cancel()

        def request_cancel() -> None:
            self.loop.call_soon_threadsafe(cancel)

        # call_soon_threadsafe keeps order: start() always runs before a later cancel().
        self.loop.call_soon_threadsafe(start)
        return outcome, request_cancel

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


class Session:
    """The engine behind a connection.

    Args:
        options: how it is opened (see ``ConnectOptions``); ``settings`` are set over them
            (``Session(servers={...})``).
        shares: another session, opened with the same options, whose event loop and HTTP
            clients (with their connection pools, concurrency limits and rate limits) this
            one uses instead of its own; closing this one leaves them open. The store,
            planner and settings stay this session's own (``sqlprovider serve`` gives each
            client connection such a session).
    """

    def __init__(
        self,
        options: ConnectOptions | None = None,
        *,
        shares: Session | None = None,
        **settings: Any,
    ) -> None:
        options = ConnectOptions.of(options, **settings)
        self.options = options
        self._shares = shares
        # Read live unless given: credentials and params with env fallbacks come from here.
        self.environ: Mapping[str, str] = os.environ if options.environ is None else options.environ
        # A session that shares another's clients reads the same providers.
        self.registry: Registry = (
            shares.registry if shares is not None else registry_for(options, self.environ)
        )
        self.servers = dict(options.servers)
        self.auth_file = find_auth_file(options.auth_file, self.environ)
        entries = load_auth_file(self.auth_file) if self.auth_file is not None else {}
        entries.update(parse_auth_entries(options.auth, "connect(auth=...)"))
        self.auth: dict[str, AuthEntry] = entries
        self.database = options.database
        self.verify_tls = options.verify_tls
        # Statements of one session run one at a time, whichever thread sends them: they
        # share the planner's table names and the DuckDB catalog they load into.
        self._one_at_a_time = threading.RLock()
        # Held only while a lazy part is made (never while waiting for the event loop, which
        # may itself need the store): one store, one planner, one loop per session.
        self._making = threading.RLock()
        if not options.verify_tls:
            import warnings

            warnings.warn(
                "TLS certificate verification is off: requests (and their credentials) can be "
                "read by anyone between you and the API",
                stacklevel=3,
            )
        self.progress = options.progress
        self.cache_ttl = 0.0
        self.set_cache_ttl(options.cache_ttl)
        self._store: Store | None = None
        self._planner: Planner | None = None
        self._loop: _LoopThread | None = None
        self._clients: dict[str, ApiClient] = {}
        self._credentials: dict[str, Credentials] = {}
        self._statement_lock: asyncio.Lock | None = None  # async statements, one at a time
        self.closed = False

    def set_cache_ttl(self, seconds: float) -> None:
        """Serve reads younger than ``seconds`` from the result cache (0 turns it off).

        Raises:
            InterfaceError: for a negative or non-numeric value.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise InterfaceError(
                f"cache_ttl must be a number of seconds, 0 or more (0 turns the cache off), "
                f"not {seconds!r}"
            )
        self.cache_ttl = float(seconds)

    def clear_cache(self) -> None:
        """Drop every cached answer of this session's cache (other sessions sharing it too)."""
        from sqlprovider.cache import shared_cache

        shared_cache(self.options.cache_dir).clear()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        configured = ", ".join(sorted(self.auth)) or "none"
        return f"<Session database={self.database!r} auth configured for: {configured} ({state})>"

    # -- lazily built parts (a SELECT 1 needs no HTTP and no providers) -------------------

    @property
    def store(self) -> Store:
        """The DuckDB store, opened on first use."""
        with self._making:  # threads sharing a session share one store
            if self._store is None:
                from sqlprovider.store import Store

                self._store = Store(self.database)
            return self._store

    @property
    def planner(self) -> Planner:
        """The planner, bound to this session's registry and store."""
        with self._making:  # and one planner, whose table names never repeat
            if self._planner is None:
                from sqlprovider.planner import Planner

                self._planner = Planner(
                    self.registry,
                    local_catalogs=self.store.catalogs,
                    evaluator=self.store,
                    environ=self.environ,
                )
            return self._planner

    @property
    def duckdb(self) -> Any:
        """The session's DuckDB connection (``duckdb.DuckDBPyConnection``)."""
        self._check_open()
        return self.store.connection

    def _loop_thread(self) -> _LoopThread:
        if self._shares is not None:
            return self._shares._loop_thread()
        with self._making:
            if self._loop is None:
                self._loop = _LoopThread()
            return self._loop

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop_thread().run(coroutine)

    async def run_async(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await ``coroutine`` from any event loop: it runs on the session's own loop.

        Cancelling the awaiting task cancels the coroutine (requests in flight included)
        and waits until it has stopped before raising ``CancelledError``.
        """
        import asyncio

        if self.closed:
            coroutine.close()
            self._check_open()
        outcome, cancel = self._loop_thread().submit(coroutine)
        waiter = asyncio.wrap_future(outcome)
        try:
            return await asyncio.shield(waiter)
        except asyncio.CancelledError:
            cancel()
            # Wait for it to stop; how it ended is not this task's outcome.
            with contextlib.suppress(BaseException):
                await waiter
            raise

    def credentials(self, provider: Provider) -> Credentials:
        """The credentials of ``provider`` (resolved once per session): its entry in
        ``connect(auth=...)`` or the auth file, else its own env variables."""
        if provider.name not in self._credentials:
            entry = self.auth.get(provider.name)
            if entry is not None:
                credentials = entry.credentials(provider, self.environ)
            else:
                from sqlprovider.http import resolve_credentials

                credentials = resolve_credentials(provider, environ=self.environ)
            self._credentials[provider.name] = credentials
        return self._credentials[provider.name]

    def secrets(self) -> list[str]:
        """Every credential this session knows, to keep out of messages.

        Values shorter than six characters are not searched for: replacing them would
        garble ordinary words, and no real API token is that short.
        """
        found = [s for c in self._credentials.values() for s in c.secrets()]
        found.extend(s for entry in self.auth.values() for s in entry.secrets())
        return [s for s in dict.fromkeys(found) if len(s) >= 6]

    def base_url(self, provider: Provider) -> str:
        """Where ``provider``'s requests go."""
        from sqlprovider.http import base_url_for

        return base_url_for(provider, self.servers.get(provider.name), environ=self.environ)

    def _client(self, provider: Provider) -> ApiClient:
        if self._shares is not None:
            return self._shares._client(provider)
        client = self._clients.get(provider.name)
        if client is None:
            from sqlprovider.http import ApiClient
            from sqlprovider.http.auth import require

            credentials = self.credentials(provider)
            entry = self.auth.get(provider.name)
            if entry is None:
                require(provider, credentials, self.environ)
            elif credentials.scheme != "none" and credentials.secret is None:
                raise AuthError(entry.missing_message(provider))
            client = ApiClient(
                provider,
                credentials,
                transport=self.options.transport,
                concurrency=self.options.concurrency,
                timeout=self.options.timeout,
                max_attempts=self.options.max_attempts,
                verify_tls=self.options.verify_tls,
                on_wait=self.progress,
            )
            self._clients[provider.name] = client
        return client

    def _executor(self) -> Executor:
        from sqlprovider.executor import Executor, WaitOptions

        options = WaitOptions(self.options.wait_timeout, self.options.wait_interval, self.progress)
        return Executor(
            self.store,
            self._client,
            self.base_url,
            self.registry.get,
            options,
            allow_partial=self.options.allow_partial,
            cache=self._cache_use(),
        )

    def _cache_use(self) -> CacheUse | None:
        if self.cache_ttl <= 0:
            return None
        from sqlprovider.cache import CacheUse, shared_cache

        return CacheUse(shared_cache(self.options.cache_dir), self.cache_ttl)

    # -- statements ------------------------------------------------------------------------

    def plans(
        self, sql: str, wait: bool = False, parameters: Parameters | None = None
    ) -> list[Plan]:
        """Parse and plan every statement in ``sql`` without running anything.

        Args:
            sql: one or more statements.
            wait: wait for started jobs, as if each write had ``/*+ AWAIT */``.
            parameters: values for the placeholders (``?`` → a sequence, ``:name`` → a
                mapping), bound as literals into the parsed statements; None binds nothing.
        """
        self._check_open()
        from sqlprovider.sql import split_statements

        try:
            return [self.planner.plan(s, wait) for s in split_statements(sql, parameters)]
        except Error as exc:
            raise self._redacted(exc) from None

    def execute(
        self,
        sql: str,
        export: Export | None = None,
        wait: bool = False,
        parameters: Parameters | None = None,
    ) -> list[Result]:
        """Run every statement in ``sql``; one Result per statement.

        Every statement is parsed and planned before the first one runs, so a mistake in
        the third statement sends nothing for the first.

        Args:
            sql: one or more statements.
            export: ``(format, binary stream, render)``: DuckDB writes the rows of each
                query straight to the stream as csv, json or jsonl, and the Results hold no
                rows; rows made in Python (write outcomes) are rendered with ``render``.
            wait: wait for the jobs writes start, as if each had ``/*+ AWAIT */``.
            parameters: values for placeholders (see ``plans``).
        """
        with self._one_at_a_time:
            return self.run_plans(self.plans(sql, wait=wait, parameters=parameters), export)

    def run_plans(self, plans: Sequence[Plan], export: Export | None = None) -> list[Result]:
        """Run plans made by ``plans()``, in order; one Result per plan."""
        self._check_open()
        with self._one_at_a_time:
            return self._run_plans(plans, export)

    def _run_plans(self, plans: Sequence[Plan], export: Export | None) -> list[Result]:
        try:
            results = []
            for plan in plans:
                finish: Finish = self.store.run
                if export is not None and plan.returns_rows and plan.answer is None:
                    finish = functools.partial(self.store.export, fmt=export[0], stream=export[1])
                step = self._step(plan, finish)
                result = step() if callable(step) else self._run(step)
                if export is not None and result.exported_rows is None and result.columns:
                    export[1].write(export[2](result).encode())
                results.append(result)
            return results
        except Error as exc:
            raise self._redacted(exc) from None

    def _step(
        self, plan: Plan, finish: Finish
    ) -> Callable[[], Result] | Coroutine[Any, Any, Result]:
        """How one plan runs, for the sync and the async path alike: rows known when it was
        planned (SHOW, DESCRIBE, EXPLAIN), a DuckDB query alone (no event loop, no HTTP), or
        the executor's requests (a coroutine for the session's loop)."""
        if plan.answer is not None:
            return functools.partial(_answer, plan)
        if not plan.fetches and plan.mutation is None:
            return functools.partial(finish, plan.query, {})
        return self._executor().run(plan, finish)

    async def execute_async(
        self,
        sql: str,
        parameters: Parameters | None = None,
        wait: bool = False,
        finish: Finish | None = None,
    ) -> list[tuple[Plan, Result]]:
        """``execute`` as a coroutine for the session's own loop (``run_async`` puts it
        there): planning and DuckDB work run in worker threads, requests on the loop.
        Statements of one session run one at a time. Each Result comes with its Plan;
        ``finish`` runs each final query (default: ``Store.run``, rows into Python)."""
        import asyncio

        if self._statement_lock is None:
            self._statement_lock = asyncio.Lock()
        async with self._statement_lock:
            plans = await asyncio.to_thread(self.plans, sql, wait, parameters)
            return await self._run_plans_async(plans, finish)

    async def execute_many_async(
        self, sql: str, parameter_sets: Sequence[Parameters], wait: bool = False
    ) -> list[list[tuple[Plan, Result]]]:
        """``sql`` once per parameter set (all planned first), as a coroutine for the
        session's own loop."""
        import asyncio

        if self._statement_lock is None:
            self._statement_lock = asyncio.Lock()
        async with self._statement_lock:

            def plan_all() -> list[list[Plan]]:
                return [self.plans(sql, wait, p) for p in parameter_sets]

            every = await asyncio.to_thread(plan_all)
            return [await self._run_plans_async(plans) for plans in every]

    async def call_async(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a worker thread, between the session's async statements
        (for planning, explaining and dry runs from ``sqlprovider.aio``)."""
        import asyncio

        if self._statement_lock is None:
            self._statement_lock = asyncio.Lock()
        async with self._statement_lock:
            return await asyncio.to_thread(function, *args)

    async def _run_plans_async(
        self, plans: Sequence[Plan], finish: Finish | None = None
    ) -> list[tuple[Plan, Result]]:
        import asyncio

        self._check_open()
        done = []
        try:
            for plan in plans:
                step = self._step(plan, finish or self.store.run)
                result = await (asyncio.to_thread(step) if callable(step) else step)
                done.append((plan, result))
        except Error as exc:
            raise self._redacted(exc) from None
        return done

    def dry_run(
        self, sql: str, wait: bool = False, parameters: Parameters | None = None
    ) -> list[tuple[Plan, list[str]]]:
        """Each statement's plan and the requests it would send (nothing is sent)."""
        self._check_open()
        with self._one_at_a_time:
            return self._dry_run(sql, wait, parameters)

    def _dry_run(
        self, sql: str, wait: bool, parameters: Parameters | None
    ) -> list[tuple[Plan, list[str]]]:
        try:
            return [
                (plan, self._run(self._describe_requests(plan)))
                for plan in self.plans(sql, wait=wait, parameters=parameters)
            ]
        except Error as exc:
            raise self._redacted(exc) from None

    def describe(self, plan: Plan) -> list[str]:
        """The requests one plan would send (a write that selects by reading reads its
        objects first; nothing is written)."""
        self._check_open()
        with self._one_at_a_time:
            try:
                return self._run(self._describe_requests(plan))
            except Error as exc:
                raise self._redacted(exc) from None

    async def _describe_requests(self, plan: Plan) -> list[str]:
        return await self._executor().describe(
            plan, lambda provider: self.credentials(provider).redacted_headers()
        )

    def _redacted(self, exc: Error) -> Error:
        exc = self._provider_table_hint(exc)
        secrets = self.secrets()
        if secrets and exc.args:
            text = str(exc.args[0])
            for secret in secrets:
                text = text.replace(secret, "***")
            exc.args = (text, *exc.args[1:])
        return exc

    def _provider_table_hint(self, exc: Error) -> Error:
        """DuckDB's "table does not exist" for a resource's bare name (``FROM indexing_jobs``)
        suggests the provider table, not DuckDB's own catalog tables."""
        match = _NO_TABLE.search(str(exc))
        if match is None or not isinstance(exc, ProgrammingError):
            return exc
        name = match.group(1).strip('"').split(".")[-1].lower()
        found = [
            resource.qualified_name
            for provider_name in self.registry.names()
            for resource in self.registry.get(provider_name).loaded_resources()
            if resource.name.lower() == name
        ]
        if not found:
            return exc
        return UnknownNameError(
            "table",
            match.group(1).strip('"'),
            found,
            hint="provider tables are named provider.service.resource",
        )

    def _check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed; open a new one with connect()")

    def close(self) -> None:
        """Close HTTP clients, the event loop and the store."""
        if self.closed:
            return
        self.closed = True
        if self._loop is not None:
            clients = list(self._clients.values())

            async def close_all() -> None:
                for client in clients:
                    await client.aclose()

            self._loop.run(close_all())
            self._loop.stop()
        if self._store is not None:
            self._store.close()


def registry_for(options: ConnectOptions, environ: Mapping[str, str]) -> Registry:
    """The session's providers: registry directories (the ones given, else
    ``$SQLPROVIDER_REGISTRY``'s, then the local registry), provider directories (given, else
    ``$SQLPROVIDER_PROVIDERS_PATH``'s), then the bundled ones."""
    named = [Path(p) for p in options.registry] or registry_dirs_from_env(environ)
    paths = options.providers_path or [
        p for p in environ.get(PROVIDERS_PATH_ENV, "").split(os.pathsep) if p
    ]
    return Registry(
        [*(Path(p) for p in paths), bundled_providers_dir()],
        [*named, local_registry_dir(environ)],
        options.provider_versions,
    )


def _answer(plan: Plan) -> Result:
    """The Result of a plan whose rows were known when it was planned."""
    from sqlprovider.result import Result

    assert plan.answer is not None
    return Result(
        columns=list(plan.answer.columns),
        types=list(plan.answer.types),
        rows=list(plan.answer.rows),
    )
