"""The docs move with the code: generated references are current, every CLI option is documented."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlprovider.cli.main import build_parser
from sqlprovider.cli.reference import render

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text() == render(), "run `make docs` to regenerate docs/cli.md"


def test_every_cli_option_has_help() -> None:
    parser = build_parser()
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    parsers = [parser, *(p for s in subparsers for p in s.choices.values())]
    undocumented = [
        f"{p.prog} {opt}"
        for p in parsers
        for action in p._actions
        for opt in action.option_strings or [action.dest]
        if not action.help and not isinstance(action, argparse._SubParsersAction)
    ]
    assert undocumented == []
