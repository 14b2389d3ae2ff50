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

from ..arrow_arrays import bools, numpy_bools
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


# candidate values per index entry from which one pass over the whole index is cheaper
# than one range read per value
_ONE_PASS = 64


def _sharing_keys(merged: Table, index: Index, entries: pa.BinaryArray) -> list[bytes]:
    """Row keys of the entries of ``merged``'s index whose indexed values are those of
    one of ``entries`` (the entries themselves included) and held by two rows or more.
    The entries holding those values are read by one range read per value, or by one
    pass over the index when the values are many; the counting is vectorised."""
    if len(entries) == 0:
        return []
    types = index_key_types(merged.schema, index)
    k = len(index.columns)
    fields = decode_keys(entries, types)[:k]
    valid = np.ones(len(entries), bool)
    for field in fields:
        if field.null_count:
            valid &= numpy_bools(field.is_valid())
    kept = bools(valid)
    candidates = pc.unique(encode_keys([f.filter(kept) for f in fields], types[:k]))
    if len(candidates) == 0:
        return []
    tree = merged.index_trees[index.name]
    if len(candidates) * _ONE_PASS >= tree.count():
        found, _ = tree.scan()
    else:
        ranges = [
            tree.scan(p, _after_prefix(p), hi_inclusive=False)[0] for p in candidates.to_pylist()
        ]
        found = pa.concat_arrays(ranges)
    if len(found) < 2:
        return []
    decoded = decode_keys(found, types)
    prefixes = encode_keys(decoded[:k], types[:k])
    counts = pc.value_counts(prefixes.filter(pc.is_in(prefixes, value_set=candidates)))
    shared = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    rows = pc.is_in(prefixes, value_set=shared)
    return encode_keys(
        [f.filter(rows) for f in decoded[k:]], list(merged.schema.key_types)
    ).to_pylist()


def _after_prefix(prefix: bytes) -> bytes | None:
    """The least byte string greater than every string starting with ``prefix`` (None:
    no bound, for a prefix of 0xff bytes only)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
