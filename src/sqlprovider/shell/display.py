"""Where rendered results go: the terminal (cut to its width, paged when taller) or a file.

Also the one-line summaries the shell prints around results: timing and progress.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from prompt_toolkit.utils import get_cwidth

from sqlprovider.output import OutputOptions, Rendered, rendered
from sqlprovider.result import Result

Pager = Callable[[str], None]
TerminalSize = Callable[[], tuple[int, int]]  # (columns, lines)


@dataclass
class Shown:
    """What showing a result did.

    Attributes:
        cut: lines were cut to the terminal width.
        paged: the text went through the pager.
    """

    cut: bool = False
    paged: bool = False


class Display:
    """Writes result text to the terminal or to the ``.output`` file.

    Args:
        stdout: the terminal's standard output (or what stands for it in tests).
        terminal: the terminal's size, or None when standard output is not a terminal
            (then nothing is cut or paged).
        pager: shows text taller than the terminal (None: never page).
    """

    def __init__(
        self, stdout: TextIO, terminal: TerminalSize | None = None, pager: Pager | None = None
    ) -> None:
        self.stdout = stdout
        self.terminal = terminal
        self.pager = pager

    def show_result(self, result: Result, options: OutputOptions, sink: TextIO | None) -> Shown:
        """Render ``result`` as ``options`` say and show it (see ``show_rendered``).

        On the terminal, ``auto`` expanded output is decided against its width.
        """
        if sink is None and self.terminal is not None and options.width is None:
            options = options.replace(width=self.terminal()[0])
        return self.show_rendered(rendered(result, options), sink)

    def show_rendered(self, shown_text: Rendered, sink: TextIO | None) -> Shown:
        """Write a rendered result to ``sink``, or to the terminal: there a boxed table is
        cut to its width, and text taller than it goes through the pager. Nothing is cut
        or paged in a file or a pipe."""
        text = shown_text.text
        if sink is not None or self.terminal is None:
            target = sink or self.stdout
            target.write(text)
            target.flush()
            return Shown()
        columns, lines = self.terminal()
        shown = Shown()
        if shown_text.cuttable:
            text, shown.cut = cut(text, columns)
        if self.pager is not None and text.count("\n") > max(lines - 2, 1):
            self.pager(text)
            shown.paged = True
        else:
            self.stdout.write(text)
            self.stdout.flush()
        return shown


def terminal_size() -> tuple[int, int]:
    """The terminal's (columns, lines)."""
    size = shutil.get_terminal_size()
    return size.columns, size.lines


def cut(text: str, width: int) -> tuple[str, bool]:
    """``text`` with every line cut to ``width`` terminal cells (``…`` marks a cut)."""
    if width < 2:
        return text, False
    out: list[str] = []
    was_cut = False
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        if get_cwidth(body) <= width:
            out.append(line)
            continue
        was_cut = True
        kept, used = [], 0
        for char in body:
            size = get_cwidth(char)
            if used + size > width - 1:
                break
            kept.append(char)
            used += size
        out.append("".join(kept) + "…" + line[len(body) :])
    return "".join(out), was_cut


def system_pager(text: str) -> None:
    """Show ``text`` in ``$PAGER``, else ``less`` (with ``LESS=-SRXF`` unless ``LESS`` is
    set: quit at once when it fits, keep colours); with neither, just print it."""
    command = os.environ.get("PAGER")
    if command is None:
        command = "less" if shutil.which("less") else ""
    if not command.strip():
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    page_with(command, text)


def page_with(command: str, text: str) -> None:
    """``text`` through ``command`` (a shell command line, as ``$PAGER`` is)."""
    env = {"LESS": "-SRXF", **os.environ}
    pager = subprocess.Popen(
        command, shell=True, stdin=subprocess.PIPE, text=True, errors="replace", env=env
    )
    try:
        with pager.stdin or io.StringIO() as feed:  # stdin=PIPE: never None
            feed.write(text)
    except BrokenPipeError:  # the user left the pager before reading everything
        pass
    while True:
        try:
            pager.wait()
            return
        except KeyboardInterrupt:  # Ctrl-C belongs to the pager while it runs
            continue


def timing_line(seconds: float, result: Result) -> str:
    """The ``.timing on`` summary of one statement."""
    stats = result.stats

    def count(key: str) -> int:
        return int(stats.get(key, 0))

    cached = ""
    if count("cached_requests"):
        cached = f"  from cache: {count('cached_requests')} ({count('cache_age')} s old)"
    return (
        f"time: {seconds:.3f} s  requests: {count('requests')}{cached}  pages: {count('pages')}"
        f"  rows: {count('rows_loaded')}  retries: {count('retries')}"
        f"  bytes: {size(count('bytes'))}"
    )


def size(count: int) -> str:
    """A byte count, readable: ``812 B``, ``12.4 KB``, ``3.1 MB``."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover - the loop always returns
