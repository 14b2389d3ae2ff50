"""Time travel: AS OF every revision form on any table reference, joins of revisions,
views read at a revision, and the errors that name what is missing."""

from __future__ import annotations

import datetime

import pytest

import arbordb

from .conftest import rows


@pytest.fixture
def history(path):
    """Three commits on main (1, then 2, then 3 rows), tag v1 on the first, a branch
    'feature' from the second with its own row, and an uncommitted working row."""
    con = arbordb.connect(path, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR)")
    cur.execute("INSERT INTO t VALUES (1, 'one')")
    cur.execute("CALL dolt_commit('-Am', 'c1', '--date', '2026-01-01T10:00:00')")
    cur.execute("CALL dolt_tag('v1')")
    cur.execute("INSERT INTO t VALUES (2, 'two')")
    cur.execute("CALL dolt_commit('-am', 'c2', '--date', '2026-01-02T10:00:00')")
    cur.execute("CALL dolt_branch('feature')")
    cur.execute("INSERT INTO t VALUES (3, 'three')")
    cur.execute("CALL dolt_commit('-am', 'c3', '--date', '2026-01-03T10:00:00')")
    cur.execute("CALL dolt_checkout('feature')")
    cur.execute("INSERT INTO t VALUES (20, 'feature')")
    cur.execute("CALL dolt_commit('-am', 'f1')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("UPDATE t SET v = 'ONE' WHERE id = 1")
    cur.execute("CALL dolt_add('t')")
    cur.execute("INSERT INTO t VALUES (4, 'four')")
    yield cur
    con.close()


def ids(cur, version: str, params=None) -> list[int]:
    return [r[0] for r in rows(cur, f"SELECT id FROM t AS OF {version} ORDER BY id", params)]


def test_branch_tag_and_ancestry(history):
    cur = history
    assert ids(cur, "'main'") == [1, 2, 3]
    assert ids(cur, "'feature'") == [1, 2, 20]
    assert ids(cur, "'v1'") == [1]
    assert ids(cur, "'HEAD~2'") == [1]
    assert ids(cur, "'main^'") == [1, 2]
    assert ids(cur, "'HEAD'") == [1, 2, 3]


def test_a_bare_name_is_a_revision_as_in_dolt(history):
    cur = history
    assert ids(cur, "feature") == [1, 2, 20] and ids(cur, "v1") == [1]
    assert ids(cur, '"feature"') == [1, 2, 20]  # a quoted identifier too
    with pytest.raises(arbordb.ProgrammingError, match="'nope' not found"):
        ids(cur, "nope")


def test_hash_and_prefix(history):
    cur = history
    (full,) = rows(cur, "SELECT commit_hash FROM dolt_log WHERE message = 'c2'")[0]
    assert ids(cur, f"'{full}'") == [1, 2]
    assert ids(cur, f"'{full[:8]}'") == [1, 2]
    assert ids(cur, "?", [full]) == [1, 2]  # a parameter names the revision


def test_working_and_staged(history):
    cur = history
    assert ids(cur, "'WORKING'") == [1, 2, 3, 4]
    assert ids(cur, "'STAGED'") == [1, 2, 3]
    assert rows(cur, "SELECT v FROM t AS OF 'STAGED' WHERE id = 1") == [("ONE",)]
    assert rows(cur, "SELECT v FROM t AS OF 'HEAD' WHERE id = 1") == [("one",)]


def test_timestamp(history):
    cur = history
    assert ids(cur, "TIMESTAMP '2026-01-02 12:00:00'") == [1, 2]
    assert ids(cur, "TIMESTAMP '2026-01-03 10:00:00'") == [1, 2, 3]
    assert ids(cur, "'2026-01-01 11:00:00'") == [1]  # a bare time string, as Dolt reads it
    assert ids(cur, "?", [datetime.datetime(2026, 1, 2, 11)]) == [1, 2]
    with pytest.raises(arbordb.ProgrammingError, match="no commit at or before"):
        ids(cur, "TIMESTAMP '2000-01-01 00:00:00'")


def test_join_of_two_revisions_of_one_table(history):
    cur = history
    changed = rows(
        cur,
        "SELECT n.id, o.v, n.v FROM t AS OF 'WORKING' n JOIN t AS OF 'v1' o ON n.id = o.id "
        "WHERE n.v <> o.v",
    )
    assert changed == [(1, "one", "ONE")]
    added = rows(
        cur,
        "SELECT id FROM t AS OF 'main' EXCEPT SELECT id FROM t AS OF 'feature' ORDER BY id",
    )
    assert added == [(3,)]


def test_as_of_in_subqueries_and_ctes(history):
    cur = history
    sql = (
        "WITH old AS (SELECT * FROM t AS OF 'v1') "
        "SELECT count(*) FROM t WHERE id NOT IN (SELECT id FROM old) "
        "AND id IN (SELECT id FROM t AS OF 'feature')"
    )
    assert rows(cur, sql) == [(1,)]  # id 2


def test_point_lookup_as_of(history):
    cur = history
    assert rows(cur, "SELECT v FROM t AS OF 'v1' WHERE id = ?", [1]) == [("one",)]
    assert rows(cur, "SELECT v FROM t AS OF 'v1' WHERE id = ?", [2]) == []


def test_pushdown_equals_full_scan(history):
    cur = history
    for where in ("id = 2", "id IN (1, 3, 99)", "id BETWEEN 2 AND 3", "id > 1", "id <= 2"):
        pushed = rows(cur, f"SELECT * FROM t AS OF 'main' WHERE {where} ORDER BY id")
        scanned = rows(cur, f"SELECT * FROM t AS OF 'main' WHERE {where} AND v = v ORDER BY id")
        full = rows(cur, f"SELECT * FROM (SELECT * FROM t AS OF 'main') WHERE {where} ORDER BY id")
        assert pushed == scanned == full


def test_views_at_a_revision(history):
    cur = history
    cur.execute("CREATE VIEW big AS SELECT id FROM t WHERE id >= 2")
    cur.execute("CALL dolt_commit('-Am', 'view')")
    assert rows(cur, "SELECT * FROM big ORDER BY id") == [(2,), (3,), (4,)]
    assert rows(cur, "SELECT * FROM big AS OF 'HEAD' ORDER BY id") == [(2,), (3,), (4,)]
    with pytest.raises(arbordb.ProgrammingError, match="'big' not found at revision 'v1'"):
        cur.execute("SELECT * FROM big AS OF 'v1'")


def test_missing_objects_are_named(history):
    cur = history
    with pytest.raises(arbordb.ProgrammingError, match="revision 'nope' not found"):
        cur.execute("SELECT * FROM t AS OF 'nope'")
    with pytest.raises(arbordb.ProgrammingError, match="table 'nope' not found at branch 'main'"):
        cur.execute("SELECT * FROM nope")
    cur.execute("CREATE TABLE later (x INT)")
    with pytest.raises(arbordb.ProgrammingError, match="'later' not found at revision 'v1'"):
        cur.execute("SELECT * FROM later AS OF 'v1'")


def test_history_is_read_only(history):
    with pytest.raises(arbordb.ProgrammingError, match="history is read-only"):
        history.execute("UPDATE t AS OF 'v1' SET v = 'x'")


def test_version_functions(history):
    cur = history
    (head,) = rows(cur, "SELECT dolt_hashof('HEAD')")[0]
    assert rows(cur, "SELECT commit_hash FROM dolt_log LIMIT 1") == [(head,)]
    assert rows(cur, "SELECT active_branch()") == [("main",)]
    (base,) = rows(cur, "SELECT dolt_merge_base('main', 'feature')")[0]
    assert base == rows(cur, "SELECT commit_hash FROM dolt_log WHERE message = 'c2'")[0][0]
    assert rows(cur, "SELECT count(*) FROM dolt_log WHERE commit_hash = dolt_hashof('v1')") == [
        (1,)
    ]


def test_a_revision_read_again_is_kept_by_address(history, monkeypatch):
    from arbordb.engine.tree import stream

    cur = history
    kept = cur.connection.session.relations.kept
    assert rows(cur, "SELECT count(*) FROM t AS OF 'v1'") == [(1,)]
    assert kept.copies == 0  # a first read keeps nothing
    assert rows(cur, "SELECT count(*) FROM t AS OF 'v1'") == [(1,)]
    assert kept.copies == 1 and 0 < kept.kept_bytes  # the second copies it
    decoded: list[int] = []
    monkeypatch.setattr(stream.NodeStore, "decode_some", lambda *a: decoded.append(1))
    assert rows(cur, "SELECT count(*) FROM t AS OF 'v1'") == [(1,)]
    assert decoded == [] and kept.copies == 1  # the third decodes nothing
