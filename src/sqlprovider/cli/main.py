"""``sqlprovider``: run SQL against REST APIs from the command line.

Only what a command needs is imported, so ``sqlprovider exec "SELECT 1"`` starts fast.
"""

from __future__ import annotations

import argparse
import functools
import io
import logging
import sys
from collections.abc import Sequence
from typing import Any, BinaryIO, TextIO, cast

EXIT_OK, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser(width: int | None = None) -> argparse.ArgumentParser:
    """The argument parser of every subcommand (also the source of docs/cli.md).

    Args:
        width: help text width; fixed when generating docs so they do not depend on the
            terminal.
    """
    extra: dict[str, Any] = {}
    if width is not None:
        extra["formatter_class"] = functools.partial(argparse.HelpFormatter, width=width)
    parser = argparse.ArgumentParser(
        prog="sqlprovider",
        description="Query and change REST APIs with SQL.",
        **extra,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and debug logs on errors"
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="log every HTTP request (verb, URL, status, size, time) to stderr; secrets redacted",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("exec", help="run SQL statements and print their results", **extra)
    run.add_argument("sql", nargs="?", help="the SQL to run (or use -f)")
    run.add_argument("-f", "--file", help="read SQL from this file ('-' for standard input)")
    run.add_argument(
        "-o",
        "--output",
        choices=("table", "json", "jsonl", "csv"),
        default="table",
        help="output format (default: table)",
    )
    run.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fill {{ KEY }} placeholders in the SQL (repeatable)",
    )
    run.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="PROVIDER=URL",
        help="send a provider's requests to URL, e.g. digitalocean=http://127.0.0.1:8080",
    )
    run.add_argument("--concurrency", type=int, help="requests in flight per provider")
    run.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP request")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print each statement's plan and the HTTP requests it would send; send nothing",
    )
    run.add_argument(
        "--await",
        dest="wait",
        action="store_true",
        help="wait for jobs that writes start to finish (as /*+ AWAIT */ does)",
    )
    run.add_argument(
        "--await-timeout",
        type=float,
        metavar="SECONDS",
        help="give up waiting for a job after this long (default: the provider's)",
    )
    run.add_argument(
        "--await-interval",
        type=float,
        metavar="SECONDS",
        help="seconds before the first poll of a job; doubles after each (default: the provider's)",
    )

    sandbox = commands.add_parser(
        "sandbox", help="start the local API emulators on loopback (for demos and tests)", **extra
    )
    sandbox.add_argument(
        "--port", type=int, default=8080, help="first port (default 8080; 0 = any free)"
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sandbox.add_argument("--jobs", type=int, default=1000, help="seeded DigitalOcean indexing jobs")
    sandbox.add_argument(
        "--no-rate-limit",
        dest="rate_limited",
        action="store_false",
        help="lift the APIs' rate limits (they are enforced by default, as the real APIs do)",
    )

    demo = commands.add_parser(
        "demo",
        help="start the emulators on free ports and run example queries against them",
        **extra,
    )
    demo.add_argument("--jobs", type=int, default=1000, help="seeded DigitalOcean indexing jobs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sqlprovider`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from sqlprovider import __version__

        print(f"sqlprovider {__version__}")
        return EXIT_OK
    if args.debug or args.trace:
        _configure_logging(debug=args.debug)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        if args.command == "exec":
            return _exec(args, parser, sys.stdout)
        if args.command == "demo":
            from sqlprovider.cli.demo import run_demo

            run_demo(sys.stdout, jobs=args.jobs)
            return EXIT_OK
        return _sandbox(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the one place errors become messages
        from sqlprovider.errors import Error

        if args.debug:
            raise
        if isinstance(exc, Error):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        print(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger("sqlprovider")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    if not debug:  # --trace alone: requests only
        root.setLevel(logging.WARNING)
        logging.getLogger("sqlprovider.http").setLevel(logging.DEBUG)


def _pairs(items: list[str], what: str, parser: argparse.ArgumentParser) -> dict[str, str]:
    found = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"{what} takes KEY=VALUE, not {item!r}")
        found[key.strip()] = value
    return found


def _exec(args: argparse.Namespace, parser: argparse.ArgumentParser, out: TextIO) -> int:
    if args.sql and args.file:
        parser.error("give the SQL as an argument or with -f, not both")
    if args.file:
        sql = sys.stdin.read() if args.file == "-" else _read_file(args.file)
    elif args.sql:
        sql = args.sql
    else:
        parser.error('give the SQL to run, e.g. sqlprovider exec "SELECT 1", or -f FILE')
    from sqlprovider.template import render

    sql = render(sql, _pairs(args.var, "--var", parser))
    servers = _pairs(args.server, "--server", parser)
    from sqlprovider.result import Result
    from sqlprovider.session import Session

    session = Session(
        servers=servers,
        concurrency=args.concurrency,
        timeout=args.timeout,
        wait_timeout=args.await_timeout,
        wait_interval=args.await_interval,
        progress=_progress_line if sys.stderr.isatty() else None,
    )
    try:
        if args.dry_run:
            for plan, requests in session.dry_run(sql, wait=args.wait):
                out.write(plan.explain() + "\n")
                out.write("requests that would be sent:\n" if requests else "no requests\n")
                for request in requests:
                    out.write("  " + request.replace("\n", "\n  ") + "\n")
            return EXIT_OK
        from sqlprovider.cli.output import render as render_result
        from sqlprovider.errors import WriteFailedError

        try:
            if args.output == "table":
                results = session.execute(sql, wait=args.wait)
                for result in results:
                    out.write(render_result(result, args.output))
            else:  # DuckDB writes csv and json itself: far faster than Python for big results
                out.flush()
                export = (args.output, _binary(out), lambda r: render_result(r, args.output))
                results = session.execute(sql, export=export, wait=args.wait)
        except WriteFailedError as exc:
            # What did succeed is shown before the error: nothing is lost.
            if isinstance(exc.result, Result) and exc.result.rows:
                out.write(render_result(exc.result, args.output))
            raise
        for result in results:
            for warning in result.warnings:
                print(f"warning: {warning}", file=sys.stderr)
        return EXIT_OK
    finally:
        session.close()


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


def _progress_line(text: str) -> None:
    """One status line on a terminal's stderr, rewritten in place; empty text clears it."""
    sys.stderr.write("\r\033[K" + text)
    sys.stderr.flush()


def _read_file(path: str) -> str:
    from sqlprovider.errors import InterfaceError

    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise InterfaceError(f"cannot read {path}: {exc.strerror}") from None


def _sandbox(args: argparse.Namespace) -> int:
    from sqlprovider.emulators.sandbox import SandboxOptions, serve

    serve(args.port, args.host, SandboxOptions(jobs=args.jobs, rate_limited=args.rate_limited))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
