"""``sqlprovider mcp``: serve the providers' tables to AI assistants over the Model Context
Protocol (stdio by default, streamable HTTP with ``--transport http``).

Only argparse is imported at start-up; the MCP SDK (the ``mcp`` extra) is imported when the
command runs, and a plain install says in one line how to get it.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlprovider.cli.connection import add_connection_arguments, connect_options
from sqlprovider.cli.exits import EXIT_INTERNAL, EXIT_OK
from sqlprovider.cli.extras import say_missing_extra

MCP_INSTALL = "pip install 'sqlprovider[mcp]'"
MCP_NOTE = f"needs the mcp extra: {MCP_INSTALL}"
MODES = ("read_only", "safe", "full_access")
# Named here (not imported from sqlprovider.mcpserver) so --help needs no MCP SDK.
DEFAULT_ROW_LIMIT = 100
MAX_ROW_LIMIT = 10_000
AUDIT_DEFAULT = (
    "$XDG_STATE_HOME/sqlprovider/mcp-audit.jsonl, else ~/.local/state/sqlprovider/mcp-audit.jsonl"
)


def add_mcp_command(commands: Any, extra: dict[str, Any]) -> list[argparse.ArgumentParser]:
    """Add ``mcp`` to the ``sqlprovider`` parser; returns its parser (which takes
    ``--debug`` and ``--trace`` too)."""
    mcp = commands.add_parser(
        "mcp",
        help=f"serve the APIs' tables to AI assistants over MCP ({MCP_NOTE})",
        description=(
            "A Model Context Protocol server: AI assistants (Claude Desktop, VS Code, ...) "
            "list the providers, read their tables and, as --mode allows, change them with "
            "SQL. It talks over standard input and output (the client starts it), or over "
            "streamable HTTP at http://HOST:PORT/mcp with --transport http. Every tool call "
            "is written to the audit log. Needs the mcp extra "
            f"({MCP_INSTALL}); without it this command says so and exits with code 2."
        ),
        **extra,
    )
    mcp.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default="stdio",
        help="stdio: the MCP client starts this command; http: serve streamable HTTP "
        "(default: stdio)",
    )
    mcp.add_argument(
        "--host", default="127.0.0.1", help="the address HTTP listens on (default: 127.0.0.1)"
    )
    mcp.add_argument(
        "--port", type=int, default=8000, help="the port HTTP listens on (default: 8000)"
    )
    mcp.add_argument(
        "--mode",
        choices=MODES,
        default="safe",
        help="read_only: every write is refused; safe: each write shows the user the requests "
        "it would send and waits for a yes (MCP elicitation; refused when the client cannot "
        "ask); full_access: writes are sent without asking (default: safe)",
    )
    mcp.add_argument(
        "--row-limit",
        type=_row_limit,
        default=DEFAULT_ROW_LIMIT,
        metavar="N",
        help="rows a tool shows when the call names no row_limit; the rest are counted "
        f"(default: {DEFAULT_ROW_LIMIT}, at most {MAX_ROW_LIMIT})",
    )
    audit = mcp.add_mutually_exclusive_group()
    audit.add_argument(
        "--audit-log",
        metavar="FILE",
        help=f"append one JSON line per tool call to FILE, or to standard error with - "
        f"(default: {AUDIT_DEFAULT})",
    )
    audit.add_argument("--no-audit-log", action="store_true", help="write no audit log")
    add_connection_arguments(mcp, cache_ttl=300.0)
    return [mcp]


def _row_limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_ROW_LIMIT:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_ROW_LIMIT} rows, not {text!r}")
    return value


def run_mcp(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Serve until the client goes away (stdio) or Ctrl-C (HTTP); 2 without the extra."""
    if not _sdk_importable():
        return EXIT_INTERNAL
    from sqlprovider.mcpserver import Mode, ServerSettings, Transport, serve
    from sqlprovider.mcpserver.settings import default_audit_path

    audit = None if args.no_audit_log else args.audit_log or str(default_audit_path())
    settings = ServerSettings(
        mode=Mode(args.mode),
        transport=Transport(args.transport),
        host=args.host,
        port=args.port,
        row_limit=args.row_limit,
        audit_log=audit,
        debug=args.debug,
    )
    serve(settings, connect_options(args, parser))
    return EXIT_OK


def _sdk_importable() -> bool:
    """Import the MCP SDK, or say in one line how to install it."""
    try:
        import mcp.server.mcpserver  # noqa: F401
    except ModuleNotFoundError as exc:
        old_sdk = (exc.name or "").startswith("mcp.")  # an MCP SDK older than 2 is installed
        why = "the installed MCP SDK is older than version 2" if old_sdk else None
        say_missing_extra(exc, "mcp", "mcp", MCP_INSTALL, why)
        return False
    return True
