"""Progress bars for long work (import, export, gc, fsck): shown on a terminal, silent in pipes.

``task(description, total)`` is a context manager yielding an object with
``advance(n)``. It draws a rich progress bar on stderr only when stderr is a
terminal, so ``arbor table import ... 2> log`` and scripts see nothing extra;
with ``total=None`` the bar is a spinner with the elapsed time (a single
procedure call such as ``dolt_gc`` reports no steps).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Step:
    """Advances one task of a rich ``Progress`` (or nothing, when ``progress`` is None)."""

    def __init__(self, progress: Any = None, task_id: Any = None) -> None:
        self._progress, self._task = progress, task_id

    def advance(self, amount: float) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)


def enabled() -> bool:
    """Bars are drawn only when stderr is an interactive terminal."""
    return sys.stderr.isatty()


@contextmanager
def task(description: str, total: float | None = None, *, as_bytes: bool = False) -> Iterator[Step]:
    """A progress bar for one piece of work; ``as_bytes`` shows sizes (e.g. reading a file)."""
    if not enabled():
        yield Step()
        return
    from rich.console import Console  # loaded only when a bar is drawn
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [
            BarColumn(),
            DownloadColumn() if as_bytes else TextColumn("{task.percentage:>3.0f}%"),
        ]
        columns.append(TimeRemainingColumn())
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        yield Step(progress, progress.add_task(description, total=total))
