"""The shell's state that commands change: output mode and display options, timing, and
where results go (the terminal, an ``.output`` file, or a ``.once`` file for one result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlprovider.output import OutputOptions
from sqlprovider.shell.config import Config


@dataclass
class Settings:
    """What dot commands and psql shortcuts set.

    Attributes:
        mode: the output format results are rendered in.
        timing: print a timing line after each statement.
        expanded: ``on``, ``off`` or ``auto`` (vertical records when a row is wider than
            the terminal).
        null_display: how NULL is shown in text formats.
        headers: print column names.
        show_types: print column types under the names (tables).
        sink: where results go; None is the terminal (standard output).
        sink_path: the file ``sink`` writes to.
        once: a file for the next statement's results only (``.once``), then closed.
        once_path: the file ``once`` writes to.
        reading: files being read (``.read`` inside ``.read``), to stop loops.
    """

    mode: str = "table"
    timing: bool = False
    expanded: str = "auto"
    null_display: str = OutputOptions.null_display
    headers: bool = True
    show_types: bool = False
    sink: TextIO | None = None
    sink_path: str | None = None
    once: TextIO | None = None
    once_path: str | None = None
    reading: list[Path] = field(default_factory=list)

    @classmethod
    def of(cls, config: Config) -> Settings:
        """The settings a config file starts the shell with."""
        return cls(
            mode=config.mode,
            timing=config.timing,
            expanded=config.expanded,
            null_display=config.null_display,
            headers=config.headers,
            show_types=config.show_types,
        )

    def output_options(self) -> OutputOptions:
        """The formatter's options these settings make (the width is the terminal's)."""
        return OutputOptions(
            mode=self.mode,
            null_display=self.null_display,
            headers=self.headers,
            show_types=self.show_types,
            expanded=self.expanded,
        )

    def target(self) -> TextIO | None:
        """Where the next result goes: the ``.once`` file, the ``.output`` file, or None
        for the terminal."""
        return self.once or self.sink

    def close_sink(self) -> None:
        """Close the ``.output`` file, if any; results go to the terminal again."""
        if self.sink is not None:
            self.sink.close()
        self.sink, self.sink_path = None, None

    def close_once(self) -> None:
        """Close the ``.once`` file, if any: it took the one result it was for."""
        if self.once is not None:
            self.once.close()
        self.once, self.once_path = None, None

    def close(self) -> None:
        """Close every file results were going to."""
        self.close_once()
        self.close_sink()
