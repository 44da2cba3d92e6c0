"""The provider model: frozen dataclasses that the YAML loader builds and everything reads.

Provider → Service → Resource (the SQL table ``provider.service.resource``) → Method (one HTTP
operation). A Method serves one SQL verb; its Params say where request values go; the
Resource's Columns say where each output field sits in a response record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

V = TypeVar("V")


class SqlVerb(StrEnum):
    """The SQL statement kinds a method can serve."""

    SELECT = "select"
    INSERT = "insert"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    EXEC = "exec"


class Location(StrEnum):
    """Where a param's value goes in the request."""

    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    BODY = "body"
    SERVER = "server"


class Filtering(StrEnum):
    """How faithfully the API applies a param as a filter on the rows it returns.

    The engine always re-applies every predicate locally, so this only decides whether a
    predicate may also be sent to the API and whether ``LIMIT`` may stop fetching early.
    """

    EXACT = "exact"  # the API returns exactly the rows the predicate selects
    LOOSE = "loose"  # the API returns a superset of them (a local filter does the rest)
    NONE = "none"  # the param is an input, not a filter on the rows (e.g. page size)


# Column types, each with the DuckDB type the store loads it as.
COLUMN_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "uint64": "UBIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "json": "JSON",
    "array": "JSON",
    "object": "JSON",
    "string[]": "VARCHAR[]",
    "integer[]": "BIGINT[]",
}

PARAM_TYPES = ("string", "integer", "number", "boolean", "array", "object")


@dataclass(frozen=True)
class Param:
    """One input of a method.

    Attributes:
        name: the name users write in SQL (``WHERE uuid = ...``).
        location: where the value goes in the request.
        wire_name: the name on the wire (query key, header name, body field, path variable).
        type: one of PARAM_TYPES.
        required: whether the method cannot run without it.
        default: value sent when the statement binds none.
        enum: allowed values, if the API restricts them.
        filtering: how the API applies it to the rows it returns.
        description: for docs and DESCRIBE.
        env: environment variables a value is read from when the statement binds none.
        many: the API takes a list and keeps rows matching any value: ``IN (...)`` sends the
            values as one list in one request instead of one request per value.
        column: the record column the param corresponds to: with ``operators``, comparisons
            on it bind the param (``docs_indexed > 5``); for a write, the column that holds
            the value identifying each object (default: the column of the param's name).
        operators: the comparisons on ``column`` that bind it (``=``, ``>``, ``>=``, ``<``,
            ``<=``, ``contains`` for a case-sensitive substring (``LIKE '%text%'``),
            ``icontains`` for a case-insensitive one (``LIKE`` or ``ILIKE``)).
        operator_param: the param that receives the comparison's operator.
        operator_values: operator → the value sent in ``operator_param`` (default: itself).
        widen: seconds by which a bound sent from ``column`` is moved outwards, because the
            API filters on a related time that may lie that far from the column's (Amperity
            files a job's tables under the first table's start).
        nest: for a body param, the keys of the objects its field sits in (``("spec",)``
            sends ``{"spec": {"name": ...}}``); empty for a top-level field.
    """

    name: str
    location: Location
    wire_name: str
    type: str = "string"
    required: bool = False
    default: Any = None
    enum: tuple[Any, ...] | None = None
    filtering: Filtering = Filtering.EXACT
    description: str = ""
    env: tuple[str, ...] = ()
    many: bool = False
    column: str | None = None
    operators: tuple[str, ...] = ()
    operator_param: str | None = None
    operator_values: tuple[tuple[str, str], ...] = ()
    widen: float = 0.0
    nest: tuple[str, ...] = ()

    def fallback(self, environ: Mapping[str, str]) -> Any:
        """The value sent when the statement binds none: an environment variable's (from
        ``environ``, the session's environment), else the default."""
        for name in self.env:
            value = environ.get(name)
            if value:
                return value
        return self.default

    def operator_value(self, operator: str) -> str:
        """What ``operator_param`` carries for ``operator``."""
        return dict(self.operator_values).get(operator, operator)


@dataclass(frozen=True)
class Column:
    """One output column of a resource.

    Attributes:
        name: the SQL column name.
        type: one of COLUMN_TYPES.
        path: keys from the response record to the value.
        description: for docs and DESCRIBE.
    """

    name: str
    type: str = "string"
    path: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not self.path:  # the path defaults to the column's own name
            object.__setattr__(self, "path", (self.name,))

    @property
    def duckdb_type(self) -> str:
        """The DuckDB type the column is loaded as."""
        return COLUMN_TYPES[self.type]


