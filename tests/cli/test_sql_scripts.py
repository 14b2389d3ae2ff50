"""``arbor sql -f``, ``--continue``, ``-r vertical``, script errors that name the statement
and its line; the shell's ``\\x``, ``\\G`` and backslash commands on a continuation line."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import arbor, ok, refused
from tests.cli.test_repl import ENTER, drive

SCRIPT = "SELECT 1 AS a;\n\nSELECT *\n  FROM nosuch;\nSELECT 2 AS b;\n"


def test_file_script_stops_at_the_failing_statement_and_names_it(labels: Path) -> None:
    (labels / "s.sql").write_text(SCRIPT)
    ran = arbor(labels, "sql", "-f", "s.sql", "-r", "csv")
    refused(ran, "statement 2 (s.sql, line 3)", "nosuch")
    assert ran.out == "a\n1\n"  # the third statement did not run


def test_continue_runs_the_rest_and_exits_non_zero(labels: Path) -> None:
    (labels / "s.sql").write_text(SCRIPT)
    ran = arbor(labels, "sql", "-f", "s.sql", "--continue", "-r", "csv")
    assert ran.code == 1 and ran.out == "a\n1\nb\n2\n"
    assert "statement 2 (s.sql, line 3)" in ran.err
    piped = arbor(labels, "sql", "--continue", "-r", "csv", input=SCRIPT)
    assert piped.code == 1 and "statement 2 (stdin, line 3)" in piped.err


def test_a_failed_statement_changes_nothing_and_later_ones_still_commit(labels: Path) -> None:
    script = "INSERT INTO labels VALUES (9, 'ox', 0.5);\nINSERT INTO labels VALUES (1, 'x', 0);\n"
    ran = arbor(labels, "sql", "--continue", input=script)
    assert ran.code == 1 and "line 2" in ran.err
    count = ok(arbor(labels, "sql", "-q", "SELECT count(*) FROM labels", "-r", "csv"))
    assert count.split() == ["count_star()", "5"]


def test_refusals(labels: Path) -> None:
    refused(arbor(labels, "sql", "-q", "SELECT 1", "-f", "x.sql"), "not both", code=2)
    (labels / "bad.sql").write_bytes(b"\xff\xfeSELECT 1")
    refused(arbor(labels, "sql", "-f", "bad.sql"), "bad.sql", "UTF-8")
    refused(arbor(labels, "sql", "-f", "missing.sql"), "missing.sql")


def test_vertical_output(labels: Path) -> None:
    text = ok(
        arbor(labels, "sql", "-q", "SELECT id, label FROM labels WHERE id = 1", "-r", "vertical")
    )
    assert text == f"{'*' * 27} 1. row {'*' * 27}\n   id: 1\nlabel: cat\n"


def test_shell_expanded_display_and_backslash_g(labels: Path, capsys) -> None:
    out, _ = drive(
        labels,
        "SELECT id, label FROM labels WHERE id = 2\\G",
        ENTER,
        "\\x",
        ENTER,
        "SELECT label FROM labels WHERE id = 3;",
        ENTER,
        capsys=capsys,
    )
    assert "1. row" in out and "label: dog" in out
    assert "Expanded display is on." in out and "label: cat" in out


def test_backslash_command_on_a_continuation_line_keeps_the_sql(labels: Path, capsys) -> None:
    out, shell = drive(
        labels,
        "SELECT label",
        ENTER,
        "\\d",
        ENTER,
        "FROM labels WHERE id = 4;",
        ENTER,
        capsys=capsys,
    )
    assert "| Tables" in out  # \d ran at once
    assert "| bird  |" in out  # then the statement ran whole
