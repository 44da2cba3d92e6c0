"""The exception tree every user-facing failure belongs to.

::

    Error                              root of everything sqlprovider raises
    ├── InterfaceError                 misuse of the API itself (closed connection, bad argument)
    │   └── AuthConfigError            an auth file or connect(auth=...) that cannot be used
    ├── ProviderError                  a provider definition is broken (file, key path, problem)
    └── DatabaseError
        ├── ProgrammingError           the statement is wrong
        │   ├── ParseError             SQL syntax (line, column)
        │   ├── UnknownNameError       provider/service/resource/column not found (candidates)
        │   └── MissingParamsError     no method can run with the params bound (missing)
        ├── OperationalError           talking to the API (or a local file) failed
        │   ├── AuthError              credentials missing or refused
        │   ├── HTTPStatusError        the API answered an error (status_code, request_id)
        │   ├── RetriesExhaustedError  retries ran out (retry_after, attempts)
        │   ├── TransportError         network failure (connect, timeout, reset)
        │   └── WriteFailedError       writes or the jobs they started failed (failures, result)
        ├── DataError                  a value cannot be converted or loaded
        ├── IntegrityError             a local table's constraint was broken (APIs: HTTPStatusError)
        ├── InternalError              DuckDB failed inside itself
        └── NotSupportedError          valid SQL that sqlprovider does not run

Third-party exceptions are translated into this tree at exactly one boundary each: httpx,
h11 and aiohttp in ``http.client``/``http.failures``, DuckDB in ``store.translate_error``,
sqlglot in ``sql.parse``, Jinja2 in ``template``, YAML and jsonschema in
``providers.loader`` (registry downloads: httpx in ``registry_client.transfer``, tarfile in
``registry_client.archive``, cryptography in ``registry_client.signatures``); no other
exception type reaches a user. Messages are built from
the structured fields and always name the fix. No message ever contains a credential.
"""

from __future__ import annotations

from collections.abc import Sequence


class Error(Exception):
    """Root of every exception sqlprovider raises (PEP 249 ``Error``)."""


class Warning(Exception):
    """PEP 249 ``Warning``; sqlprovider reports warnings through ``warnings`` instead."""


class InterfaceError(Error):
    """The API was used wrongly (closed connection, bad argument)."""


class ProviderError(Error):
    """A provider definition is invalid.

    Attributes:
        file: the YAML file that holds the problem.
        key_path: where in the file, as ``services.genai.resources.x.methods[0].path``.
        problem: what is wrong there.
    """

    def __init__(self, file: str, key_path: str, problem: str) -> None:
        self.file = file
        self.key_path = key_path
        self.problem = problem
        where = f"{file}: {key_path}" if key_path else file
        super().__init__(f"invalid provider definition {where}: {problem}")


class DatabaseError(Error):
    """PEP 249 ``DatabaseError``: the statement could not be carried out."""


class IntegrityError(DatabaseError):
    """PEP 249 ``IntegrityError``: a constraint of a local DuckDB table was broken (APIs
    report conflicts as HTTP errors: ``HTTPStatusError``)."""


class InternalError(DatabaseError):
    """PEP 249 ``InternalError``: DuckDB failed inside itself."""


class ProgrammingError(DatabaseError):
    """The statement is wrong: fix the SQL."""


class ParseError(ProgrammingError):
    """SQL syntax error, with the position where it was found."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.line = line
        self.column = column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"syntax error{where}: {message}")


class UnknownNameError(ProgrammingError):
    """A provider, service, resource, column or method name that does not exist.

    Attributes:
        kind: what was looked up ("provider", "resource", ...).
        name: the name as written.
        candidates: the nearest existing names, best first.
    """

    def __init__(
        self, kind: str, name: str, candidates: Sequence[str] = (), hint: str = ""
    ) -> None:
        self.kind = kind
        self.name = name
        self.candidates = tuple(candidates)
        message = f"unknown {kind} {name!r}"
        if self.candidates:
            message += "; did you mean " + " or ".join(repr(c) for c in self.candidates[:3]) + "?"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class MissingParamsError(ProgrammingError):
    """No method of the resource can run with the params the statement binds.

    Attributes:
        table: the resource, as ``provider.service.resource``.
        missing: for each candidate method, the required params it still needs.
        alternatives: other ways to give a param (``started_at >= '...'``, an environment
            variable), shown after its example.
    """

    def __init__(
        self,
        table: str,
        sql_verb: str,
        missing: dict[str, tuple[str, ...]],
        alternatives: dict[str, str] | None = None,
    ) -> None:
        self.table = table
        self.sql_verb = sql_verb
        self.missing = dict(missing)
        other = alternatives or {}
        options = []
        for method, params in self.missing.items():
            needs = " and ".join(params)
            example = " AND ".join(f"{p} = '...'" for p in params)
            options.append(f"{needs} (WHERE {example}) for method {method}")
        message = f"{table} needs " + "; or ".join(options)
        wanted = {p for params in self.missing.values() for p in params}
        extra = [f"{p} {other[p]}" for p in sorted(wanted) if p in other]
        if extra:
            message += " (" + "; ".join(extra) + ")"
        super().__init__(message)


class OperationalError(DatabaseError):
    """Talking to the API failed."""


class AuthError(OperationalError):
    """Credentials are missing or the API refused them."""


class HTTPStatusError(OperationalError):
    """The API answered with an error status.

    Attributes:
        status_code: the HTTP status.
        api_message: the message from the API's error body, if any.
        request_id: the API's request id, if it sent one.
        url: the request URL (never with credentials).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        url: str,
        api_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.url = url
        self.api_message = api_message
        self.request_id = request_id
        super().__init__(message)


class RetriesExhaustedError(OperationalError):
    """Retries of a retryable failure ran out.

    Attributes:
        attempts: how many times the request was sent.
        retry_after: the last wait the API asked for, in seconds, if any.
        status_code: the last status, if the API answered.
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.attempts = attempts
        self.status_code = status_code
        self.retry_after = retry_after
        super().__init__(message)


class TransportError(OperationalError):
    """The network failed (connection refused, timeout, reset)."""


class DataError(DatabaseError):
    """A value could not be converted or loaded."""


class NotSupportedError(DatabaseError):
    """Valid SQL that sqlprovider does not run (yet)."""


__all__ = [
    "AuthError",
    "DataError",
    "DatabaseError",
    "Error",
    "HTTPStatusError",
    "InterfaceError",
    "MissingParamsError",
    "NotSupportedError",
    "OperationalError",
    "ParseError",
    "ProgrammingError",
    "ProviderError",
    "RetriesExhaustedError",
    "TransportError",
    "UnknownNameError",
    "Warning",
    "WriteFailedError",
]


class WriteFailedError(OperationalError):
    """Some write requests (or the jobs they started) failed; what succeeded is kept.

    Attributes:
        failures: one line per failed request or job.
        result: the outcome of every request, successes included (a sqlprovider Result).
    """

    def __init__(self, message: str, failures: Sequence[str], result: object) -> None:
        self.failures = list(failures)
        self.result = result
        super().__init__(message)
