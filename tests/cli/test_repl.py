"""The SQL shell driven through prompt-toolkit's pipe input (cli/repl.py)."""

from __future__ import annotations

import os
import random
import signal
import threading
from pathlib import Path

import pytest
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from arbordb.cli.client import Client, Invocation
from arbordb.cli.commands.sql import shell_for
from arbordb.cli.main import cli
from arbordb.cli.repl import Completions, Shell
from tests.cli.helpers import arbor, ok

ENTER = "\r"
CTRL_C, CTRL_D = "\x03", "\x04"


def shell(repo: Path, pipe, history=None) -> Shell:
    client = Client(repo)
    return shell_for(
        cli,
        Invocation(repo),
        client,
        input=pipe,
        output=DummyOutput(),
        history=history or InMemoryHistory(),
    )


def drive(repo: Path, *keys: str, capsys) -> tuple[str, Shell]:
    """Type ``keys`` into a shell on ``repo`` (then Ctrl-D) and return what it printed."""
    with create_pipe_input() as pipe:
        for chunk in keys:
            pipe.send_text(chunk)
        pipe.send_text(CTRL_D)
        sh = shell(repo, pipe)
        sh.run()
    sh.client.close()
    return capsys.readouterr().out, sh


def test_multi_line_statement_and_aligned_result(labels, capsys):
    out, _ = drive(
        labels,
        "SELECT id, label",
        ENTER,
        "FROM labels",
        ENTER,
        "WHERE id < 3;",
        ENTER,
        capsys=capsys,
    )
    assert "|  1 | cat   |\n|  2 | dog   |\n+----+-------+\n2 rows in set\n" in out


def test_prompt_shows_branch_and_dirty_star(labels, capsys):
    with create_pipe_input() as pipe:
        sh = shell(labels, pipe)
        assert sh.prompt_text() == "labels/main> "
        sh.handle("UPDATE labels SET label = 'x' WHERE id = 1;")
        assert sh.prompt_text() == "labels/main*> "
        sh.handle("\\commit relabel one")
        assert sh.prompt_text() == "labels/main> "
        sh.handle("\\checkout -b side")
        assert sh.prompt_text() == "labels/side> "
        sh._worker.shutdown()
        sh.client.close()
    out = capsys.readouterr().out
    assert "Query OK, 1 row affected" in out and "] relabel one" in out
    # \checkout moved only the shell's session; the repository stays on main
    assert ok(arbor(labels, "status")).startswith("On branch main")


def test_backslash_commands(labels, capsys):
    keys = [
        "UPDATE labels SET label = 'dog' WHERE id = 1;",
        ENTER,
        "\\status",
        ENTER,
        "\\diff",
        ENTER,
        "\\diff --summary",
        ENTER,
        "\\d",
        ENTER,
        "\\d labels",
        ENTER,
        "\\commit -Am relabel",
        ENTER,
        "\\log --oneline -n 1",
        ENTER,
        "\\branch",
        ENTER,
        "\\branch b2",
        ENTER,
        "\\merge b2",
        ENTER,
        "\\timing",
        ENTER,
        "SELECT 1 AS one;",
        ENTER,
        "\\help",
        ENTER,
        "\\nope",
        ENTER,
    ]
    out, _ = drive(labels, *keys, capsys=capsys)
    assert "modified:       labels" in out
    assert "| < |  1 | cat   |" in out and "label: cat -> dog  1 row" in out
    assert "| Tables |" in out and "| column_name |" in out and "| PRI " in out
    assert "(HEAD -> main) relabel" in out and "* main" in out
    assert "Timing is on." in out and "1 row in set (" in out
    assert "Backslash commands:" in out and "error: unknown command \\nope" in out


def test_errors_keep_the_session(labels, capsys):
    out, _ = drive(
        labels,
        "SELECT * FROM nope;",
        ENTER,
        "\\checkout nope",
        ENTER,
        "SELECT count(*) AS n FROM labels;",
        ENTER,
        capsys=capsys,
    )
    assert out.count("error: ") == 2 and "Traceback" not in out
    assert "| 4 |" in out


def test_statements_after_an_error_in_the_same_input_do_not_run(labels, capsys):
    out, _ = drive(
        labels,
        "UPDATE labels SET score = 7 WHERE id = 1; SELECT * FROM nope; "
        "UPDATE labels SET score = 8 WHERE id = 1;",
        ENTER,
        capsys=capsys,
    )
    assert "error:" in out
    assert (
        ok(arbor(labels, "sql", "-r", "csv", "-q", "SELECT score FROM labels WHERE id = 1"))
        == "score\n7\n"
    )


def test_ctrl_c_while_typing_drops_the_input_and_ctrl_d_exits(labels, capsys):
    out, _ = drive(labels, "SELECT 'dropped'", CTRL_C, "SELECT 'kept' AS k;", ENTER, capsys=capsys)
    assert "dropped" not in out and "kept" in out


