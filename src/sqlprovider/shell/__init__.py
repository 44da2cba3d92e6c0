"""``sqlprovider shell``: an interactive SQL shell in the manner of pgcli and the DuckDB CLI."""

from sqlprovider.shell.app import Shell, default_history_path, run_shell

__all__ = ["Shell", "default_history_path", "run_shell"]
