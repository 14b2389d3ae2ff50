"""DDL and DML: types, constraints (refused whole, repository unchanged), upserts,
views, indexes, keyless tables and ALTER TABLE."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import arbordb

from .conftest import rows, state


@pytest.fixture
def items(cur):
    cur.execute(
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR NOT NULL, qty INT CHECK (qty >= 0), "
        "code VARCHAR UNIQUE, price DECIMAL(8,2) DEFAULT 1.50, "
        "added DATE DEFAULT DATE '2024-01-01')"
    )
    cur.execute("INSERT INTO items (id, name, qty, code) VALUES (1, 'a', 1, 'A'), (2, 'b', 2, 'B')")
    return cur


def test_types_round_trip(cur):
    cur.execute(
        "CREATE TABLE t (i TINYINT, s SMALLINT, n INTEGER, b BIGINT, u UBIGINT, f FLOAT, "
        "d DOUBLE, m DECIMAL(10,3), v VARCHAR, ok BOOLEAN, day DATE, at TIMESTAMP, raw BLOB, "
        "j JSON, l INTEGER[], e FLOAT[3])"
    )
    cur.execute(
        "INSERT INTO t VALUES (1, 2, 3, 4, 5, 1.5, 2.5, 3.125, 'x', true, DATE '2024-02-03', "
        "TIMESTAMP '2024-02-03 04:05:06', '\\x01'::BLOB, '{\"k\": [1, 2]}', [1, 2], [1, 2, 3])"
    )
    (row,) = rows(cur, "SELECT * FROM t")
    assert row[:10] == (1, 2, 3, 4, 5, 1.5, 2.5, Decimal("3.125"), "x", True)
    assert row[10] == datetime.date(2024, 2, 3)
    assert row[11] == datetime.datetime(2024, 2, 3, 4, 5, 6)
    assert row[13] == '{"k": [1, 2]}' and row[14] == [1, 2] and list(row[15]) == [1.0, 2.0, 3.0]
    assert rows(cur, "SELECT j->>'$.k[1]', typeof(j), typeof(e) FROM t") == [
        ("2", "JSON", "FLOAT[3]")
    ]
    types = [d[1] for d in cur.execute("SELECT * FROM t").description]
    assert types[:4] == ["TINYINT", "SMALLINT", "INTEGER", "BIGINT"]
    assert types[-3:] == ["JSON", "INTEGER[]", "FLOAT[3]"]


def test_unsupported_types_and_constraints_are_refused(cur):
    with pytest.raises(arbordb.NotSupportedError, match="column 'x'"):
        cur.execute("CREATE TABLE t (x INTERVAL)")
    with pytest.raises(arbordb.NotSupportedError):
        cur.execute("CREATE TABLE t (x INT REFERENCES other(y))")
    with pytest.raises(arbordb.ProgrammingError, match="reserved"):
        cur.execute("CREATE TABLE dolt_mine (x INT)")


def test_defaults(items):
    cur = items
    assert rows(cur, "SELECT price, added FROM items WHERE id = 1") == [
        (Decimal("1.50"), datetime.date(2024, 1, 1))
    ]
    cur.execute("INSERT INTO items (id, name, qty, price) VALUES (3, 'c', 0, 9)")
    assert rows(cur, "SELECT price FROM items WHERE id = 3") == [(Decimal("9.00"),)]


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("INSERT INTO items (id, name, qty) VALUES (1, 'dup', 0)", "IntegrityError", "duplicate"),
        (
            "INSERT INTO items (id, name, qty) VALUES (3, 'c', 0), (3, 'd', 0)",
            "IntegrityError",
            "more than once",
        ),
        ("INSERT INTO items (id, name, qty) VALUES (3, NULL, 0)", "IntegrityError", "NOT NULL"),
        ("INSERT INTO items (id, name, qty) VALUES (3, 'c', -1)", "IntegrityError", "CHECK"),
        (
            "INSERT INTO items (id, name, qty, code) VALUES (3, 'c', 0, 'A')",
            "IntegrityError",
            "UNIQUE",
        ),
        ("UPDATE items SET qty = -5 WHERE id = 2", "IntegrityError", "CHECK"),
        ("UPDATE items SET code = 'A' WHERE id = 2", "IntegrityError", "UNIQUE"),
        ("UPDATE items SET id = 1 WHERE id = 2", "IntegrityError", "duplicate"),
        ("UPDATE items SET name = NULL", "IntegrityError", "NOT NULL"),
        ("INSERT INTO items (id, name, qty) VALUES ('x', 'c', 0)", "DataError", "'x'"),
        ("INSERT INTO items (id, nope) VALUES (3, 1)", "ProgrammingError", "no column 'nope'"),
        ("INSERT INTO items VALUES (3)", "ProgrammingError", "1 values for 6 columns"),
        ("UPDATE items SET nope = 1", "ProgrammingError", "no column 'nope'"),
        ("INSERT INTO nope VALUES (1)", "ProgrammingError", "table 'nope' not found"),
        ("CREATE TABLE items (x INT)", "ProgrammingError", "already exists"),
        ("DROP TABLE nope", "ProgrammingError", "table 'nope' not found"),
    ],
)
def test_refused_statements_change_nothing(con, items, sql, error, message):
    before = state(con)
    with pytest.raises(getattr(arbordb, error), match=message):
        items.execute(sql)
    assert state(con) == before
    assert rows(items, "SELECT id, name, qty, code FROM items ORDER BY id") == [
        (1, "a", 1, "A"),
        (2, "b", 2, "B"),
    ]


def test_insert_select_and_create_table_as(items):
    cur = items
    cur.execute("CREATE TABLE copy AS SELECT id, name FROM items WHERE id > 1")
    assert rows(cur, "SELECT * FROM copy") == [(2, "b")]
    cur.execute("INSERT INTO copy SELECT id + 10, upper(name) FROM items")
    assert cur.rowcount == 2
    assert rows(cur, "SELECT * FROM copy ORDER BY id") == [(2, "b"), (11, "A"), (12, "B")]
    with pytest.raises(arbordb.ProgrammingError, match="returns 1 columns for 2"):
        cur.execute("INSERT INTO copy SELECT id FROM items")
    cur.execute("CREATE TABLE IF NOT EXISTS copy AS SELECT 1")


def test_upserts(items):
    cur = items
    cur.execute(
        "INSERT INTO items (id, name, qty) VALUES (1, 'z', 5), (3, 'c', 3) "
        "ON CONFLICT (id) DO UPDATE SET qty = items.qty + excluded.qty"
    )
    assert cur.rowcount == 2
    assert rows(cur, "SELECT id, name, qty FROM items ORDER BY id") == [
        (1, "a", 6),
        (2, "b", 2),
        (3, "c", 3),
    ]
    cur.execute(
        "INSERT INTO items (id, name, qty) VALUES (2, 'x', 0), (4, 'd', 0) ON CONFLICT DO NOTHING"
    )
    assert cur.rowcount == 1
    assert rows(cur, "SELECT name FROM items WHERE id = 2") == [("b",)]
    cur.execute(
        "INSERT INTO items (id, name, qty) VALUES (4, 'dd', 9) "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE items.qty > 100"
    )
    assert rows(cur, "SELECT name FROM items WHERE id = 4") == [("d",)]
    cur.execute("INSERT OR REPLACE INTO items (id, name, qty) VALUES (4, 'r', 1)")
    assert rows(cur, "SELECT name, qty, price FROM items WHERE id = 4") == [
        ("r", 1, Decimal("1.50"))
    ]


def test_update_and_delete(items):
    cur = items
    cur.execute("UPDATE items SET qty = qty * 10, name = name || '!' WHERE id = 2")
    assert cur.rowcount == 1
    assert rows(cur, "SELECT name, qty FROM items WHERE id = 2") == [("b!", 20)]
    cur.execute("UPDATE items SET id = id + 100")  # moves every key
    assert rows(cur, "SELECT id FROM items ORDER BY id") == [(101,), (102,)]
    cur.execute("CREATE TABLE gone (id INT PRIMARY KEY)")
    cur.execute("INSERT INTO gone VALUES (101)")
    cur.execute("DELETE FROM items USING gone WHERE items.id = gone.id")
    assert cur.rowcount == 1
    cur.execute("DELETE FROM items")
    assert cur.rowcount == 1 and rows(cur, "SELECT count(*) FROM items") == [(0,)]


def test_update_from_other_table(items):
    cur = items
    cur.execute("CREATE TABLE p (id INT PRIMARY KEY, qty INT)")
    cur.execute("INSERT INTO p VALUES (1, 7)")
    cur.execute("UPDATE items SET qty = p.qty FROM p WHERE items.id = p.id")
    assert rows(cur, "SELECT id, qty FROM items ORDER BY id") == [(1, 7), (2, 2)]


def test_keyless_tables_count_duplicates(cur):
    cur.execute("CREATE TABLE k (a INT, b VARCHAR)")
    cur.execute("INSERT INTO k VALUES (1, 'x'), (1, 'x'), (2, 'y')")
    assert rows(cur, "SELECT a, count(*) FROM k GROUP BY a ORDER BY a") == [(1, 2), (2, 1)]
    cur.execute("UPDATE k SET b = 'z' WHERE a = 1")
    assert cur.rowcount == 2
    assert rows(cur, "SELECT * FROM k ORDER BY a") == [(1, "z"), (1, "z"), (2, "y")]
    cur.execute("DELETE FROM k WHERE a = 1")
    assert rows(cur, "SELECT * FROM k") == [(2, "y")]


def test_composite_primary_key(cur):
    cur.execute("CREATE TABLE c (a INT, b VARCHAR, v INT, PRIMARY KEY (a, b))")
    cur.execute("INSERT INTO c VALUES (1, 'x', 1), (1, 'y', 2), (2, 'x', 3)")
    assert rows(cur, "SELECT v FROM c WHERE a = 1 AND b = 'y'") == [(2,)]
    assert rows(cur, "SELECT v FROM c WHERE a = 1 ORDER BY b") == [(1,), (2,)]
    with pytest.raises(arbordb.IntegrityError):
        cur.execute("INSERT INTO c VALUES (1, 'x', 9)")


def test_alter_table(items):
    cur = items
    cur.execute("ALTER TABLE items ADD COLUMN note VARCHAR DEFAULT 'n/a'")
    assert rows(cur, "SELECT note FROM items WHERE id = 1") == [("n/a",)]
    cur.execute("ALTER TABLE items RENAME COLUMN note TO remark")
    assert rows(cur, "SELECT remark FROM items WHERE id = 2") == [("n/a",)]
    cur.execute("ALTER TABLE items DROP COLUMN remark")
    with pytest.raises(arbordb.ProgrammingError):
        cur.execute("SELECT remark FROM items")
    cur.execute("ALTER TABLE items RENAME TO things")
    assert rows(cur, "SHOW TABLES") == [("things",)]
    with pytest.raises(arbordb.ProgrammingError, match="primary-key"):
        cur.execute("ALTER TABLE things DROP COLUMN id")
    with pytest.raises(arbordb.IntegrityError):
        cur.execute("ALTER TABLE things ADD COLUMN must INT NOT NULL")


def test_indexes(items):
    cur = items
    cur.execute("CREATE INDEX by_name ON items (name)")
    cur.execute("CREATE INDEX IF NOT EXISTS by_name ON items (name)")
    with pytest.raises(arbordb.ProgrammingError, match="already has an index"):
        cur.execute("CREATE INDEX by_name ON items (qty)")
    cur.execute("CREATE UNIQUE INDEX by_qty ON items (qty)")
    with pytest.raises(arbordb.IntegrityError, match="by_qty"):
        cur.execute("INSERT INTO items (id, name, qty) VALUES (5, 'x', 2)")
    cur.execute("DROP INDEX by_qty")
    cur.execute("INSERT INTO items (id, name, qty) VALUES (5, 'x', 2)")
    with pytest.raises(arbordb.IntegrityError, match="appears twice"):
        cur.execute("CREATE UNIQUE INDEX by_qty ON items (qty)")
    with pytest.raises(arbordb.ProgrammingError, match="index 'nope' not found"):
        cur.execute("DROP INDEX nope")


def test_views(cur):
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    cur.execute("INSERT INTO t VALUES (1, 10), (2, 20)")
    cur.execute("CREATE VIEW big (ident) AS SELECT id FROM t WHERE v > 15")
    assert rows(cur, "SELECT ident FROM big") == [(2,)]
    assert rows(cur, "SELECT type, name FROM dolt_schemas") == [("view", "big")]
    with pytest.raises(arbordb.ProgrammingError, match="already exists"):
        cur.execute("CREATE VIEW big AS SELECT 1")
    cur.execute("CREATE OR REPLACE VIEW big AS SELECT id FROM t")
    assert rows(cur, "SELECT count(*) FROM big") == [(2,)]
    with pytest.raises(arbordb.ProgrammingError, match="is a view"):
        cur.execute("INSERT INTO big VALUES (3)")
    with pytest.raises(arbordb.ProgrammingError, match="use DROP VIEW"):
        cur.execute("DROP TABLE big")
    cur.execute("CREATE TEMP VIEW mine AS SELECT v FROM t")
    assert rows(cur, "SELECT sum(v) FROM mine") == [(30,)]
    cur.execute("DROP VIEW big")
    cur.execute("DROP VIEW IF EXISTS big")
    assert rows(cur, "SHOW TABLES") == [("mine",), ("t",)]
    with pytest.raises(arbordb.ProgrammingError, match="'missing' not found"):
        cur.execute("CREATE VIEW broken AS SELECT * FROM missing")


def test_truncate(items):
    items.execute("TRUNCATE TABLE items")
    assert rows(items, "SELECT count(*) FROM items") == [(0,)]


def test_returning_is_refused(items):
    with pytest.raises(arbordb.NotSupportedError, match="RETURNING"):
        items.execute("DELETE FROM items RETURNING *")
