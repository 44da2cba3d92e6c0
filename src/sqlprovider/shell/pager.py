"""The pager the config file chose for the terminal."""

from __future__ import annotations

from sqlprovider.shell.display import Pager, page_with, system_pager


def pager_of(setting: bool | str) -> Pager | None:
    """The config file's ``pager``: True is ``$PAGER`` (else ``less``), False none, and a
    string that command."""
    if setting is True:
        return system_pager
    if setting is False:
        return None

    def command_pager(text: str) -> None:
        page_with(setting, text)

    return command_pager
