"""DataFrames named in SQL (DuckDB's replacement scans) and ``Cursor.insert_arrow``: the
caller's variables are read as tables, repository names win, internal names never show."""

# ruff: noqa: F841 - variables here are read by the SQL that names them

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.sql.errors import ObjectNotFound, ProgrammingError

MODULE_FRAME = pa.table({"id": [70, 71], "label": ["g1", "g2"]})


class Stream:
    """Any object exporting an Arrow stream (as a polars or other frame does)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.table.__arrow_c_stream__(requested_schema)


@pytest.fixture
def cur(tmp_path):
    con = arbordb.connect(str(tmp_path / "r"), autocommit=True)
    cursor = con.cursor()
    cursor.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR)")
    yield cursor
    con.close()


def _all(cur) -> list[tuple]:
    cur.execute("SELECT id, label FROM t ORDER BY id")
    return cur.fetchall()


def test_insert_select_from_a_pandas_frame_and_select_from_it(cur):
    df = pd.DataFrame({"id": [1, 2], "label": ["a", "b"]})
    cur.execute("INSERT INTO t SELECT * FROM df")
    assert cur.rowcount == 2
    assert _all(cur) == [(1, "a"), (2, "b")]
    cur.execute("SELECT label FROM df WHERE id = 2")  # the point-lookup shape too
    assert cur.fetchall() == [("b",)]
    cur.execute("SELECT t.id, df.label FROM t JOIN df USING (id) ORDER BY 1")
    assert cur.fetchall() == [(1, "a"), (2, "b")]


def test_arrow_tables_streams_and_globals(cur):
    batch = pa.record_batch({"id": [10], "label": ["x"]})
    stream = Stream(pa.table({"id": [11], "label": ["y"]}))
    reader = pa.RecordBatchReader.from_batches(batch.schema, [batch.slice(0, 0)])
    cur.execute("INSERT INTO t SELECT * FROM batch")
    cur.execute("INSERT INTO t SELECT * FROM stream")
    cur.execute("INSERT INTO t SELECT * FROM reader")
    cur.execute("INSERT INTO t SELECT * FROM MODULE_FRAME")  # a module global
    assert _all(cur) == [(10, "x"), (11, "y"), (70, "g1"), (71, "g2")]


def test_connection_execute_reads_the_callers_scope(tmp_path):
    con = arbordb.connect(str(tmp_path / "r"))
    frame = pd.DataFrame({"n": [1, 2, 3]})
    assert con.execute("SELECT sum(n) FROM frame").fetchall() == [(6,)]
    con.close()


def test_a_repository_table_or_view_wins_over_a_variable(cur):
    cur.execute("INSERT INTO t VALUES (1, 'table')")
    t = pd.DataFrame({"id": [5], "label": ["frame"]})
    cur.execute("SELECT label FROM t")
    assert cur.fetchall() == [("table",)]
    cur.execute("CREATE VIEW v AS SELECT label FROM t")
    v = pd.DataFrame({"label": ["frame"]})
    cur.execute("SELECT label FROM v")
    assert cur.fetchall() == [("table",)]
    dolt_log = pd.DataFrame({"x": [1]})
    cur.execute("SELECT count(*) FROM dolt_log")
    assert cur.fetchall()[0][0] >= 1


def test_other_objects_and_as_of_are_not_frames(cur):
    x = 5
    with pytest.raises(ObjectNotFound, match="'x' not found"):
        cur.execute("SELECT * FROM x")
    df = pd.DataFrame({"id": [1]})
    with pytest.raises(arbordb.Error, match="df"):
        cur.execute("SELECT * FROM df AS OF 'main'")


def test_errors_name_the_frame_never_internal_relations(cur):
    df = pd.DataFrame({"id": [1, 1], "label": ["a", "b"]})
    with pytest.raises(arbordb.Error) as err:
        cur.execute("SELECT nope FROM df")
    assert "__arbor" not in str(err.value)
    with pytest.raises(arbordb.IntegrityError) as err:
        cur.execute("INSERT INTO t SELECT * FROM df")
    assert "__arbor" not in str(err.value)
    assert _all(cur) == []


def test_insert_arrow_takes_frames_and_refuses_other_data(cur):
    assert cur.insert_arrow("t", pd.DataFrame({"id": [3, 4], "label": ["c", "d"]})) == 2
    assert cur.rowcount == 2
    assert cur.insert_arrow("t", pa.table({"label": ["e"], "id": [5]})) == 1  # by name
    assert cur.insert_arrow("t", Stream(pa.table({"id": [6]}))) == 1  # label defaults NULL
    assert _all(cur) == [(3, "c"), (4, "d"), (5, "e"), (6, None)]
    with pytest.raises(ProgrammingError, match="got list"):
        cur.insert_arrow("t", [(7, "x")])
    with pytest.raises(arbordb.IntegrityError) as err:
        cur.insert_arrow("t", pa.table({"id": [8, 3], "label": ["new", "dup"]}))
    assert "__arbor" not in str(err.value)
    with pytest.raises(ObjectNotFound):
        cur.insert_arrow("missing", pa.table({"id": [1]}))
    assert len(_all(cur)) == 4  # the failed inserts changed nothing


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.dictionaries(
        st.integers(-(2**40), 2**40), st.one_of(st.none(), st.text(max_size=8)), max_size=30
    )
)
def test_frame_round_trip_matches_the_frame(tmp_path_factory, rows):
    """Property: INSERT ... SELECT * FROM df then SELECT gives back df's rows."""
    con = arbordb.connect(str(tmp_path_factory.mktemp("r")), autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR)")
    df = pd.DataFrame(
        {"id": pd.Series(list(rows), dtype="int64"), "label": pd.Series(list(rows.values()))}
    )
    cur.execute("INSERT INTO t SELECT * FROM df")
    assert _all(cur) == sorted(rows.items())
    con.close()


def test_a_deeply_nested_statement_reads_the_frame_too(tmp_path):
    """Deep statements run on another thread (sql/parse/nesting.py); the caller's
    variables are still the ones read."""
    con = arbordb.connect(str(tmp_path / "r"))
    df = pd.DataFrame({"n": [1, 2, 3]})
    deep = "SELECT " + "(" * 300 + "n" + ")" * 300 + " FROM df ORDER BY 1"
    assert con.execute(deep).fetchall() == [(1,), (2,), (3,)]
    con.close()
