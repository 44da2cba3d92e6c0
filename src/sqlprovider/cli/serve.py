"""``sqlprovider serve``: answer Postgres clients (psql, psycopg, SQLAlchemy, BI tools) over
the Postgres wire protocol.

Only argparse is imported here; the server (and its protocol library, the ``serve`` extra)
is imported when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from sqlprovider.cli.connection import add_connection_arguments, connect_options
from sqlprovider.cli.exits import EXIT_INTERNAL, EXIT_OK
from sqlprovider.cli.extras import say_missing_extra

SERVE_INSTALL = "pip install 'sqlprovider[serve]'"
DEFAULT_PORT = 5466  # sqlprovider.pgserver.DEFAULT_PORT, named here so --help imports nothing
PASSWORD_ENTRY = "serve"  # the auth file entry that holds the server's own password


def add_serve_command(commands: Any, extra: dict[str, Any]) -> list[argparse.ArgumentParser]:
    """Add ``serve`` to the ``sqlprovider`` subcommands; returns its parser (it takes
    ``--debug`` and ``--trace`` too)."""
    serve = commands.add_parser(
        "serve",
        help=f"answer Postgres clients (psql, BI tools) over the wire protocol (needs the "
        f"serve extra: {SERVE_INSTALL})",
        description=(
            "Listen for Postgres clients: psql, psycopg, SQLAlchemy, pandas and BI tools "
            "connect as to a Postgres server and query the providers' tables. Each client "
            "connection is a session of its own (temp tables, settings, time zone) over "
            "shared HTTP clients, rate limits and the result cache. Provider tables are "
            "listed as schema PROVIDER, table SERVICE_RESOURCE (see docs/serve.md). Serve "
            "until Ctrl-C. Needs the serve extra "
            f"({SERVE_INSTALL}); without it this command says so and exits with code 2."
        ),
        **extra,
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s; 0 = any free)"
    )
    serve.add_argument(
        "--read-only",
        action="store_true",
        help="refuse INSERT, UPDATE, REPLACE, DELETE and EXEC on provider tables before "
        "anything is sent",
    )
    serve.add_argument(
        "--password-env",
        metavar="VAR",
        help=f"clients must give the password in this environment variable (SCRAM-SHA-256); "
        f"default: the '{PASSWORD_ENTRY}' entry of the auth file, if any. Required to listen "
        "on an address other than loopback",
    )
    serve.add_argument(
        "--user",
        help="the only user name accepted with the password (default: any)",
    )
    serve.add_argument(
        "--tls-cert", metavar="FILE", help="TLS certificate (PEM); clients must use TLS"
    )
    serve.add_argument("--tls-key", metavar="FILE", help="TLS private key (PEM)")
    add_connection_arguments(serve, cache_ttl=300.0)
    return [serve]


def run_serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``sqlprovider serve``; returns the exit code."""
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    try:
        from sqlprovider import pgserver
    except ModuleNotFoundError as exc:
        say_missing_extra(exc, "serve", "serve", SERVE_INSTALL)
        return EXIT_INTERNAL
    options = connect_options(args, parser)
    password, user = _password(args, options.auth_file)
    serve = pgserver.ServeOptions(
        host=args.host,
        port=args.port,
        read_only=args.read_only,
        password=password,
        user=args.user or user,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )
    pgserver.run(options, serve, lambda line: print(line, file=sys.stderr, flush=True))
    return EXIT_OK


def _password(args: argparse.Namespace, auth_file: Any) -> tuple[Any, str | None]:
    """The server's password (a Secret) and user: ``--password-env``, else the auth file's
    ``serve`` entry (``password``/``password_env``, ``username``/``username_env``)."""
    from sqlprovider.authfile import find_auth_file, load_auth_file
    from sqlprovider.errors import InterfaceError
    from sqlprovider.secret import Secret

    if args.password_env:
        value = os.environ.get(args.password_env)
        if not value:
            raise InterfaceError(
                f"--password-env {args.password_env}: {args.password_env} is not set in the "
                "environment"
            )
        return Secret(value), None
    path = find_auth_file(auth_file, os.environ)
    entry = load_auth_file(path).get(PASSWORD_ENTRY) if path is not None else None
    if entry is None:
        return None, None
    secret = entry.secret
    if secret is None and entry.secret_env is not None:
        value = os.environ.get(entry.secret_env)
        if not value:
            raise InterfaceError(
                f"{path}: {PASSWORD_ENTRY}.password_env names {entry.secret_env}, which is "
                "not set in the environment"
            )
        secret = Secret(value)
    user = entry.username.reveal() if entry.username is not None else None
    if entry.username_env is not None:
        user = os.environ.get(entry.username_env) or None
    return secret, user
