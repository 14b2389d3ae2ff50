"""Writing new values of existing rows straight into encoded leaves.

An update that keeps every cell's byte size (a label fixed to another label of
the same length, a new score) changes a leaf only inside its value buffers: the
header, the keys, the offsets and the validity bits stay as they are. This
module writes the new values over the old leaves' bytes (``leaf.py`` layout),
for all the leaves of one edit in one vectorised pass, with no decode and no
re-encode.

Invariant: the result is byte-identical to encoding the updated rows from
scratch, because nothing but the replaced values moves and ``PreparedColumn``
gives those in canonical form (NaN bit pattern, see ``columns.py``). Where that
could not hold, ``patch_leaves`` returns None and the caller re-encodes:

- a new value is NULL (the validity buffer could appear or change);
- an old value is NULL (a NULL variable-width slot has zero bytes);
- a bool or list column (bit-packed or nested buffers);
- a variable-width value whose new byte length differs from the old one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..chunks.delta import patch_bodies
from .columns import PreparedColumn, buffer_count
from .layout import LeafLayouts, ranges


def patch_leaves(
    layouts: LeafLayouts,
    leaf_of_row: np.ndarray,
    row_in_leaf: np.ndarray,
    columns: Sequence[PreparedColumn],
) -> tuple[list[bytes], list[bytes]] | None:
    """The leaves of ``layouts`` with edit row i's values written at row
    ``row_in_leaf[i]`` of leaf ``leaf_of_row[i]``, and each new leaf's PATCH delta
    body against the leaf it was (``chunks/delta.py``, made from the bytes that
    really changed); None when a value cannot be written in place (then
    ``layouts`` is unchanged).

    ``columns`` are the edit's value columns in schema order, one row per edit.
    """
    leaf = np.asarray(leaf_of_row, np.int64)
    row = np.asarray(row_in_leaf, np.int64)
    writes: list[tuple[np.ndarray, np.ndarray]] = []  # (byte positions, new bytes)
    index = layouts.first_value[leaf]  # each edit row's current column's first buffer
    for column in columns:
        t = column.type
        if column.valid is not None or pa.types.is_boolean(t) or pa.types.is_list(t):
            return None
        has_validity = layouts.lengths[leaf, index] > 0
        if not layouts.bits(layouts.starts[leaf, index][has_validity], row[has_validity]).all():
            return None  # an old NULL
        values_at = layouts.starts[leaf, index + 1]
        if column.offsets is None:  # fixed width
            width = column.width
            assert width is not None
            at = values_at + row * width
            writes.append((ranges(at, np.full(len(at), width)), column.flat_values()))
        else:
            old = layouts.gather_u32(values_at + 4 * row, 2)
            new_lengths = np.diff(column.offsets.astype(np.int64))
            if not np.array_equal(old[:, 1] - old[:, 0], new_lengths):
                return None
            data_at = layouts.starts[leaf, index + 2] + old[:, 0]
            first = int(column.offsets[0])
            new_bytes = column.flat_values()[first : first + int(new_lengths.sum())]
            writes.append((ranges(data_at, new_lengths), new_bytes))
        index = index + buffer_count(t)
    changed = [np.zeros(0, np.int64)]
    for positions, values in writes:
        changed.append(positions[layouts.buffer[positions] != values])
        layouts.buffer[positions] = values
    differ = np.sort(np.concatenate(changed))
    ends = layouts.chunk_start + layouts.sizes
    return layouts.split(), patch_bodies(layouts.buffer, layouts.chunk_start, ends, differ)
