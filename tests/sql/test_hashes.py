"""dolt_hashof_table / dolt_hashof_db and Repo.table_hash: content hashes users can quote.

The property: a table's hash is a function of its schema and rows only (equal for
equal contents reached by different histories, different after any cell change),
checked against a plain dict of rows.
"""

from __future__ import annotations

import random
import re

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.engine.db import Database
from arbordb.sql.session.session import Session

SCHEMA = "(id BIGINT PRIMARY KEY, label VARCHAR, score DOUBLE)"
LABELS = ["cat", "dog", "lynx", None]


def run(session: Session, sql: str, params=None) -> list[tuple]:
    return session.execute(sql, params).fetchall()


def table_hash(session: Session, table: str, *revision: str) -> str:
    args = ", ".join(f"'{a}'" for a in (table, *revision))
    return run(session, f"SELECT dolt_hashof_table({args})")[0][0]


def build(session: Session, table: str, rows: dict[int, tuple], rng: random.Random) -> None:
    """Reach ``rows`` through a random history: shuffled batches, detours (rows inserted
    then deleted, values written then updated), commits in between."""
    run(session, f"CREATE TABLE {table} {SCHEMA}")
    ids = list(rows)
    rng.shuffle(ids)
    extra = [10_000 + i for i in range(rng.randint(0, 5))]
    wrong = set(rng.sample(ids, k=min(len(ids), rng.randint(0, 3))))
    pending = ids + extra
    rng.shuffle(pending)
    while pending:
        size = rng.randint(1, 4)
        batch, pending = pending[:size], pending[size:]
        values = []
        for key in batch:
            label, score = rows.get(key, ("tmp", 0.5))
            if key in wrong:
                label, score = "wrong", -1.0
            values.append((key, label, score))
        session.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", values)
        if rng.random() < 0.3:
            run(session, f"CALL dolt_commit('-Am', 'step of {table}')")
    for key in extra:
        run(session, f"DELETE FROM {table} WHERE id = ?", [key])
    for key in wrong:
        label, score = rows[key]
        run(session, f"UPDATE {table} SET label = ?, score = ? WHERE id = ?", [label, score, key])


