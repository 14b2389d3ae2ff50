"""Transactions: commit, rollback, autocommit, failed statements, context managers,
and two connections racing to commit one branch (session.py invariants (1)-(4))."""

from __future__ import annotations

import pytest

import arbordb

from .conftest import rows, state


@pytest.fixture
def table(con, cur):
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR NOT NULL)")
    cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    con.commit()
    return cur


def test_commit_persists_and_rollback_discards(path, con, table):
    cur = table
    cur.execute("INSERT INTO t VALUES (3, 'c')")
    con.rollback()
    assert rows(cur, "SELECT id FROM t ORDER BY id") == [(1,), (2,)]
    cur.execute("INSERT INTO t VALUES (3, 'c')")
    con.commit()
    with arbordb.connect(path) as other:
        assert rows(other.cursor(), "SELECT count(*) FROM t") == [(3,)]


def test_close_without_commit_discards(path, con, table):
    table.execute("INSERT INTO t VALUES (3, 'c')")
    con.close()
    with arbordb.connect(path) as other:
        assert rows(other.cursor(), "SELECT count(*) FROM t") == [(2,)]


def test_rollback_never_undoes_a_version_commit(con, table):
    cur = table
    cur.execute("CALL dolt_commit('-Am', 'two rows')")
    cur.execute("INSERT INTO t VALUES (3, 'c')")
    con.rollback()
    assert rows(cur, "SELECT message FROM dolt_log LIMIT 1") == [("two rows",)]
    assert rows(cur, "SELECT count(*) FROM t") == [(2,)]


