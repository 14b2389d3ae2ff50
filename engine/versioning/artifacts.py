"""Merge artifacts of one table: its unresolved conflicts and constraint violations.

Both are prolly trees keyed like the table's rows (the encoded primary key), so
they diff, merge and garbage-collect like everything else. A table's artifacts
are one chunk that names them (all integers big-endian)::

    OFFSET  SIZE  DESCRIPTION
    0       4     magic b"AART"
    4       1     format version (ARTIFACTS_VERSION = 1)
    5       20    conflicts tree root
    25      20    violations tree root
    45      2     length L of the JSON that follows (u16)
    47      L     JSON (sorted keys, no spaces): {"value_types": [...type texts...]}

Conflict rows store, after the key: ``base_present`` (bool), the base row's
value columns, our row's value columns, ``our_diff_type``, their row's value
columns, ``their_diff_type`` (the value columns in the table's stored order).
Violation rows store ``violation_type`` ('unique index', 'not null', ...) and
``violation_info`` (JSON text). A table with neither has no artifacts chunk.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from ..codec.types import type_from_text, type_to_text
from ..errors import CorruptChunk, FormatVersionError
from ..hash import ADDRESS_LEN
from ..tree import NodeStore, ProllyTree

ARTIFACTS_MAGIC = b"AART"
ARTIFACTS_VERSION = 1
_HEADER = struct.Struct(">4sB20s20sH")
assert _HEADER.size == 47

VIOLATION_TYPES = [pa.string(), pa.string()]


def conflict_types(value_types: Sequence[pa.DataType]) -> list[pa.DataType]:
    v = list(value_types)
    return [pa.bool_(), *v, *v, pa.string(), *v, pa.string()]


@dataclass(frozen=True)
class Artifacts:
    conflicts: ProllyTree
    violations: ProllyTree

    @property
    def value_types(self) -> list[pa.DataType]:
        return list(self.conflicts.types[1 : 1 + (len(self.conflicts.types) - 3) // 3])

    def is_empty(self) -> bool:
        return self.conflicts.count() == 0 and self.violations.count() == 0

    def encode(self) -> bytes:
        meta = json.dumps(
            {"value_types": [type_to_text(t) for t in self.value_types]},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        return (
            _HEADER.pack(
                ARTIFACTS_MAGIC,
                ARTIFACTS_VERSION,
                self.conflicts.root,
                self.violations.root,
                len(meta),
            )
            + meta
        )

    def store(self, nodes: NodeStore) -> bytes:
        (address,) = nodes.write([self.encode()])
        return address

    @classmethod
    def load(cls, nodes: NodeStore, address: bytes) -> Artifacts:
        data = nodes.store.get(address)
        try:
            magic, version, conflicts, violations, length = _HEADER.unpack_from(data, 0)
            meta = json.loads(data[_HEADER.size : _HEADER.size + length])
        except (struct.error, ValueError) as exc:
            raise CorruptChunk(address, f"artifacts chunk: {exc}") from exc
        if magic != ARTIFACTS_MAGIC:
            raise CorruptChunk(address, "not an artifacts chunk (wrong magic)")
        if version != ARTIFACTS_VERSION:
            raise FormatVersionError("artifacts chunk", version, ARTIFACTS_VERSION)
        types = [type_from_text(t) for t in meta["value_types"]]
        return cls(
            ProllyTree(nodes, conflicts, conflict_types(types)),
            ProllyTree(nodes, violations, VIOLATION_TYPES),
        )

    @classmethod
    def empty(cls, nodes: NodeStore, value_types: Sequence[pa.DataType]) -> Artifacts:
        return cls(
            ProllyTree.empty(nodes, conflict_types(value_types)),
            ProllyTree.empty(nodes, VIOLATION_TYPES),
        )


def children(data: bytes) -> list[bytes]:
    """Addresses an artifacts chunk names (for gc and fsck)."""
    return [data[5 : 5 + ADDRESS_LEN], data[25 : 25 + ADDRESS_LEN]]
