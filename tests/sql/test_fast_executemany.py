"""executemany of a one-row UPDATE the fast path takes runs as one batch (fastpath.py
``PointUpdate.run_many``): one row lookup, one apply, no DuckDB, with the result of
running the statements one by one (repeated keys: the last wins; a bad parameter set
anywhere refuses the whole batch and changes nothing)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.engine.table import Table
from arbordb.sql.write import dispatch

UPDATE = "UPDATE t SET label = ?, score = ? WHERE id = ?"
ROWS = 30


def _repo(path):
    con = arbordb.connect(path)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR NOT NULL, score DOUBLE)")
    cur.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, f"l{i}", float(i)) for i in range(ROWS)])
    con.commit()
    return con


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("fast_many")
    one, many = _repo(root / "one"), _repo(root / "many")
    yield one, many
    one.close()
    many.close()


def _table(con) -> list[tuple]:
    return con.cursor().execute("SELECT * FROM t ORDER BY id").fetchall()


good = st.tuples(
    st.sampled_from(["a", "bb", "a much longer label", ""]),
    st.one_of(st.none(), st.floats(allow_nan=False, width=64)),
    st.integers(0, ROWS + 5),  # some keys name no row
)
bad = st.one_of(
    st.tuples(st.none(), st.just(1.0), st.integers(0, ROWS - 1)),  # NULL in NOT NULL
    st.tuples(st.just("x"), st.just("not a number"), st.integers(0, ROWS - 1)),
    st.tuples(st.just("x"), st.just(1.0), st.just(1 << 70)),  # key out of BIGINT
    st.tuples(st.just("x"), st.just(1.0)),  # a parameter short
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.lists(good, min_size=1, max_size=12),
    broken=st.one_of(st.none(), st.tuples(st.integers(0, 12), bad)),
)
def test_batch_equals_the_statements_one_by_one(pair, params, broken):
    one, many = pair
    if broken is not None:
        at, row = broken
        params = [*params[:at], row, *params[at:]]
    before = _table(many)
    expected_error: type[Exception] | None = None
    expected_count = 0
    cur = one.cursor()
    try:
        for p in params:
            expected_count += cur.execute(UPDATE, p).rowcount
    except arbordb.Error as exc:
        expected_error = type(exc)
        one.rollback()
    expected = _table(one)
    many_cur = many.cursor()
    try:
        if expected_error is not None:
            with pytest.raises(expected_error):
                many_cur.executemany(UPDATE, params)
            assert _table(many) == before  # refused whole: nothing changed
        else:
            many_cur.executemany(UPDATE, params)
            assert many_cur.rowcount == expected_count
            assert _table(many) == expected
    finally:
        one.rollback()
        many.rollback()


def test_batch_reads_rows_once_applies_once_and_runs_no_duckdb(tmp_path, monkeypatch):
    con = _repo(tmp_path / "r")
    calls = {"find_rows": 0, "apply": 0, "update_many": 0}
    find_rows, apply = Table.find_rows, Table.apply

    def counted_find_rows(self, rows):
        calls["find_rows"] += 1
        return find_rows(self, rows)

    def counted_apply(self, *args, **kwargs):
        calls["apply"] += 1
        return apply(self, *args, **kwargs)

    def no_update_many(*args):
        calls["update_many"] += 1
        raise AssertionError("the general batch ran")

    monkeypatch.setattr(Table, "find_rows", counted_find_rows)
    monkeypatch.setattr(Table, "apply", counted_apply)
    monkeypatch.setattr(dispatch, "update_many", no_update_many)
    cur = con.cursor()
    session = con.session
    monkeypatch.setattr(
        session, "query_arrow", lambda *a, **k: pytest.fail("DuckDB ran for the batch")
    )
    params = [(f"n{i}", float(i), i % 20) for i in range(25)]  # keys 0-4 named twice
    cur.executemany(UPDATE, params)
    assert cur.rowcount == 25
    assert calls == {"find_rows": 1, "apply": 1, "update_many": 0}
    con.commit()
    rows = dict((r[0], r[1:]) for r in _table(con))
    assert rows[3] == ("n23", 23.0)  # the last statement naming id 3 wins
    assert rows[7] == ("n7", 7.0)
    assert rows[25] == ("l25", 25.0)


def test_a_bad_row_refuses_the_batch_with_the_general_paths_error(tmp_path):
    con = _repo(tmp_path / "r")
    cur = con.cursor()
    before = _table(con)
    with pytest.raises(arbordb.IntegrityError, match="label"):
        cur.executemany(UPDATE, [("a", 1.0, 1), (None, 2.0, 2), ("c", 3.0, 3)])
    assert _table(con) == before
