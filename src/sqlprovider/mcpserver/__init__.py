"""``sqlprovider mcp``: a Model Context Protocol server, so AI assistants can query (and,
as the server's mode allows, change) APIs with SQL.

A tool call goes: the tool (``catalog``: what there is; ``queries``: SQL) → ``App.answer``
(one place for errors, redaction and the audit record) → the session's plan and run. Writes
go through ``confirmation`` first in ``--mode safe``. ``statements`` decides what is a read.

It needs the ``mcp`` extra (``pip install 'sqlprovider[mcp]'``), the official MCP Python SDK.
"""

from __future__ import annotations

from sqlprovider.mcpserver.server import build_server, open_app, serve
from sqlprovider.mcpserver.settings import Mode, ServerSettings, Transport

__all__ = ["Mode", "ServerSettings", "Transport", "build_server", "open_app", "serve"]