class PaginationKind(StrEnum):
    """The pagination strategies the HTTP layer implements generically."""

    NONE = "none"
    NEXT_URL = "next_url"  # an absolute URL to the next page, in the body
    PAGE_NUMBER = "page_number"  # page=1,2,...; total pages read from page 1 if declared
    TOKEN = "token"  # an opaque token from the body or a header, sent back as a param
    LINK_HEADER = "link_header"  # RFC 5988 Link: <url>; rel="next"
    OFFSET = "offset"  # offset/limit


@dataclass(frozen=True)
class Pagination:
    """How a list method pages, declared in YAML and run by generic code.

    Only the fields of the chosen ``kind`` are used; see docs/providers.md. ``size_param``
    without ``page_size`` carries a statement's LIMIT only. For ``next_url``, a
    ``token_header`` names the response header that holds the next page's URL.
    """

    kind: PaginationKind = PaginationKind.NONE
    next_url_path: tuple[str, ...] = ()
    page_param: str | None = None
    first_page: int = 1
    total_pages_path: tuple[str, ...] = ()
    size_param: str | None = None
    page_size: int | None = None
    max_page_size: int | None = None
    token_path: tuple[str, ...] = ()
    token_header: str | None = None
    token_param: str | None = None
    offset_param: str | None = None
    token_location: str = "query"  # where the next request carries the token: query, body, header


@dataclass(frozen=True)
class Condition:
    """A test on a field of a record: ``field`` holds one of ``values``."""

    field: tuple[str, ...]
    values: tuple[Any, ...]

    def holds(self, record: Any) -> bool:
        """Whether ``record`` satisfies the condition."""
        value = record
        for key in self.field:
            if not isinstance(value, dict):
                return False
            value = value.get(key)
        return value in self.values


@dataclass(frozen=True)
class WaitSpec:
    """How to wait for the asynchronous job a method starts: poll another method.

    Attributes:
        method: the (select) method of the same resource that reads the job.
        params: poll param → path in the record the first call returned.
        done: the job has finished (in any way).
        failed: the job has finished badly.
        interval: seconds before the first poll; doubles up to ``max_interval``.
        timeout: seconds before waiting gives up.
    """

    method: str
    params: tuple[tuple[str, tuple[str, ...]], ...]
    done: Condition
    failed: Condition | None = None
    interval: float = 2.0
    max_interval: float = 30.0
    timeout: float = 600.0


@dataclass(frozen=True)
class Window:
    """A time range the API serves in slices of at most ``max_seconds``.

    A longer range is split into consecutive slices, one request each; ``start`` is
    inclusive and ``end`` exclusive, as the API reads them.
    """

    start: str  # the param holding the range's start
    end: str  # the param holding its end
    max_seconds: float


@dataclass(frozen=True)
class Requirement:
    """Params a method needs only when other params hold given values.

    ``when`` maps a param to the values that trigger the rule; then every param in
    ``params`` must be set, and at least one of ``one_of`` if it is given.
    """

    when: tuple[tuple[str, tuple[Any, ...]], ...]
    params: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()

    def applies(self, values: dict[str, Any]) -> bool:
        """Whether the rule is triggered by ``values``."""
        return all(values.get(name) in allowed for name, allowed in self.when)


