"""``\\e``: a statement in the user's editor (``$VISUAL``, else ``$EDITOR``, else ``vi``).

Ctrl-X Ctrl-E does the same for the text being typed (prompt_toolkit's ``open_in_editor``);
``\\e`` is for the statement that was run last, as psql's ``\\e`` edits the last query.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path


def editor_command() -> list[str]:
    """The editor to run, as prompt_toolkit and psql find it."""
    chosen = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(chosen)


def edit(text: str) -> str:
    """``text`` as the user left it in the editor (a ``.sql`` file, so it is highlighted).

    Raises:
        OSError: the editor could not be started, or it failed (the message says which).
    """
    handle, name = tempfile.mkstemp(suffix=".sql", prefix="sqlprovider-")
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text if not text or text.endswith("\n") else text + "\n")
        command = editor_command()
        try:
            code = subprocess.call([*command, str(path)])
        except OSError as exc:
            raise OSError(f"cannot start the editor {command[0]}: {exc.strerror}") from None
        if code != 0:
            raise OSError(f"the editor {command[0]} failed (exit code {code}); nothing changed")
        return path.read_text(encoding="utf-8").rstrip("\n")
    finally:
        path.unlink(missing_ok=True)
