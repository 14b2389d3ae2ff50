"""Internal (non-leaf) node: for each child, its last key, address and row count.

Byte layout (all integers little-endian)::

    OFFSET     SIZE      DESCRIPTION
    0          1         format version (INTERNAL_VERSION = 1)
    1          1         level (>= 1; a node's children are at level - 1)
    2          2         reserved, zero
    4          4         n, the number of children (u32, >= 1)
    8          4         w, key width: > 0 when every key is w bytes long
    12         ...       keys: when w > 0, n * w bytes; otherwise offsets
                         (u32 * (n + 1), starting at 0) then the key bytes
    then       20 * n    child addresses, in key order
    then       8 * n     subtree row counts (u64)

Entry i describes child i: ``keys[i]`` is the last (greatest) key in that
child's subtree, so keys are strictly ascending and a lookup of key k descends
into the first child whose last key is >= k. The counts make ``count()`` and
positional access O(log n).

Canonical form: one list of entries -> one byte string (``w`` is a function of
the keys: their common length, else 0).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..errors import FormatVersionError
from ..hash import ADDRESS_LEN

INTERNAL_VERSION = 1
_HEADER = struct.Struct("<BBHII")
assert _HEADER.size == 12


def encode_internal(
    level: int,
    keys: Sequence[bytes],
    addresses: Sequence[bytes],
    counts: Sequence[int] | np.ndarray,
) -> bytes:
    n = len(keys)
    w = len(keys[0]) if n else 0
    if any(len(k) != w for k in keys):
        w = 0
    parts = [_HEADER.pack(INTERNAL_VERSION, level, 0, n, w)]
    if not w:
        offsets = np.zeros(n + 1, "<u4")
        np.cumsum([len(k) for k in keys], out=offsets[1:])
        parts.append(offsets.tobytes())
    parts.extend(keys)
    parts.extend(addresses)
    parts.append(np.asarray(counts, "<u8").tobytes())
    return b"".join(parts)


class InternalNode(NamedTuple):
    """A decoded internal node: entry i is child i's last key, address and row count."""

    level: int
    keys: list[bytes]
    addresses: list[bytes]
    counts: np.ndarray  # int64 per child


def decode_internal(data: bytes | memoryview) -> InternalNode:
    """Return the node's (level, last keys, child addresses, subtree row counts)."""
    version, level, _, n, w = _HEADER.unpack_from(data, 0)
    if version != INTERNAL_VERSION or level < 1:
        raise FormatVersionError("internal node", version, INTERNAL_VERSION)
    raw = bytes(data)
    pos = _HEADER.size
    if w:  # numpy's void items come out as bytes, NULs kept: ~3x faster than slicing
        keys = np.frombuffer(raw, f"V{w}", n, pos).tolist()
        pos += n * w
    else:
        offsets = np.frombuffer(raw, "<u4", n + 1, pos).tolist()
        pos += 4 * (n + 1)
        keys = [raw[pos + a : pos + b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        pos += offsets[-1]
    addresses = np.frombuffer(raw, f"V{ADDRESS_LEN}", n, pos).tolist()
    pos += n * ADDRESS_LEN
    counts = np.frombuffer(raw, "<u8", n, pos).astype(np.int64)
    if pos + 8 * n != len(raw):
        raise ValueError(f"internal node has {len(raw)} bytes, its header says {pos + 8 * n}")
    return InternalNode(level, keys, addresses, counts)


def node_level(data: bytes | memoryview) -> int:
    """The level byte shared by leaves (0) and internal nodes (>= 1)."""
    return data[1]
