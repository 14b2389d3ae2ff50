"""Keyless tables: rows keyed by their values, duplicates counted and removed one by one."""

from __future__ import annotations

import random
from collections import Counter

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.table import Column, Index, Schema, Table, keyless_counts, rows_to_arrow
from arbordb.engine.table.keyless import row_hashes

SCHEMA = Schema(
    [
        Column("word", None, pa.string()),
        Column("n", None, pa.int16()),
        Column("vec", None, pa.list_(pa.float32())),
    ],
    indexes=(Index("by_word", ("word",)),),
    name="bag",
)


def rows(items: list[tuple]) -> pa.Table:
    return pa.table(
        {
            "word": pa.array([r[0] for r in items], pa.string()),
            "n": pa.array([r[1] for r in items], pa.int16()),
            "vec": pa.array(
                [list(r[2]) if r[2] is not None else None for r in items], pa.list_(pa.float32())
            ),
        }
    )


def bag(table: Table) -> Counter:
    return Counter(
        (r["word"], r["n"], tuple(r["vec"]) if r["vec"] is not None else None)
        for r in table.to_arrow().to_pylist()
    )


row = st.tuples(
    st.one_of(st.none(), st.sampled_from(["", "a", "b", "a\x00"])),
    st.one_of(st.none(), st.integers(-3, 3)),
    st.one_of(st.none(), st.lists(st.sampled_from([0.0, 1.0, -1.5]), max_size=3).map(tuple)),
)
steps = st.lists(st.tuples(st.lists(row, max_size=12), st.lists(row, max_size=12)), max_size=5)


@given(script=steps, seed=st.integers(0, 2**32))
def test_random_inserts_and_deletes_match_a_multiset(make_nodes, script, seed):
    table = Table.create(make_nodes(), SCHEMA)
    model: Counter = Counter()
    for added, removed in script:
        table = table.apply(rows(added), rows(removed))
        model.update(added)
        model.subtract(removed)
        model = +model  # drop counts at or below zero
        assert bag(table) == model
        assert table.count() == sum(model.values())
    words = sorted({(r[0], r) for r in model}, key=lambda e: (e[0] is not None, e[0] or ""))
    assert [e["word"] for e in table.index_scan("by_word").to_pylist()] == [w for w, _ in words]
    items = list(model.elements())
    random.Random(seed).shuffle(items)
    assert Table.create(make_nodes(), SCHEMA, rows(items)).address == table.address


def test_duplicates_are_counted_and_removed_one_at_a_time(nodes):
    t = Table.create(nodes, SCHEMA, rows([("x", 1, (1.0,))] * 3 + [("y", 2, None)]))
    assert t.count() == 4
    assert t.rows.count() == 2  # two distinct rows
    one = rows([("x", 1, (1.0,))])
    t2 = t.delete(one)
    assert bag(t2) == Counter({("x", 1, (1.0,)): 2, ("y", 2, None): 1})
    t0 = t2.delete(one).delete(one)
    assert bag(t0) == Counter({("y", 2, None): 1})
    assert t0.delete(one).address == t0.address  # deleting an absent row is a no-op
    assert [r["word"] for r in t0.index_scan("by_word").to_pylist()] == ["y"]
    # the same multiset reached another way is the same table
    assert t0.address == Table.create(nodes, SCHEMA, rows([("y", 2, None)])).address


def test_row_identity_follows_canonical_values(nodes):
    s = Schema([Column("f", None, pa.float64()), Column("v", None, pa.list_(pa.float64()))])
    data = pa.table(
        {
            "f": [0.0, -0.0, float("nan"), float("nan")],
            "v": pa.array([[], [], None, None], pa.list_(pa.float64())),
        }
    )
    keys = row_hashes(s, data).to_pylist()
    assert keys[0] == keys[1] and keys[2] == keys[3] and keys[0] != keys[2]
    # an empty list and a NULL list are different rows; so are [NULL] and []
    lists = pa.table(
        {"f": [1.0, 1.0, 1.0], "v": pa.array([[], None, [None]], pa.list_(pa.float64()))}
    )
    assert len(set(row_hashes(s, lists).to_pylist())) == 3
    t = Table.create(nodes, s, data)
    assert t.count() == 4 and t.rows.count() == 2


def test_rows_to_arrow_and_counts_for_diffs(nodes):
    t = Table.create(nodes, SCHEMA, rows([("x", 1, None)] * 2))
    keys, values = t.rows.scan()
    assert rows_to_arrow(t.schema, keys, values).to_pylist() == [{"word": "x", "n": 1, "vec": None}]
    assert keyless_counts(values).tolist() == [2]
    diff = t.rows.diff(t.delete(rows([("x", 1, None)])).rows)
    assert keyless_counts(diff.from_columns).tolist() == [2]
    assert keyless_counts(diff.to_columns).tolist() == [1]
    assert t.keys_of(rows([("x", 1, None)])).to_pylist() == keys.to_pylist()
