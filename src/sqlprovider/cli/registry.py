"""``sqlprovider registry list | pull | remove``: providers from a StackQL-format registry
into the local registry directory every command loads.

Only argparse is imported at start-up; the registry client (httpx) is imported when one of
these commands runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlprovider.cli.exits import EXIT_OK

# Named here (not imported) so that building the parser stays cheap.
DEFAULT_URL = "https://registry.stackql.app/providers"
URL_ENV = "SQLPROVIDER_REGISTRY_URL"
KEY_ENV = "SQLPROVIDER_REGISTRY_KEY"
LIST_FORMATS = ("table", "json", "jsonl", "csv", "markdown", "line")
DIR_HELP = (
    "the local registry directory to use (default: $XDG_DATA_HOME/sqlprovider/registry, "
    "else ~/.local/share/sqlprovider/registry)"
)
URL_HELP = f"the provider registry's base URL (default: ${URL_ENV}, else {DEFAULT_URL})"
KEY_HELP = (
    f"a PEM file with the registry's Ed25519 public key or certificates (default: ${KEY_ENV}); "
    "with it every document must carry a valid signature, or nothing is installed"
)


def add_registry_command(commands: Any, extra: dict[str, Any]) -> list[argparse.ArgumentParser]:
    """Add ``registry`` and its subcommands to the ``sqlprovider`` parser; returns the
    subcommands' parsers (each takes ``--debug`` and ``--trace`` too)."""
    registry = commands.add_parser(
        "registry",
        help="list, pull and remove providers of a StackQL provider registry",
        description=(
            "Pull provider definitions from a StackQL-format registry (StackQL's public one "
            "by default) into the local registry directory, which every command loads; list "
            "what the registry offers and what is installed; remove what is installed."
        ),
        **extra,
    )
    actions = registry.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="what the registry offers (newest version) and what is installed",
        description=(
            "One row per provider the registry offers, with its newest release, and per "
            "installed version (with its path). --installed reads only the local directory."
        ),
        **extra,
    )
    listing.add_argument(
        "--installed", action="store_true", help="only what is installed (no network)"
    )
    listing.add_argument(
        "-o", "--output", choices=LIST_FORMATS, default="table", help="output format"
    )
    _add_common(listing, key=False)
    pull = actions.add_parser(
        "pull",
        help="download a provider version into the local registry",
        description=(
            "Download PROVIDER (VERSION, else its newest release), check it (sizes, paths "
            "inside the archive, signatures when a key is given) and install it. The old "
            "copy of the same version, if any, is replaced only once the new one is whole; "
            "other versions stay. An interrupted pull changes nothing."
        ),
        **extra,
    )
    pull.add_argument(
        "provider", metavar="PROVIDER", help="the provider, as `registry list` names it"
    )
    # not dest "version": that is the top-level --version flag's
    pull.add_argument(
        "provider_version", metavar="VERSION", nargs="?", help="e.g. v0.1.0 (default: newest)"
    )
    _add_common(pull, key=True)
    remove = actions.add_parser(
        "remove",
        help="delete a provider (every version, or one) from the local registry",
        description="Delete PROVIDER's versions (or only VERSION) and say what was removed.",
        **extra,
    )
    remove.add_argument("provider", metavar="PROVIDER", help="the provider to delete")
    remove.add_argument("provider_version", metavar="VERSION", nargs="?", help="only this version")
    remove.add_argument("--registry", metavar="DIR", help=DIR_HELP)
    return [listing, pull, remove]


def _add_common(parser: argparse.ArgumentParser, key: bool) -> None:
    parser.add_argument("--registry-url", metavar="URL", help=URL_HELP)
    parser.add_argument("--registry", metavar="DIR", help=DIR_HELP)
    if key:
        parser.add_argument("--registry-key", metavar="FILE", help=KEY_HELP)


def run_registry(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Run ``sqlprovider registry ACTION``; returns the exit code (errors are raised)."""
    from sqlprovider import registry_client

    root = Path(args.registry).expanduser() if args.registry else None
    if args.registry_command == "remove":
        for item in registry_client.remove(args.provider, args.provider_version, root=root):
            out.write(f"removed {item.provider} {item.version} ({item.path})\n")
        return EXIT_OK
    settings = registry_client.RegistrySettings.from_env(
        url=args.registry_url, key_file=getattr(args, "registry_key", None)
    )
    if args.registry_command == "pull":
        out.write(
            _pulled(
                registry_client.pull(
                    args.provider, args.provider_version, root=root, settings=settings
                )
            )
        )
        return EXIT_OK
    out.write(_listing(args, root, settings))
    return EXIT_OK


def _pulled(pulled: Any) -> str:
    verb = "replaced" if pulled.replaced else "pulled"
    if pulled.verified:
        checked = f"{pulled.verified} signatures verified with {pulled.key_file}"
    else:
        checked = f"signatures not checked: no registry key (--registry-key or ${KEY_ENV})"
    return (
        f"{verb} {pulled.provider} {pulled.version} into {pulled.path}\n"
        f"  {pulled.archive_bytes} bytes downloaded, {pulled.files} files; {checked}\n"
    )


def _listing(args: argparse.Namespace, root: Path | None, settings: Any) -> str:
    from sqlprovider import registry_client
    from sqlprovider.output import render
    from sqlprovider.result import Result

    local: dict[str, list[Any]] = {}
    for item in registry_client.installed(root):
        local.setdefault(item.provider, []).append(item)
    remote = {} if args.installed else registry_client.offered(settings)
    rows: list[tuple[Any, ...]] = []
    for name in sorted(set(remote) | set(local)):
        newest = registry_client.latest(remote[name]) if remote.get(name) else None
        for item in local.get(name) or [None]:
            rows.append(
                (
                    name,
                    newest,
                    item.version if item else None,
                    str(item.path) if item else None,
                )
            )
    columns = ["provider", "latest", "installed", "path"]
    if args.installed:
        columns.remove("latest")
        rows = [(r[0], r[2], r[3]) for r in rows]
    return render(Result(columns, ["VARCHAR"] * len(columns), rows), args.output)
