"""Diff functions when the table exists at one revision only, at neither, or was dropped
and re-created in between: Dolt's answers (its dolt_queries_diff.go script tests)
(issue 10, item 13)."""

from __future__ import annotations

import pytest

import arbordb
from arbordb import Error


@pytest.fixture
def history(tmp_path):
    """c1: no t; c2: t created empty; c3: one row; c4: three rows, one updated; c5: dropped."""
    con = arbordb.connect(str(tmp_path / "r"), autocommit=True)
    cur = con.cursor()
    commits = {}

    def commit(label: str, *sql: str) -> None:
        for statement in sql:
            cur.execute(statement)
        cur.execute(f"CALL dolt_commit('-Am', '{label}', '--allow-empty')")
        commits[label] = cur.execute("SELECT dolt_hashof('HEAD')").fetchone()[0]

    commit("c1")
    commit("c2", "CREATE TABLE t (pk INT PRIMARY KEY, c1 VARCHAR, c2 VARCHAR)")
    commit("c3", "INSERT INTO t VALUES (1, 'one', 'two')")
    commit(
        "c4",
        "INSERT INTO t VALUES (2, 'two', 'three'), (3, 'three', 'four')",
        "UPDATE t SET c1 = 'uno', c2 = 'dos' WHERE pk = 1",
    )
    commit("c5", "DROP TABLE t")
    yield cur, commits
    con.close()


def _q(cur, sql: str) -> list[tuple]:
    return cur.execute(sql).fetchall()


def test_summary_of_a_table_at_neither_revision_is_empty(history):
    cur, c = history
    assert _q(cur, f"SELECT * FROM dolt_diff_summary('{c['c1']}', '{c['c5']}', 't')") == []
    assert _q(cur, f"SELECT * FROM dolt_diff_summary('{c['c1']}', '{c['c2']}', 'nope')") == []
    assert _q(cur, f"SELECT * FROM dolt_schema_diff('{c['c1']}', '{c['c5']}', 't')") == []
    assert _q(cur, f"SELECT * FROM dolt_schema_diff('{c['c1']}', '{c['c5']}', 'nope')") == []


@pytest.mark.parametrize("function", ["dolt_diff", "dolt_diff_stat", "dolt_patch"])
def test_row_functions_refuse_a_table_at_neither_revision(history, function):
    cur, c = history
    with pytest.raises(Error, match="exists neither"):
        cur.execute(f"SELECT * FROM {function}('{c['c1']}', '{c['c5']}', 't')")


def test_added_and_dropped_table_summaries(history):
    cur, c = history

    def summary(a: str, b: str) -> list[tuple]:
        return _q(cur, f"SELECT * FROM dolt_diff_summary('{c[a]}', '{c[b]}', 't')")

    assert summary("c1", "c2") == [("", "t", "added", False, True)]
    assert summary("c2", "c3") == [("t", "t", "modified", True, False)]
    assert summary("c4", "c5") == [("t", "", "dropped", True, True)]
    assert summary("c1", "c4") == [("", "t", "added", True, True)]
    assert summary("c5", "c4") == [("", "t", "added", True, True)]


def test_added_and_dropped_table_stats(history):
    cur, c = history

    def stat(a: str, b: str) -> list[tuple]:
        return _q(cur, f"SELECT * FROM dolt_diff_stat('{c[a]}', '{c[b]}', 't')")

    assert stat("c1", "c2") == []  # added empty: no data change
    assert stat("c2", "c3") == [("t", 0, 1, 0, 0, 3, 0, 0, 0, 1, 0, 3)]
    assert stat("c3", "c4") == [("t", 0, 2, 0, 1, 6, 0, 2, 1, 3, 3, 9)]
    assert stat("c4", "c5") == [("t", 0, 0, 3, 0, 0, 9, 0, 3, 0, 9, 0)]
    assert stat("c1", "c4") == [("t", 0, 3, 0, 0, 9, 0, 0, 0, 3, 0, 9)]


def test_added_and_dropped_table_patches_and_rows(history):
    cur, c = history
    patch = _q(cur, f"SELECT diff_type, statement FROM dolt_patch('{c['c4']}', '{c['c5']}', 't')")
    assert patch == [("schema", 'DROP TABLE "t";')]
    kinds = _q(cur, f"SELECT diff_type FROM dolt_diff('{c['c4']}', '{c['c5']}', 't')")
    assert kinds == [("removed",)] * 3
    kinds = _q(cur, f"SELECT diff_type FROM dolt_diff('{c['c1']}', '{c['c4']}', 't')")
    assert kinds == [("added",)] * 3
    created = _q(cur, f"SELECT diff_type FROM dolt_patch('{c['c1']}', '{c['c2']}', 't')")
    assert created == [("schema",)]


