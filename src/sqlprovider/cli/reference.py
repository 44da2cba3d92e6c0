"""Generate docs/cli.md from the argument parser, so the reference cannot drift from --help.

Run: ``python -m sqlprovider.cli.reference > docs/cli.md`` (``make docs``).
"""

from __future__ import annotations

import argparse

from sqlprovider.cli.main import build_parser

INTRO = """# Command line

Generated from `sqlprovider --help` by `make docs`; a test fails when it is out of date.

Exit codes: 0 when everything worked, 1 for an error in the statement, the provider or the API
(one line on stderr, `error: ...`), 2 for an internal error, 130 when interrupted. `--debug`
shows the traceback; `--trace` logs every HTTP request with credentials redacted. Both go
before the command or after it alike: `sqlprovider --debug exec ...` is
`sqlprovider exec --debug ...`.

Output formats (`exec -o`, the shell's `.mode`): `table` (the default on a terminal), `csv`
(the default into a file or a pipe), `json`, `jsonl`, `markdown` and `line`. The shell and
`exec` print a result byte for byte alike. NULL is an empty unquoted csv field (`''` is
`""`), `null` in JSON, and in table, line and markdown output the `--null-display` text
(empty by default, as in psql). Timestamps are ISO 8601, in UTC with a `Z`; lists and JSON
columns are JSON in csv and json. On a terminal, a row wider than the screen shows as a
record (`--expanded auto`, psql's `\\x auto`), a wide table is otherwise cut to the
screen (EXPLAIN never is), and tall output goes through the shell's pager (`$PAGER` unless
its config file names another); into a file or a pipe nothing is cut.
[scripts.md](scripts.md#output-formats) has the details.
"""


def render() -> str:
    """The Markdown reference of every command."""
    parser = build_parser(width=100)
    parts = [INTRO, "## sqlprovider\n", "```\n" + parser.format_help() + "```\n"]
    _subcommands(parser, "sqlprovider", parts)
    return "\n".join(parts)


def _subcommands(parser: argparse.ArgumentParser, prefix: str, parts: list[str]) -> None:
    """Each subcommand's help, then its own subcommands' (``registry pull``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                parts.append(f"## {prefix} {name}\n")
                parts.append("```\n" + sub.format_help() + "```\n")
                _subcommands(sub, f"{prefix} {name}", parts)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