@dataclass(frozen=True)
class Method:
    """One HTTP operation of a resource.

    Attributes:
        name: the method's name (the API's operation id).
        sql_verb: which SQL statement it serves.
        http_verb: GET, POST, PUT, PATCH, DELETE or HEAD.
        path: URL path template relative to the server, ``{name}`` for path params.
        params: the inputs, in declared order.
        records: keys from the response body to the record(s); a list is many rows.
        pagination: how it pages.
        empty_on: statuses that mean "no rows" rather than an error (e.g. 404 on a get).
        max_rows: the most rows the API returns per request, when it cuts results itself
            (a warning tells users whenever the method is chosen).
        idempotent: sending it twice does no harm (e.g. it carries an idempotency key),
            so it may be retried even though its HTTP verb is POST or PATCH.
        wait: how to wait for the job it starts (``/*+ AWAIT */``).
        destructive: deletes or overwrites data; interactive front ends confirm first.
        description: for docs and SHOW METHODS.
        body: fixed JSON body fields sent with every request (params are set over them).
        window: the time range the API serves only in slices (longer ranges are split).
        requires: params needed only when others hold given values.
        destructive_when: param → values that make a call destructive even though the
            method as a whole is not (Openverse's ``action: DELETE_INDEX``).
        id_field: for a write, the path in its response record to the id of the object it
            acted on (shown per request); without it, the path params' values.
        server: the method's own server (a URL template whose ``{variables}`` are params
            with location ``server``), when it is not the provider's; a server URL the
            user gives replaces its scheme, host and port and keeps its path.
        headers: fixed headers sent with every request (``Accept`` for a media type).
        default_body: the JSON body sent when the statement gives no body field.
        unsupported: why the method cannot be used (naming the file, the key path and
            what is not supported); such a method is listed but never chosen.
    """

    name: str
    sql_verb: SqlVerb
    http_verb: str
    path: str
    params: tuple[Param, ...] = ()
    records: tuple[str, ...] = ()
    pagination: Pagination = field(default_factory=Pagination)
    empty_on: tuple[int, ...] = ()
    max_rows: int | None = None
    idempotent: bool = False
    wait: WaitSpec | None = None
    destructive: bool = False
    description: str = ""
    body: tuple[tuple[str, Any], ...] = ()
    window: Window | None = None
    requires: tuple[Requirement, ...] = ()
    destructive_when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    id_field: tuple[str, ...] = ()
    server: Server | None = None
    headers: tuple[tuple[str, str], ...] = ()
    default_body: tuple[tuple[str, Any], ...] = ()
    unsupported: str = ""

    def destructive_for(self, values: dict[str, Any]) -> bool:
        """Whether a call with these param values deletes or overwrites data."""
        if self.destructive:
            return True
        return any(values.get(name) in allowed for name, allowed in self.destructive_when)

    @property
    def required_params(self) -> tuple[Param, ...]:
        """The params the method cannot run without."""
        return tuple(p for p in self.params if p.required)

    def param(self, name: str) -> Param | None:
        """The param called ``name``, if the method has one."""
        for p in self.params:
            if p.name == name:
                return p
        return None

    @property
    def page_number_param(self) -> str | None:
        """The SQL name of the param that numbers pages: ``pagination.page_param`` is the
        name on the wire, which a param may carry under another SQL name."""
        wire = self.pagination.page_param
        if wire is None:
            return None
        on_wire = next(
            (p.name for p in self.params if p.wire_name == wire and p.location is Location.QUERY),
            None,
        )
        return on_wire or wire


@dataclass(frozen=True)
class Resource:
    """A SQL table: ``provider.service.resource``.

    ``first_match``: methods are tried in declared order and the first whose required
    params are bound runs (StackQL's rule); otherwise the runnable method with the most
    required params runs.
    """

    provider: str
    service: str
    name: str
    columns: tuple[Column, ...]
    methods: tuple[Method, ...]
    description: str = ""
    key: tuple[str, ...] = ()  # columns that identify a row (duplicates are dropped)
    first_match: bool = False

    @property
    def qualified_name(self) -> str:
        """``provider.service.resource``."""
        return f"{self.provider}.{self.service}.{self.name}"

    def methods_for(self, verb: SqlVerb) -> tuple[Method, ...]:
        """The usable methods that serve ``verb``, in declared order."""
        return tuple(m for m in self.methods if m.sql_verb == verb and not m.unsupported)

    def unsupported_reason(self, verb: SqlVerb) -> str | None:
        """Why ``verb`` has no usable method although some method serves it (None when a
        method is usable, or none serves it)."""
        if self.methods_for(verb):
            return None
        return next((m.unsupported for m in self.methods if m.sql_verb == verb), None)

    def column(self, name: str) -> Column | None:
        """The column called ``name``, if any."""
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def param_names(self, verb: SqlVerb = SqlVerb.SELECT) -> tuple[str, ...]:
        """Every param name of the methods serving ``verb``, first declaration first."""
        seen: dict[str, None] = {}
        for m in self.methods_for(verb):
            for p in m.params:
                seen.setdefault(p.name, None)
        return tuple(seen)


class LazyMapping(Mapping[str, V]):
    """A mapping whose keys are known at once and whose values are made on first use.

    ``keys`` come first (a registry lists its services and resources without reading
    them); ``make`` builds the value of one key, once. A mapping made from ``load`` reads
    its keys and values together, the first time anything of it is asked for.
    """

    def __init__(
        self,
        keys: Callable[[], list[str]],
        make: Callable[[str], V],
    ) -> None:
        self._keys_of = keys
        self._make = make
        self._keys: list[str] | None = None
        self._made: dict[str, V] = {}
        self._lock = threading.RLock()

    def _names(self) -> list[str]:
        with self._lock:
            if self._keys is None:
                self._keys = list(self._keys_of())
            return self._keys

    def __getitem__(self, key: str) -> V:
        with self._lock:
            if key in self._made:
                return self._made[key]
            if key not in self._names():
                raise KeyError(key)
            value = self._make(key)
            self._made[key] = value
            return value

    def __contains__(self, key: object) -> bool:
        return key in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @property
    def keys_known(self) -> bool:
        """Whether the keys have been read (reading them may mean reading a file)."""
        return self._keys is not None

    def made(self) -> dict[str, V]:
        """The values made so far."""
        with self._lock:
            return dict(self._made)

    def __repr__(self) -> str:
        return f"<LazyMapping {len(self._made)} made>"


