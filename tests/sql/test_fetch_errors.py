"""A result whose rows fail while being fetched (session.py invariant (6)): the error
is an ``arbordb.Error`` in the user's terms, rollback() still discards the transaction,
and the next statement is not affected."""

from __future__ import annotations

import pytest

import arbordb

ROWS = 50_000  # enough that DuckDB computes the failing row only when it is fetched


def _fail_while_fetching(cur, query, fetch):
    cur.execute(query)  # ... it runs ...
    with pytest.raises(arbordb.Error) as caught:
        fetch(cur)
    return caught.value


FETCHES = {
    "fetchall": lambda cur: cur.fetchall(),
    "fetchmany": lambda cur: [cur.fetchmany(1000) for _ in range(ROWS // 1000 + 2)],
    "fetchone": lambda cur: [cur.fetchone() for _ in range(ROWS + 2)],
    "fetch_arrow": lambda cur: cur.fetch_arrow(),
}


def _table_with_late_failure(con, cur) -> str:
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, s VARCHAR)")
    cur.executemany("INSERT INTO t VALUES (?, ?)", [(i, str(i)) for i in range(ROWS)])
    cur.execute("INSERT INTO t VALUES (?, 'not a number')", [ROWS])
    con.commit()
    return "SELECT CAST(s AS INT) AS n FROM t WHERE id >= 0"


@pytest.mark.parametrize("fetch", sorted(FETCHES))
def test_rollback_after_a_fetch_error_discards_the_transaction(path, con, cur, fetch):
    query = _table_with_late_failure(con, cur)
    cur.execute("INSERT INTO t VALUES (-1, 'discard me')")
    error = _fail_while_fetching(cur, query, FETCHES[fetch])
    assert isinstance(error, arbordb.DataError)
    assert "not a number" in str(error)
    con.rollback()  # must not raise, and must discard the INSERT
    con.commit()
    with arbordb.connect(path) as other:
        assert other.execute("SELECT s FROM t WHERE id < 0").fetchall() == []
    assert cur.execute("SELECT count(*) FROM t").fetchall() == [(ROWS + 1,)]


def test_a_fetch_error_does_not_poison_the_next_statement(con, cur):
    query = _table_with_late_failure(con, cur)
    cur.execute(query)
    other = con.cursor()
    # the next statement detaches the pending result; its failure is not this one's
    assert other.execute("SELECT count(*) FROM t").fetchall() == [(ROWS + 1,)]
    with pytest.raises(arbordb.DataError):
        cur.fetchall()  # the failure belongs to the result that failed
    with pytest.raises(arbordb.DataError):
        cur.fetchone()  # and stays with it
    assert cur.execute("SELECT 1").fetchall() == [(1,)]


def test_a_fetch_error_names_no_internal_relation(con, cur):
    query = _table_with_late_failure(con, cur)
    error = _fail_while_fetching(cur, query, FETCHES["fetchall"])
    text = str(error)
    assert "__arbor" not in text and "LINE 1" not in text, text
    assert error.__cause__ is not None  # the DuckDB error is kept as the cause


@pytest.mark.parametrize("rows", [2, 5_000])
def test_a_missing_column_is_named_on_the_table_the_user_wrote(cur, rows):
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR)")
    cur.executemany("INSERT INTO t VALUES (?, 'x')", [(i,) for i in range(rows)])
    with pytest.raises(arbordb.ProgrammingError) as caught:
        cur.execute("SELECT t.nope FROM t").fetchall()
    text = str(caught.value)
    assert 'Table "t"' in text and "nope" in text and "Values list" not in text, text
