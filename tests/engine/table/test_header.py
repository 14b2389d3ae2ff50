"""The table header chunk: load, canonical bytes, corruption, references."""

from __future__ import annotations

import pyarrow as pa
import pytest

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.errors import CorruptChunk, FormatVersionError, MissingChunk
from arbordb.engine.hash import address_of
from arbordb.engine.table import Column, Index, Schema, Table
from arbordb.engine.table.header import TABLE_MAGIC, decode_header
from arbordb.engine.tree import NodeStore

SCHEMA = Schema(
    [Column("id", None, pa.int64()), Column("v", None, pa.string())],
    ("id",),
    (Index("by_v", ("v",)),),
    name="t",
)


def test_load_round_trip(nodes):
    t = Table.create(nodes, SCHEMA, pa.table({"id": [1, 2], "v": ["a", "b"]}))
    data = nodes.store.get(t.address)
    assert data[:4] == TABLE_MAGIC and address_of(data) == t.address
    loaded = Table.load(nodes, t.address, "t")
    assert loaded == t and loaded.name == "t"
    assert loaded.schema == t.schema and loaded.rows.root == t.rows.root
    assert loaded.to_arrow().equals(t.to_arrow())
    assert Table.load(nodes, t.address).name == ""
    assert t.named("u").address == t.address and t.named("u").name == "u"
    # the loaded table writes like the original
    assert loaded.insert(pa.table({"id": [3]})).address == t.insert(pa.table({"id": [3]})).address


def test_children_name_every_tree(nodes):
    t = Table.create(nodes, SCHEMA).with_artifacts(b"\x07" * 20)
    kids = Table.children(nodes.store.get(t.address))
    assert kids == [t.rows.root, t.index_trees["by_v"].root, b"\x07" * 20]
    assert kids == t.references()


def test_the_same_table_in_two_stores_has_one_address(nodes):
    other = NodeStore(
        MemoryChunkStore(), leaf_rule=nodes.leaf_rule, internal_rule=nodes.internal_rule
    )
    a = Table.create(nodes, SCHEMA, pa.table({"id": [5], "v": ["x"]}))
    b = Table.create(other, SCHEMA, pa.table({"id": [5], "v": ["x"]}))
    assert a.address == b.address


def test_missing_and_corrupt_headers(nodes):
    t = Table.create(nodes, SCHEMA)
    with pytest.raises(MissingChunk):
        Table.load(nodes, b"\x01" * 20)
    data = nodes.store.get(t.address)
    for bad, what in [
        (b"XTBL" + data[4:], "not a table header"),
        (data + b"\0", "canonical"),
        (data[:26] + b"\x02" + data[27:], "artifacts"),
        (data[:60], "schema"),
    ]:
        with pytest.raises(CorruptChunk, match=what):
            decode_header(address_of(bad), bad)
    with pytest.raises(FormatVersionError):
        newer = data[:4] + b"\x02" + data[5:]
        decode_header(address_of(newer), newer)
    not_a_header = nodes.store.put(b"ATBLjunk")
    with pytest.raises(CorruptChunk):
        Table.load(nodes, not_a_header)