def test_ctrl_c_cancels_a_running_statement_and_keeps_the_session(labels, capsys, monkeypatch):
    slow = "SELECT sum(a.range * b.range) AS s FROM range(100000000) a, range(100000) b;"
    started, done = threading.Event(), threading.Event()
    execute = Client.execute

    def noting_the_start(client, sql, params=None):
        if sql.startswith("SELECT sum("):
            started.set()
        return execute(client, sql, params)

    def ctrl_c_once_it_runs():  # a SIGINT at a fixed time could come before it starts
        if started.wait(60) and not done.wait(random.uniform(0.0, 0.5)):
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(Client, "execute", noting_the_start)
    sender = threading.Thread(target=ctrl_c_once_it_runs)
    sender.start()
    try:
        out, _ = drive(labels, slow, ENTER, "SELECT 42 AS answer;", ENTER, capsys=capsys)
    finally:
        done.set()
        sender.join()
    assert "Statement cancelled (the session is still open)." in out
    assert "|     42 |" in out


def test_history_is_kept_in_the_repository(labels, capsys):
    from arbordb.cli.repl import _history

    history = _history(labels)
    with create_pipe_input() as pipe:
        pipe.send_text("SELECT 7 AS seven;" + ENTER + CTRL_D)
        sh = shell(labels, pipe, history=history)
        sh.run()
        sh.client.close()
    assert "SELECT 7 AS seven;" in (labels / ".arbor" / "sql_history").read_text()


def test_long_results_go_through_the_pager(labels, tmp_path, monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    paged = tmp_path / "paged.txt"
    monkeypatch.setenv("PAGER", f"cat > {paged}")
    monkeypatch.setenv("LINES", "10")
    screen = Terminal()
    with create_pipe_input() as pipe:
        sh = shell(labels, pipe)
        sh.stdout = screen
        sh.handle("SELECT * FROM range(50);")
        sh.handle("SELECT 1 AS short;")
        sh._worker.shutdown()
        sh.client.close()
    assert paged.read_text().count("\n") > 50
    assert "short" in screen.getvalue() and "49" not in screen.getvalue()


def completions(c: Completions, text: str) -> list[str]:
    return [x.text for x in c.get_completions(Document(text), None)]


def test_completion_of_keywords_tables_columns_branches(labels):
    ok(arbor(labels, "branch", "relabel"))
    ok(arbor(labels, "tag", "v1"))
    c = Completions()
    with Client(labels) as client:
        c.refresh(client)
    assert "labels" in completions(c, "SELECT * FROM lab")
    assert "label" in completions(c, "SELECT lab")
    assert "SELECT" in completions(c, "SEL") and "select" in completions(c, "sel")
    assert "relabel" in completions(c, "CALL dolt_checkout('rel")
    assert "v1" in completions(c, "SELECT * FROM labels AS OF 'v")
    assert "dolt_commit" in completions(c, "CALL dolt_com")
    assert completions(c, "SELECT ") == []


@pytest.mark.parametrize(
    "text, ready",
    [
        ("SELECT 1", False),
        ("SELECT 1;", True),
        ("\\d", True),
        ("", True),
        ("SELECT ';'", False),
        ("quit", True),
    ],
)
def test_enter_runs_only_complete_input(text, ready):
    assert Shell._ready(text) is ready


def test_completion_by_context(labels):
    ok(arbor(labels, "branch", "fix-labels"))
    ok(arbor(labels, "tag", "v1"))
    c = Completions()
    with Client(labels) as client:
        c.refresh(client)
    # revisions only, hyphenated names as one word
    assert completions(c, "\\checkout fix-") == ["fix-labels"]
    assert completions(c, "\\merge ") == ["fix-labels", "main", "v1"]
    assert completions(c, "\\branch -d fi") == ["fix-labels"]
    assert completions(c, "SELECT * FROM labels AS OF 'fix-l") == ["fix-labels"]
    assert completions(c, "SELECT * FROM dolt_diff('main', 'fi") == ["fix-labels"]
    assert "label" not in completions(c, "SELECT * FROM labels AS OF 'l")
    # relations only after FROM / JOIN, system tables and table functions included
    after_from = completions(c, "SELECT * FROM ")
    assert "labels" in after_from and "dolt_log" in after_from and "dolt_diff" in after_from
    assert "label" not in after_from and "SELECT" not in after_from
    assert completions(c, "SELECT * FROM labels JOIN dolt_l") == ["dolt_log"]
    # nothing inside other quoted text; keywords and columns elsewhere
    assert completions(c, "SELECT * FROM labels WHERE label = 'ca") == []
    assert "label" in completions(c, "SELECT lab") and "LIMIT" in completions(c, "SELECT * LI")
