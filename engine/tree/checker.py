"""Debug invariant checker for prolly trees (tests and fsck; never on a hot path).

Checks, numbering the invariants the tree modules rely on:
  (1) every child address resolves and decodes;
  (2) levels are consistent: an internal node at level L has children at L - 1;
  (3) keys are strictly ascending within each node and across leaves;
  (4) an internal entry's key is the last key of its child's subtree;
  (5) an internal entry's count is its child's row count;
  (6) the tree is canonical: rebuilding it from its rows gives the same root.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pyarrow as pa

from ..chunks.store import ChunkStore
from ..codec.leaf import leaf_summary
from ..errors import EngineError
from ..hash import addresses_of
from .builder import build_leaves, build_root
from .keyarray import sortable
from .nodes import NodeStore


class TreeInvariantError(EngineError, AssertionError):
    """A prolly tree breaks one of the numbered invariants in ``tree/checker.py``."""


def check_tree(
    nodes: NodeStore, root: bytes, types: Sequence[pa.DataType], canonical: bool = True
) -> int:
    """Check invariants (1)-(6) of the tree at ``root``; returns its row count."""
    count, _ = _check_node(nodes, root, types, nodes.level(root))
    if canonical:
        keys, columns = nodes.decode_leaves(_all_leaves(nodes, root), types)
        s = sortable(keys)
        if len(s) > 1 and not (s[1:] > s[:-1]).all():
            raise TreeInvariantError("invariant (3): keys are not strictly ascending across leaves")
        scratch = NodeStore(
            cast(ChunkStore, _Discard(nodes.store)),  # a rebuild calls only get and put_many
            leaf_rule=nodes.leaf_rule,
            internal_rule=nodes.internal_rule,
        )
        rebuilt = build_root(scratch, build_leaves(scratch, keys, columns))
        if rebuilt != root:
            raise TreeInvariantError("invariant (6): rebuilding from the rows gives another root")
    return count


def _check_node(nodes: NodeStore, address: bytes, types, level: int) -> tuple[int, bytes]:
    actual = nodes.level(address)
    if actual != level:
        raise TreeInvariantError(f"invariant (2): node at level {actual}, expected {level}")
    if level == 0:
        nodes.decode_leaves([address], types)  # invariant (1)
        return leaf_summary(nodes.store.get(address))
    node = nodes.internal(address)
    if len(node.keys) > 1 and node.keys != sorted(set(node.keys)):
        raise TreeInvariantError("invariant (3): internal keys are not strictly ascending")
    total = 0
    for key, child, count in zip(node.keys, node.addresses, node.counts, strict=True):
        child_count, last = _check_node(nodes, child, types, level - 1)
        if last != key:
            raise TreeInvariantError("invariant (4): entry key is not its child's last key")
        if child_count != count:
            raise TreeInvariantError(
                f"invariant (5): entry count {count}, child holds {child_count}"
            )
        total += child_count
    return total, node.keys[-1]


def _all_leaves(nodes: NodeStore, root: bytes) -> list[bytes]:
    level, frontier = nodes.level(root), [root]
    while level > 0:
        frontier = [a for x in frontier for a in nodes.internal(x).addresses]
        level -= 1
    return frontier


class _Discard:
    """A chunk sink that stores nothing: rebuilding only needs the addresses."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def put_many(self, chunks):
        return addresses_of(chunks)

    def get(self, address):
        return self.inner.get(address)
