"""The PEP 249 surface of arbordb: module globals, exceptions, connection and cursor."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pyarrow as pa
import pytest

import arbordb


def test_module_globals():
    assert arbordb.apilevel == "2.0"
    assert arbordb.threadsafety == 1
    assert arbordb.paramstyle == "qmark"


def test_exception_hierarchy():
    assert issubclass(arbordb.Error, Exception)
    assert issubclass(arbordb.Warning, Exception)
    assert not issubclass(arbordb.Warning, arbordb.Error)
    for name in ("InterfaceError", "DatabaseError"):
        assert issubclass(getattr(arbordb, name), arbordb.Error)
    for name in (
        "DataError",
        "OperationalError",
        "IntegrityError",
        "InternalError",
        "ProgrammingError",
        "NotSupportedError",
    ):
        assert issubclass(getattr(arbordb, name), arbordb.DatabaseError)
    assert arbordb.Error is arbordb.sql.errors.SqlError


def test_connection_exposes_exceptions(con):
    assert con.IntegrityError is arbordb.IntegrityError
    assert con.Error is arbordb.Error


def test_type_objects_and_constructors():
    assert arbordb.NUMBER == "BIGINT" and arbordb.NUMBER == "DECIMAL(10,2)"
    assert arbordb.STRING == "VARCHAR" and arbordb.STRING != "BIGINT"
    assert arbordb.DATETIME == "TIMESTAMP" and arbordb.BINARY == "BLOB"
    assert arbordb.Date(2024, 1, 2) == datetime.date(2024, 1, 2)
    assert arbordb.Timestamp(2024, 1, 2, 3, 4, 5).hour == 3
    assert arbordb.Binary(b"x") == b"x"
    assert isinstance(arbordb.TimestampFromTicks(0), datetime.datetime)
    assert isinstance(arbordb.DateFromTicks(0), datetime.date)
    assert isinstance(arbordb.TimeFromTicks(0), datetime.time)


def test_connect_creates_repository_with_init_commit(path):
    with arbordb.connect(path) as con:
        cur = con.cursor()
        assert cur.execute("SELECT message FROM dolt_log").fetchall() == [
            ("Initialize data repository",)
        ]
        assert con.branch == "main"


def test_connect_errors(path):
    with pytest.raises(arbordb.NotSupportedError, match="use one of duckdb"):
        arbordb.connect(path, dialect="oracle")
    with pytest.raises(arbordb.ProgrammingError, match="branch 'nope' not found"):
        arbordb.connect(path, branch="nope")


@pytest.fixture
def people(cur):
    cur.execute("CREATE TABLE people (id BIGINT PRIMARY KEY, name VARCHAR, score DOUBLE)")
    cur.executemany(
        "INSERT INTO people VALUES (?, ?, ?)", [(i, f"p{i}", i * 0.5) for i in range(10)]
    )
    return cur


def test_description_and_rowcount(people):
    cur = people
    assert cur.rowcount == 10
    cur.execute("SELECT id, name, score, CAST(1.5 AS DECIMAL(4,1)) AS d FROM people")
    assert [d[0] for d in cur.description] == ["id", "name", "score", "d"]
    assert all(len(d) == 7 for d in cur.description)
    codes = [d[1] for d in cur.description]
    assert codes[0] == arbordb.NUMBER and codes[1] == arbordb.STRING
    assert codes == ["BIGINT", "VARCHAR", "DOUBLE", "DECIMAL(4,1)"]
    assert cur.rowcount == -1
    cur.execute("UPDATE people SET score = 0 WHERE id < 3")
    assert cur.rowcount == 3 and cur.description is None
    cur.execute("DELETE FROM people WHERE id >= 8")
    assert cur.rowcount == 2
    assert cur.lastrowid is None


def test_point_lookup_description_matches_general_path(people):
    cur = people
    fast = cur.execute("SELECT * FROM people WHERE id = ?", [3]).description
    slow = cur.execute("SELECT * FROM people WHERE id + 0 = ?", [3]).description
    assert fast == slow


def test_fetch_methods_and_arraysize(people):
    cur = people
    cur.execute("SELECT id FROM people ORDER BY id")
    assert cur.fetchone() == (0,)
    assert cur.arraysize == 1
    assert cur.fetchmany() == [(1,)]
    cur.arraysize = 3
    assert cur.fetchmany() == [(2,), (3,), (4,)]
    assert cur.fetchmany(2) == [(5,), (6,)]
    assert cur.fetchall() == [(7,), (8,), (9,)]
    assert cur.fetchone() is None
    assert cur.fetchall() == []


def test_iteration(people):
    cur = people
    assert [r[0] for r in cur.execute("SELECT id FROM people WHERE id < 3 ORDER BY id")] == [
        0,
        1,
        2,
    ]


def test_fetch_arrow_and_df(people):
    cur = people
    table = cur.execute("SELECT id, name FROM people ORDER BY id").fetch_arrow()
    assert isinstance(table, pa.Table) and table.num_rows == 10
    assert table.column("name")[0].as_py() == "p0"
    cur.execute("SELECT id FROM people ORDER BY id")
    cur.fetchone()
    assert cur.fetch_arrow().num_rows == 9  # the rows not fetched yet
    df = cur.execute("SELECT * FROM people WHERE id = 4").fetch_df()
    assert list(df.columns) == ["id", "name", "score"] and df.iloc[0]["name"] == "p4"


def test_qmark_and_named_parameters(people):
    cur = people
    assert cur.execute("SELECT name FROM people WHERE id = ?", (2,)).fetchall() == [("p2",)]
    assert cur.execute("SELECT name FROM people WHERE id = $id", {"id": 3}).fetchall() == [("p3",)]
    with pytest.raises(arbordb.ProgrammingError, match="2 parameter"):
        cur.execute("SELECT ?", (1, 2))
    with pytest.raises(arbordb.ProgrammingError, match="mapping"):
        cur.execute("SELECT ?", {"a": 1})


def test_parameter_types_round_trip(cur):
    cur.execute(
        "CREATE TABLE v (id INT PRIMARY KEY, d DATE, ts TIMESTAMP, n DECIMAL(6,2), b BLOB, "
        "f FLOAT[])"
    )
    values = (
        1,
        datetime.date(2024, 5, 6),
        datetime.datetime(2024, 5, 6, 7, 8, 9),
        Decimal("12.34"),
        b"\x00\x01",
        [1.0, 2.5],
    )
    cur.execute("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?)", values)
    assert cur.execute("SELECT * FROM v").fetchall() == [values]


def test_executemany_is_one_batch_and_atomic(cur, con):
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR)")
    cur.executemany("INSERT INTO t VALUES (?, ?)", [(i, str(i)) for i in range(1000)])
    assert cur.rowcount == 1000
    with pytest.raises(arbordb.IntegrityError):
        cur.executemany("INSERT INTO t VALUES (?, ?)", [(2000, "a"), (2001, "b"), (5, "dup")])
    assert cur.execute("SELECT count(*) FROM t").fetchone() == (1000,)
    cur.executemany("UPDATE t SET v = ? WHERE id = ?", [("x", 1), ("y", 2)])
    assert cur.rowcount == 2
    assert cur.execute("SELECT v FROM t WHERE id IN (1, 2) ORDER BY id").fetchall() == [
        ("x",),
        ("y",),
    ]


def test_executemany_casts_through_duckdb_when_types_differ(cur):
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, x DOUBLE, d DATE)")
    cur.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1, 1, "2024-01-01"), (2, 2, "2024-01-02")])
    assert cur.execute("SELECT * FROM t ORDER BY id").fetchall() == [
        (1, 1.0, datetime.date(2024, 1, 1)),
        (2, 2.0, datetime.date(2024, 1, 2)),
    ]


def test_fetch_without_result_is_an_error(cur):
    cur.execute("CREATE TABLE t (id INT)")
    with pytest.raises(arbordb.ProgrammingError, match="no result"):
        cur.fetchall()


def test_closed_cursor_and_connection(path):
    con = arbordb.connect(path)
    cur = con.cursor()
    with con.cursor() as other:
        other.execute("SELECT 1")
    assert other.closed
    with pytest.raises(arbordb.InterfaceError):
        other.execute("SELECT 1")
    cur.close()
    with pytest.raises(arbordb.InterfaceError):
        cur.fetchall()
    con.close()
    con.close()  # closing twice is allowed
    with pytest.raises(arbordb.InterfaceError):
        con.cursor()
    with pytest.raises(arbordb.InterfaceError):
        con.commit()


def test_several_cursors_keep_their_results(people, con):
    a = people
    b = con.cursor()
    a.execute("SELECT id FROM people ORDER BY id")
    assert a.fetchone() == (0,)
    b.execute("SELECT count(*) FROM people")
    assert b.fetchone() == (10,)
    assert a.fetchone() == (1,)  # a's result survived b's query
    assert len(a.fetchall()) == 8


def test_multiple_statements_return_the_last_result(cur):
    cur.execute("CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2); SELECT sum(a) FROM t")
    assert cur.fetchall() == [(3,)]


def test_every_error_is_an_arbordb_error(cur):
    for sql in (
        "SELEC 1",
        "SELECT * FROM missing",
        "SELECT 1/0::INT + 'x'",
        "CALL dolt_commit()",
        "SELECT * FROM dolt_diff('nope', 'HEAD', 't')",
    ):
        with pytest.raises(arbordb.Error):
            cur.execute(sql).fetchall()


def test_show_tables_and_describe(cur):
    cur.execute("CREATE TABLE b (id INT PRIMARY KEY, v VARCHAR NOT NULL UNIQUE)")
    cur.execute("CREATE TABLE a (x INT)")
    assert cur.execute("SHOW TABLES").fetchall() == [("a",), ("b",)]
    assert cur.execute("DESCRIBE b").fetchall() == [
        ("id", "INTEGER", "NO", "PRI", None, None),
        ("v", "VARCHAR", "NO", "UNI", None, None),
    ]


def test_callproc(cur):
    assert cur.callproc("dolt_branch", ["from_callproc"]) == ["from_callproc"]
    assert cur.fetchall() == [(0,)]
    assert cur.execute("SELECT count(*) FROM dolt_branches").fetchone() == (2,)


def test_error_messages_name_the_users_tables(cur):
    cur.execute("CREATE TABLE people (id INT PRIMARY KEY)")
    with pytest.raises(arbordb.ProgrammingError) as caught:
        cur.execute("SELECT nope FROM people WHERE id > 0")
    assert "__arbor" not in str(caught.value)


def test_key_lookups_and_ranges_read_the_tree_not_the_table(people, monkeypatch):
    from arbordb.sql.read import relations

    cur = people

    def refuse(table):
        raise AssertionError("decoded the whole table")

    monkeypatch.setattr(relations, "table_arrow", refuse)
    assert cur.execute("SELECT name FROM people WHERE id = ?", [4]).fetchall() == [("p4",)]
    assert cur.execute("SELECT count(*) FROM people WHERE id BETWEEN 2 AND 5").fetchall() == [(4,)]
    assert cur.execute("SELECT id FROM people WHERE id IN (1, 3) ORDER BY id").fetchall() == [
        (1,),
        (3,),
    ]
    assert cur.execute("SELECT max(id) FROM people WHERE id < 3 AND score >= 0").fetchall() == [
        (2,)
    ]
    cur.execute("UPDATE people SET score = -1 WHERE id = 7")
    cur.execute("DELETE FROM people WHERE id = 8")
    monkeypatch.undo()
    assert cur.execute("SELECT id, score FROM people WHERE score < 0").fetchall() == [(7, -1.0)]
    assert cur.execute("SELECT count(*) FROM people").fetchall() == [(9,)]


def test_placeholders_without_spaces(tmp_path):
    import arbordb

    with arbordb.connect(tmp_path / "r") as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (a BIGINT PRIMARY KEY, b VARCHAR, c DOUBLE)")
        cur.execute("INSERT INTO t VALUES (?,?,?)", (1, "x", 1.5))
        cur.executemany("INSERT INTO t VALUES (?,?,?)", [(2, "y", 2.5), (3, "z", None)])
        cur.execute("SELECT count(*) FROM t WHERE a>=?", (2,))
        assert cur.fetchone() == (2,)


def test_checked_out_branch_fsck_and_interrupt(tmp_path):
    import arbordb

    path = tmp_path / "r"
    with arbordb.connect(path, autocommit=True) as con:
        con.cursor().execute("CALL dolt_checkout('-b', 'feature')")
        assert arbordb.connect(path, branch=None).branch == "main"  # dolt_checkout: session only
        con.check_out()
        assert con.fsck() == []
        con.interrupt()  # nothing running: harmless
        assert con.cursor().execute("SELECT 1").fetchone() == (1,)
    again = arbordb.connect(path, branch=None)
    assert again.branch == "feature"
    again.close()
