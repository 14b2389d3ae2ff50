"""The connection's dialect end to end: SQLite, MySQL or Postgres statements run, and the
version-control additions work in each."""

from __future__ import annotations

import pytest

import arbordb

from .conftest import rows


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "mysql", "postgres"])
def test_version_control_in_every_dialect(path, dialect):
    with arbordb.connect(path, dialect=dialect, autocommit=True) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20))")
        cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        cur.execute("CALL dolt_commit('-Am', 'first')")
        cur.execute("UPDATE t SET name = 'z' WHERE id = 1")
        assert rows(cur, "SELECT name FROM t AS OF 'HEAD' WHERE id = 1") == [("a",)]
        assert rows(cur, "SELECT count(*) FROM dolt_diff('HEAD', 'WORKING', 't')") == [(1,)]
        assert rows(cur, "SELECT name FROM t WHERE id = ?", [1]) == [("z",)]


def test_sqlite(path):
    with arbordb.connect(path, dialect="sqlite") as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        cur.execute("INSERT INTO t VALUES (1, 'a')")
        cur.execute("INSERT OR REPLACE INTO t VALUES (1, 'b')")
        cur.execute("REPLACE INTO t VALUES (2, 'c')")
        cur.execute("INSERT OR IGNORE INTO t VALUES (2, 'ignored')")
        assert rows(cur, "SELECT id, v FROM t ORDER BY id LIMIT 1, 1") == [(2, "c")]
        assert rows(cur, "SELECT group_concat(v, '-') FROM t") == [("b-c",)]


def test_mysql(path):
    with arbordb.connect(path, dialect="mysql") as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE `t` (`id` INT PRIMARY KEY, `v` VARCHAR(10))")
        cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        cur.execute("INSERT INTO t VALUES (1, 'x') ON DUPLICATE KEY UPDATE v = VALUES(v)")
        cur.execute("INSERT IGNORE INTO t VALUES (2, 'ignored')")
        assert rows(cur, "SELECT `id`, IFNULL(v, '-') FROM t ORDER BY id LIMIT 0, 5") == [
            (1, "x"),
            (2, "b"),
        ]
        assert rows(cur, "SELECT * FROM `t` AS OF 'WORKING' WHERE id = 2") == [(2, "b")]


def test_postgres(path):
    with arbordb.connect(path, dialect="postgres") as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT, n NUMERIC(6, 2))")
        cur.execute("INSERT INTO t VALUES (1, 'a', 1.5) ON CONFLICT (id) DO NOTHING")
        cur.execute(
            "INSERT INTO t VALUES (1, 'b', 2) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v"
        )
        assert rows(cur, "SELECT v, n::TEXT, v || '!' FROM t") == [("b", "1.50", "b!")]
        assert rows(cur, "SELECT string_agg(v, ',') FROM t") == [("b",)]
