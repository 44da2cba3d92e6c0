"""``sqlprovider serve``: the Postgres wire protocol over the engine.

Postgres clients (psql, psycopg, SQLAlchemy, JDBC tools) connect to it as to a Postgres
server. The protocol is pg_mimic's; this package gives it a backend: one engine session per
connection (``client``), a catalog of the providers' resources (``catalog``, ``rewrite``),
how their names map onto schemas and tables (``names``), types (``pgtypes``), SQLSTATEs
(``sqlstate``) and settings (``settings``).
"""

from __future__ import annotations

from sqlprovider.pgserver.server import DEFAULT_PORT, ServeOptions, run, start

__all__ = ["DEFAULT_PORT", "ServeOptions", "run", "start"]
