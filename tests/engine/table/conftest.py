"""Fixtures for the table tests: node stores with tiny chunking rules.

Tiny rules (hundreds of bytes per node) give trees of several levels from a
few hundred rows, so multi-leaf edits, lookups and scans are exercised fast.
"""

from __future__ import annotations

import pytest

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.tree import NodeStore
from arbordb.engine.tree.splitter import ChunkRule

TINY_LEAF = ChunkRule(target=256, min_size=64, max_size=1024)
TINY_INTERNAL = ChunkRule(target=128, min_size=64, max_size=512)


def tiny_nodes() -> NodeStore:
    return NodeStore(MemoryChunkStore(), leaf_rule=TINY_LEAF, internal_rule=TINY_INTERNAL)


@pytest.fixture
def nodes() -> NodeStore:
    return tiny_nodes()


@pytest.fixture(scope="session")
def make_nodes():
    """A factory of fresh tiny node stores (for hypothesis tests, one per example)."""
    return tiny_nodes
