"""``arbor log`` as a Dolt user types it: commit-time order across parents, --merges,
--parents, --decorate, --stat, --all and ``-- TABLE``."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import arbor, ok


def _commit(repo: Path, sql: str, message: str, date: str) -> None:
    ok(arbor(repo, "sql", "-q", sql))
    ok(arbor(repo, "sql", "-q", f"CALL dolt_commit('-Am', '{message}', '--date', '{date}')"))


def _subjects(text: str) -> list[str]:
    return [line.split(" ", 1)[1].split(") ", 1)[-1] for line in text.splitlines()]


def _history(labels: Path) -> Path:
    """main: x1, x2, x3 in January; side (from the import): y1 in February; merged."""
    ok(arbor(labels, "branch", "side"))
    for day in (1, 2, 3):
        _commit(
            labels,
            f"UPDATE labels SET score = {day} WHERE id = 1",
            f"x{day}",
            f"2026-01-0{day}T00:00:00",
        )
    ok(arbor(labels, "checkout", "side"))
    _commit(labels, "CREATE TABLE other (id INT PRIMARY KEY)", "y1", "2026-02-01T00:00:00")
    ok(arbor(labels, "checkout", "main"))
    ok(arbor(labels, "merge", "side", "-m", "merge side"))
    return labels


def test_newest_commit_time_first_never_a_parent_before_its_child(labels: Path) -> None:
    repo = _history(labels)
    subjects = _subjects(ok(arbor(repo, "log", "--oneline")))
    # "import labels" was committed today, after its January and February children: it
    # still comes after them, and y1 (February) comes before x3 (January) though x3 is
    # the higher commit
    assert subjects == [
        "merge side",
        "y1",
        "x3",
        "x2",
        "x1",
        "import labels",
        "Initialize data repository",
    ]


def test_merges_parents_decorate_all(labels: Path) -> None:
    repo = _history(labels)
    merges = ok(arbor(repo, "log", "--oneline", "--merges")).splitlines()
    assert len(merges) == 1 and merges[0].endswith("merge side")
    parents = ok(arbor(repo, "log", "--oneline", "--parents", "-n", "1")).split()
    assert len(parents[0]) == len(parents[1]) == len(parents[2]) == 8
    assert "(HEAD -> main)" in ok(arbor(repo, "log", "--oneline", "-n", "1"))
    assert "HEAD" not in ok(arbor(repo, "log", "--oneline", "-n", "1", "--decorate", "no"))
    ok(arbor(repo, "checkout", "-b", "ahead"))
    _commit(repo, "DELETE FROM labels WHERE id = 4", "ahead1", "2026-03-01T00:00:00")
    ok(arbor(repo, "checkout", "main"))
    assert "ahead1" not in ok(arbor(repo, "log", "--oneline"))
    assert "ahead1" in ok(arbor(repo, "log", "--oneline", "--all"))


def test_tables_after_dashes_and_stat(labels: Path) -> None:
    repo = _history(labels)
    only_other = _subjects(ok(arbor(repo, "log", "--oneline", "--", "other")))
    assert only_other == ["merge side", "y1"]  # the merge changed it against its first parent
    stat = ok(arbor(repo, "log", "--stat", "-n", "2", "--", "labels"))
    assert "1 Row Modified" in stat and "diff --arbor a/labels b/labels" in stat


def test_show_stat_summary_and_formats(labels: Path) -> None:
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET label = 'dog' WHERE id = 1"))
    ok(arbor(labels, "commit", "-am", "relabel 1"))
    stat = ok(arbor(labels, "show", "--stat"))
    assert "relabel 1" in stat and "1 Row Modified" in stat and "| < |" not in stat
    summary = ok(arbor(labels, "show", "--summary"))
    assert "label: cat -> dog  1 row" in summary
    csv = ok(arbor(labels, "show", "-r", "csv"))
    assert "to_label" in csv.splitlines()[-2] and csv.splitlines()[-1].endswith(",modified")
    sql = ok(arbor(labels, "show", "-r", "sql"))
    assert sql.rstrip().endswith("""UPDATE "labels" SET "label" = 'dog' WHERE "id" = 1;""")
    first = ok(arbor(labels, "show", "HEAD~2", "--stat"))  # the parentless first commit
    assert "Initialize data repository" in first


def test_branch_verbose_is_one_line_per_branch_and_show_current(labels: Path) -> None:
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET label = 'x' WHERE id = 1"))
    ok(arbor(labels, "commit", "-am", "subject line\n\nbody that\nspans lines"))
    ok(arbor(labels, "branch", "side"))
    lines = ok(arbor(labels, "branch", "-v")).splitlines()
    assert len(lines) == 2 and all(line.endswith("subject line") for line in lines)
    assert ok(arbor(labels, "branch", "--show-current")) == "main\n"
    ok(arbor(labels, "checkout", "side"))
    assert ok(arbor(labels, "branch", "--show-current")) == "side\n"
