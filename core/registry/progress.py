"""Progress bars for parallel transfers -- on a terminal only.

One bar per layer, like docker's, drawn with ``rich``.  When stderr is not a
terminal (CI, a pipe, a test) nothing is drawn: the caller's summary lines
are all that is printed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Bars(Protocol):
    """What a transfer reports its progress to."""

    drawing: bool  # False: no bars are drawn, the caller prints a line per layer

    def add(self, label: str, total: int | None) -> int: ...
    def advance(self, task: int, amount: int) -> None: ...
    def finish(self, task: int, label: str) -> None: ...


class _Quiet:
    drawing = False  # no bars: callers print one line per layer instead

    def add(self, label: str, total: int | None) -> int:
        return 0

    def advance(self, task: int, amount: int) -> None:
        pass

    def finish(self, task: int, label: str) -> None:
        pass


class _RichBars:
    drawing = True

    def __init__(self, progress):
        self.progress = progress

    def add(self, label: str, total: int | None) -> int:
        return self.progress.add_task(label, total=total)

    def advance(self, task: int, amount: int) -> None:
        self.progress.advance(task, amount)

    def finish(self, task: int, label: str) -> None:
        total = self.progress.tasks[task].total if task < len(self.progress.tasks) else None
        self.progress.update(task, description=label, completed=total or 1, total=total or 1)


@contextmanager
def transfer_progress(enabled: bool | Bars | None = None) -> Iterator[Bars]:
    """Yields an object with ``add(label, total) -> task``, ``advance(task, n)``
    and ``finish(task, label)``."""
    if enabled is not None and not isinstance(enabled, bool):
        yield enabled  # the caller's own bars (the daemon streams them as JSON)
        return
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield _Quiet()
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as progress:
        yield _RichBars(progress)
