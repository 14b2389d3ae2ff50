"""Every ``arbor`` command on a fresh repository, as a new user would run it (in-process).

Each refusal is checked to change nothing: log, status, branches and rows are
compared before and after (``snapshot``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli.helpers import arbor, ok, refused, snapshot


def sql(repo: Path, query: str, fmt: str = "csv") -> str:
    return ok(arbor(repo, "sql", "-r", fmt, "-q", query))


# --- init, status, add, commit ------------------------------------------------------------


def test_init_creates_one_commit_and_refuses_twice(repo):
    assert (repo / ".arbor").is_dir()
    assert ok(arbor(repo, "log", "--oneline")).endswith(
        "(HEAD -> main) Initialize data repository\n"
    )
    refused(arbor(repo, "init"), "already an ArborDB repository")


def test_commands_outside_a_repository_say_how_to_make_one(tmp_path):
    refused(arbor(tmp_path, "status"), "not inside an ArborDB repository", "arbor init")
    assert not (tmp_path / ".arbor").exists()


def test_repository_is_found_from_a_subdirectory(repo):
    sub = repo / "data" / "raw"
    sub.mkdir(parents=True)
    assert ok(arbor(sub, "status")).startswith("On branch main")


def test_status_add_commit_cycle(repo):
    assert "nothing to commit, working tree clean" in ok(arbor(repo, "status"))
    sql(repo, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR)")
    assert "Untracked tables:" in ok(arbor(repo, "status"))
    ok(arbor(repo, "add", "t"))
    status = ok(arbor(repo, "status"))
    assert "Changes to be committed:" in status and "new table:      t" in status
    out = ok(arbor(repo, "commit", "-m", "add t"))
    assert out.startswith("[main ") and out.endswith("] add t\n")
    sql(repo, "INSERT INTO t VALUES (1, 'x')")
    assert "Changes not staged for commit:" in ok(arbor(repo, "status"))
    ok(arbor(repo, "commit", "-a", "-m", "row"))
    assert ok(arbor(repo, "log", "--oneline")).count("\n") == 3


def test_commit_refusals_change_nothing(labels):
    before = snapshot(labels)
    refused(arbor(labels, "commit"), "needs a message", code=2)
    refused(arbor(labels, "commit", "-m", "nothing"), "nothing to commit")
    assert snapshot(labels) == before
    ok(arbor(labels, "commit", "--allow-empty", "-m", "empty"))
    assert "empty" in ok(arbor(labels, "log", "-n", "1"))


def test_commit_author_and_date(labels):
    sql(labels, "UPDATE labels SET score = 1 WHERE id = 1")
    ok(
        arbor(
            labels,
            "commit",
            "-Am",
            "dated",
            "--author",
            "Ann <ann@x.org>",
            "--date",
            "2026-03-01T12:00:00",
        )
    )
    entry = ok(arbor(labels, "log", "-n", "1"))
    assert "Author: Ann <ann@x.org>" in entry and "Mar 01 12:00:00 2026" in entry


# --- log, show -------------------------------------------------------------------------------


def test_log_formats(labels):
    full = ok(arbor(labels, "log"))
    assert full.startswith("commit ") and "Author: " in full and "\timport labels" in full
    oneline = ok(arbor(labels, "log", "--oneline", "-n", "1")).splitlines()
    assert len(oneline) == 1 and oneline[0].endswith("(HEAD -> main) import labels")
    assert ok(arbor(labels, "log", "--oneline", "--graph")).splitlines()[1].startswith("* ")
    refused(arbor(labels, "log", "nope"), "nope")


def test_show_prints_commit_and_its_rows(labels):
    out = ok(arbor(labels, "show"))
    assert "import labels" in out and "added table" in out and "| + |  4 | bird" in out


# --- diff -------------------------------------------------------------------------------------


@pytest.fixture
def relabelled(labels):
    """labels with two cats relabelled dogs in the working set (staged nothing)."""
    sql(labels, "UPDATE labels SET label = 'dog' WHERE label = 'cat'")
    return labels


def test_diff_default_view(relabelled):
    out = ok(arbor(relabelled, "diff"))
    assert out.splitlines()[:3] == [
        "diff --arbor a/labels b/labels",
        "--- a/labels",
        "+++ b/labels",
    ]
    assert "| < |  1 | cat   |   0.9 |" in out and "| > |  1 | dog   |   0.9 |" in out
    assert ok(arbor(relabelled, "diff", "--staged")) == ""
    assert ok(arbor(relabelled, "diff", "HEAD", "labels")) == out
    refused(
        arbor(relabelled, "diff", "HEAD", "WORKING", "other"),
        "'other' is neither a revision nor a table",
    )


def test_diff_summary_shows_label_transitions(relabelled):
    out = ok(arbor(relabelled, "diff", "--summary", "HEAD"))
    assert "labels: 0 rows added, 0 rows removed, 2 rows modified" in out
    assert "  label: cat -> dog  2 rows" in out


def test_diff_stat_where_and_formats(relabelled):
    stat = ok(arbor(relabelled, "diff", "--stat", "HEAD"))
    assert " 2 Rows Modified (50.00%)" in stat
    only = ok(arbor(relabelled, "diff", "HEAD", "--where", "to_id = 3"))
    assert "|  3 |" in only and "|  1 |" not in only
    data = json.loads(ok(arbor(relabelled, "diff", "HEAD", "-r", "json")))
    assert data["tables"][0]["data_diff"][0]["to_row"]["label"] == "dog"
    csv = ok(arbor(relabelled, "diff", "HEAD", "-r", "csv"))
    assert csv.splitlines()[0].startswith("to_id,") and csv.count("\n") == 3
    patch = ok(arbor(relabelled, "diff", "HEAD", "-r", "sql"))
    assert patch.count("UPDATE") == 2 and "'dog'" in patch
    refused(
        arbor(relabelled, "diff", "HEAD", "-r", "sql", "--where", "to_id = 1"), "--where", code=2
    )
    refused(arbor(relabelled, "diff", "HEAD", "--where", "nonsense ==="), "error:")


def test_diff_between_revisions_and_ranges(relabelled):
    ok(arbor(relabelled, "commit", "-Am", "relabel"))
    assert "cat" in ok(arbor(relabelled, "diff", "HEAD~1", "HEAD"))
    assert ok(arbor(relabelled, "diff", "HEAD~1..HEAD")) == ok(
        arbor(relabelled, "diff", "HEAD~1", "HEAD")
    )


# --- branch, checkout, tag ------------------------------------------------------------------


def test_branch_create_list_rename_delete(labels):
    ok(arbor(labels, "branch", "relabel"))
    assert ok(arbor(labels, "branch")) == "* main\n  relabel\n"
    ok(arbor(labels, "branch", "-m", "relabel", "fix"))
    assert "  fix" in ok(arbor(labels, "branch"))
    ok(arbor(labels, "branch", "-d", "fix"))
    assert ok(arbor(labels, "branch")) == "* main\n"


def test_checkout_persists_between_commands(labels):
    assert ok(arbor(labels, "checkout", "-b", "relabel")) == "Switched to branch 'relabel'\n"
    assert ok(arbor(labels, "status")).startswith("On branch relabel")
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    ok(arbor(labels, "checkout", "main"))  # uncommitted changes go along, as in Dolt's CLI
    assert ok(arbor(labels, "status")).startswith("On branch main")
    assert "fox" in sql(labels, "SELECT label FROM labels WHERE id = 4")
    ok(arbor(labels, "checkout", "relabel"))
    assert "fox" in sql(labels, "SELECT label FROM labels WHERE id = 4")
    ok(arbor(labels, "checkout", "-f", "main"))  # -f discards them
    assert "bird" in sql(labels, "SELECT label FROM labels WHERE id = 4")
    assert "nothing to commit" in ok(arbor(labels, "status"))


def test_checkout_table_discards_its_changes(labels):
    sql(labels, "DELETE FROM labels")
    ok(arbor(labels, "checkout", "labels"))
    assert "nothing to commit" in ok(arbor(labels, "status"))


def test_checkout_unknown_branch_changes_nothing(labels):
    sql(labels, "UPDATE labels SET label = 'fox' WHERE id = 4")
    before = snapshot(labels)
    refused(arbor(labels, "checkout", "nope"), "'nope'")
    refused(arbor(labels, "branch", "-d", "nope"), "nope")
    refused(arbor(labels, "checkout"), "name a branch", code=2)
    assert snapshot(labels) == before


def test_tags(labels):
    ok(arbor(labels, "tag", "v1", "-m", "training set v1"))
    ok(arbor(labels, "tag", "v0", "HEAD~1"))
    assert ok(arbor(labels, "tag")) == "v0\nv1\n"
    assert "training set v1" in ok(arbor(labels, "tag", "-v"))
    assert "tag: v1" in ok(arbor(labels, "log", "--oneline", "-n", "1"))
    ok(arbor(labels, "tag", "-d", "v0"))
    assert ok(arbor(labels, "tag")) == "v1\n"
    refused(arbor(labels, "tag", "v1"), "v1")


# --- merge and conflicts --------------------------------------------------------------------


def _diverge(repo: Path) -> None:
    """main and 'other' both relabel row 1 (a conflict) and change different rows."""
    ok(arbor(repo, "branch", "other"))
    sql(repo, "UPDATE labels SET label = 'bird' WHERE id = 1")
    ok(arbor(repo, "commit", "-Am", "main: 1 is a bird"))
    ok(arbor(repo, "checkout", "other"))
    sql(
        repo,
        "UPDATE labels SET label = 'fish' WHERE id = 1; UPDATE labels SET score = 0.1 WHERE id = 2",
    )
    ok(arbor(repo, "commit", "-Am", "other: 1 is a fish"))
    ok(arbor(repo, "checkout", "main"))


def test_fast_forward_merge(labels):
    before = snapshot(labels)
    refused(arbor(labels, "merge", "nope"), "nope")
    assert snapshot(labels) == before
    ok(arbor(labels, "checkout", "-b", "relabel"))
    sql(labels, "UPDATE labels SET label = 'dog' WHERE id = 3")
    ok(arbor(labels, "commit", "-Am", "relabel"))
    ok(arbor(labels, "checkout", "main"))
    assert ok(arbor(labels, "merge", "relabel")).startswith("Fast-forward to ")
    assert "dog" in sql(labels, "SELECT label FROM labels WHERE id = 3")


def test_merge_with_dirty_working_set_is_refused(labels):
    _diverge(labels)
    sql(labels, "UPDATE labels SET score = 0 WHERE id = 4")
    before = snapshot(labels)
    refused(arbor(labels, "merge", "other"), "uncommitted changes")
    refused(arbor(labels, "merge"), "name one branch", code=2)
    assert snapshot(labels) == before


def test_merge_conflict_cat_resolve_commit(labels):
    _diverge(labels)
    ran = arbor(labels, "merge", "other")
    assert ran.code == 1 and "CONFLICT (content): Merge conflict in labels" in ran.out
    status = ok(arbor(labels, "status"))
    assert "You are merging other." in status and "conflict:       labels" in status
    cat = ok(arbor(labels, "conflicts", "cat", "labels"))
    assert "| * | ours   |  1 | bird" in cat and "| * | theirs |  1 | fish" in cat
    before = snapshot(labels)
    refused(arbor(labels, "commit", "-Am", "too early"), "unresolved merge conflicts")
    refused(arbor(labels, "merge", "other"), "merge is already in progress")
    refused(arbor(labels, "conflicts", "resolve", "labels"), "--ours", code=2)
    assert snapshot(labels) == before
    ok(arbor(labels, "conflicts", "resolve", "--theirs", "labels"))
    ok(arbor(labels, "commit", "-m", "merge other"))
    rows = sql(labels, "SELECT id, label, score FROM labels WHERE id IN (1, 2) ORDER BY id")
    assert rows == "id,label,score\n1,fish,0.9\n2,dog,0.1\n"
    assert ok(arbor(labels, "log", "--graph", "--oneline")).splitlines()[1] == "|\\"


@pytest.mark.parametrize("message", [None, "merge the scores"])
def test_clean_merge_names_its_commit_without_reading_the_log(labels, monkeypatch, message):
    """``arbor merge`` prints the merge commit's hash and message; it knows the message
    (the default one, or -m's), so it does not query dolt_log for it."""
    from arbordb.cli.client import Client

    ok(arbor(labels, "branch", "scores"))
    sql(labels, "UPDATE labels SET label = 'owl' WHERE id = 4")
    ok(arbor(labels, "commit", "-Am", "main: 4 is an owl"))
    ok(arbor(labels, "checkout", "scores"))
    sql(labels, "UPDATE labels SET score = 0.5 WHERE id = 1")
    ok(arbor(labels, "commit", "-Am", "scores: 1 scores 0.5"))
    ok(arbor(labels, "checkout", "main"))
    statements: list[str] = []
    real = Client.execute
    monkeypatch.setattr(
        Client, "execute", lambda self, text, *a: statements.append(text) or real(self, text, *a)
    )
    said = ok(arbor(labels, "merge", *(["-m", message] if message else []), "scores"))
    monkeypatch.setattr(Client, "execute", real)
    assert statements and not [t for t in statements if "dolt_log" in t]
    head = sql(labels, "SELECT commit_hash, message FROM dolt_log LIMIT 1").splitlines()[1]
    address, subject = head.split(",", 1)
    assert subject == (message or "Merge branch 'scores' into main")
    assert said == f"Merge made: {address[:8]} {subject}\n"
    assert sql(labels, "SELECT id, label, score FROM labels WHERE id IN (1, 4) ORDER BY id") == (
        "id,label,score\n1,cat,0.5\n4,owl,0.7\n"
    )


def test_merge_abort_restores(labels):
    _diverge(labels)
    before = ok(arbor(labels, "sql", "-r", "csv", "-q", "SELECT * FROM labels ORDER BY id"))
    assert arbor(labels, "merge", "other").code == 1
    assert ok(arbor(labels, "merge", "--abort")) == "Merge aborted.\n"
    assert ok(arbor(labels, "sql", "-r", "csv", "-q", "SELECT * FROM labels ORDER BY id")) == before
    assert "nothing to commit" in ok(arbor(labels, "status"))


# --- reset, revert, cherry-pick, blame --------------------------------------------------------


def test_reset_soft_hard_and_unstage(labels):
    sql(labels, "UPDATE labels SET label = 'x' WHERE id = 1")
    ok(arbor(labels, "add", "."))
    ok(arbor(labels, "reset", "labels"))
    assert "Changes not staged" in ok(arbor(labels, "status"))
    ok(arbor(labels, "reset", "--hard"))
    assert "nothing to commit" in ok(arbor(labels, "status"))
    ok(arbor(labels, "reset", "--soft", "HEAD~1"))
    assert "Initialize" in ok(arbor(labels, "log", "--oneline", "-n", "1"))
    refused(arbor(labels, "reset", "--soft", "--hard"), "one of", code=2)


def test_revert_and_cherry_pick(labels):
    sql(labels, "UPDATE labels SET label = 'x' WHERE id = 1")
    ok(arbor(labels, "commit", "-Am", "x"))
    out = ok(arbor(labels, "revert", "HEAD"))
    assert out.startswith("[main ")
    assert "cat" in sql(labels, "SELECT label FROM labels WHERE id = 1")
    ok(arbor(labels, "checkout", "-b", "side", "HEAD~2"))
    ok(arbor(labels, "cherry-pick", "main~1"))
    assert "x" in sql(labels, "SELECT label FROM labels WHERE id = 1")


def test_blame(labels):
    sql(labels, "UPDATE labels SET label = 'x' WHERE id = 2")
    ok(arbor(labels, "commit", "-Am", "fix two"))
    out = ok(arbor(labels, "blame", "labels"))
    lines = {  # rows only: the header's first cell is "id" (a hash may hold "id" too)
        line.split("|")[1].strip(): line
        for line in out.splitlines()
        if line.startswith("| ") and line.split("|")[1].strip().isdigit()
    }
    assert "fix two" in lines["2"] and "import labels" in lines["1"]
    refused(arbor(labels, "blame", "nope"), "nope")


# --- table import / export ------------------------------------------------------------------


def test_import_create_update_replace(repo, tmp_path):
    (tmp_path / "a.csv").write_text("id,label\n1,cat\n2,dog\n")
    (tmp_path / "b.jsonl").write_text('{"id": 2, "label": "fox"}\n{"id": 3, "label": "owl"}\n')
    out = ok(arbor(repo, "table", "import", "--create", "--pk", "id", "t", str(tmp_path / "a.csv")))
    assert out == "Imported 2 rows into t (create).\n"
    ok(arbor(repo, "table", "import", "--update", "t", str(tmp_path / "b.jsonl")))
    assert sql(repo, "SELECT * FROM t ORDER BY id") == "id,label\n1,cat\n2,fox\n3,owl\n"
    pq.write_table(pa.table({"id": [9], "label": ["yak"]}), tmp_path / "c.parquet")
    ok(arbor(repo, "table", "import", "-r", "t", str(tmp_path / "c.parquet")))
    assert sql(repo, "SELECT * FROM t") == "id,label\n9,yak\n"
    assert "PRI" in sql(repo, "DESCRIBE t")


def test_import_hands_arrow_to_the_engine(repo, tmp_path, monkeypatch):
    """The rows go from the file to the engine as Arrow: no Python tuple per row."""
    from arbordb.sql.dbapi import Cursor

    def no_tuples(*args, **kwargs):
        raise AssertionError("rows went through executemany as Python values")

    monkeypatch.setattr(Cursor, "executemany", no_tuples)
    data = pa.table({"id": list(range(1000)), "label": [f"l{i % 7}" for i in range(1000)]})
    pq.write_table(data, tmp_path / "d.parquet")
    ok(arbor(repo, "table", "import", "--create", "--pk", "id", "t", str(tmp_path / "d.parquet")))
    monkeypatch.undo()
    got = sql(repo, "SELECT count(*) AS n, count(DISTINCT label) AS k, max(id) AS m FROM t")
    assert got == "n,k,m\n1000,7,999\n"


def test_import_refusals_change_nothing(labels, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,label,score\n5,cat,0.5\n6,dog,zero\n")
    before = snapshot(labels)
    refused(
        arbor(labels, "table", "import", "--update", "labels", str(bad)),
        "bad.csv, line 3",
        "'zero'",
    )
    (tmp_path / "ragged.csv").write_text("id,label,score\n5,cat,0.5\n6,dog\n")
    refused(
        arbor(labels, "table", "import", "-u", "labels", str(tmp_path / "ragged.csv")),
        "line 3",
        "expected 3 fields",
    )
    (tmp_path / "dup.csv").write_text("id,label,score\n5,cat,0.5\n5,dog,0.5\n")
    refused(
        arbor(labels, "table", "import", "-r", "labels", str(tmp_path / "dup.csv")),
        "duplicate primary key",
    )
    refused(
        arbor(labels, "table", "import", "-c", "--pk", "id", "labels", str(bad)), "already exists"
    )
    refused(arbor(labels, "table", "import", "-u", "nope", str(bad)), "does not exist")
    refused(arbor(labels, "table", "import", "labels", str(bad)), "--create", code=2)
    refused(
        arbor(labels, "table", "import", "-u", "labels", str(tmp_path / "missing.csv")),
        "no such file",
    )
    assert snapshot(labels) == before


def test_import_refused_by_a_constraint_writes_nothing(repo, tmp_path):
    sql(repo, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR NOT NULL)")
    (tmp_path / "a.csv").write_text("id,v\n1,a\n2,\n")
    before = sql(repo, "SELECT count(*) AS n FROM t")
    refused(arbor(repo, "table", "import", "-u", "t", str(tmp_path / "a.csv")), "error:")
    assert sql(repo, "SELECT count(*) AS n FROM t") == before


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_formats_and_as_of(labels, tmp_path, fmt):
    sql(labels, "DELETE FROM labels WHERE id > 1")
    path = tmp_path / f"out.{fmt}"
    ok(arbor(labels, "table", "export", "--as-of", "HEAD", "labels", str(path)))
    ok(arbor(labels, "table", "import", "-c", "--pk", "id", "copy", str(path)))
    assert sql(labels, "SELECT count(*) AS n FROM copy") == "n\n4\n"
    refused(arbor(labels, "table", "export", "labels", str(path)), "already exists")
    ok(arbor(labels, "table", "export", "-f", "labels", str(path)))


# --- sql ----------------------------------------------------------------------------------------


def test_sql_query_formats(labels):
    table = ok(arbor(labels, "sql", "-q", "SELECT id, label FROM labels WHERE id = 1"))
    assert (
        table == "+----+-------+\n| id | label |\n+----+-------+\n|  1 | cat   |\n+----+-------+\n"
    )
    assert json.loads(sql(labels, "SELECT id FROM labels WHERE id = 1", "json")) == {
        "rows": [{"id": 1}]
    }
    assert (
        sql(labels, "SELECT id FROM labels WHERE id = 1", "sql")
        == 'INSERT INTO "result" ("id") VALUES (1);\n'
    )
    assert (
        ok(arbor(labels, "sql", "-q", "UPDATE labels SET score = 0 WHERE id < 3"))
        == "Query OK, 2 rows affected\n"
    )
    refused(arbor(labels, "sql", "-q", "SELEC 1"), "cannot parse SQL")
    refused(arbor(labels, "sql", "-q", "SELECT * FROM nope"), "nope")


def test_sql_script_on_stdin_and_as_of(labels):
    ok(arbor(labels, "tag", "v1"))
    script = (
        "UPDATE labels SET label = 'cat';\n"
        "-- comment; with a semicolon\n"
        "SELECT count(*) AS n FROM labels AS OF 'v1' WHERE label = 'cat';"
    )
    out = ok(arbor(labels, "sql", "-r", "csv", input=script))
    assert out == "n\n2\n"
    failing = (
        "UPDATE labels SET score = 5 WHERE id = 1;\n"
        "SELECT * FROM nope;\n"
        "UPDATE labels SET score = 6 WHERE id = 1;"
    )
    refused(arbor(labels, "sql", input=failing), "nope")
    assert (
        sql(labels, "SELECT score FROM labels WHERE id = 1") == "score\n5\n"
    )  # stopped at the error


# --- gc, fsck, demo, help -----------------------------------------------------------------------


def test_gc_and_fsck(labels):
    assert ok(arbor(labels, "sql", "-q", "UPDATE labels SET score = 1")) is not None
    assert ok(arbor(labels, "sql", "-q", "UPDATE labels SET score = 2")) is not None
    first = ok(arbor(labels, "gc"))  # the first update's working root is garbage
    assert re.fullmatch(
        r"Garbage collection done: deleted [1-9][\d,]* chunk\(s\), [\d,.]+ "
        r"(bytes|KiB|MiB); kept [1-9][\d,]*\.\n",
        first,
    ), first
    again = ok(arbor(labels, "gc"))
    assert again.startswith("Garbage collection done: deleted 0 chunk(s), 0 bytes; kept"), again
    assert ok(arbor(labels, "fsck")) == "No problems found.\n"


def test_demo_tells_the_label_story(tmp_path):
    out = ok(arbor(tmp_path, "demo", str(tmp_path / "demo")))
    assert "$ arbor table import --create --pk id labels labels.csv" in out
    assert "label: cat -> dog" in out
    assert "tag: v1" in out
    assert "Done." in out
    assert ok(arbor(tmp_path / "demo", "tag")) == "v1\n"
    refused(arbor(tmp_path, "demo", str(tmp_path / "demo")), "already holds a repository")


def test_unknown_command_and_flag_are_usage_errors(repo):
    ran = arbor(repo, "nope")
    assert ran.code == 2 and "No such command 'nope'" in ran.err
    ran = arbor(repo, "log", "--bogus")
    assert ran.code == 2 and "No such option" in ran.err


def test_import_update_with_some_columns_keeps_the_others(labels, tmp_path):
    (tmp_path / "fix.csv").write_text("id,label\n1,lynx\n9,newt\n")
    ok(arbor(labels, "table", "import", "--update", "labels", str(tmp_path / "fix.csv")))
    rows = sql(labels, "SELECT id, label, score FROM labels WHERE id IN (1, 9) ORDER BY id")
    assert rows == "id,label,score\n1,lynx,0.9\n9,newt,\n"


@pytest.mark.parametrize("side, label", [("--ours", "bird"), ("--combine", None)])
def test_resolve_ours_or_combine(labels, side, label):
    _diverge(labels)
    assert arbor(labels, "merge", "other").code == 1
    ok(arbor(labels, "conflicts", "resolve", side, "labels"))
    assert "conflict:" not in ok(arbor(labels, "status"))
    ok(arbor(labels, "commit", "-m", f"merge {side}"))
    got = sql(labels, "SELECT label FROM labels WHERE id = 1").split("\n")[1]
    assert got == label if label else got in ("bird", "fish")
