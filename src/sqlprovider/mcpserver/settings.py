"""How the MCP server is run: its transport, its mode, its row limit and its audit log."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

# Rows a tool shows when the call names no row_limit, and the most a call may ask for.
DEFAULT_ROW_LIMIT = 100
MAX_ROW_LIMIT = 10_000
# The audit log's name under the XDG state directory.
AUDIT_FILE = "mcp-audit.jsonl"


class Mode(StrEnum):
    """What the server lets an assistant change."""

    READ_ONLY = "read_only"  # every write is refused
    SAFE = "safe"  # every write waits for the user's yes (MCP elicitation)
    FULL_ACCESS = "full_access"  # writes are sent as the assistant asks


class Transport(StrEnum):
    """How MCP clients reach the server."""

    STDIO = "stdio"  # the client starts the server and talks over its stdin/stdout
    HTTP = "http"  # streamable HTTP at http://HOST:PORT/mcp


@dataclass(frozen=True)
class ServerSettings:
    """The settings of one ``sqlprovider mcp`` server.

    Attributes:
        mode: what the assistant may change (see ``Mode``).
        transport: stdio or streamable HTTP.
        host: the address HTTP listens on.
        port: the port HTTP listens on.
        row_limit: rows a tool shows when the call names no ``row_limit``.
        audit_log: where the audit log goes: a file, ``"-"`` for standard error, or None
            for no audit log.
        debug: log tracebacks of internal errors to standard error.
    """

    mode: Mode = Mode.SAFE
    transport: Transport = Transport.STDIO
    host: str = "127.0.0.1"
    port: int = 8000
    row_limit: int = DEFAULT_ROW_LIMIT
    audit_log: str | None = None
    debug: bool = False

    @property
    def url(self) -> str:
        """Where HTTP clients connect."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/mcp"


def default_audit_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/sqlprovider/mcp-audit.jsonl``, else
    ``~/.local/state/sqlprovider/mcp-audit.jsonl``."""
    env = os.environ if environ is None else environ
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "sqlprovider" / AUDIT_FILE
