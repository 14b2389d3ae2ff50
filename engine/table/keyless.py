"""Keyless tables: rows keyed by a hash of their values, duplicates counted (Dolt's model).

A table without a primary key stores each distinct row once:

    key   = BLAKE3-160 of the row encoding below (engine/hash.py's digest), 20 bytes
    value = count (uint64, >= 1: how many copies of the row the table holds),
            then every column in schema order (rows.py)

Row encoding (the bytes hashed; never stored). Fields in schema order, each:

    scalar column   its codec/keys.py field encoding (marker, value part);
                    canonical there, so 0.0 and -0.0, or two NaNs, are one row
    list column     1 byte marker (0x00 NULL, 0x01 a list), a u32 big-endian
                    item count (0 for NULL), then each item's field encoding

Every field encoding is self-delimiting, so the encoding is injective: equal
rows, and only equal rows, share a key (up to BLAKE3 collisions). The key
depends on values only, never on column names, so a column rename keeps
every key; adding, dropping or retyping a column rehashes the table.

Semantics:

- insert adds one copy per input row (repeats within a batch count too);
- delete takes whole rows and removes one copy per input row; removing more
  copies than the table holds leaves none (as deleting an absent key of a
  keyed table is a no-op);
- ``to_arrow`` repeats each row ``count`` times; row order is key (hash) order.

Secondary indexes hold one entry per distinct row (indexes.py invariant (1));
a UNIQUE index also refuses a row stored twice when its indexed values are
all non-NULL.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..codec.key_batch import encode_keys
from ..errors import DuplicateKey
from ..hash import ADDRESS_LEN, addresses_of
from ..tree import NodeStore, ProllyTree
from ..tree.keyarray import comparable, key_buffers
from ..tree.lookup import lookup
from .edit import edit_tree
from .indexes import apply_index_edits, build_index, check_indexes, plan_index_edits
from .rows import COUNT_TYPE, describe_rows, tree_value_types
from .schema import Schema

__all__ = ["apply_keyless", "build_keyless", "check_unique_repeats", "expand", "row_hashes"]

_LIST_HEADER = 5  # marker + u32 item count


def row_hashes(schema: Schema, data: pa.Table) -> pa.BinaryArray:
    """The 20-byte key of every row of conformed ``data`` (see the module docstring)."""
    n = data.num_rows
    if n == 0:
        return pa.nulls(0, pa.binary())
    pieces = [_field_encoding(data.column(c.name), c.type) for c in schema.columns]
    encoded = pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, b"")
    digests = b"".join(addresses_of(encoded.to_pylist()))  # one C call per row: no bulk BLAKE3
    offsets = np.arange(0, (n + 1) * ADDRESS_LEN, ADDRESS_LEN, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(digests)]
    )


def _field_encoding(values: pa.ChunkedArray, t: pa.DataType) -> pa.BinaryArray:
    if not pa.types.is_list(t):
        return encode_keys([values], [t])
    values = values.combine_chunks()
    n = len(values)
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    lengths = (
        pc.list_value_length(values).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    )
    items = pc.list_flatten(values)
    if len(items):
        item_offsets, item_data = key_buffers(encode_keys([items], [t.value_type]))
    else:
        item_offsets, item_data = np.zeros(1, np.int64), np.zeros(0, np.uint8)
    first_item = np.concatenate([[0], np.cumsum(lengths)])
    item_bytes = np.diff(item_offsets[first_item])  # each row's items are contiguous, in order
    out_offsets = np.zeros(n + 1, np.int64)
    np.cumsum(item_bytes + _LIST_HEADER, out=out_offsets[1:])
    header = np.empty((n, _LIST_HEADER), np.uint8)
    header[:, 0] = valid
    header[:, 1:] = lengths.astype(">u4").view(np.uint8).reshape(n, 4)
    is_header = np.zeros(int(out_offsets[-1]), bool)
    is_header[(out_offsets[:-1, None] + np.arange(_LIST_HEADER)).ravel()] = True
    out = np.empty(int(out_offsets[-1]), np.uint8)
    out[is_header] = header.ravel()
    out[~is_header] = item_data
    return pa.Array.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(out_offsets.astype(np.int32)), pa.py_buffer(out)]
    )


def expand(counts: pa.Array, data: pa.Table) -> pa.Table:
    """``data`` with row i repeated ``counts[i]`` times."""
    repeat = counts.to_numpy(zero_copy_only=False).astype(np.int64)
    return data.take(pa.array(np.repeat(np.arange(len(repeat)), repeat)))


def _group(
    keys: pa.BinaryArray, delta: np.ndarray
) -> tuple[pa.BinaryArray, np.ndarray, np.ndarray]:
    """Distinct keys in key order, the summed ``delta`` of each, and one row holding it."""
    (s,) = comparable(keys)  # equal-width hashes: numpy order is memcmp order
    _, first, inverse = np.unique(s, return_index=True, return_inverse=True)
    totals = np.bincount(inverse.ravel(), weights=delta, minlength=len(first)).astype(np.int64)
    return keys.take(pa.array(first)), totals, first


def build_keyless(
    nodes: NodeStore, schema: Schema, data: pa.Table
) -> tuple[ProllyTree, dict[str, ProllyTree]]:
    """Row tree and index trees of a keyless table holding the rows ``data`` (with repeats)."""
    keys, counts, first = _group(row_hashes(schema, data), np.ones(data.num_rows, np.int64))
    distinct = data.take(pa.array(first, pa.int64()))
    check_unique_repeats(schema, distinct, counts, np.ones(len(counts), bool))
    check_indexes(schema, distinct)  # every check before the first write
    rows = ProllyTree.build(
        nodes, keys, [pa.array(counts, COUNT_TYPE), *distinct.columns], tree_value_types(schema)
    )
    indexes = {i.name: build_index(nodes, schema, i, distinct, [keys]) for i in schema.indexes}
    return rows, indexes


def apply_keyless(
    schema: Schema,
    rows: ProllyTree,
    indexes: Mapping[str, ProllyTree],
    inserts: pa.Table,
    deletes: pa.Table,
) -> tuple[ProllyTree, dict[str, ProllyTree]]:
    """Add a copy of each ``inserts`` row and remove one of each ``deletes`` row.

    Both tables are conformed; NOT NULL has been checked on ``inserts``. All
    checks run before anything is written.

    Raises:
        DuplicateKey: a UNIQUE index would be broken.
    """
    both = pa.concat_tables([inserts, deletes])
    delta = np.concatenate(
        [np.ones(inserts.num_rows, np.int64), -np.ones(deletes.num_rows, np.int64)]
    )
    keys, change, first = _group(row_hashes(schema, both), delta)
    distinct = both.take(pa.array(first, pa.int64()))  # an inserted copy where there is one
    _, (old_counts,) = lookup(rows, keys, 1)
    old = old_counts.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    new = np.maximum(old + change, 0)
    touched = new != old
    check_unique_repeats(schema, distinct, new, touched)
    if schema.indexes:
        gone, born = (old > 0) & (new == 0), (old == 0) & (new > 0)
        plan = plan_index_edits(
            schema, indexes, _pick(distinct, keys, gone), _pick(distinct, keys, born)
        )
    else:
        plan = {}
    edit = pa.array(touched)
    counts = pa.array(new, COUNT_TYPE).filter(edit)
    columns = [c.filter(edit) for c in distinct.columns]
    rows = edit_tree(rows, keys.filter(edit), [counts, *columns], new[touched] == 0)
    return rows, apply_index_edits(indexes, plan)


def _pick(
    data: pa.Table, keys: pa.BinaryArray, mask: np.ndarray
) -> tuple[pa.Table, list[pa.Array]]:
    m = pa.array(mask)
    return data.filter(m), [keys.filter(m)]


def check_unique_repeats(
    schema: Schema, distinct: pa.Table, counts: np.ndarray, touched: np.ndarray
) -> None:
    """A UNIQUE index refuses a row stored more than once when its indexed values are non-NULL."""
    for index in schema.indexes:
        if not index.unique:
            continue
        bad = touched & (counts > 1)
        for name in index.columns:
            bad &= distinct.column(name).is_valid().to_numpy(zero_copy_only=False)
        if bad.any():
            table = f"table {schema.name!r}" if schema.name else "table"
            raise DuplicateKey(
                f"{table}: UNIQUE index {index.name!r} on ({', '.join(index.columns)}): "
                f"{describe_rows(schema, distinct, np.flatnonzero(bad))} would be stored "
                f"{int(counts[np.flatnonzero(bad)[0]])} times"
            )
