"""String literals that spell the SQL layer's internal marker names stay what they are
(issue 10 item 9): the layer rewrites syntax trees (sql/parse/holes.py), never text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb

MARKERS = [
    "__arbor_slot_0",
    "__arbor_slot_1",
    "__arbor_fn_0",
    "$__arbor_p0",
    ":__arbor_p0",
    "$__arbor_p1 ",
    "__arbor_t_00",
    "__arbor_tmp_0",
    "__arbor_v",
    "__arbor_old_0",
    "__arbor_params",
    "$name",
    "?",
]

# text made of marker names, SQL punctuation and ordinary characters
texts = st.lists(
    st.one_of(
        st.sampled_from(MARKERS),
        st.text(alphabet="ab '\"$:?_;()\\,.%\n", max_size=6),
    ),
    max_size=5,
).map("".join)


def literal(text: str, dialect: str) -> str:
    """``text`` as a string literal of ``dialect``."""
    if dialect == "mysql":
        text = text.replace("\\", "\\\\")
    return "'" + text.replace("'", "''") + "'"


def concat(a: str, b: str, dialect: str) -> str:
    return f"CONCAT({a}, {b})" if dialect == "mysql" else f"{a} || {b}"


@pytest.fixture(scope="module", params=["duckdb", "mysql", "postgres", "sqlite"])
def dialect_con(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("markers") / "repo"
    con = arbordb.connect(str(path), dialect=request.param)
    con.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, s VARCHAR)")
    con.execute("INSERT INTO t VALUES (1, 'one')")
    con.execute("CALL dolt_commit('-Am', 'one row')")
    yield request.param, con
    con.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts)
def test_literals_with_marker_names_round_trip(dialect_con, text):
    dialect, con = dialect_con
    cur = con.cursor()
    quoted = literal(text, dialect)
    assert cur.execute(f"SELECT {quoted}").fetchall() == [(text,)]
    assert cur.execute(f"SELECT {quoted} AS v, s FROM t").fetchall() == [(text, "one")]
    assert cur.execute(f"SELECT s FROM t WHERE s <> {quoted}").fetchall() == (
        [] if text == "one" else [("one",)]
    )
    # with a ? parameter beside it, and AS OF and a version function in the same query
    assert cur.execute(
        f"SELECT {concat(quoted, '?', dialect)}, active_branch() FROM t AS OF 'main' WHERE id = ?",
        ["!", 1],
    ).fetchall() == [(text + "!", "main")]
    # the literal last, after a ? (the empty literal there once failed to parse in duckdb)
    assert cur.execute(f"SELECT ?, {quoted}", ["!"]).fetchall() == [("!", text)]
    assert cur.execute(f"SELECT s FROM t WHERE id = ? AND s <> {quoted}", [1]).fetchall() == (
        [] if text == "one" else [("one",)]
    )
    # UPDATE and INSERT store exactly the literal
    assert cur.execute(f"UPDATE t SET s = {quoted} WHERE id = 1").rowcount == 1
    assert cur.execute("SELECT s FROM t WHERE id = 1").fetchall() == [(text,)]
    cur.execute(f"UPDATE t SET s = {concat(quoted, '?', dialect)} WHERE id = ?", ["?", 1])
    assert cur.execute("SELECT s FROM t").fetchall() == [(text + "?",)]
    cur.execute(f"INSERT INTO t VALUES (2, upper({quoted}))")
    assert cur.execute("SELECT s FROM t WHERE id = 2").fetchall() == [(text.upper(),)]
    con.rollback()


@pytest.mark.parametrize("dialect", ["duckdb", "mysql", "postgres", "sqlite"])
def test_marker_literals_in_every_statement_kind(tmp_path, dialect):
    con = arbordb.connect(str(tmp_path / "repo"), dialect=dialect)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, s VARCHAR DEFAULT '__arbor_slot_0')")
    cur.execute("INSERT INTO t (id) VALUES (1)")
    cur.execute("INSERT INTO t SELECT 2, '$__arbor_p0' FROM t WHERE s = '__arbor_slot_0'")
    cur.execute(
        f"CREATE VIEW v AS SELECT id, {concat('s', repr('__arbor_fn_0'), dialect)} AS s FROM t"
    )
    assert cur.execute("SELECT s FROM v ORDER BY id").fetchall() == [
        ("__arbor_slot_0__arbor_fn_0",),
        ("$__arbor_p0__arbor_fn_0",),
    ]
    cur.execute("DELETE FROM t WHERE s = '$__arbor_p0'")
    assert cur.execute("SELECT id, s FROM t").fetchall() == [(1, "__arbor_slot_0")]
    cur.execute("CALL dolt_commit('-Am', '__arbor_slot_0 $__arbor_p0')")
    assert cur.execute("SELECT message FROM dolt_log LIMIT 1").fetchall() == [
        ("__arbor_slot_0 $__arbor_p0",)
    ]
    con.close()
