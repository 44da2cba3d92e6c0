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
shows the traceback; `--trace` logs every HTTP request with credentials redacted.
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
