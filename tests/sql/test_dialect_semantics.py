"""Dialect semantics (sql/parse/semantics.py): what an expression computes is what the connection's
dialect computes, checked against Python's sqlite3 for SQLite and against the documented
behaviour of MySQL and Postgres."""

from __future__ import annotations

import math
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb

from .conftest import rows

SETUP = [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, r REAL, s VARCHAR(10))",
    "INSERT INTO t VALUES (1, 7, 2, 2.5, 'x')",
    "INSERT INTO t VALUES (2, -7, -3, -0.5, '12')",
    "INSERT INTO t VALUES (3, 2147483647, 0, 0.0, NULL)",
    "INSERT INTO t VALUES (4, NULL, 5, NULL, '')",
]


def connected(path: str, dialect: str) -> arbordb.Connection:
    con = arbordb.connect(path, dialect=dialect, autocommit=True)
    cur = con.cursor()
    for statement in SETUP:
        cur.execute(statement)
    return con


def oracle() -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    for statement in SETUP:
        con.execute(statement)
    return con


def same(got: list[tuple], want: list[tuple]) -> bool:
    if len(got) != len(want):
        return False
    for g_row, w_row in zip(got, want, strict=True):
        for g, w in zip(g_row, w_row, strict=True):
            if isinstance(g, bool):
                g = int(g)
            if g is None or w is None:
                if g is not w:
                    return False
            elif isinstance(g, float) or isinstance(w, float):
                if not math.isclose(g, w, rel_tol=1e-12, abs_tol=1e-12):
                    return False
            elif g != w or type(g) is not type(w):
                return False
    return True


# --- SQLite, against sqlite3 --------------------------------------------------------

SQLITE_CASES = [
    # integer division truncates toward zero; / 0 is NULL
    "SELECT 7 / 2, -7 / 2, 7 / -2, 1 / 0, 7.0 / 2, 7 / 2.0",
    "SELECT a / b, b / a, a / 0, - a / + b, a / r FROM t ORDER BY id",
    "SELECT sum(a) / count(*), sum(b) / 2, max(a) / min(b) FROM t",
    "SELECT DISTINCT a / 46 FROM t ORDER BY 1",
    # NULLIF(a, b) has a's type, also in parentheses
    "SELECT NULLIF(7, 2.5) / 2, (NULLIF(a, 0)) / b, (NULLIF(53, count(*) * 1.5)) / -71 FROM t",
    # 64-bit integer arithmetic on 32-bit columns, CAST AS INTEGER is 64-bit
    "SELECT a * 3, a + a, a - -a, CAST(a AS INTEGER) * 5 FROM t ORDER BY id",
    "SELECT 2147483647 * 2, 2147483647 + 1",
    # % : NULL for 0, reals taken as integers
    "SELECT a % b, a % 0, r % 2, 7.5 % 2, -7.5 % 2, 7 % 0.5 FROM t ORDER BY id",
    # a numeric column against text: numeric-looking text is a number, other text is larger
    "SELECT a < 'x', a = '7', a > '7', a <> 'abc', 'x' > a, a = ' 7 ' FROM t ORDER BY id",
    # an expression (no affinity) against text: text is always larger
    "SELECT a + 0 = '7', a + 0 < '7' FROM t ORDER BY id",
    # a text column against numbers: a number without affinity is text, a numeric column
    # turns numeric-looking text into a number; text in arithmetic is its numeric prefix
    "SELECT s = 12, s < 20, s = '12', s > -3, s = a, s < b, s || 'a' = a, s = a + 0 FROM t",
    "SELECT s + 1, s * 2, - s, b + s FROM t ORDER BY id",
    # bare columns in aggregate queries
    "SELECT b, count(*) FROM t WHERE a = 7",
    "SELECT COALESCE(-86, a) AS v FROM t GROUP BY b ORDER BY 1",
    "SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 0 ORDER BY a",
    "SELECT COALESCE(1, u.a) FROM t, t AS u GROUP BY t.a ORDER BY 1",
]


@pytest.mark.parametrize("sql", SQLITE_CASES)
def test_sqlite_matches_sqlite3(path, sql):
    with connected(path, "sqlite") as con:
        got = rows(con.cursor(), sql)
    want = oracle().execute(sql).fetchall()
    assert same(got, want), (got, want)


_OPERANDS = st.sampled_from(["a", "b", "r", "id"]) | st.integers(-99, 99).map(str)
_OPERANDS |= st.sampled_from(["2.5", "0", "0.0", "NULL"])


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        _OPERANDS,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda e: f"(- {e})"),
            inner.map(lambda e: f"CAST({e} AS INTEGER)"),
        ),
        max_leaves=6,
    )


def test_sqlite_arithmetic_property(path):
    """Random integer/real arithmetic over columns and literals, as sqlite3 computes it.
    Values stay far from 2^63: past it SQLite turns an integer into a real, which ArborDB
    does not (it raises DataError)."""
    con = connected(path, "sqlite")
    reference = oracle()
    cur = con.cursor()
    for db in (cur, reference):
        db.execute("UPDATE t SET a = 2147 WHERE id = 3")

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_expressions(), _expressions())
    def check(first: str, second: str) -> None:
        sql = f"SELECT {first}, {second}, {first} < {second} FROM t ORDER BY id"
        got = rows(cur, sql)
        want = reference.execute(sql).fetchall()
        assert same(got, want), (sql, got, want)

    try:
        check()
    finally:
        con.close()


