"""The pager the config file chose for the terminal."""

from __future__ import annotations

import io
import os
import subprocess

from sqlprovider.shell.display import Pager, system_pager


def pager_of(setting: bool | str) -> Pager | None:
    """The config file's ``pager``: True is ``$PAGER`` (else ``less``), False none, and a
    string that command."""
    if setting is True:
        return system_pager
    if setting is False:
        return None

    def command_pager(text: str) -> None:
        _page(setting, text)

    return command_pager


def _page(command: str, text: str) -> None:
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