@dataclass(frozen=True)
class Service:
    """A group of resources.

    ``resources`` may be a LazyMapping: a registry service's document is read only when a
    statement first names one of its resources (``lazy`` says so).
    """

    name: str
    resources: Mapping[str, Resource]
    description: str = ""
    title: str = ""

    @property
    def lazy(self) -> bool:
        """Whether the resources are read on first use (their count is not known before)."""
        return isinstance(self.resources, LazyMapping)

    @property
    def read(self) -> bool:
        """Whether its resources are known (always, unless read lazily and not yet)."""
        return not isinstance(self.resources, LazyMapping) or self.resources.keys_known

    def loaded_resources(self) -> list[Resource]:
        """The resources made so far, without reading anything."""
        if isinstance(self.resources, LazyMapping):
            return list(self.resources.made().values()) if self.resources.keys_known else []
        return list(self.resources.values())


@dataclass(frozen=True)
class ServerVariable:
    """A variable in a server URL template, e.g. a tenant name."""

    name: str
    default: str | None = None
    env: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Server:
    """The API's base URL, a template with ``{variable}`` parts."""

    url: str
    variables: tuple[ServerVariable, ...] = ()


@dataclass(frozen=True)
class AuthSpec:
    """How to authenticate: ``bearer``, ``api_key`` (a header), ``basic`` or ``none``.

    Attributes:
        type: the scheme.
        env: environment variables to read the credential from, first set wins.
        header: the header to send an ``api_key`` in.
        username_env: for basic auth, where the user name comes from.
        prefix: written before the credential in the header (``SSWS `` for an api_key,
            ``Basic `` for a basic credential given already encoded); None for the
            scheme's own (``Bearer ``, ``Basic `` + base64(user:password), none).
        also: further headers sent with every request (a second key in its own header).
        unsupported: why the declared scheme cannot be used (an auth file entry for the
            provider still can).
    """

    type: str = "none"
    env: tuple[str, ...] = ()
    header: str = "Authorization"
    username_env: tuple[str, ...] = ()
    prefix: str | None = None
    also: tuple[AuthSpec, ...] = ()
    unsupported: str = ""


@dataclass(frozen=True)
class ErrorShape:
    """Where an API's error body keeps its message, code and request id.

    ``other_messages`` are tried in turn when ``message`` is absent (APIs whose error
    bodies differ by status: ``{"detail": ...}`` here, ``{"message": ...}`` there)."""

    message: tuple[str, ...] = ("message",)
    code: tuple[str, ...] = ("id",)
    request_id: tuple[str, ...] = ("request_id",)
    other_messages: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before retrying an idempotent request."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    statuses: tuple[int, ...] = (429, 500, 502, 503, 504)
    remaining_header: str | None = None  # e.g. ratelimit-remaining
    reset_header: str | None = None  # e.g. ratelimit-reset (epoch seconds)


@dataclass(frozen=True)
class RateLimit:
    """The request rate the client keeps to on its own: ``per_second`` on average,
    up to ``burst`` at once."""

    per_second: float
    burst: int = 1


@dataclass(frozen=True)
class Provider:
    """One API, from one YAML definition."""

    name: str
    server: Server
    auth: AuthSpec
    services: Mapping[str, Service]
    title: str = ""
    description: str = ""
    concurrency: int = 8
    errors: ErrorShape = field(default_factory=ErrorShape)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rate_limit: RateLimit | None = None
    source: str = ""  # the file it was loaded from
    version: str = ""  # a registry provider's version (``v24.11.00``)
    origin: str = ""  # where it was found: bundled, path DIR, registry DIR

    def resources(self) -> list[Resource]:
        """Every resource of every service (a registry provider's services are read)."""
        return [r for s in self.services.values() for r in s.resources.values()]

    def loaded_resources(self) -> list[Resource]:
        """The resources read so far (every one, for a provider not read lazily)."""
        return [r for s in self.services.values() for r in s.loaded_resources()]


PARAM_COLUMN_TYPES: dict[str, str] = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "array": "json",
    "object": "json",
}


def param_columns(resource: Resource) -> tuple[Column, ...]:
    """Columns for the SELECT params that are not also record fields.

    A bound param appears in the result (``WHERE indexing_job_uuid = 'x'`` gives rows whose
    ``indexing_job_uuid`` is ``'x'``), so predicates on it hold when DuckDB re-applies them.
    """
    names = {c.name for c in resource.columns}
    columns = []
    for name in resource.param_names(SqlVerb.SELECT):
        if name in names:
            continue
        param = next(p for m in resource.methods_for(SqlVerb.SELECT) if (p := m.param(name)))
        columns.append(
            Column(name=name, type=PARAM_COLUMN_TYPES[param.type], description=param.description)
        )
    return tuple(columns)
