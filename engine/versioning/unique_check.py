"""UNIQUE violations a merge makes, found from the index entries the merge added.

Ours already satisfied each UNIQUE index it had (indexes.py invariant (2)), so a
merged row can only collide through an entry the merge added to the index: the
index trees of ours and of the merged table are diffed (a cost that follows the
change, not the table), and each added entry's indexed values are looked up in the
merged index; a value held by two or more rows makes all of them violations. An
index ours did not have as the same UNIQUE index (the merge added it, or made it
unique) is checked over the whole merged index instead, reading only its entries.
Entries with a NULL indexed value never collide, as in SQL.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..codec.key_batch import decode_keys, encode_keys
from ..table import Index, Table
from ..table.indexes import index_key_types
from ..tree import REMOVED

__all__ = ["unique_violations"]


def unique_violations(ours: Table, merged: Table, settled: Collection[str]) -> dict[bytes, str]:
    """Row key -> name of the first UNIQUE index (by name) it breaks in ``merged``.

    ``settled`` names the UNIQUE indexes ours already had, with the same columns, so
    that its own rows cannot collide among themselves.
    """
    schema = merged.schema
    found: dict[bytes, str] = {}
    for index in (ix for ix in schema.indexes if ix.unique):
        tree = merged.index_trees[index.name]
        if index.name in settled:
            changed = ours.index_trees[index.name].diff(tree)
            entries = changed.keys.filter(pa.array(changed.kinds != REMOVED))
        else:
            entries, _ = tree.scan()
        for key in _sharing_keys(merged, index, entries):
            found.setdefault(key, index.name)
    return found


def _sharing_keys(merged: Table, index: Index, entries: pa.BinaryArray) -> list[bytes]:
    """Row keys of the entries of ``merged``'s index whose indexed values are those of
    one of ``entries`` (the entries themselves included) and held by two rows or more."""
    if len(entries) == 0:
        return []
    schema = merged.schema
    types = index_key_types(schema, index)
    k = len(index.columns)
    fields = decode_keys(entries, types)[:k]
    valid = np.ones(len(entries), bool)
    for field in fields:
        if field.null_count:
            valid &= field.is_valid().to_numpy(zero_copy_only=False)
    kept = pa.array(valid)
    prefixes = pc.unique(encode_keys([f.filter(kept) for f in fields], types[:k]))
    tree = merged.index_trees[index.name]
    out: list[bytes] = []
    for prefix in prefixes.to_pylist():
        found, _ = tree.scan(prefix, _after_prefix(prefix), hi_inclusive=False)
        if len(found) < 2:
            continue
        decoded = decode_keys(found, types)
        same = pc.equal(encode_keys(decoded[:k], types[:k]), pa.scalar(prefix, pa.binary()))
        rows = [f.filter(same) for f in decoded[k:]]
        if len(rows[0]) > 1:
            out.extend(encode_keys(rows, list(schema.key_types)).to_pylist())
    return out


def _after_prefix(prefix: bytes) -> bytes | None:
    """The least byte string greater than every string starting with ``prefix`` (None:
    no bound, for a prefix of 0xff bytes only)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