row_sets = st.dictionaries(
    st.integers(0, 500),
    st.tuples(
        st.sampled_from(LABELS), st.floats(-10, 10, allow_nan=False).map(lambda x: round(x, 3))
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=25)
@given(rows=row_sets, seed=st.integers(0, 2**32 - 1), change=st.integers(0, 2**32 - 1))
def test_hash_is_a_function_of_the_rows(rows, seed, change):
    rng = random.Random(seed)
    # two repositories, one table name: a column's tag derives from the table's name
    # (engine/table/schema.py), so the schemas are equal
    one, two = Session(Database.memory()), Session(Database.memory())
    build(one, "t", rows, rng)
    build(two, "t", rows, rng)
    assert table_hash(one, "t") == table_hash(two, "t")

    # any one cell changed: a different hash; changed back: the same again
    key = random.Random(change).choice(sorted(rows))
    column = random.Random(change).choice(["label", "score"])
    old = rows[key][0] if column == "label" else rows[key][1]
    new = "changed" if column == "label" else (old or 0.0) + 1.0
    run(two, f"UPDATE t SET {column} = ? WHERE id = ?", [new, key])
    assert table_hash(one, "t") != table_hash(two, "t")
    run(two, f"UPDATE t SET {column} = ? WHERE id = ?", [old, key])
    assert table_hash(one, "t") == table_hash(two, "t")
    run(two, "CALL dolt_commit('-Am', 'done', '--allow-empty')")  # build may have committed
    assert table_hash(two, "t", "HEAD") == table_hash(one, "t")


def test_a_merge_and_a_straight_history_give_the_same_hash(tmp_path):
    with arbordb.connect(tmp_path / "r") as con:
        cur = con.cursor()
        cur.execute(f"CREATE TABLE t {SCHEMA}")
        cur.execute("INSERT INTO t VALUES (1, 'cat', 0.9)")
        cur.execute("CALL dolt_commit('-Am', 'base')")
        cur.execute("CALL dolt_checkout('-b', 'side')")
        cur.execute("INSERT INTO t VALUES (2, 'dog', 0.8)")
        cur.execute("CALL dolt_commit('-am', 'side adds 2')")
        cur.execute("CALL dolt_checkout('main')")
        cur.execute("UPDATE t SET label = 'lynx' WHERE id = 1")
        cur.execute("CALL dolt_commit('-am', 'main relabels 1')")
        cur.execute("CALL dolt_merge('side')")
        merged = cur.execute("SELECT dolt_hashof_table('t')").fetchone()[0]
        assert cur.execute("SELECT dolt_hashof_table('t', 'side')").fetchone()[0] != merged
    with arbordb.connect(tmp_path / "straight") as con:
        cur = con.cursor()
        cur.execute(f"CREATE TABLE t {SCHEMA}")
        cur.execute("INSERT INTO t VALUES (2, 'dog', 0.8), (1, 'lynx', 0.9)")
        assert cur.execute("SELECT dolt_hashof_table('t')").fetchone()[0] == merged


def test_revision_argument_and_working_root(tmp_path):
    with arbordb.connect(tmp_path / "r") as con:
        cur = con.cursor()
        cur.execute(f"CREATE TABLE t {SCHEMA}")
        cur.execute("INSERT INTO t VALUES (1, 'cat', 0.9)")
        cur.execute("CALL dolt_commit('-Am', 'v1')")
        cur.execute("CALL dolt_tag('v1')")
        at_v1 = cur.execute("SELECT dolt_hashof_table('t'), dolt_hashof_db()").fetchone()
        cur.execute("UPDATE t SET score = 0.1")  # uncommitted: the working root moves
        now = cur.execute("SELECT dolt_hashof_table('t'), dolt_hashof_db()").fetchone()
        assert now[0] != at_v1[0] and now[1] != at_v1[1]
        assert (
            cur.execute("SELECT dolt_hashof_table('t', 'v1'), dolt_hashof_db('v1')").fetchone()
            == at_v1
        )
        assert cur.execute("SELECT dolt_hashof_db('WORKING')").fetchone()[0] == now[1]
        con.commit()
    repo = arbordb.Repo(tmp_path / "r")
    try:
        assert repo.table_hash("t", as_of="v1") == at_v1[0]
        assert repo.table_hash("t") == now[0]
        with pytest.raises(arbordb.ProgrammingError, match="nope"):  # arbordb.Error, by name
            repo.table_hash("nope")
    finally:
        repo.close()


def test_equal_rows_written_by_the_repo_api_hash_alike(tmp_path):
    repo = arbordb.Repo(tmp_path / "r")
    try:
        data = pa.table({"id": [3, 1, 2], "label": ["a", "b", "c"]})
        repo.write("x", data, primary_key=["id"])
        whole = repo.table_hash("x")
        repo.write("x", data.slice(0, 1), primary_key=["id"])
        assert repo.table_hash("x") != whole
        repo.write("x", data.slice(1), mode="insert")
        assert repo.table_hash("x") == whole
    finally:
        repo.close()


@pytest.mark.parametrize(
    "sql, fragment",
    [
        ("SELECT dolt_hashof_table('missing')", "missing"),
        ("SELECT dolt_hashof_table()", "dolt_hashof_table('table' [, 'revision'])"),
        ("SELECT dolt_hashof_table('t', 'nosuchrev')", "nosuchrev"),
        ("SELECT dolt_hashof_db('a', 'b')", "dolt_hashof_db(['revision'])"),
    ],
)
def test_bad_calls_are_refused_with_a_clear_error(tmp_path, sql, fragment):
    with arbordb.connect(tmp_path / "r") as con:
        cur = con.cursor()
        cur.execute(f"CREATE TABLE t {SCHEMA}")
        with pytest.raises(arbordb.Error, match=re.escape(fragment)):
            cur.execute(sql)
