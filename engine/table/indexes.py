"""Secondary indexes: one key-only prolly tree per index, kept in step with the rows.

An index entry is a key with no value columns:

    index key = encode_keys(indexed columns + row-id columns)    (codec/keys.py)

The row id names the row the entry points at: the primary-key columns of a
keyed table (types ``schema.key_types``), or for a keyless table the row's
20-byte hash as one binary field (``ROW_HASH``). Because the key ends with
the row id, entries are unique even where indexed values repeat, and the
entries of one indexed value form one key range (codec/keys.py invariant (4):
the encoding of the leading fields is a byte prefix of the key).

Invariants (every write keeps them; ``build_index`` establishes them):

(1) an index holds exactly one entry per stored row (a keyless row stored
    with count n has one entry), and no other entry;
(2) UNIQUE: among rows whose indexed columns are all non-NULL, no two have
    the same indexed values (NULLs never collide, as in SQL). Writes check
    the rows they add against each other and against the index's entries
    (one bulk seek per batch), before anything is written.

A write hands ``plan_index_edits`` the rows it removes and the rows it adds
(old and new versions of an updated row both appear); entries present on
both sides are left alone, the rest become one sorted edit per index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..codec.key_batch import decode_keys, encode_keys, refuse_long_keys
from ..errors import DuplicateKey
from ..tree import NodeStore, ProllyTree
from ..tree.lookup import seek
from .edit import edit_tree
from .rows import describe_rows, format_key, key_order, take_in_order
from .schema import Index, Schema

__all__ = [
    "ROW_HASH",
    "IndexEdit",
    "apply_index_edits",
    "build_index",
    "check_index",
    "check_indexes",
    "index_key_types",
    "index_keys",
    "plan_index_edits",
    "row_id_names",
    "row_id_types",
]

ROW_HASH = "dolt_row_hash"  # name of a keyless table's row-id column in index scans

Rows = tuple[pa.Table, list[pa.Array]]  # conformed rows and their row-id columns
IndexEdit = tuple[pa.BinaryArray, np.ndarray]  # sorted keys, deleted flags


def row_id_types(schema: Schema) -> list[pa.DataType]:
    return list(schema.key_types) if not schema.is_keyless else [pa.binary()]


def row_id_names(schema: Schema) -> list[str]:
    return list(schema.primary_key) if not schema.is_keyless else [ROW_HASH]


def index_key_types(schema: Schema, index: Index) -> list[pa.DataType]:
    return [schema.column(n).type for n in index.columns] + row_id_types(schema)


def index_keys(
    schema: Schema, index: Index, data: pa.Table, ids: Sequence[pa.Array]
) -> pa.BinaryArray:
    """The index keys of the rows ``data`` whose row ids are ``ids`` (row order)."""
    columns = [data.column(n) for n in index.columns] + list(ids)
    if data.num_rows == 0:
        return pa.nulls(0, pa.binary())
    return encode_keys(columns, index_key_types(schema, index))


def refuse_long_values(schema: Schema, index: Index, data: pa.Table) -> None:
    """Raise ``KeyTooLarge`` if a row of ``data`` has an indexed value longer than a
    key may be (only values of variable length can be)."""
    types = [schema.column(n).type for n in index.columns]
    variable = (
        pa.types.is_string,
        pa.types.is_binary,
        pa.types.is_large_string,
        pa.types.is_large_binary,
    )
    if data.num_rows and any(test(t) for t in types for test in variable):
        values = encode_keys([data.column(n) for n in index.columns], types)
        refuse_long_keys(values, f"index {index.name!r} on ({', '.join(index.columns)})")


def check_indexes(schema: Schema, data: pa.Table) -> None:
    """Check invariant (2) for every UNIQUE index over all rows ``data`` (before a build).

    Raises:
        DuplicateKey: two rows share the indexed values of a UNIQUE index (the
            message quotes both rows and the value).
    """
    for index in schema.indexes:
        check_index(schema, index, data)


def check_index(schema: Schema, index: Index, data: pa.Table) -> None:
    """``check_indexes`` for one index."""
    if index.unique:
        _check_batch_unique(schema, index, data)


def build_index(
    nodes: NodeStore, schema: Schema, index: Index, data: pa.Table, ids: Sequence[pa.Array]
) -> ProllyTree:
    """A new index tree over all rows ``data`` (invariant (1); ``check_indexes`` first)."""
    refuse_long_values(schema, index, data)
    keys = index_keys(schema, index, data, ids)
    order, _ = key_order(keys)
    return ProllyTree.build(nodes, take_in_order(keys, order), [], [])


def plan_index_edits(
    schema: Schema,
    trees: Mapping[str, ProllyTree],
    removed: Rows,
    added: Rows,
    *,
    check: bool = True,
) -> dict[str, IndexEdit]:
    """The edit of every index for a write that removes and adds these rows.

    Checks invariant (2) first (unless ``check`` is False: a merge result is
    indexed as it is and its violations recorded elsewhere) and writes nothing.

    Raises:
        DuplicateKey: an added row would break a UNIQUE index.
    """
    plan = {}
    for index in schema.indexes:
        refuse_long_values(schema, index, added[0])
        old = index_keys(schema, index, *removed)
        new = index_keys(schema, index, *added)
        if index.unique and check:
            _check_batch_unique(schema, index, added[0])
            _check_against_index(schema, index, trees[index.name], added[0], old)
        plan[index.name] = _edit(old, new)
    return plan


def apply_index_edits(
    trees: Mapping[str, ProllyTree], plan: Mapping[str, IndexEdit]
) -> dict[str, ProllyTree]:
    """Write the planned edits; trees without an edit are kept."""
    out = dict(trees)
    for name, (keys, deleted) in plan.items():
        out[name] = edit_tree(trees[name], keys, [], deleted)
    return out


def _edit(old: pa.BinaryArray, new: pa.BinaryArray) -> IndexEdit:
    """Delete ``old`` entries and insert ``new`` ones; an entry in both stays as it is."""
    dels = old.filter(pc.invert(pc.is_in(old, value_set=new))) if len(new) else old
    ins = new.filter(pc.invert(pc.is_in(new, value_set=old))) if len(old) else new
    keys = pa.concat_arrays([dels, ins])
    deleted = np.concatenate([np.ones(len(dels), bool), np.zeros(len(ins), bool)])
    order, _ = key_order(keys)
    return keys.take(pa.array(order)), deleted[order]


# --- UNIQUE ------------------------------------------------------------------


def _unique_candidates(index: Index, data: pa.Table) -> np.ndarray:
    """Rows of ``data`` whose indexed columns are all non-NULL (the ones that can collide)."""
    valid = np.ones(data.num_rows, bool)
    for name in index.columns:
        column = data.column(name)
        if column.null_count:
            valid &= column.is_valid().to_numpy(zero_copy_only=False)
    return np.flatnonzero(valid)


def _prefixes(schema: Schema, index: Index, data: pa.Table) -> pa.BinaryArray:
    types = index_key_types(schema, index)[: len(index.columns)]
    return encode_keys([data.column(n) for n in index.columns], types)


def _check_batch_unique(schema: Schema, index: Index, data: pa.Table) -> None:
    rows = _unique_candidates(index, data)
    if len(rows) < 2:
        return
    order, dupes = key_order(_prefixes(schema, index, data.take(pa.array(rows))))
    if len(dupes):
        pair = np.array([rows[order[dupes[0] - 1]], rows[order[dupes[0]]]])
        raise DuplicateKey(
            f"{_what(schema, index)}: value {_value(index, data, int(pair[0]))} appears twice, "
            f"in {describe_rows(schema, data, pair)}"
        )


def _check_against_index(
    schema: Schema, index: Index, tree: ProllyTree, data: pa.Table, removed: pa.BinaryArray
) -> None:
    """No added row may share indexed values with an entry that stays (invariant (2)).

    The index already satisfies (2), so each value has at most one entry: the
    first entry at or after the value's prefix. It is no conflict if this write
    removes it (the row is updated or deleted in the same batch).
    """
    rows = _unique_candidates(index, data)
    if len(rows) == 0:
        return
    prefixes = _prefixes(schema, index, data.take(pa.array(rows)))
    hit, found, _ = seek(tree, prefixes)
    if not hit.any():
        return
    at = np.flatnonzero(hit)
    found = found.filter(pa.array(hit))
    k = len(index.columns)
    types = index_key_types(schema, index)
    fields = decode_keys(found, types)
    same = pc.equal(encode_keys(fields[:k], types[:k]), prefixes.take(pa.array(at)))
    clash = same.to_numpy(zero_copy_only=False)
    if len(removed):
        clash &= ~pc.is_in(found, value_set=removed).to_numpy(zero_copy_only=False)
    if clash.any():
        first = int(np.flatnonzero(clash)[0])
        row = int(rows[at[first]])
        if schema.is_keyless:
            owner = "another row"
        else:
            owner = "the row with key " + format_key([f[first].as_py() for f in fields[k:]])
        raise DuplicateKey(
            f"{_what(schema, index)}: value {_value(index, data, row)} already belongs to "
            f"{owner}; refused {describe_rows(schema, data, np.array([row]))}"
        )


def _what(schema: Schema, index: Index) -> str:
    table = f"table {schema.name!r}" if schema.name else "table"
    return f"{table}: UNIQUE index {index.name!r} on ({', '.join(index.columns)})"


def _value(index: Index, data: pa.Table, row: int) -> str:
    return format_key([data.column(n)[row].as_py() for n in index.columns])
