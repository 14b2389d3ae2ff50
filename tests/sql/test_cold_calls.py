"""The first CALL of a ref verb in a new process loads only what the verb needs: no
pandas (pyarrow imports it for ``pa.array`` of Python values) and not the remote
procedures' modules (issue 14, cold calls)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import arbordb

CHILD = """
import sys, arbordb
con = arbordb.connect(sys.argv[1])
cur = con.cursor()
before = set(sys.modules)
cur.execute(sys.argv[2])
print(repr(cur.fetchall()))
loaded = set(sys.modules) - before
print(sorted(m for m in loaded if m.split(".")[0] == "pandas" or "procedures.remotes" in m
             or "procedures.working" in m))
"""


@pytest.fixture
def repo(tmp_path):
    con = arbordb.connect(tmp_path, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT)")
    cur.execute("CALL dolt_commit('-Am', 'base')")
    cur.execute("CALL dolt_branch('other')")
    con.close()
    return tmp_path


@pytest.mark.parametrize(
    ("statement", "result"),
    [
        ("CALL dolt_branch('fresh')", "[(0,)]"),
        ("CALL dolt_tag('v1')", "[(0,)]"),
        ("CALL dolt_checkout('other')", "[(0, \"Switched to branch 'other'\")]"),
    ],
)
def test_first_ref_call_loads_no_pandas(repo, statement, result):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(repo), statement],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [result, "[]"]


EDIT_CHILD = """
import sys, arbordb
con = arbordb.connect(sys.argv[1])
cur = con.cursor()
before = set(sys.modules)
cur.execute("UPDATE t SET a = ? WHERE id = ?", [7, 1])
con.commit()
cur.execute("CALL dolt_commit('-am', 'edit')")
print(cur.execute("SELECT a FROM t WHERE id = 1").fetchall())
print(sorted(m for m in set(sys.modules) - before if m.split(".")[0] == "pandas"))
"""


def test_a_first_update_and_commit_load_no_pandas(repo):
    """A one-row UPDATE, COMMIT and dolt_commit in a new process (the fast path, the
    held edit applied to the tree, the commit's result row) never reach pandas, which
    was 0.3-0.4 s of the first UPDATE."""
    con = arbordb.connect(repo, autocommit=True)
    con.cursor().execute("INSERT INTO t VALUES (1, 0), (2, 0)")
    con.cursor().execute("CALL dolt_commit('-am', 'rows')")
    con.close()
    done = subprocess.run(
        [sys.executable, "-c", EDIT_CHILD, str(repo)], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == ["[(7,)]", "[]"]


def test_unknown_procedure_still_names_every_procedure(repo):
    con = arbordb.connect(repo)
    with pytest.raises(arbordb.Error, match=r"not found \(ArborDB has: .*dolt_clone.*dolt_stash"):
        con.cursor().execute("CALL dolt_nope()")
    con.close()


SYSTEM_CHILD = """
import sys, arbordb
con = arbordb.connect(sys.argv[1])
cur = con.cursor()
for statement in sys.argv[2:]:
    rows = cur.execute(statement).fetchall()
    print(len(rows) > 0, "pandas" in sys.modules, statement)
"""

SYSTEM_QUERIES = [
    "SELECT * FROM dolt_log",
    "SELECT * FROM dolt_log('--parents', '--decorate', 'short') LIMIT 5",
    "SELECT * FROM dolt_branches",
    "SELECT * FROM dolt_status",
    "SELECT * FROM dolt_tags",
    "SELECT * FROM dolt_commits",
    "SELECT count(*) FROM dolt_commit_ancestors",
    "SELECT * FROM dolt_diff",
    "SELECT * FROM dolt_diff('HEAD~1', 'HEAD', 't')",
    "SELECT * FROM dolt_diff_t",
    "SELECT * FROM dolt_diff_stat('HEAD~1', 'HEAD')",
    "SELECT * FROM dolt_diff_summary('HEAD~1', 'HEAD')",
    "SELECT * FROM dolt_patch('HEAD~1', 'WORKING')",
    "SELECT * FROM dolt_schema_diff('v1', 'HEAD')",
    "SELECT * FROM dolt_column_diff",
    "SELECT * FROM dolt_history_t",
    "SELECT * FROM dolt_blame_t",
    "SELECT * FROM dolt_branch_status('main', 'other')",
    "SELECT * FROM dolt_reflog()",
    "SELECT l.message, count(*) FROM dolt_log l JOIN dolt_commit_ancestors a"
    " ON l.commit_hash = a.commit_hash GROUP BY 1",
]


def test_system_tables_load_no_pandas(repo):
    """History, refs and diffs read in a new process never reach pandas: their columns
    are built on buffers, and compute functions get Arrow scalars, not Python values."""
    con = arbordb.connect(repo, autocommit=True)
    cur = con.cursor()
    cur.execute("CALL dolt_tag('v1')")
    cur.execute("ALTER TABLE t ADD COLUMN s VARCHAR")
    cur.execute("INSERT INTO t VALUES (1, 1, 'x'), (2, 2, 'y')")
    cur.execute("CALL dolt_commit('-Am', 'rows')")
    cur.execute("UPDATE t SET a = 5, s = NULL WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'edit')")
    cur.execute("INSERT INTO t VALUES (3, 3, 'z')")  # a working change
    con.close()
    assert in_new_process(repo, SYSTEM_QUERIES) == [["True", "False", q] for q in SYSTEM_QUERIES]


def in_new_process(repo, statements: list[str]) -> list[list[str]]:
    """Per statement run by SYSTEM_CHILD in one new process: whether it answered rows,
    whether pandas was loaded by then, the statement."""
    done = subprocess.run(
        [sys.executable, "-c", SYSTEM_CHILD, str(repo), *statements],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split(" ", 2) for line in done.stdout.splitlines()]


CONFLICT_STEPS = [
    "CALL dolt_merge('other')",
    "SELECT * FROM dolt_conflicts_t",
    "SELECT * FROM dolt_conflicts",
    "CALL dolt_conflicts_resolve('--combine', 't')",
    "SELECT * FROM dolt_conflicts",  # none left: no rows
]


def test_a_conflicted_merge_and_its_resolution_load_no_pandas(repo):
    """A merge that stops on conflicts, reading them and resolving them, in a new
    process: the conflict rows are built on buffers too."""
    con = arbordb.connect(repo, autocommit=True)
    cur = con.cursor()
    cur.execute("INSERT INTO t VALUES (1, 1), (2, 2)")
    cur.execute("CALL dolt_commit('-am', 'rows')")
    cur.execute("CALL dolt_checkout('other')")
    cur.execute("CALL dolt_merge('main')")
    cur.execute("UPDATE t SET a = 20 WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'theirs')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("UPDATE t SET a = 30 WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'ours')")
    con.close()
    has_rows = ["True"] * 4 + ["False"]
    assert in_new_process(repo, CONFLICT_STEPS) == [
        [rows, "False", q] for rows, q in zip(has_rows, CONFLICT_STEPS, strict=True)
    ]
