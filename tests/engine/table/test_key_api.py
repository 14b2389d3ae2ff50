"""The key methods the SQL layer uses instead of tree internals (issue 11): finding rows
by key, the first / last row of each key, and whether a branch moved since a
workspace read it; checked against plain Python models."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.db import Database
from arbordb.engine.table import Column, Schema, Table

SCHEMA = Schema(
    (Column("a", None, pa.int64()), Column("b", None, pa.string()), Column("v", None, pa.int64())),
    ("a", "b"),
)
KEYLESS = Schema((Column("a", None, pa.int64()), Column("v", None, pa.int64())), ())

keys = st.tuples(st.integers(-3, 3), st.sampled_from(["x", "y", "", "zz"]))


def _batch(pairs, offset=0):
    return pa.table(
        {
            "a": pa.array([k[0] for k in pairs], pa.int64()),
            "b": pa.array([k[1] for k in pairs], pa.string()),
            "v": pa.array([i + offset for i in range(len(pairs))], pa.int64()),
        }
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(keys, max_size=30))
def test_first_and_last_of_each_key_match_a_python_model(pairs):
    table = Table.scratch(SCHEMA, _batch([]))
    first, last = {}, {}
    for i, k in enumerate(pairs):
        first.setdefault(k, i)
        last[k] = i
    batch = _batch(pairs)
    assert table.first_of_each_key(batch).tolist() == sorted(first.values())
    assert table.last_of_each_key(batch).tolist() == sorted(last.values())


@settings(max_examples=60, deadline=None)
@given(st.lists(keys, unique=True, max_size=20), st.lists(keys, max_size=20))
def test_find_rows_matches_a_python_model(stored, probes):
    table = Table.scratch(SCHEMA, _batch(stored, offset=100))
    model = {k: i + 100 for i, k in enumerate(stored)}
    found, rows = table.find_rows(_batch(probes))
    assert found.tolist() == [k in model for k in probes]
    expected = [{"a": k[0], "b": k[1], "v": model[k]} for k in probes if k in model]
    assert rows.to_pylist() == expected


def test_first_of_each_row_of_a_keyless_table():
    table = Table.scratch(
        KEYLESS, pa.table({"a": pa.array([], pa.int64()), "v": pa.array([], pa.int64())})
    )
    batch = pa.table(
        {"a": pa.array([1, 2, 1, 1], pa.int64()), "v": pa.array([5, 5, 5, 6], pa.int64())}
    )
    assert table.first_of_each_key(batch).tolist() == [0, 1, 3]
    assert table.last_of_each_key(batch).tolist() == [1, 2, 3]


def test_rows_by_key_gives_nulls_for_absent_keys():
    table = Table.scratch(SCHEMA, _batch([(1, "x")], offset=7))
    keys = table.keys_of(_batch([(2, "y"), (1, "x")]).select(["a", "b"]))
    assert table.rows_by_key(keys).column("v").to_pylist() == [None, 7]


def test_moved_since_read_sees_another_writers_commit():
    db = Database.memory()
    mine, theirs = db.workspace(), db.workspace()
    assert not mine.moved_since_read()
    theirs.create_table("t", Table.create(theirs.nodes, KEYLESS))
    theirs.persist()  # the working set moved
    assert mine.moved_since_read()
    mine.reload()
    assert not mine.moved_since_read()
    theirs.commit("t", stage_all=True)  # the head moved
    assert mine.moved_since_read()
