"""UPDATE t SET ... WHERE pk IN (...) is taken apart without parsing (sql/session/
in_list.py) and gives what DuckDB gives for the same statement on the same rows."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.sql import errors
from arbordb.sql.session import in_list, session

CREATE = "CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE, n BIGINT NOT NULL{})"
ROWS = [(i, f"l{i % 7}", i / 4 if i % 5 else None, i * 3) for i in range(40)]


def both(path, check: str = ""):
    con = arbordb.connect(path)
    duck = duckdb.connect()
    for db in (con.cursor(), duck):
        db.execute(CREATE.format(check))
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    con.commit()
    return con, duck


values = st.one_of(
    st.just(("?", "label", "zz")),
    st.just(("?", "score", 2.5)),
    st.just(("?", "n", 7)),
    st.just(("?", "n", None)),  # NOT NULL: refused by both
    st.just(("?", "score", "text")),  # not the column's type: the general path
    st.just(("'it''s'", "label", None)),
    st.just(("NULL", "label", None)),
    st.just(("NULL", "n", None)),
    st.just(("12", "n", None)),
    st.just(("-1.5", "score", None)),
    st.just(("3", "score", None)),
    st.just(("score + 1", "score", None)),
    st.just(("score - 0.25", "score", None)),
    st.just(("n + 2", "n", None)),
    st.just(("n - 9223372036854775807", "n", None)),  # overflows for negative n: general path
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(values, min_size=1, max_size=3, unique_by=lambda v: v[1]),
    st.lists(st.integers(-3, 45), min_size=1, max_size=12),
    st.sampled_from(["UPDATE", "update"]),
)
def test_in_list_updates_match_duckdb(tmp_path_factory, sets, keys, verb):
    con, duck = both(tmp_path_factory.mktemp("in") / "repo")
    try:
        assignments = ", ".join(f"{column} = {text}" for text, column, _ in sets)
        sql = f"{verb} t SET {assignments} WHERE id IN ({', '.join(map(str, keys))})"
        params = [value for text, _, value in sets if text == "?"]
        ours = con.cursor()
        try:
            ours.execute(sql, params)
            changed: object = ours.rowcount
        except errors.Error:
            changed = "error"
        try:
            duck.execute(sql, params)
            expected: object = len({k for k in keys if 0 <= k < 40})
        except duckdb.Error:
            expected = "error"
        assert changed == expected
        query = "SELECT * FROM t ORDER BY id"
        assert ours.execute(query).fetchall() == duck.execute(query).fetchall()
    finally:
        con.close()
        duck.close()


def test_the_statement_is_not_parsed(tmp_path, monkeypatch):
    """The recognizer answers before sqlglot: with parsing broken the UPDATE still runs;
    a shape it does not take (a CHECK constraint on the table) goes to the parser."""
    con, duck = both(tmp_path / "a")
    checked, _ = both(tmp_path / "b", ", CHECK (n >= 0)")
    duck.close()

    def broken(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(session, "parse", broken)
    cur = con.cursor()
    cur.execute("UPDATE t SET label = ?, score = score + 1 WHERE id IN (3, 1, 3, 99)", ["q"])
    assert cur.rowcount == 2
    assert in_list.recognize("UPDATE t SET label = 'x' WHERE id IN (1)") is not None
    with pytest.raises(errors.Error, match="parsed"):
        checked.cursor().execute("UPDATE t SET label = 'x' WHERE id IN (1, 2)")
    monkeypatch.undo()
    assert cur.execute("SELECT label, score FROM t WHERE id IN (1, 3) ORDER BY id").fetchall() == [
        ("q", 1.25),
        ("q", 1.75),
    ]
    con.close()
    checked.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE t SET label = 'x' WHERE id = 1",
        "UPDATE t SET label = 'x' WHERE id IN (1, 'a')",
        "UPDATE t SET label = 'a\\b' WHERE id IN (1)",
        "UPDATE t SET label = label || 'x' WHERE id IN (1)",
        "UPDATE t SET label = 'x' WHERE id IN (1) AND n > 0",
        'UPDATE "t" SET label = 1 WHERE id IN (1)',
        "SELECT 1",
    ],
)
def test_other_shapes_are_not_recognized(sql):
    assert in_list.recognize(sql) is None
