"""Splits: disjoint key ranges at subtree boundaries with exact row counts, each
readable as its own stream; their union is the table (against a plain dict model)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.engine.errors import InvalidInput
from arbordb.engine.table import Table
from arbordb.engine.table.schema import Column, Schema
from arbordb.engine.tree import stream
from arbordb.engine.tree.cursor import leaf_entries

from .conftest import tiny_nodes

SCHEMA = Schema(
    (Column("id", None, pa.int64()), Column("label", None, pa.string())), ("id",), name="t"
)


@settings(max_examples=40, deadline=None)
@given(
    ids=st.sets(st.integers(-10_000, 10_000), max_size=600),
    target=st.integers(1, 400),
    first_batch=st.sampled_from([1, 7, 8192]),
)
def test_the_splits_streams_union_is_the_table_with_exact_counts(ids, target, first_batch):
    model = {i: f"v{i}" * (abs(i) % 4) for i in ids}
    data = pa.table({"id": sorted(model), "label": [model[i] for i in sorted(model)]})
    table = Table.create(tiny_nodes(), SCHEMA, data)
    old = stream.FIRST_BATCH_ROWS
    stream.FIRST_BATCH_ROWS = first_batch  # many small batches inside one split, too
    try:
        splits = table.splits(target)
        seen: list[tuple[int, str]] = []
        for split in splits:
            part = pa.Table.from_batches(list(table.batches(split=split)), schema=data.schema)
            assert part.num_rows == split.rows  # exact, from the internal nodes
            ids, labels = part.column("id").to_pylist(), part.column("label").to_pylist()
            seen += zip(ids, labels, strict=True)
    finally:
        stream.FIRST_BATCH_ROWS = old
    assert seen == sorted(model.items())  # disjoint, in order, complete
    assert sum(s.rows for s in splits) == len(model)
    assert all(s.rows <= max(target, _largest_leaf(table)) for s in splits)


def _largest_leaf(table: Table) -> int:
    return max(leaf_entries(table.nodes, table.rows.root).counts, default=0)


def test_splits_are_aligned_with_subtrees():
    table = Table.create(tiny_nodes(), SCHEMA, pa.table({"id": range(3000), "label": ["x"] * 3000}))
    last_keys = set(leaf_entries(table.nodes, table.rows.root).keys)
    splits = table.splits(500)
    assert len(splits) > 3
    assert all(s.last in last_keys for s in splits[:-1])  # each cut ends a leaf
    assert all(s.rows <= 500 for s in splits)


def test_target_rows_must_be_positive():
    table = Table.create(tiny_nodes(), SCHEMA, pa.table({"id": [1], "label": ["a"]}))
    with pytest.raises(InvalidInput, match="target_rows"):
        table.splits(0)


def test_repo_splits_read_as_streams(tmp_path):
    with arbordb.Repo(tmp_path / "repo") as repo:
        data = pa.table({"id": range(50_000), "label": [str(i) for i in range(50_000)]})
        repo.write("t", data, primary_key=["id"])
        repo.commit("rows")
        splits = repo.splits("t", 10_000, as_of="main")
        assert len(splits) >= 5 and sum(s.rows for s in splits) == 50_000
        ids = []
        for split in splits:
            part = repo.reader("t", ["id"], split=split).read_all()
            assert part.num_rows == split.rows
            ids += part.column("id").to_pylist()
        assert ids == list(range(50_000))
