"""The prompt: prompt_toolkit's PromptSession with SQL highlighting, completion, history,
multi-line statements, Ctrl-R search and Ctrl-X Ctrl-E (the statement in ``$EDITOR``)."""

from __future__ import annotations

import importlib

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import AnyFormattedText
from prompt_toolkit.history import History
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output

from sqlprovider.shell.scanner import is_complete

PROMPT = "sqlprovider> "


class MultiLine:
    """Whether Enter starts a new line instead of running the text: while the statement in
    the prompt's own buffer is unfinished (no final ``;``).

    It reads the prompt's buffer, never the current one: during Ctrl-R the current buffer
    is the search text, and reading it made prompt_toolkit pick one search field when the
    search started and another when it ended (the traceback of ``stop_search``). For the
    same reason the answer is held while a search is on: recalling a statement changes the
    buffer's text, not the search field in use.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.session: PromptSession[str] | None = None
        self._held = False

    def __call__(self) -> bool:
        if not self.enabled or self.session is None:
            return False
        if get_app().layout.search_links:  # searching: keep the answer it started with
            return self._held
        self._held = not is_complete(self.session.default_buffer.text)
        return self._held


def build_prompt(
    completer: Completer,
    history: History,
    *,
    multi_line: bool = True,
    vi: bool = False,
    input: Input | None = None,
    output: Output | None = None,
) -> PromptSession[str]:
    """The PromptSession the shell reads statements with."""
    multiline = MultiLine(multi_line)
    session: PromptSession[str] = PromptSession(
        PROMPT,
        multiline=Condition(multiline),
        prompt_continuation=_continuation,
        lexer=_sql_lexer(),
        completer=completer,
        complete_while_typing=True,
        auto_suggest=AutoSuggestFromHistory(),
        history=history,
        enable_history_search=False,
        vi_mode=vi,
        key_bindings=_key_bindings(),
        tempfile_suffix=".sql",
        input=input,
        output=output,
    )
    multiline.session = session
    return session


def _key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("c-x", "c-e")
    def _edit(event: KeyPressEvent) -> None:
        """The statement in ``$VISUAL``/``$EDITOR``; it comes back to the prompt, not run."""
        event.current_buffer.open_in_editor(validate_and_handle=False)

    return bindings


def _sql_lexer() -> PygmentsLexer:
    """Pygments' ANSI SQL lexer (pygments has no type stubs, hence the indirect import)."""
    return PygmentsLexer(importlib.import_module("pygments.lexers.sql").SqlLexer)


def _continuation(width: int, line_number: int, wrap_count: int) -> AnyFormattedText:
    return "-> ".rjust(width)
