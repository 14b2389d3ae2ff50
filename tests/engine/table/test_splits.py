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
from arbordb.engine.tree import NodeStore, stream
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


def test_a_split_of_value_columns_is_read_without_its_keys(monkeypatch):
    """A split's bounds fall on leaf boundaries (the internal nodes tell), so reading
    its value columns decodes no key to trim with (stream._cuts_leaves)."""
    table = Table.create(
        tiny_nodes(), SCHEMA, pa.table({"id": range(3000), "label": [f"v{i}" for i in range(3000)]})
    )
    with_keys: list[bool] = []
    original = stream.NodeStore.decode_some

    def spy(self, addresses, leaves, types, wanted, keys):
        with_keys.append(keys)
        return original(self, addresses, leaves, types, wanted, keys)

    monkeypatch.setattr(stream.NodeStore, "decode_some", spy)
    labels: list[str] = []
    splits = table.splits(500)
    assert len(splits) > 3
    for split in splits:
        labels += pa.Table.from_batches(list(table.batches(["label"], split=split)))[
            "label"
        ].to_pylist()
    assert labels == [f"v{i}" for i in range(3000)]
    assert with_keys and not any(with_keys)
    with_keys.clear()
    got = table.batches(["label"], (10,), (2000,)).read_all()["label"].to_pylist()
    assert got == [f"v{i}" for i in range(10, 2001)]
    assert any(with_keys)  # bounds inside leaves: the keys are read to trim


@settings(max_examples=60, deadline=None)
@given(
    ids=st.sets(st.integers(-3_000, 3_000), max_size=500),
    lo=st.none() | st.integers(-3_100, 3_100),
    hi=st.none() | st.integers(-3_100, 3_100),
    lo_inclusive=st.booleans(),
    hi_inclusive=st.booleans(),
)
def test_a_range_of_value_columns_holds_exactly_its_rows(ids, lo, hi, lo_inclusive, hi_inclusive):
    """Whether a bound cuts a leaf is told from the internal nodes (stream._cuts_leaves):
    any range, read without its key column, holds exactly the model's rows."""
    model = {i: f"v{i}" for i in ids}
    data = pa.table({"id": sorted(model), "label": [model[i] for i in sorted(model)]})
    table = Table.create(tiny_nodes(), SCHEMA, data)
    got = table.batches(
        ["label"],
        None if lo is None else (lo,),
        None if hi is None else (hi,),
        lo_inclusive=lo_inclusive,
        hi_inclusive=hi_inclusive,
    ).read_all()
    wanted = [
        model[i]
        for i in sorted(model)
        if (lo is None or (i >= lo if lo_inclusive else i > lo))
        and (hi is None or (i <= hi if hi_inclusive else i < hi))
    ]
    assert got["label"].to_pylist() == wanted


def test_a_scan_reads_the_lowest_internal_nodes_in_runs_and_equals_the_table():
    """A stream reads the lowest internal nodes after the first in runs (1, 8, 64, ...),
    one store read each, not one read per node; its rows are the table's."""
    labels = [f"v{i % 97}" * 3 for i in range(3_000)]
    data = pa.table({"id": list(range(3_000)), "label": labels})
    nodes = tiny_nodes()
    table = Table.create(nodes, SCHEMA, data)
    lowest = _lowest_internals(nodes, table.rows.root)
    parents = {a for a in _internals(nodes, table.rows.root) if nodes.internal(a).level == 2}
    assert len(lowest) > 2 * len(parents)  # enough children per parent for a run
    counting = _CountingStore(nodes.store, lowest)
    fresh = NodeStore(counting, leaf_rule=nodes.leaf_rule, internal_rule=nodes.internal_rule)
    got = [
        values[0]
        for _, values in stream.stream(fresh, table.rows.root, table.rows.types, [0], keys=False)
    ]
    assert pa.concat_arrays(got).to_pylist() == labels
    runs = [n for n in counting.reads if n]  # lowest internal nodes read per store call
    assert sum(runs) == len(lowest)  # each read once (its level is not read apart)
    assert len(runs) <= 2 * len(parents) and max(runs) > 1  # in runs, not one by one


class _CountingStore:
    """A chunk store that counts, per call, how many of ``watched`` it was asked for."""

    def __init__(self, inner, watched: set[bytes]) -> None:
        self.inner, self.watched, self.reads = inner, watched, []

    def get(self, address: bytes) -> bytes:
        self.reads.append(int(address in self.watched))
        return self.inner.get(address)

    def get_many(self, addresses):
        self.reads.append(sum(a in self.watched for a in addresses))
        return self.inner.get_many(addresses)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _internals(nodes, root) -> set[bytes]:
    node = nodes.internal(root)
    if node.level == 1:
        return {root}
    return {root}.union(*(_internals(nodes, child) for child in node.addresses))


def _lowest_internals(nodes, root) -> set[bytes]:
    node = nodes.internal(root)
    if node.level == 1:
        return {root}
    return set().union(*(_lowest_internals(nodes, child) for child in node.addresses))
