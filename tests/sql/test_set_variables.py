"""SET autocommit as Dolt and MySQL users write it, in every dialect; DuckDB's own
settings still go to DuckDB; other variables are refused by name, changing nothing
(sql/session/variables.py)."""

from __future__ import annotations

import pytest

import arbordb
from arbordb.sql.errors import NotSupportedError, ProgrammingError

DIALECTS = ["duckdb", "mysql", "sqlite"]
OFF = [
    "SET autocommit = 0",
    "SET @@autocommit = OFF",
    "SET @@session.autocommit = false",
    "SET SESSION autocommit = 0",
    "SET autocommit TO 'OFF'",
]
ON = [
    "SET autocommit = 1",
    "SET @@autocommit = ON",
    "SET @@session.autocommit = TRUE",
    "SET SESSION autocommit = 1",
]


def rows(path, dialect):
    with arbordb.connect(path, dialect=dialect) as other:
        return other.cursor().execute("SELECT id FROM t ORDER BY id").fetchall()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("off", OFF)
@pytest.mark.parametrize("on", ON)
def test_autocommit_off_holds_writes_and_on_commits_them(tmp_path, dialect, off, on):
    con = arbordb.connect(tmp_path, dialect=dialect, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    cur.execute(off)
    assert con.autocommit is False
    cur.execute("INSERT INTO t VALUES (1)")
    assert rows(tmp_path, dialect) == []  # held in the open transaction
    cur.execute(on)  # MySQL's rule: turning autocommit on commits what is open
    assert con.autocommit is True
    assert rows(tmp_path, dialect) == [(1,)]
    cur.execute("INSERT INTO t VALUES (2)")
    assert rows(tmp_path, dialect) == [(1,), (2,)]
    con.close()


def test_turning_autocommit_on_ends_an_explicit_transaction(tmp_path):
    con = arbordb.connect(tmp_path, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    cur.execute("BEGIN")
    cur.execute("INSERT INTO t VALUES (1)")
    cur.execute("SET autocommit = 1")  # already on: MySQL keeps the transaction open
    assert rows(tmp_path, "duckdb") == []
    cur.execute("SET autocommit = 0")
    cur.execute("SET autocommit = 1")
    assert rows(tmp_path, "duckdb") == [(1,)]
    con.close()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("statement", "error", "words"),
    [
        ("SET @x = 5", NotSupportedError, r"no user variables \(@x\)"),
        (
            "SET @@dolt_allow_commit_conflicts = 1",
            NotSupportedError,
            "no system variable @@dolt_allow_commit_conflicts",
        ),
        ("SET @@global.autocommit = 0", NotSupportedError, "no global variables"),
        ("SET GLOBAL autocommit = 0", NotSupportedError, "no global variables"),
        ("SET autocommit = 'maybe'", ProgrammingError, "not 'maybe'"),
        ("SET autocommit = 0, threads = 1", NotSupportedError, "two SET statements"),
        ("SET autocommit = 0, @x = 1", NotSupportedError, "no user variables"),
    ],
)
def test_other_variables_are_refused_by_name_and_change_nothing(
    tmp_path, dialect, statement, error, words
):
    con = arbordb.connect(tmp_path, dialect=dialect, autocommit=True)
    with pytest.raises(error, match=words) as raised:
        con.cursor().execute(statement)
    assert isinstance(raised.value, arbordb.Error)
    assert "ABS" not in str(raised.value).upper()  # never DuckDB's reading of @
    assert con.autocommit is True  # the valid assignment before a refused one is not made
    con.close()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_duckdb_settings_still_reach_duckdb(tmp_path, dialect):
    con = arbordb.connect(tmp_path, dialect=dialect)
    cur = con.cursor()
    cur.execute("SET threads = 1")
    assert cur.execute("SELECT current_setting('threads')").fetchall() == [(1,)]
    with pytest.raises(ProgrammingError, match="nosuchsetting"):
        cur.execute("SET nosuchsetting = 1")
    con.close()
