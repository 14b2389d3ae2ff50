"""Text and bytes past the 32-bit offset limit load, read back and are never
reported as corruption (``codec/columns.py``'s ``OFFSET_LIMIT`` is lowered here so
a few KiB stand for 2 GiB; ``bench/scale.py`` runs the real size)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from arbordb.engine.codec import columns
from arbordb.engine.errors import CorruptChunk
from arbordb.engine.table import Table
from arbordb.engine.table.schema import Column, Schema
from arbordb.engine.tree import nodes as tree_nodes

LIMIT = 2_000  # bytes that stand for 2 GiB in these tests


@pytest.fixture
def low_limit(monkeypatch):
    monkeypatch.setattr(columns, "OFFSET_LIMIT", LIMIT)


def _schema(kind: pa.DataType) -> Schema:
    return Schema(
        (Column("id", None, pa.int64()), Column("body", None, kind)), ("id",), name="docs"
    )


def _docs(n: int) -> list[str | None]:
    return [None if i % 7 == 3 else f"doc {i} " + "x" * (i % 50) for i in range(n)]


@pytest.mark.parametrize("shape", ["large", "chunked"])
def test_text_past_the_offset_limit_loads_and_reads_back(nodes, low_limit, shape):
    docs = _docs(400)
    assert sum(len(d) for d in docs if d) > 5 * LIMIT
    if shape == "large":
        body = pa.array(docs, pa.large_string())
    else:  # many small chunks whose total passes the limit
        body = pa.chunked_array(
            [pa.array(docs[i : i + 40], pa.string()) for i in range(0, 400, 40)]
        )
    table = Table.create(nodes, _schema(pa.string()), pa.table({"id": range(400), "body": body}))
    out = table.to_arrow()
    assert out.column("body").type == pa.large_string()  # the joined column passes the limit
    assert out.column("body").to_pylist() == docs
    assert out.column("id").to_pylist() == list(range(400))
    edited = table.upsert(pa.table({"id": [5, 399], "body": ["five", None]}))
    docs[5], docs[399] = "five", None
    assert edited.to_arrow().column("body").to_pylist() == docs


def test_bytes_past_the_offset_limit_read_back(nodes, low_limit):
    blobs = [bytes([i % 256]) * (i % 40) for i in range(300)]
    schema = _schema(pa.binary())
    table = Table.create(nodes, schema, pa.table({"id": range(300), "body": pa.array(blobs)}))
    out = table.to_arrow()
    assert out.column("body").type == pa.large_binary()
    assert out.column("body").to_pylist() == blobs


def test_a_joint_decode_failure_is_not_reported_as_corruption(nodes, monkeypatch):
    table = Table.create(
        nodes, _schema(pa.string()), pa.table({"id": range(300), "body": _docs(300)})
    )
    decode = tree_nodes.decode_leaves

    def over_capacity(chunks, types):
        if len(chunks) > 1:  # each leaf decodes alone; only the join fails
            raise pa.ArrowCapacityError("array cannot contain more than 2147483646 bytes")
        return decode(chunks, types)

    monkeypatch.setattr(tree_nodes, "decode_leaves", over_capacity)
    with pytest.raises(pa.ArrowCapacityError):
        table.to_arrow()


def test_a_leaf_that_does_not_decode_is_still_corruption(nodes, monkeypatch):
    table = Table.create(
        nodes, _schema(pa.string()), pa.table({"id": range(300), "body": _docs(300)})
    )

    def damaged(chunks, types):
        raise ValueError("leaf is truncated")

    monkeypatch.setattr(tree_nodes, "decode_leaves", damaged)
    with pytest.raises(CorruptChunk):
        table.to_arrow()