@pytest.fixture
def recreated(tmp_path):
    """t(pk INT, c INT) with two rows; dropped; re-created with other types (a new key)."""
    con = arbordb.connect(str(tmp_path / "r"), autocommit=True)
    cur = con.cursor()
    commits = []
    for sql in (
        ["CREATE TABLE t (pk INT PRIMARY KEY, c INT)", "INSERT INTO t VALUES (1, 2), (3, 4)"],
        ["DROP TABLE t"],
        ["CREATE TABLE t (pk BIGINT PRIMARY KEY, c VARCHAR)", "INSERT INTO t VALUES (1, '2')"],
        ["DROP TABLE t", "CREATE TABLE t (pk BIGINT, c VARCHAR)", "INSERT INTO t VALUES (5, 'x')"],
    ):
        for statement in sql:
            cur.execute(statement)
        cur.execute("CALL dolt_commit('-Am', 'step')")
        commits.append(cur.execute("SELECT dolt_hashof('HEAD')").fetchone()[0])
    yield cur, commits
    con.close()


@pytest.mark.parametrize(("a", "b"), [(0, 2), (2, 0), (2, 3), (3, 0)])
def test_dropped_and_recreated_table_is_modified(recreated, a, b):
    cur, commits = recreated
    x, y = commits[a], commits[b]
    assert _q(cur, f"SELECT diff_type FROM dolt_diff_summary('{x}', '{y}', 't')") == [("modified",)]
    rows = _q(cur, f"SELECT * FROM dolt_diff('{x}', '{y}', 't')")
    before = {r[0] for r in _q(cur, f"SELECT pk FROM t AS OF '{x}'")}
    after = {r[0] for r in _q(cur, f"SELECT pk FROM t AS OF '{y}'")}
    kinds = sorted(r[-1] for r in rows)
    assert kinds == sorted(["removed"] * len(before) + ["added"] * len(after))
    stat = _q(cur, f"SELECT rows_added, rows_deleted FROM dolt_diff_stat('{x}', '{y}', 't')")
    assert stat == [(len(after), len(before))]
    schema = _q(cur, f"SELECT from_table_name, to_table_name FROM dolt_schema_diff('{x}', '{y}')")
    assert schema == [("t", "t")]


def test_dropped_and_recreated_patch_applies(recreated):
    cur, commits = recreated
    statements = [
        r[0] for r in _q(cur, f"SELECT statement FROM dolt_patch('{commits[0]}', '{commits[2]}')")
    ]
    cur.execute(f"CALL dolt_checkout('-b', 'replay', '{commits[0]}')")
    for statement in statements:
        cur.execute(statement)
    assert _q(cur, "SELECT * FROM t ORDER BY pk") == _q(
        cur, f"SELECT * FROM t AS OF '{commits[2]}' ORDER BY pk"
    )
    assert _q(cur, "SELECT count(*) FROM dolt_diff_summary('WORKING', '" + commits[2] + "')") == [
        (0,)
    ]


def test_column_re_added_with_another_type_is_one_column(tmp_path):
    with arbordb.connect(str(tmp_path / "r"), autocommit=True) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (pk INT PRIMARY KEY, c INT)")
        cur.execute("INSERT INTO t VALUES (1, 2)")
        cur.execute("CALL dolt_commit('-Am', 'one')")
        cur.execute("ALTER TABLE t DROP COLUMN c")
        cur.execute("ALTER TABLE t ADD COLUMN c VARCHAR")
        cur.execute("UPDATE t SET c = 'two'")
        cur.execute("CALL dolt_commit('-Am', 'two')")
        got = _q(
            cur,
            "SELECT to_pk, to_c, from_pk, from_c, diff_type FROM dolt_diff('HEAD~', 'HEAD', 't')",
        )
        assert got == [(1, "two", 1, 2, "modified")]
    diff = arbordb.Repo(str(tmp_path / "r")).diff("HEAD~", "HEAD", "t")
    assert diff.column_names == ["to_pk", "from_pk", "to_c", "from_c", "diff_type"]
    assert diff.to_pylist() == [
        {"to_pk": 1, "from_pk": 1, "to_c": "two", "from_c": "2", "diff_type": "modified"}
    ]


def test_a_column_replaced_by_one_of_the_same_type_diffs_its_cells(tmp_path) -> None:
    """Dropping c1 and adding c2 (same type, same place) leaves equal row bytes; the diff
    must still show the rows, and the patch must carry c2's values (found by the patch
    round-trip property test)."""
    with arbordb.connect(str(tmp_path / "r"), autocommit=True) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, c1 INTEGER)")
        cur.execute("INSERT INTO t VALUES (0, 7)")
        cur.execute("CALL dolt_commit('-Am', 'a')")
        cur.execute("DROP TABLE t")
        cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, c2 INTEGER)")
        cur.execute("INSERT INTO t VALUES (0, 7)")
        cur.execute("CALL dolt_commit('-Am', 'b')")
        cur.execute("SELECT from_c1, to_c2, diff_type FROM dolt_diff('HEAD~1', 'HEAD', 't')")
        assert cur.fetchall() == [(7, 7, "modified")]
        cur.execute("SELECT statement FROM dolt_patch('HEAD~1', 'HEAD')")
        assert 'UPDATE "t" SET "c2" = 7 WHERE "id" = 0;' in [r[0] for r in cur.fetchall()]
