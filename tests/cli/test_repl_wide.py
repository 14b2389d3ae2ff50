"""Wide results in the REPL: paged (``less -S`` scrolls sideways) instead of wrapped, or,
without a pager, followed by a hint to use ``\\x``."""

from __future__ import annotations

import io

from prompt_toolkit.input import create_pipe_input

from arbordb.cli.repl import WIDE_HINT
from tests.cli.test_repl import shell


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


WIDE = "SELECT repeat('x', 200) AS wide, 1 AS n;"


def _run(repo, *statements: str) -> str:
    screen = Terminal()
    with create_pipe_input() as pipe:
        sh = shell(repo, pipe)
        sh.stdout = screen
        for statement in statements:
            sh.handle(statement)
        sh._worker.shutdown()
        sh.client.close()
    return screen.getvalue()


def test_a_wide_result_goes_through_the_pager(labels, tmp_path, monkeypatch):
    paged = tmp_path / "paged.txt"
    monkeypatch.setenv("PAGER", f"cat > {paged}")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "40")
    shown = _run(labels, WIDE, "SELECT 1 AS narrow;")
    assert "x" * 200 in paged.read_text()
    assert "x" * 200 not in shown and "narrow" in shown


def test_without_a_pager_a_wide_result_suggests_expanded_display(labels, monkeypatch):
    monkeypatch.setenv("PAGER", "no-such-pager-here")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "40")
    shown = _run(labels, WIDE, "SELECT 1 AS narrow;")
    assert "x" * 200 in shown and shown.count(WIDE_HINT) == 1
    expanded = _run(labels, "\\x", WIDE)
    assert WIDE_HINT not in expanded and "wide" in expanded
