"""Chunk stores: immutable content-addressed bytes, plus refs moved by compare-and-swap.

``ChunkStore`` (store.py) is the protocol; ``MemoryChunkStore`` the reference,
``LmdbChunkStore`` the on-disk store, ``BufferedChunkStore`` a wrapper that makes one
logical operation one write transaction.
"""

from __future__ import annotations

from .buffered import BufferedChunkStore
from .lmdb_store import LmdbChunkStore
from .memory import MemoryChunkStore
from .store import ChunkStore, RefUpdate

__all__ = ["BufferedChunkStore", "ChunkStore", "LmdbChunkStore", "MemoryChunkStore", "RefUpdate"]