# --- MySQL and Postgres ------------------------------------------------------------


def test_mysql_arithmetic(path):
    with connected(path, "mysql") as con:
        cur = con.cursor()
        # / of integers is an exact division; DIV and % of 0 are NULL; 64-bit arithmetic
        assert rows(cur, "SELECT 7 / 2, 7 DIV 2, -7 DIV 2, 7 DIV 0, 7 % 0, MOD(7, 0)") == [
            (3.5, 3, -3, None, None, None)
        ]
        assert rows(cur, "SELECT a * 3, a DIV b FROM t WHERE id = 3") == [(6442450941, None)]
        # text compared with a number is read as a number: its numeric prefix, else 0
        assert rows(cur, "SELECT a = '7abc', a < 'x', a > 'x' FROM t WHERE id = 1") == [
            (True, False, True)
        ]
        assert rows(cur, "SELECT s = 12, s + 1 FROM t ORDER BY id") == [
            (False, 1.0),
            (True, 13.0),
            (None, None),
            (False, 1.0),
        ]


def test_postgres_arithmetic(path):
    with connected(path, "postgres") as con:
        cur = con.cursor()
        assert rows(cur, "SELECT 7 / 2, -7 / 2, a / b, 7.0 / 2 FROM t WHERE id = 1") == [
            (3, -3, 3, 3.5)
        ]
        for sql in ("SELECT a / 0 FROM t", "SELECT 1 % 0", "SELECT a * 3 FROM t"):
            with pytest.raises(arbordb.Error):  # division by zero; int4 out of range
                rows(cur, sql)
        with pytest.raises(arbordb.Error):
            rows(cur, "SELECT a < 'x' FROM t")


def test_duckdb_keeps_its_own_meaning(path):
    with connected(path, "duckdb") as con:
        assert rows(con.cursor(), "SELECT 7 / 2, a // b FROM t WHERE id = 1") == [(3.5, 3)]


# --- UPDATE with a column assigned twice -------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "want"),
    [
        ("sqlite", (2, 7)),  # the last assignment wins; each reads the old row
        ("mysql", (2, 8)),  # in order, each reading the ones before it
    ],
)
def test_update_assignments(path, dialect, want):
    with connected(path, dialect) as con:
        cur = con.cursor()
        cur.execute("UPDATE t SET b = 1, b = 2, a = a + 1, r = a WHERE id = 1")
        assert rows(cur, "SELECT b, r FROM t WHERE id = 1") == [want]


def test_update_assignments_oracle(path):
    sql = "UPDATE t SET b = 1, b = b + 10, a = b WHERE id < 3"
    with connected(path, "sqlite") as con:
        cur = con.cursor()
        cur.execute(sql)
        got = rows(cur, "SELECT id, a, b FROM t ORDER BY id")
    reference = oracle()
    reference.execute(sql)
    assert got == reference.execute("SELECT id, a, b FROM t ORDER BY id").fetchall()


@pytest.mark.parametrize("dialect", ["postgres", "duckdb"])
def test_update_assigning_twice_is_refused(path, dialect):
    with connected(path, dialect) as con:
        cur = con.cursor()
        before = rows(cur, "SELECT * FROM t ORDER BY id")
        with pytest.raises(arbordb.ProgrammingError, match="twice"):
            cur.execute("UPDATE t SET b = 1, b = 2")
        assert rows(cur, "SELECT * FROM t ORDER BY id") == before


# --- typing follows the schema -----------------------------------------------------


def test_statement_is_typed_again_when_the_schema_changes(path):
    with connected(path, "sqlite") as con:
        cur = con.cursor()
        query = "SELECT a / 2 FROM u"
        cur.execute("CREATE TABLE u (a INTEGER)")
        cur.execute("INSERT INTO u VALUES (7)")
        assert rows(cur, query) == [(3,)]
        cur.execute("DROP TABLE u")
        cur.execute("CREATE TABLE u (a REAL)")
        cur.execute("INSERT INTO u VALUES (7)")
        assert rows(cur, query) == [(3.5,)]


def test_views_keep_the_dialects_meaning(path):
    with connected(path, "sqlite") as con:
        cur = con.cursor()
        cur.execute("CREATE VIEW v AS SELECT a / b AS q FROM t WHERE id = 1")
        assert rows(cur, "SELECT q FROM v") == [(3,)]


def test_executemany_update_is_typed(path):
    with connected(path, "sqlite") as con:
        cur = con.cursor()
        cur.executemany("UPDATE t SET a = a / ? WHERE id = ?", [(2, 1), (2, 2)])
        assert rows(cur, "SELECT a FROM t WHERE id < 3 ORDER BY id") == [(3,), (-3,)]
