"""``sqlprovider exec``: run the statements of a script, a file or standard input, in turn,
and write each one's results; report failures with the file and line."""

from __future__ import annotations

import argparse
import io
import sys
import warnings
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO, cast

from sqlprovider.cli.connection import connect_options, pairs
from sqlprovider.cli.exits import EXIT_ERROR, EXIT_OK

CUT_NOTE = (
    "note: wide tables were cut to the terminal's width; --expanded on shows each row as a "
    "record, -o csv or --output-file every value whole"
)
INSECURE_WARNING = (
    "warning: TLS certificate verification is off (--insecure): anyone between you and "
    "the API can read the requests and their credentials"
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlprovider.output import OutputOptions, Rendered, StatusLine
    from sqlprovider.result import Result
    from sqlprovider.session import Session
    from sqlprovider.shell.display import Display
    from sqlprovider.sql.parse import Statement as _Statement


def run_exec(args: argparse.Namespace, parser: argparse.ArgumentParser, out: TextIO) -> int:
    """``sqlprovider exec``: run a script statement by statement, like ``psql -f``."""
    from sqlprovider.errors import Error, ParseError
    from sqlprovider.sql import split_statements
    from sqlprovider.template import render

    source, script = _script(args, parser)
    variables = _variables(args, parser)
    try:
        sql = render(script, variables)
    except Error as exc:
        raise _located(exc, source) from None
    try:  # a script with a syntax error runs nothing, as Session.execute does
        statements = _distinct(split_statements(sql))
    except ParseError as exc:
        raise _located(exc, source, exc.line) from None
    from sqlprovider.output import StatusLine
    from sqlprovider.session import Session

    options = output_options(args, out)
    status = StatusLine(sys.stderr) if sys.stderr.isatty() and not args.quiet else None
    sink = _Sink.stdout(out) if args.dry_run else _Sink.open(args.output_file, out)
    try:
        if args.insecure:
            print(INSECURE_WARNING, file=sys.stderr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the line above said it, once, plainly
            session = Session(connect_options(args, parser, progress=status))
        try:
            failed = 0
            for statement in statements:
                if not _run_or_report(session, statement, source, options, args, sink, status):
                    failed += 1
            return EXIT_ERROR if failed else EXIT_OK
        finally:
            session.close()
    finally:
        sink.close()
        if sink.cut and not args.quiet:
            _to_stderr(CUT_NOTE, sink, status)


def output_options(args: argparse.Namespace, out: TextIO) -> OutputOptions:
    """How ``exec`` renders results, from its arguments and where ``out`` goes."""
    from sqlprovider.output import OutputOptions

    return OutputOptions(
        mode=args.output or _default_format(args.output_file, out),
        null_display=args.null_display,
        expanded=args.expanded,
    )


def _run_or_report(
    session: Session,
    statement: _Statement,
    source: str,
    options: OutputOptions,
    args: argparse.Namespace,
    sink: _Sink,
    status: StatusLine | None,
) -> bool:
    """Run (or dry-run) one statement; False when it failed and the script goes on.

    Raises:
        Error: the statement's error, with its place in front, unless --continue-on-error.
    """
    from sqlprovider.errors import Error

    where = f"{source}:{statement.line}"
    try:
        if args.dry_run:
            _dry_run_statement(session, statement.text, where, args.wait, sink)
            return True
        results = _run_statement(session, statement, options, args.wait, sink)
    except Error as exc:
        located = _located(exc, where)
        if not args.continue_on_error:
            sink.flush()
            if status is not None:
                status.clear()
            raise located from None
        if args.debug:
            import traceback

            sink.flush()
            traceback.print_exception(located, file=sys.stderr)
        _to_stderr(f"error: {located}", sink, status)
        return False
    if not args.quiet:
        for result in results:
            for warning in result.warnings:
                _to_stderr(f"warning: {where}: {_one_line(warning)}", sink, status)
    return True


def _script(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str, str]:
    """Where the SQL comes from (as errors name it) and its text."""
    if args.sql and args.file:
        parser.error("give the SQL as an argument or with -f, not both")
    if args.file == "-" or args.sql == "-":
        return "<stdin>", _read_stdin()
    if args.file:
        return args.file, _read_file(args.file)
    if args.sql:
        return "<command line>", args.sql
    if sys.stdin is not None and not sys.stdin.isatty():  # sqlprovider exec < script.sql
        text = _read_stdin()
        if text.strip():
            return "<stdin>", text
    parser.error('give the SQL to run, e.g. sqlprovider exec "SELECT 1", or -f FILE')


def _read_stdin() -> str:
    from sqlprovider.errors import InterfaceError

    if sys.stdin is None:
        raise InterfaceError("cannot read standard input: there is none")
    try:
        return sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InterfaceError(f"cannot read standard input: {exc}") from None


def _variables(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The placeholders' values: --vars files in order, then every --var on top."""
    variables: dict[str, Any] = {}
    for path in args.vars:
        variables.update(_load_vars(path))
    variables.update(pairs(args.var, "--var", parser))
    return variables


def _load_vars(path: str) -> dict[str, Any]:
    """A YAML or JSON mapping of placeholder values (no value is ever echoed in errors)."""
    from sqlprovider.errors import InterfaceError

    text = _read_file(path)
    data: Any
    if path.lower().endswith(".json"):
        import json

        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InterfaceError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    else:  # YAML, which reads JSON too
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else path
            problem = getattr(exc, "problem", None) or "cannot be parsed"
            raise InterfaceError(f"{where}: not valid YAML or JSON: {problem}") from None
    if data is None:  # an empty file
        return {}
    if not isinstance(data, dict):
        raise InterfaceError(
            f"{path}: --vars needs a mapping of names to values, not a {type(data).__name__}"
        )
    return {str(key): value for key, value in data.items()}


def _distinct(statements: list[_Statement]) -> list[_Statement]:
    """One entry per piece of text (a piece that parses into two trees runs once)."""
    seen: set[tuple[int, str]] = set()
    kept = []
    for statement in statements:
        if (statement.line, statement.text) not in seen:
            seen.add((statement.line, statement.text))
            kept.append(statement)
    return kept


# Extensions of --output-file that name a format when -o is not given.
_EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".md": "markdown",
    ".markdown": "markdown",
}


def _default_format(output_file: str | None, out: TextIO) -> str:
    """table for a person at a terminal; csv for programs, or what the file's name says."""
    if output_file is not None:
        from pathlib import PurePath

        return _EXTENSIONS.get(PurePath(output_file).suffix.lower(), "csv")
    isatty = getattr(out, "isatty", None)
    return "table" if isatty is not None and isatty() else "csv"


def _located(exc: BaseException, where: str, line: int | None = None) -> BaseException:
    """``exc`` with its message on one line, after the place it belongs to (same type)."""
    if line is not None:
        where = f"{where}:{line}"
    message = _one_line(str(exc.args[0]) if exc.args else str(exc))
    exc.args = (f"{where}: {message}", *exc.args[1:])
    return exc


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _to_stderr(line: str, sink: _Sink, status: StatusLine | None) -> None:
    """A message on stderr after the results printed so far, clearing the progress line."""
    sink.flush()
    if status is not None:
        status.clear()
    print(line, file=sys.stderr)


def _run_statement(
    session: Session, statement: _Statement, options: OutputOptions, wait: bool, sink: _Sink
) -> list[Result]:
    """Run one statement and write its results; what a failed write did is written too."""
    from sqlprovider.errors import WriteFailedError
    from sqlprovider.output import render as render_result
    from sqlprovider.result import Result

    fmt = options.mode

    def render(result: Result) -> str:
        if fmt in _EXPORTED and _is_change_count(statement, result):
            return ""  # "Count 5" of a CREATE or a local INSERT would corrupt a data stream
        return render_result(result, options)

    try:
        if fmt in _EXPORTED:  # DuckDB writes csv and json itself: far faster than Python
            sink.flush()
            return session.execute(statement.text, export=(fmt, sink.binary, render), wait=wait)
        results = session.execute(statement.text, wait=wait)
    except WriteFailedError as exc:
        # What did succeed is shown before the error: nothing is lost.
        if isinstance(exc.result, Result) and exc.result.rows:
            sink.show(exc.result, options, render)
        raise
    for result in results:
        sink.show(result, options, render)
    return results


_EXPORTED = ("csv", "json", "jsonl")


def _is_change_count(statement: _Statement, result: Result) -> bool:
    """The ``Count`` DuckDB answers a statement that returns no rows (DDL, local writes)."""
    from sqlglot import exp

    return (
        result.columns == ["Count"]
        and result.types == ["BIGINT"]
        and statement.exec_call is None
        and not isinstance(statement.tree, exp.Query)
    )


def _dry_run_statement(session: Session, sql: str, where: str, wait: bool, sink: _Sink) -> None:
    """The statement as it would run, its plan and its requests (nothing is sent)."""
    lines = [f"-- {where}", sql.rstrip()]
    for plan, requests in session.dry_run(sql, wait=wait):
        lines.append(plan.explain().rstrip("\n"))
        lines.append("requests that would be sent:" if requests else "no requests")
        lines.extend("  " + request.replace("\n", "\n  ") for request in requests)
    text = "\n".join(lines) + "\n"
    for secret in session.secrets():  # a placeholder may have been filled with one
        text = text.replace(secret, "***")
    from sqlprovider.output import Rendered

    sink.write_result(Rendered(text), "table")  # a plan: never cut


class _Sink:
    """Where results go: text for the formats Python renders, bytes for DuckDB's exports.

    Text formats get a blank line between two results, so two Markdown tables stay two.
    On a terminal, results are shown as the shell shows them (``shell.display.Display``):
    wide tables become records (``--expanded auto``) or are cut to its width, and tall
    ones go through the pager; in a file or a pipe nothing is ever cut.
    """

    def __init__(
        self, text: TextIO, binary: BinaryIO, owned: bool, display: Display | None = None
    ) -> None:
        self.text = text
        self.binary = binary
        self.owned = owned
        self.display = display
        self.written = False
        self.cut = False  # a table was cut to the terminal's width

    @classmethod
    def stdout(cls, out: TextIO) -> _Sink:
        return cls(out, _binary(out), owned=False, display=_terminal_display(out))

    @classmethod
    def open(cls, path: str | None, out: TextIO) -> _Sink:
        if path is None:
            return cls.stdout(out)
        from sqlprovider.errors import InterfaceError

        try:
            binary = open(path, "wb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise InterfaceError(f"cannot write {path}: {exc.strerror}") from None
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=True)
        return cls(text, binary, owned=True)

    def show(self, result: Result, options: OutputOptions, render: Callable[[Result], str]) -> None:
        """Write one result: rendered by ``render``, or, on a terminal, by the Display."""
        from sqlprovider.output import Rendered

        if self.display is None or options.mode in _EXPORTED:
            self.write_result(Rendered(render(result)), options.mode)
            return
        if not result.columns:
            return
        self._separate()
        self.cut = self.display.show_result(result, options, None).cut or self.cut

    def write_result(self, rendered: Rendered, fmt: str) -> None:
        if not rendered.text:
            return
        if fmt in _EXPORTED:  # the stream DuckDB writes to: keep the order of the bytes
            self.text.flush()
            self.binary.write(rendered.text.encode())
            return
        self._separate()
        if self.display is not None:
            self.cut = self.display.show_rendered(rendered, None).cut or self.cut
        else:
            self.text.write(rendered.text)

    def _separate(self) -> None:
        """A blank line before every result but the first."""
        if self.written:
            self.text.write("\n")
        self.written = True

    def flush(self) -> None:
        self.text.flush()
        self.binary.flush()

    def close(self) -> None:
        if self.owned:
            self.text.close()
        else:
            self.flush()


def _terminal_display(out: TextIO) -> Display | None:
    """The shell's Display when ``out`` is a terminal (cut, page), else None. It pages
    with the pager the shell's config file names, as the shell does."""
    isatty = getattr(out, "isatty", None)
    if isatty is None or not isatty():
        return None
    from sqlprovider.shell.config import load_config
    from sqlprovider.shell.display import Display, terminal_size
    from sqlprovider.shell.pager import pager_of

    # A config file in error is the shell's to report; exec pages as its defaults say.
    return Display(out, terminal_size, pager_of(load_config().config.pager))


def _binary(out: TextIO) -> BinaryIO:
    buffer = getattr(out, "buffer", None)
    if buffer is None:  # a text stream without bytes underneath (tests capturing output)
        return cast(BinaryIO, _TextBridge(out))
    return cast(BinaryIO, buffer)


class _TextBridge(io.RawIOBase):
    """Bytes written to it go to a text stream, for output captured as text."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.out.write(bytes(data).decode("utf-8"))
        return len(data)


def _read_file(path: str) -> str:
    from sqlprovider.errors import InterfaceError

    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise InterfaceError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InterfaceError(f"cannot read {path}: not UTF-8 text (byte {exc.start})") from None
