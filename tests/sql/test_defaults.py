"""DEFAULT in INSERT and UPDATE, DEFAULT VALUES, and ADD COLUMN ... DEFAULT filling the
rows already there (issue 10 item 15), in every dialect."""

from __future__ import annotations

import datetime

import pytest

import arbordb

DIALECTS = ["duckdb", "mysql", "postgres", "sqlite"]


@pytest.fixture(params=DIALECTS)
def dcur(request, tmp_path):
    con = arbordb.connect(str(tmp_path / "repo"), dialect=request.param)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, s VARCHAR DEFAULT 'dflt', n INT DEFAULT 7)")
    yield request.param, cur
    con.close()


def test_default_items_in_values_take_the_column_default(dcur):
    _, cur = dcur
    cur.execute("INSERT INTO t VALUES (1, DEFAULT, 5)")
    cur.execute("INSERT INTO t (id, n) VALUES (2, default)")
    cur.execute("INSERT INTO t VALUES (3, 'x', DEFAULT), (4, DEFAULT, DEFAULT)")
    cur.execute("CREATE TABLE plain (id INT PRIMARY KEY, v INT)")
    cur.execute("INSERT INTO plain VALUES (1, DEFAULT)")  # no default: NULL
    assert cur.execute("SELECT * FROM t ORDER BY id").fetchall() == [
        (1, "dflt", 5),
        (2, "dflt", 7),
        (3, "x", 7),
        (4, "dflt", 7),
    ]
    assert cur.execute("SELECT * FROM plain").fetchall() == [(1, None)]


def test_update_set_default(dcur):
    _, cur = dcur
    cur.execute("INSERT INTO t VALUES (1, 'a', 1)")
    cur.execute("UPDATE t SET s = DEFAULT, n = n + 1 WHERE id = 1")
    assert cur.execute("SELECT * FROM t").fetchall() == [(1, "dflt", 2)]


def test_default_values(dcur):
    dialect, cur = dcur
    cur.execute("CREATE TABLE d (a INT DEFAULT 1, b VARCHAR DEFAULT 'x', c DOUBLE)")
    cur.execute(
        "INSERT INTO d () VALUES ()" if dialect == "mysql" else "INSERT INTO d DEFAULT VALUES"
    )
    assert cur.execute("SELECT * FROM d").fetchall() == [(1, "x", None)]


def test_add_column_with_default_fills_existing_rows(dcur):
    _, cur = dcur
    cur.execute("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2)")
    cur.execute("CALL dolt_commit('-Am', 'two rows')")
    cur.execute("ALTER TABLE t ADD COLUMN z INT DEFAULT 5")
    cur.execute("ALTER TABLE t ADD COLUMN w VARCHAR NOT NULL DEFAULT 'ww'")
    cur.execute("ALTER TABLE t ADD COLUMN e INT DEFAULT (2 * 3)")
    cur.execute("ALTER TABLE t ADD COLUMN d DATE DEFAULT '2020-01-02'")
    cur.execute("INSERT INTO t (id) VALUES (3)")
    day = datetime.date(2020, 1, 2)
    assert cur.execute("SELECT id, z, w, e, d FROM t ORDER BY id").fetchall() == [
        (1, 5, "ww", 6, day),
        (2, 5, "ww", 6, day),
        (3, 5, "ww", 6, day),
    ]
    cur.execute("CREATE TABLE k (a INT, b VARCHAR)")  # keyless: every copy is filled
    cur.execute("INSERT INTO k VALUES (1, 'a'), (1, 'a')")
    cur.execute("ALTER TABLE k ADD COLUMN c INT DEFAULT 9")
    assert cur.execute("SELECT * FROM k").fetchall() == [(1, "a", 9), (1, "a", 9)]
