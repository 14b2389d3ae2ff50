"""Keyed tables against a plain dict model: reads, writes, history independence."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.errors import DuplicateKey, InvalidInput, SchemaError
from arbordb.engine.table import Column, Schema, Table

SCHEMA = Schema(
    [
        Column("id", None, pa.int64()),
        Column("label", None, pa.string()),
        Column("score", None, pa.float64()),
    ],
    ("id",),
    name="labels",
)


def rows(model: dict, ids=None) -> pa.Table:
    ids = sorted(model) if ids is None else list(ids)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "label": pa.array([model[i][0] for i in ids], pa.string()),
            "score": pa.array([model[i][1] for i in ids], pa.float64()),
        }
    )


def contents(table: Table) -> dict:
    data = table.to_arrow().to_pylist()
    return {r["id"]: (r["label"], r["score"]) for r in data}


values = st.tuples(
    st.one_of(st.none(), st.text(max_size=10)),
    st.one_of(st.none(), st.floats(allow_nan=False)),
)
ids = st.integers(-50, 200)
batches = st.dictionaries(ids, values, max_size=40)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), batches),
        st.tuples(st.just("upsert"), batches),
        st.tuples(st.just("delete"), st.sets(ids, max_size=30)),
        st.tuples(st.just("apply"), st.tuples(batches, st.sets(ids, max_size=30))),
    ),
    max_size=6,
)


@given(initial=batches, script=ops, seed=st.integers(0, 2**32))
def test_random_edits_match_a_dict_model(make_nodes, initial, script, seed):
    nodes = make_nodes()
    table = Table.create(nodes, SCHEMA, rows(initial))
    model = dict(initial)
    for op, arg in script:
        before = table.address
        if op == "insert":
            if set(arg) & set(model):
                with pytest.raises(DuplicateKey, match="already exists"):
                    table.insert(rows(arg))
                assert table.address == before
                continue
            table = table.insert(rows(arg))
            model.update(arg)
        elif op == "upsert":
            table = table.upsert(rows(arg))
            model.update(arg)
        elif op == "delete":
            table = table.delete(pa.table({"id": pa.array(sorted(arg), pa.int64())}))
            for i in arg:
                model.pop(i, None)
        else:
            upserts, deletes = arg
            table = table.apply(
                rows(upserts), pa.table({"id": pa.array(list(deletes), pa.int64())})
            )
            for i in deletes:
                model.pop(i, None)
            model.update(upserts)
        assert contents(table) == model
    assert table.count() == len(model)
    table.rows.check()
    # history independence: the same rows built at once, in any order, give the same table
    shuffled = list(model)
    random.Random(seed).shuffle(shuffled)
    rebuilt = Table.create(make_nodes(), SCHEMA, rows(model, shuffled))
    assert rebuilt.address == table.address
    for i in list(model)[:5]:
        assert table.get((i,)) == {"id": i, "label": model[i][0], "score": model[i][1]}
    assert table.get((10_000,)) is None


@given(model=batches, seed=st.integers(0, 2**32))
def test_same_rows_any_insert_order_same_address(make_nodes, model, seed):
    order = list(model)
    random.Random(seed).shuffle(order)
    nodes = make_nodes()
    one_by_one = Table.create(nodes, SCHEMA)
    for i in order:
        one_by_one = one_by_one.insert(rows(model, [i]))
    assert one_by_one.address == Table.create(make_nodes(), SCHEMA, rows(model)).address


def test_to_arrow_columns_and_schema_order(nodes):
    t = Table.create(nodes, SCHEMA, rows({2: ("b", 2.0), 1: ("a", None)}))
    data = t.to_arrow()
    assert data.column_names == ["id", "label", "score"]
    assert data.schema.field("score").type == pa.float64()
    assert t.to_arrow(["score", "id"]).to_pylist() == [
        {"score": None, "id": 1},
        {"score": 2.0, "id": 2},
    ]
    with pytest.raises(KeyError, match="no column 'nope'"):
        t.to_arrow(["nope"])


def test_input_columns_are_matched_by_name_cast_and_missing_ones_null(nodes):
    t = Table.create(nodes, SCHEMA)
    t = t.insert(pa.table({"score": pa.array([1], pa.int8()), "id": pa.array([7], pa.int32())}))
    assert t.get((7,)) == {"id": 7, "label": None, "score": 1.0}
    t = t.insert(pa.table({"id": [8], "label": pa.array(["x"]).dictionary_encode()}))
    assert t.get((8,))["label"] == "x"
    batch = pa.RecordBatch.from_pydict({"id": [9]})
    assert t.insert(batch).count() == 3
    with pytest.raises(InvalidInput, match="pyarrow Table"):
        t.insert({"id": [1]})


def test_get_checks_the_key_arity(nodes):
    t = Table.create(nodes, SCHEMA)
    with pytest.raises(InvalidInput, match="has 1 columns, got 2 values"):
        t.get((1, 2))


# --- composite and string keys ----------------------------------------------------

COMPOSITE = Schema(
    [
        Column("region", None, pa.string()),
        Column("n", None, pa.int32()),
        Column("v", None, pa.float32()),
    ],
    ("region", "n"),
    name="c",
)
regions = st.sampled_from(["", "a", "a\x00", "a\x00b", "ab", "b", "é", "\U0001f600", "z" * 20])
composite_batches = st.dictionaries(
    st.tuples(regions, st.integers(-5, 5)),
    st.one_of(st.none(), st.floats(-10, 10, width=32)),
    max_size=40,
)


def composite_rows(model: dict) -> pa.Table:
    keys = list(model)
    return pa.table(
        {
            "region": pa.array([k[0] for k in keys], pa.string()),
            "n": pa.array([k[1] for k in keys], pa.int32()),
            "v": pa.array([model[k] for k in keys], pa.float32()),
        }
    )


def region_key(region: str) -> bytes:
    return region.encode("utf-8")


@given(
    first=composite_batches,
    second=composite_batches,
    dels=st.sets(st.tuples(regions, st.integers(-5, 5))),
)
def test_composite_string_keys_match_model(make_nodes, first, second, dels):
    table = Table.create(make_nodes(), COMPOSITE, composite_rows(first)).upsert(
        composite_rows(second)
    )
    gone = pa.table(
        {"region": [k[0] for k in dels], "n": pa.array([k[1] for k in dels], pa.int32())}
    )
    table = table.delete(gone)
    model = {**first, **second}
    for k in dels:
        model.pop(k, None)
    data = table.to_arrow().to_pylist()
    assert {(r["region"], r["n"]): r["v"] for r in data} == model
    # rows come out in SQL key order: region by UTF-8 bytes, then n
    keys = [(r["region"], r["n"]) for r in data]
    assert keys == sorted(model, key=lambda k: (region_key(k[0]), k[1]))
    assert table.address == Table.create(make_nodes(), COMPOSITE, composite_rows(model)).address


@given(
    model=composite_batches,
    lo=st.one_of(st.none(), st.tuples(regions), st.tuples(regions, st.integers(-6, 6))),
    hi=st.one_of(st.none(), st.tuples(regions), st.tuples(regions, st.integers(-6, 6))),
    lo_inclusive=st.booleans(),
    hi_inclusive=st.booleans(),
)
def test_scan_bounds_on_key_prefixes(make_nodes, model, lo, hi, lo_inclusive, hi_inclusive):
    table = Table.create(make_nodes(), COMPOSITE, composite_rows(model))

    def sort_key(k):
        return (region_key(k[0]), *k[1:])

    def inside(key):
        if lo is not None:
            head = sort_key(key[: len(lo)])
            if head < sort_key(lo) or (head == sort_key(lo) and not lo_inclusive):
                return False
        if hi is not None:
            head = sort_key(key[: len(hi)])
            if head > sort_key(hi) or (head == sort_key(hi) and not hi_inclusive):
                return False
        return True

    got = table.scan(lo, hi, lo_inclusive=lo_inclusive, hi_inclusive=hi_inclusive).to_pylist()
    expected = sorted((k for k in model if inside(k)), key=sort_key)
    assert [(r["region"], r["n"]) for r in got] == expected


def test_scan_and_get_refusals(nodes):
    t = Table.create(nodes, COMPOSITE)
    with pytest.raises(InvalidInput, match="1 to 2 values"):
        t.scan(("a", 1, 2))
    keyless = Table.create(nodes, Schema([Column("x", None, pa.int64())]))
    with pytest.raises(SchemaError, match="keyless"):
        keyless.scan((1,))
    with pytest.raises(SchemaError, match="keyless"):
        keyless.get((1,))
    with pytest.raises(SchemaError, match="upsert needs a primary key"):
        keyless.upsert(pa.table({"x": [1]}))


def test_single_scalar_bound_and_string_primary_key(nodes):
    s = Schema([Column("k", None, pa.string()), Column("v", None, pa.int64())], ("k",), name="s")
    t = Table.create(nodes, s, pa.table({"k": ["b", "a", "c", "a\x00"], "v": [2, 1, 3, 4]}))
    assert t.to_arrow()["k"].to_pylist() == ["a", "a\x00", "b", "c"]
    assert t.scan("a", "b")["k"].to_pylist() == ["a", "a\x00", "b"]
    assert t.scan("a", "b", lo_inclusive=False, hi_inclusive=False)["k"].to_pylist() == ["a\x00"]
    assert t.get(("a\x00",)) == {"k": "a\x00", "v": 4}


def test_moving_a_row_onto_another_key_with_replace_false(nodes):
    t = Table.create(nodes, SCHEMA, rows({1: ("a", 1.0), 2: ("b", 2.0)}))
    # UPDATE ... SET id = 2 WHERE id = 1: refused, row 2 exists and is not deleted
    with pytest.raises(DuplicateKey, match=r"key \(2\) already exists"):
        t.apply(rows({2: ("a", 1.0)}), pa.table({"id": [1]}), replace=False)
    # UPDATE ... SET id = id + 1: both rows move, no clash
    moved = t.apply(rows({2: ("a", 1.0), 3: ("b", 2.0)}), pa.table({"id": [1, 2]}), replace=False)
    assert contents(moved) == {2: ("a", 1.0), 3: ("b", 2.0)}


def test_get_many_returns_the_stored_rows_in_key_order(tmp_path):
    from arbordb.engine.chunks.memory import MemoryChunkStore
    from arbordb.engine.table import Column, Schema, Table
    from arbordb.engine.tree import NodeStore

    schema = Schema((Column("id", None, pa.int64()), Column("v", None, pa.string())), ("id",))
    table = Table.create(NodeStore(MemoryChunkStore()), schema).insert(
        pa.table({"id": list(range(0, 2000, 2)), "v": [f"r{i}" for i in range(0, 2000, 2)]})
    )
    got = table.get_many(pa.table({"id": [10, 3, 10, 1998, 4000, 0]}))
    assert got.to_pylist() == [
        {"id": 0, "v": "r0"},
        {"id": 10, "v": "r10"},
        {"id": 1998, "v": "r1998"},
    ]
