"""``sqlprovider``: run SQL against REST APIs from the command line.

Only what a command needs is imported, so ``sqlprovider exec "SELECT 1"`` starts fast.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Sequence
from typing import Any

from sqlprovider.cli.connection import (
    add_connection_arguments,
    add_registry_arguments,
    connect_options,
    provider_versions,
)
from sqlprovider.cli.exits import EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK
from sqlprovider.cli.extras import say_missing_extra
from sqlprovider.cli.mcp import add_mcp_command, run_mcp
from sqlprovider.cli.providers import add_providers_command, run_providers
from sqlprovider.cli.registry import add_registry_command, run_registry
from sqlprovider.cli.serve import add_serve_command, run_serve

# The formats of sqlprovider.output.FORMATS, named here so --help loads no renderer.
OUTPUT_FORMATS = ("table", "json", "jsonl", "csv", "markdown", "line")
# The emulators' web stack (starlette, uvicorn) is an extra: a plain install runs every
# other command, and these two say how to get it.
SANDBOX_INSTALL = "pip install 'sqlprovider[sandbox]'"
SANDBOX_NOTE = f"needs the sandbox extra: {SANDBOX_INSTALL}"


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
    add_log_arguments(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "exec",
        help="run SQL statements and print their results",
        description=(
            "Run one or more ;-separated SQL statements, in order, and print each one's "
            "result. The SQL comes from the argument, from -f FILE, or from standard input "
            "when neither is given. The first statement that fails stops the script unless "
            "--continue-on-error is given; failures are reported as "
            "'error: FILE:LINE: message'. Exit code 0 when every statement worked, 1 when "
            "any failed."
        ),
        **extra,
    )
    run.add_argument(
        "sql", nargs="?", help="the SQL to run (or use -f, or pipe it to standard input)"
    )
    run.add_argument("-f", "--file", help="read SQL from this file ('-' for standard input)")
    run.add_argument(
        "-o",
        "--output",
        choices=OUTPUT_FORMATS,
        help=(
            "output format; markdown is a GitHub table, line is one 'column = value' line "
            "per column with a blank line between rows (default: table when standard "
            "output is a terminal, else csv; for --output-file, the format its extension "
            "names (.csv .json .jsonl .md), else csv)"
        ),
    )
    run.add_argument(
        "--expanded",
        choices=("auto", "on", "off"),
        default="auto",
        help=(
            "table output as one record per row, a 'column | value' line per column (psql's "
            "\\x); auto: when a row is wider than the terminal (default: auto)"
        ),
    )
    run.add_argument(
        "-x", dest="expanded", action="store_const", const="on", help="--expanded on, as psql -x"
    )
    run.add_argument(
        "--null-display",
        default="",
        metavar="TEXT",
        help=(
            "how NULL shows in table, line and markdown output (default: empty, as psql); "
            "csv writes NULL as an empty field and '' as \"\", json as null"
        ),
    )
    run.add_argument(
        "--output-file",
        metavar="PATH",
        help="write the results to PATH instead of standard output (replaced if it exists)",
    )
    run.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fill {{ KEY }} placeholders in the SQL (repeatable; wins over --vars)",
    )
    run.add_argument(
        "--vars",
        action="append",
        default=[],
        metavar="FILE",
        help="fill placeholders from a YAML or JSON mapping in FILE (repeatable; later wins)",
    )
    run.add_argument(
        "--continue-on-error",
        action="store_true",
        help="after a statement fails, report it and run the rest (the exit code is still 1)",
    )
    run.add_argument(
        "-q", "--quiet", action="store_true", help="hide progress and warnings (not errors)"
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help=(
            "print each statement with its placeholders filled, its plan and the HTTP "
            "requests it would send; send nothing and write no --output-file"
        ),
    )
    run.add_argument(
        "--await",
        dest="wait",
        action="store_true",
        help="wait for jobs that writes start to finish (as /*+ AWAIT */ does)",
    )
    add_connection_arguments(run)

    shell = commands.add_parser(
        "shell", help="an interactive SQL shell (history, completion, dot commands)", **extra
    )
    shell.add_argument(
        "--yes", action="store_true", help="run destructive statements without asking first"
    )
    add_connection_arguments(shell, cache_ttl=300.0)
    shell.add_argument(
        "--history",
        metavar="FILE",
        help=(
            "history file (default $XDG_STATE_HOME/sqlprovider/history, else "
            "~/.local/state/sqlprovider/history)"
        ),
    )

    docs = commands.add_parser(
        "docs", help="write Markdown reference pages for the providers' resources", **extra
    )
    docs.add_argument("--provider", help="only this provider (default: all of them)")
    docs.add_argument("--out", required=True, metavar="DIR", help="the folder to write into")
    add_registry_arguments(docs)

    sandbox = commands.add_parser(
        "sandbox",
        help=f"start the local API emulators on loopback ({SANDBOX_NOTE})",
        description=(
            "Start the local API emulators on loopback and print the export lines that point "
            "sqlprovider at them; serve until Ctrl-C. The emulators need the sandbox extra "
            f"({SANDBOX_INSTALL}); without it this command says so and exits with code 2."
        ),
        **extra,
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
        help=f"start the emulators on free ports and run example queries ({SANDBOX_NOTE})",
        description=(
            "Start the local API emulators on free loopback ports, run example queries "
            "against them, and stop them. The emulators need the sandbox extra "
            f"({SANDBOX_INSTALL}); without it this command says so and exits with code 2."
        ),
        **extra,
    )
    demo.add_argument("--jobs", type=int, default=1000, help="seeded DigitalOcean indexing jobs")
    for command in add_serve_command(commands, extra):
        add_log_arguments(command, after_command=True)
    for command in add_registry_command(commands, extra):
        add_log_arguments(command, after_command=True)
    for command in add_mcp_command(commands, extra):
        add_log_arguments(command, after_command=True)
    for command in add_providers_command(commands, extra):
        add_log_arguments(command, after_command=True)
    for command in (run, shell, docs, sandbox, demo):
        add_log_arguments(command, after_command=True)
    return parser


def add_log_arguments(parser: argparse.ArgumentParser, after_command: bool = False) -> None:
    """``--debug`` and ``--trace``, before the command (``sqlprovider --debug exec``) and
    after it (``sqlprovider exec --debug``) alike.

    Args:
        after_command: the options of a command; left unset when not given, so that the
            ones given before the command hold.
    """
    default: Any = argparse.SUPPRESS if after_command else False
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="show tracebacks and debug logs on errors",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        default=default,
        help="log every HTTP request (verb, URL, status, size, time) to stderr; secrets redacted",
    )


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
            from sqlprovider.cli.script import run_exec

            return run_exec(args, parser, sys.stdout)
        if args.command == "demo":
            if not _emulators_importable("demo"):
                return EXIT_INTERNAL
            from sqlprovider.cli.demo import run_demo

            run_demo(sys.stdout, jobs=args.jobs)
            return EXIT_OK
        if args.command == "shell":
            from sqlprovider.shell import run_shell

            return run_shell(
                connect_options(args, parser),
                yes=args.yes,
                history=args.history,
                debug=args.debug,
            )
        if args.command == "docs":
            import os
            from pathlib import Path

            from sqlprovider.docgen import write_docs
            from sqlprovider.options import ConnectOptions
            from sqlprovider.session import registry_for

            options = ConnectOptions(
                registry=tuple(args.registry), provider_versions=provider_versions(args, parser)
            )
            registry = registry_for(options, os.environ)
            for written in write_docs(Path(args.out), provider=args.provider, registry=registry):
                print(written)
            return EXIT_OK
        if args.command == "serve":
            return run_serve(args, parser)
        if args.command == "registry":
            return run_registry(args)
        if args.command == "mcp":
            return run_mcp(args, parser)
        if args.command == "providers":
            return run_providers(args)
        return _sandbox(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other command-line tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
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


def _emulators_importable(command: str) -> bool:
    """Import the emulators, or say in one line how to install what they need."""
    try:
        import sqlprovider.emulators.sandbox  # noqa: F401  (starlette, uvicorn)
    except ModuleNotFoundError as exc:
        say_missing_extra(exc, command, "sandbox", SANDBOX_INSTALL)
        return False
    return True


def _sandbox(args: argparse.Namespace) -> int:
    if not _emulators_importable("sandbox"):
        return EXIT_INTERNAL
    from sqlprovider.emulators.sandbox import SandboxOptions, serve

    serve(args.port, args.host, SandboxOptions(jobs=args.jobs, rate_limited=args.rate_limited))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
