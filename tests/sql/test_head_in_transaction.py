"""HEAD inside a transaction is the commit the transaction started on, in every spelling
(issue 10 item 12): another connection's commit on the same branch does not show
through until this transaction ends."""

from __future__ import annotations

import pytest

import arbordb


@pytest.fixture
def two(path):
    """Connection ``a`` inside a transaction begun on commit ``c1`` of main; connection
    ``b`` has since committed ``c2`` on main. Yields (a cursor, c1 hash, c2 hash, c0)."""
    setup = arbordb.connect(path)
    setup.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR)")
    setup.execute("INSERT INTO t VALUES (1, 'one')")
    setup.execute("CALL dolt_commit('-Am', 'c1')")
    setup.commit()
    setup.close()
    a = arbordb.connect(path)
    cur = a.cursor()
    c1 = cur.execute("SELECT dolt_hashof('HEAD')").fetchone()[0]  # begins the transaction
    c0 = cur.execute("SELECT dolt_hashof('HEAD~1')").fetchone()[0]
    b = arbordb.connect(path)
    b.execute("INSERT INTO t VALUES (2, 'two')")
    b.execute("CALL dolt_commit('-am', 'c2')")
    b.commit()
    c2 = b.execute("SELECT dolt_hashof('HEAD')").fetchone()[0]
    b.close()
    assert c2 != c1
    yield a, cur, c0, c1, c2
    a.close()


def test_as_of_head_reads_the_transactions_commit(two):
    _, cur, *_ = two
    assert cur.execute("SELECT id FROM t AS OF 'HEAD' ORDER BY id").fetchall() == [(1,)]
    assert cur.execute("SELECT id FROM t AS OF 'head' WHERE id = 2").fetchall() == []


def test_head_ancestors_count_from_the_transactions_commit(two):
    _, cur, c0, c1, _ = two
    assert cur.execute("SELECT dolt_hashof('HEAD~1'), dolt_hashof('HEAD^')").fetchall() == [
        (c0, c0)
    ]
    with pytest.raises(arbordb.ProgrammingError, match="not found"):
        cur.execute("SELECT count(*) FROM t AS OF 'HEAD~1'")  # c0 has no table t


def test_hashof_head(two):
    _, cur, _, c1, _ = two
    assert cur.execute("SELECT dolt_hashof('HEAD'), hashof('HEAD')").fetchall() == [(c1, c1)]


def test_dolt_log_starts_at_the_transactions_commit(two):
    _, cur, _, c1, _ = two
    assert cur.execute("SELECT commit_hash FROM dolt_log LIMIT 1").fetchall() == [(c1,)]
    assert cur.execute("SELECT commit_hash FROM dolt_log('HEAD') LIMIT 1").fetchall() == [(c1,)]


def test_dolt_diff_from_head(two):
    _, cur, *_ = two
    rows = cur.execute("SELECT to_id, diff_type FROM dolt_diff('HEAD', 'WORKING', 't')")
    assert rows.fetchall() == []  # WORKING is the transaction's, equal to its HEAD
    rows = cur.execute("SELECT to_id, diff_type FROM dolt_diff('HEAD~1', 'HEAD', 't')")
    assert rows.fetchall() == [(1, "added")]
    cur.execute("SELECT count(*) FROM dolt_diff_summary('HEAD', 'WORKING')")
    assert cur.fetchall() == [(0,)]


def test_after_the_transaction_head_is_the_branchs_new_commit(two):
    a, cur, _, _, c2 = two
    a.rollback()
    assert cur.execute("SELECT dolt_hashof('HEAD')").fetchall() == [(c2,)]
    assert cur.execute("SELECT id FROM t AS OF 'HEAD' ORDER BY id").fetchall() == [(1,), (2,)]


def test_branch_and_tag_start_at_the_transactions_head(two):
    _, cur, _, c1, _ = two
    cur.execute("CALL dolt_branch('from_head')")
    cur.execute("CALL dolt_branch('from_parent', 'HEAD~1')")
    cur.execute("CALL dolt_tag('v1')")
    found = cur.execute(
        "SELECT dolt_hashof('from_head'), dolt_hashof('v1'), dolt_hashof('from_parent')"
    ).fetchall()
    assert found == [(c1, c1, cur.execute("SELECT dolt_hashof('HEAD~1')").fetchone()[0])]
