"""Progress reporting for long commands: one bar, drawn by :mod:`rich` on a terminal.

:func:`progress` is a context manager yielding a :class:`Bar`; call it with the number of
steps done. On a terminal the bar is a live :class:`rich.progress.Progress` display redrawn in
place; anywhere else (a log file, CI output, a pipe) it prints plain lines, ``lines`` of them
over the whole run plus the first, so nothing piles up carriage returns::

    regime [#######.......................] 25/100 | 1.4 s

The report (:mod:`verify.report`), the sweep runner (:mod:`verify.sweep.runner`) and the
learned-optimizer wing use it. This module imports nothing of :mod:`verify` (bottom layer).

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> with progress(4, "demo", stream=out, lines=2) as bar:
...     for k in range(1, 5):
...         bar(k)
>>> for line in out.getvalue().splitlines():
...     print(line.split(" | ")[0])
demo [#######.......................] 1/4
demo [###############...............] 2/4
demo [##############################] 4/4
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["BAR_WIDTH", "Bar", "progress"]

#: Width of the plain-text bar, in characters.
BAR_WIDTH = 30


class Bar:
    """A progress bar on ``stream``: live on a terminal, plain lines otherwise.

    Parameters
    ----------
    total : int
        Number of steps (may be changed later by passing ``total=`` to a call).
    desc : str
        What is progressing (first word of every line).
    stream : text stream, optional
        Where to write (default: ``sys.stderr`` at construction).
    lines : int
        Plain-line mode: print a line each time another ``1/lines`` of the work is done
        (and at the first call).

    Notes
    -----
    Call :meth:`close` when done (:func:`progress` does): it ends the live display, or prints
    a last plain line when the count changed since the last one printed.
    """

    def __init__(
        self, total: int, desc: str, *, stream: TextIO | None = None, lines: int = 10
    ) -> None:
        self.total = total
        self.desc = desc
        self.stream: Any = sys.stderr if stream is None else stream
        self.lines = max(1, lines)
        self.started = time.monotonic()
        self.done = 0
        self.note = ""
        self._step = -1
        self._printed: int | None = None
        self._live: Any = None
        self._task: Any = None
        if bool(getattr(self.stream, "isatty", lambda: False)()):
            self._start_live()

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(file=self.stream, force_terminal=True)
        self._live = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=BAR_WIDTH),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._live.add_task(self.desc, total=self.total, note="")
        self._live.start()

    def __call__(self, done: int, *, total: int | None = None, note: str | None = None) -> None:
        """Record ``done`` steps (of ``total``, when given) and an optional ``note`` (shown
        after the count, e.g. ``"cases | 2 failed"``)."""
        self.done = done
        if total is not None:
            self.total = total
        if note is not None:
            self.note = note
        if self._live is not None:
            self._live.update(self._task, completed=done, total=self.total, note=self.note)
            return
        step = self.lines * done // max(self.total, 1)
        if step > self._step:
            self._step = step
            self._print()

    def line(self) -> str:
        """The current state as one plain line."""
        filled = min(BAR_WIDTH, BAR_WIDTH * self.done // max(self.total, 1))
        note = f" {self.note}" if self.note else ""
        return (
            f"{self.desc} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total}"
            f"{note} | {time.monotonic() - self.started:.1f} s"
        )

    def _print(self) -> None:
        self._printed = self.done
        self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the live display, or print the final count if not printed yet."""
        if self._live is not None:
            self._live.stop()
            self._live = None
        elif self._printed != self.done:
            self._print()


@contextmanager
def progress(
    total: int, desc: str, *, stream: TextIO | None = None, lines: int = 10
) -> Iterator[Bar]:
    """A :class:`Bar` for the duration of the ``with`` block (closed on exit).

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        What is progressing.
    stream : text stream, optional
        Where to write (default ``sys.stderr``).
    lines : int
        Plain lines over the run when ``stream`` is not a terminal (plus the first).

    Yields
    ------
    Bar
        Call it as ``bar(done)``, or ``bar(done, total=n, note="...")``.
    """
    bar = Bar(total, desc, stream=stream, lines=lines)
    try:
        yield bar
    finally:
        bar.close()
