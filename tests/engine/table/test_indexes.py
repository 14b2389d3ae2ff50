"""Secondary indexes stay equal to a model of their entries through random edits."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.errors import DuplicateKey, NotFound
from arbordb.engine.table import Column, Index, Schema, Table

SCHEMA = Schema(
    [
        Column("id", None, pa.int64()),
        Column("label", None, pa.string()),
        Column("code", None, pa.int32()),
        Column("score", None, pa.float64()),
    ],
    ("id",),
    (Index("by_label", ("label", "score")), Index("by_code", ("code",), unique=True)),
    name="items",
)


def rows(model: dict) -> pa.Table:
    ids = list(model)
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "label": pa.array([model[i][0] for i in ids], pa.string()),
            "code": pa.array([model[i][1] for i in ids], pa.int32()),
            "score": pa.array([model[i][2] for i in ids], pa.float64()),
        }
    )


def null_first(v):
    return (v is not None, v if v is not None else 0)


def expected_entries(model: dict) -> dict[str, list]:
    by_label = sorted(
        ((v[0], v[2], i) for i, v in model.items()),
        key=lambda e: (null_first(e[0]), null_first(e[1]), e[2]),
    )
    by_code = sorted(((v[1], i) for i, v in model.items()), key=lambda e: (null_first(e[0]), e[1]))
    return {"by_label": by_label, "by_code": by_code}


def entries(table: Table) -> dict[str, list]:
    return {
        "by_label": [tuple(r.values()) for r in table.index_scan("by_label").to_pylist()],
        "by_code": [tuple(r.values()) for r in table.index_scan("by_code").to_pylist()],
    }


def unique_ok(model: dict) -> bool:
    codes = [v[1] for v in model.values() if v[1] is not None]
    return len(codes) == len(set(codes))


values = st.tuples(
    st.one_of(st.none(), st.sampled_from(["a", "b", "c", "a\x00"])),
    st.one_of(st.none(), st.integers(0, 60)),
    st.one_of(st.none(), st.sampled_from([0.0, 1.5, -2.0])),
)
batches = st.dictionaries(st.integers(0, 80), values, max_size=25)
script = st.lists(st.tuples(batches, st.sets(st.integers(0, 80), max_size=15)), max_size=6)


@given(steps=script)
def test_index_contents_match_model(make_nodes, steps):
    nodes = make_nodes()
    table = Table.create(nodes, SCHEMA)
    model: dict = {}
    for upserts, deletes in steps:
        after = {i: v for i, v in model.items() if i not in deletes}
        after.update(upserts)
        before = table.address
        if not unique_ok(after):
            with pytest.raises(DuplicateKey, match="by_code"):
                table.apply(rows(upserts), pa.table({"id": pa.array(list(deletes), pa.int64())}))
            assert table.address == before
            continue
        table = table.apply(rows(upserts), pa.table({"id": pa.array(list(deletes), pa.int64())}))
        model = after
        assert entries(table) == expected_entries(model)
    for tree in table.index_trees.values():
        tree.check()
    # history independence holds for the index trees too
    if model:
        assert Table.create(make_nodes(), SCHEMA, rows(model)).address == table.address


def test_index_scan_bounds(nodes):
    t = Table.create(
        nodes,
        SCHEMA,
        rows({1: ("a", 5, 1.5), 2: ("b", 6, 0.0), 3: ("a", 7, -2.0), 4: (None, 8, None)}),
    )
    assert t.index_scan("by_label", ("a",), ("a",))["id"].to_pylist() == [3, 1]
    assert t.index_scan("by_label", ("a", 0.0), ("b",))["id"].to_pylist() == [1, 2]
    assert t.index_scan("by_code", (6,), (7,), hi_inclusive=False)["id"].to_pylist() == [2]
    assert t.index_scan("by_code").column_names == ["code", "id"]
    with pytest.raises(NotFound, match=r"no index 'nope' \(indexes: by_code, by_label\)"):
        t.index_scan("nope")


def test_add_and_drop_index(nodes):
    base = Schema(SCHEMA.columns, ("id",), name="items")
    t = Table.create(nodes, base, rows({1: ("a", 5, 1.5), 2: ("b", 5, 0.0), 3: ("a", None, None)}))
    with_label = t.add_index(Index("by_label", ("label", "score")))
    assert [r["id"] for r in with_label.index_scan("by_label").to_pylist()] == [3, 1, 2]
    before = t.nodes.store.stats()["chunks"]
    with pytest.raises(
        DuplicateKey,
        match=(
            r"UNIQUE index 'by_code' on \(code\): value \(5\) appears twice, "
            r"in the row with key \(1\), \(2\)"
        ),
    ):
        t.add_index(Index("by_code", ("code",), unique=True))
    assert t.nodes.store.stats()["chunks"] == before
    fixed = t.upsert(rows({2: ("b", 6, 0.0)}))
    both = fixed.add_index(Index("by_code", ("code",), unique=True)).add_index(
        Index("by_label", ("label", "score"))
    )
    assert entries(both) == expected_entries(
        {1: ("a", 5, 1.5), 2: ("b", 6, 0.0), 3: ("a", None, None)}
    )
    # the same table built with the indexes from the start is the same value
    direct = Table.create(nodes, SCHEMA, both.to_arrow())
    assert direct.address == both.address
    assert both.drop_index("by_code").drop_index("by_label").address == fixed.address


def test_with_rows_keeps_indexes_in_step(nodes):
    t = Table.create(nodes, SCHEMA, rows({1: ("a", 1, 0.0), 2: ("b", 2, 0.0)}))
    target = t.apply(rows({3: ("c", 3, 0.0), 1: ("z", 1, 1.5)}), pa.table({"id": [2]}))
    merged = t.with_rows(target.rows)
    assert merged.address == target.address
    # no UNIQUE check: a merge result is indexed as it is
    clash = Table.create(
        nodes,
        Schema(SCHEMA.columns, ("id",), name="items"),
        rows({1: ("a", 1, 0.0), 2: ("b", 1, 0.0)}),
    )
    merged = t.with_rows(clash.rows)
    assert [r["id"] for r in merged.index_scan("by_code").to_pylist()] == [1, 2]