def test_failed_statement_changes_nothing_and_session_stays_usable(con, table):
    cur = table
    cur.execute("INSERT INTO t VALUES (3, 'c')")  # an open transaction
    for sql in (
        "INSERT INTO t VALUES (4, 'd'), (1, 'dup')",
        "INSERT INTO t VALUES (5, NULL)",
        "UPDATE t SET id = 2 WHERE id = 1",
        "DROP TABLE t; DROP TABLE missing",
        "SELECT * FROM missing",
        "INSERT INTO t VALUES (6, 'x'); INSERT INTO t VALUES ('notanint', 'y')",
    ):
        before = state(con)
        with pytest.raises(arbordb.Error):
            cur.execute(sql)
        if ";" not in sql:
            assert state(con) == before
    con.rollback()  # undo the statements before the failing one of each text
    cur.execute("INSERT INTO t VALUES (3, 'c')")
    assert rows(cur, "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]


def test_failed_statement_inside_text_keeps_earlier_statements(con, table):
    cur = table
    with pytest.raises(arbordb.IntegrityError):
        cur.execute("INSERT INTO t VALUES (3, 'c'); INSERT INTO t VALUES (1, 'dup')")
    assert rows(cur, "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]


def test_autocommit_persists_each_statement(path, table):
    with arbordb.connect(path, autocommit=True) as auto:
        auto.cursor().execute("INSERT INTO t VALUES (3, 'c')")
        with arbordb.connect(path) as other:
            assert rows(other.cursor(), "SELECT count(*) FROM t") == [(3,)]
        with pytest.raises(arbordb.IntegrityError):
            auto.cursor().execute("INSERT INTO t VALUES (3, 'again')")
    with arbordb.connect(path) as other:
        assert rows(other.cursor(), "SELECT count(*) FROM t") == [(3,)]


def test_begin_suspends_autocommit_until_commit(path, table):
    with arbordb.connect(path, autocommit=True) as auto:
        cur = auto.cursor()
        cur.execute("BEGIN")
        cur.execute("INSERT INTO t VALUES (3, 'c')")
        cur.execute("ROLLBACK")
        assert rows(cur, "SELECT count(*) FROM t") == [(2,)]
        cur.execute("BEGIN; INSERT INTO t VALUES (3, 'c'); COMMIT")
        assert rows(cur, "SELECT count(*) FROM t") == [(3,)]


def test_setting_autocommit_commits_the_open_transaction(path, con, table):
    table.execute("INSERT INTO t VALUES (3, 'c')")
    con.autocommit = True
    with arbordb.connect(path) as other:
        assert rows(other.cursor(), "SELECT count(*) FROM t") == [(3,)]


def test_context_manager_commits_on_success_and_rolls_back_on_error(path, table):
    with arbordb.connect(path) as con:
        con.cursor().execute("INSERT INTO t VALUES (3, 'c')")
    assert con.closed
    with pytest.raises(ZeroDivisionError):
        with arbordb.connect(path) as con:
            con.cursor().execute("INSERT INTO t VALUES (4, 'd')")
            raise ZeroDivisionError
    assert con.closed
    with arbordb.connect(path) as con:
        assert rows(con.cursor(), "SELECT id FROM t ORDER BY id") == [(1,), (2,), (3,)]


def test_two_connections_committing_one_branch(path, table):
    first, second = arbordb.connect(path), arbordb.connect(path)
    a, b = first.cursor(), second.cursor()
    a.execute("INSERT INTO t VALUES (10, 'first')")
    b.execute("INSERT INTO t VALUES (20, 'second')")
    first.commit()
    with pytest.raises(arbordb.OperationalError, match="run the transaction again") as caught:
        second.commit()
    assert caught.value.retryable
    assert rows(b, "SELECT id FROM t WHERE id >= 10") == [(10,)]  # nothing lost, fresh state
    b.execute("INSERT INTO t VALUES (20, 'second')")  # the retry succeeds
    second.commit()
    first.close()
    second.close()
    with arbordb.connect(path) as con:
        assert rows(con.cursor(), "SELECT id FROM t WHERE id >= 10 ORDER BY id") == [(10,), (20,)]


def test_a_transaction_reads_one_snapshot(path, con, table):
    cur = table
    assert rows(cur, "SELECT count(*) FROM t") == [(2,)]
    with arbordb.connect(path, autocommit=True) as other:
        other.cursor().execute("INSERT INTO t VALUES (3, 'c')")
    assert rows(cur, "SELECT count(*) FROM t") == [(2,)]  # same transaction, same snapshot
    con.commit()
    assert rows(cur, "SELECT count(*) FROM t") == [(3,)]  # a new transaction sees it


def test_read_only_connection_refuses_writes(path, table, con):
    con.close()
    with arbordb.connect(path, read_only=True) as ro:
        cur = ro.cursor()
        assert rows(cur, "SELECT count(*) FROM t") == [(2,)]
        with pytest.raises(arbordb.OperationalError, match="read-only"):
            cur.execute("INSERT INTO t VALUES (3, 'c')")
        with pytest.raises(arbordb.OperationalError, match="read-only"):
            cur.execute("CALL dolt_branch('x')")
        assert rows(cur, "SELECT count(*) FROM t") == [(2,)]


def test_read_only_connection_cannot_check_out_beside_a_writable_one(path, table, con):
    table.execute("CALL dolt_branch('feature')")
    con.commit()
    with arbordb.connect(path, branch="feature", read_only=True) as ro:
        with pytest.raises(arbordb.OperationalError, match="read-only"):
            ro.check_out()
    with arbordb.connect(path, branch=None) as fresh:
        assert rows(fresh.cursor(), "SELECT active_branch()") == [("main",)]


def test_read_only_connection_opened_first_leaves_room_for_a_writable_one(path, table, con):
    con.close()
    with arbordb.connect(path, read_only=True) as ro, arbordb.connect(path) as rw:
        rw.cursor().execute("INSERT INTO t VALUES (3, 'c')")
        rw.commit()
        assert rows(ro.cursor(), "SELECT count(*) FROM t") == [(3,)]
        with pytest.raises(arbordb.OperationalError, match="read-only"):
            ro.cursor().execute("DELETE FROM t")


def test_session_state_machine(con, table):
    session = con.session
    assert session.state == "idle"
    table.execute("SELECT 1")
    assert session.state == "read"
    table.execute("INSERT INTO t VALUES (3, 'c')")
    assert session.state == "write"
    con.commit()
    assert session.state == "idle"
