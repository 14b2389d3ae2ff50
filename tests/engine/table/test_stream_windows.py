"""``tree.stream._parts``: a group's joined blocks (``PickedBlock``) cut into windows of
at most ``MAX_BATCH_BYTES`` of picked bytes (one leaf at least), checked against the
leaf-by-leaf rule on hypothesis-drawn leaf sizes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.chunks.column_frames import BufferPick, JoinedBuffer, PickedBlock
from arbordb.engine.tree import stream

LIMIT = 100


class _Nodes:
    """``NodeStore.read_buffers`` over leaves whose one picked buffer is ``sizes[i]``
    bytes of the byte ``i % 251``."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes
        self.blocks: list[int] = []

    def read_buffers(self, addresses, pick) -> PickedBlock:
        ids = [int.from_bytes(a, "big") for a in addresses]
        lengths = np.array([self.sizes[i] for i in ids], np.int64)
        data = b"".join(bytes([i % 251]) * self.sizes[i] for i in ids)
        self.blocks.append(len(ids))
        ones = np.ones(len(ids), np.int64)
        return PickedBlock(ones, ones, lengths, None, [JoinedBuffer(data, lengths)])


def _leaf_by_leaf(sizes: list[int]) -> list[list[int]]:
    """The windows (leaf ids) of the rule applied one leaf at a time."""
    windows: list[list[int]] = [[]]
    size = 0
    for i, s in enumerate(sizes):
        if size and size + s > LIMIT:
            windows.append([])
            size = 0
        windows[-1].append(i)
        size += s
    return windows if windows[0] else []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 3 * LIMIT // 2), max_size=400))
def test_windows_cut_joined_blocks_as_leaf_by_leaf(sizes):
    nodes = _Nodes(sizes)
    addresses = [i.to_bytes(4, "big") for i in range(len(sizes))]
    old = stream.MAX_BATCH_BYTES
    stream.MAX_BATCH_BYTES = LIMIT
    try:
        got = list(stream._parts(nodes, addresses, BufferPick(1, (0,), False)))  # type: ignore[arg-type]
    finally:
        stream.MAX_BATCH_BYTES = old
    expected = _leaf_by_leaf(sizes)
    assert [[int.from_bytes(a, "big") for a in window] for window, _ in got] == expected
    for (_, block), ids in zip(got, expected, strict=True):
        assert block.sizes.tolist() == [sizes[i] for i in ids]
        assert bytes(block.values[0].data) == b"".join(bytes([i % 251]) * sizes[i] for i in ids)
        assert block.values[0].lengths.tolist() == [sizes[i] for i in ids]
