"""The history file, kept to the newest ``history_size`` statements (the config file's key).

The file has prompt_toolkit's ``FileHistory`` layout (a ``# date`` line, then each line of
the statement after a ``+``), so older files are read as they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit.history import FileHistory


class BoundedFileHistory(FileHistory):
    """A FileHistory that offers the newest ``size`` entries and, when the file holds more,
    rewrites it with those (once, when the shell starts)."""

    def __init__(self, path: Path, size: int) -> None:
        super().__init__(str(path))
        self.path = path
        self.size = size

    def load_history_strings(self) -> Iterable[str]:
        entries = _entries(self.path)
        if len(entries) > self.size:
            entries = entries[len(entries) - self.size :]
            _rewrite(self.path, entries)
        # Newest first, as prompt_toolkit wants them.
        return ["".join(line[1:] for line in plus)[:-1] for _, plus in reversed(entries)]


Entry = tuple[list[str], list[str]]  # the lines before it (its date), its "+" lines


def _entries(path: Path) -> list[Entry]:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    entries: list[Entry] = []
    header: list[str] = []
    plus: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("+"):
            plus.append(line if line.endswith("\n") else line + "\n")
            continue
        if plus:
            entries.append((header, plus))
            header, plus = [], []
        header.append(line)
    if plus:
        entries.append((header, plus))
    return entries


def _rewrite(path: Path, entries: list[Entry]) -> None:
    """Replace the file by ``entries`` (written aside first, so a crash loses nothing)."""
    aside = path.with_name(path.name + ".tmp")
    try:
        aside.write_text("".join("".join(h) + "".join(p) for h, p in entries), encoding="utf-8")
        os.replace(aside, path)
    except OSError:  # a history that cannot be trimmed is still a history
        aside.unlink(missing_ok=True)
