"""``sqlprovider providers import openapi SPEC --name NAME [--out FILE]``: write a provider
definition from an OpenAPI 3 spec.

Only argparse is imported here; the importer is imported when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from sqlprovider.cli.exits import EXIT_OK


def add_providers_command(commands: Any, extra: dict[str, Any]) -> list[argparse.ArgumentParser]:
    """Add ``providers import openapi`` to the ``sqlprovider`` subcommands; returns its parser
    (it takes ``--debug`` and ``--trace`` too).

    The action and the format are positional arguments of one parser rather than nested
    subcommands, so the generated CLI reference shows every option of the command.
    """
    providers = commands.add_parser(
        "providers",
        help="write a provider definition from an OpenAPI 3 spec",
        description=(
            "providers import openapi SPEC --name NAME: write a provider definition from an "
            "OpenAPI 3 spec (YAML or JSON): a resource per path group, a method per "
            "operation, columns typed from the response schemas, auth, server and pagination "
            "where the spec shows them. Comments mark what was guessed ('guessed:') and what "
            "could not be expressed ('TODO:'). The result is loaded with the provider loader "
            "before it is written."
        ),
        **extra,
    )
    providers.add_argument("action", choices=["import"], metavar="ACTION", help="import")
    providers.add_argument(
        "kind", choices=["openapi"], metavar="FORMAT", help="openapi (an OpenAPI 3 spec)"
    )
    providers.add_argument("spec", metavar="SPEC", help="the spec file (.yaml, .yml or .json)")
    providers.add_argument(
        "--name",
        required=True,
        help="the provider's name: the first part of its table names (a-z, 0-9, _)",
    )
    providers.add_argument(
        "--out",
        metavar="FILE",
        help=(
            "write the provider here, replacing the file (default, or '-': standard output); "
            "name it NAME.yaml in a folder of SQLPROVIDER_PROVIDERS_PATH to use it"
        ),
    )
    return [providers]


def run_providers(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``sqlprovider providers ...``; the exit code."""
    out = out or sys.stdout
    from pathlib import Path

    from sqlprovider.providers.openapi import check_name, import_openapi

    check_name(args.name)  # before reading anything
    imported = import_openapi(Path(args.spec), args.name)
    if args.out in (None, "-"):
        out.write(imported.text)
        return EXIT_OK
    target = Path(args.out)
    try:
        target.write_text(imported.text, encoding="utf-8")
    except OSError as exc:
        from sqlprovider.errors import InterfaceError

        raise InterfaceError(f"cannot write {target}: {exc.strerror}") from None
    provider = imported.provider
    resources = provider.resources()
    methods = sum(len(r.methods) for r in resources)
    print(
        f"wrote {target}: {len(provider.services)} service(s), {len(resources)} resource(s), "
        f"{methods} method(s); {imported.todos} TODO comment(s) to review",
        file=sys.stderr,
    )
    return EXIT_OK
