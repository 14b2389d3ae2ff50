"""Progress bars: drawn on a terminal, silent in a pipe (cli/progress.py)."""

from __future__ import annotations

import io
import sys

from arbordb.cli import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_on_a_terminal(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with progress.task("reading labels.csv", 100, as_bytes=True) as step:
        step.advance(60)
        step.advance(40)
    with progress.task("collecting garbage"):  # no total: a spinner with elapsed time
        pass
    assert "reading labels.csv" in screen.getvalue()


def test_silent_in_a_pipe(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with progress.task("reading", 10) as step:
        step.advance(10)
    assert pipe.getvalue() == ""
