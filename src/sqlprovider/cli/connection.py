"""The connection options every command that opens a connection takes (``exec``, ``shell``),
declared once, and the ``ConnectOptions`` made from them."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from sqlprovider.options import ConnectOptions

INSECURE_HELP = "do not check TLS certificates (a warning says so); for test servers only"
AUTH_HELP = (
    "credentials per provider from this YAML file (default: $SQLPROVIDER_AUTH_FILE, else "
    "~/.config/sqlprovider/auth.yaml when it exists); see docs/python-api.md"
)


def add_connection_arguments(parser: argparse.ArgumentParser, cache_ttl: float = 0.0) -> None:
    """Add the options of ``ConnectOptions`` a person sets from a command line.

    Args:
        cache_ttl: the command's default for ``--cache-ttl`` (on for interactive and
            serving commands, off for scripts).
    """
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="PROVIDER=URL",
        help="send a provider's requests to URL, e.g. digitalocean=http://127.0.0.1:8080",
    )
    group.add_argument("--auth", metavar="FILE", help=AUTH_HELP)
    group.add_argument("--insecure", action="store_true", help=INSECURE_HELP)
    group.add_argument(
        "--database",
        default=":memory:",
        metavar="FILE",
        help="keep local tables in this DuckDB file (default: in memory, gone at exit)",
    )
    group.add_argument(
        "--providers-path",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of provider YAML files, searched before the bundled ones (repeatable)",
    )
    add_registry_arguments(group)
    group.add_argument(
        "--allow-partial",
        action="store_true",
        help="when some provider tables of a query cannot be fetched, return the rows of the "
        "others with a warning instead of failing (never for writes)",
    )
    group.add_argument("--concurrency", type=int, help="requests in flight per provider")
    group.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP request")
    group.add_argument(
        "--max-attempts",
        type=int,
        metavar="N",
        help="tries per request that may be sent again (default: the provider's, else 5)",
    )
    group.add_argument(
        "--await-timeout",
        type=float,
        metavar="SECONDS",
        help="give up waiting for a job after this long (default: the provider's)",
    )
    group.add_argument(
        "--await-interval",
        type=float,
        metavar="SECONDS",
        help="seconds before the first poll of a job; doubles after each (default: the provider's)",
    )
    default = f"{cache_ttl:g} s" if cache_ttl else "off"
    group.add_argument(
        "--cache-ttl",
        type=_seconds,
        default=cache_ttl,
        metavar="SECONDS",
        help="answer a read asked again within this many seconds from the result cache "
        f"(the same request under the same credentials); 0 turns it off (default: {default})",
    )
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="keep the result cache in DIR too, shared by every process that names it",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected seconds, 0 or more, not {text!r}")
    return value


REGISTRY_HELP = (
    "a StackQL registry directory (DIR/src/PROVIDER/VERSION/provider.yaml ...), read "
    "unmodified and searched before the local registry and the bundled providers; a provider "
    "there replaces a bundled one of its name (repeatable; default: $SQLPROVIDER_REGISTRY)"
)
VERSION_HELP = "load this version of a registry provider instead of the newest (repeatable)"


def add_registry_arguments(group: argparse._ActionsContainer) -> None:
    """``--registry DIR`` and ``--provider-version PROVIDER@VERSION``: every command that
    loads providers takes them."""
    group.add_argument("--registry", action="append", default=[], metavar="DIR", help=REGISTRY_HELP)
    group.add_argument(
        "--provider-version",
        action="append",
        default=[],
        metavar="PROVIDER@VERSION",
        help=VERSION_HELP,
    )


def provider_versions(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, str]:
    """The ``--provider-version`` pins; a malformed one is a usage error."""
    found = {}
    for item in args.provider_version:
        name, sep, version = item.partition("@")
        if not sep or not name.strip() or not version.strip():
            parser.error(f"--provider-version takes PROVIDER@VERSION, not {item!r}")
        found[name.strip()] = version.strip()
    return found


def connect_options(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    progress: Callable[[str], None] | None = None,
) -> ConnectOptions:
    """The ``ConnectOptions`` the command line asks for."""
    return ConnectOptions(
        servers=pairs(args.server, "--server", parser),
        auth_file=args.auth,
        database=args.database,
        concurrency=args.concurrency,
        timeout=args.timeout,
        max_attempts=args.max_attempts,
        verify_tls=not args.insecure,
        allow_partial=args.allow_partial,
        providers_path=tuple(args.providers_path),
        wait_timeout=args.await_timeout,
        wait_interval=args.await_interval,
        progress=progress,
        cache_ttl=args.cache_ttl,
        cache_dir=args.cache_dir,
        registry=tuple(args.registry),
        provider_versions=provider_versions(args, parser),
    )


def pairs(items: list[str], what: str, parser: argparse.ArgumentParser) -> dict[str, str]:
    """``KEY=VALUE`` options as a mapping; a malformed one is a usage error."""
    found = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"{what} takes KEY=VALUE, not {item!r}")
        found[key.strip()] = value
    return found
