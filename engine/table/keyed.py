"""Writes to tables with a primary key: one sorted batch per tree.

Row key = ``encode_keys`` of the primary-key columns; value = the other
columns (rows.py). A batch of upserted rows and deleted keys becomes:

1. the upserted rows' keys, encoded in bulk and sorted with numpy; a key that
   repeats within the batch is refused (``DuplicateKey``);
2. the deleted keys, sorted and deduplicated; a key that is also upserted is
   an upsert (an UPDATE that keeps or moves a row onto its own key);
3. when the caller forbids replacing (INSERT, or an UPDATE that must not move
   a row onto another row's key): one bulk ``lookup`` of the upserted keys;
4. when the table has indexes: one bulk ``lookup`` of the old rows at every
   touched key, from which indexes.py plans the index edits and checks UNIQUE;
5. only then the writes: one ``ProllyTree.edit`` of the rows (upserts and
   deletes merged in key order) and one per changed index.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_arrays import bools, int64s, numpy_bools
from ..codec.key_batch import decode_keys, encode_keys, refuse_long_keys
from ..errors import DuplicateKey
from ..tree import NodeStore, ProllyTree
from ..tree.builder import LeafStream, build_root
from ..tree.lookup import lookup
from .edit import edit_tree
from .indexes import apply_index_edits, build_index, check_indexes, plan_index_edits
from .rows import (
    as_array,
    check_not_null,
    conform,
    describe_rows,
    key_order,
    rows_to_arrow,
    take_in_order,
    tree_value_types,
)
from .schema import Schema

__all__ = ["apply_keyed", "build_keyed", "build_keyed_stream", "row_keys"]


def row_keys(schema: Schema, data: pa.Table) -> pa.BinaryArray:
    """The encoded primary key of every row of conformed ``data``, in row order."""
    if data.num_rows == 0:
        return pa.nulls(0, pa.binary())
    return encode_keys([data.column(n) for n in schema.primary_key], schema.key_types)


def encode_primary_keys(schema: Schema, columns: Sequence[pa.Array]) -> pa.BinaryArray:
    """The encoded primary key of each row given as the key ``columns`` (in key order):
    the row-tree key the row is stored under."""
    return encode_keys(list(columns), schema.key_types)


def decode_primary_keys(schema: Schema, keys: pa.BinaryArray) -> list[pa.Array]:
    """The key columns (in key order) of encoded primary ``keys``."""
    return decode_keys(keys, schema.key_types)


def _primary_key(schema: Schema) -> str:
    return f"the primary key ({', '.join(schema.primary_key)})"


def build_keyed(
    nodes: NodeStore, schema: Schema, data: pa.Table
) -> tuple[ProllyTree, dict[str, ProllyTree]]:
    """Row tree and index trees holding the conformed rows ``data`` (any order).

    Raises:
        DuplicateKey: a key repeats, or a UNIQUE index is broken.
    """
    keys = row_keys(schema, data)
    refuse_long_keys(keys, _primary_key(schema))
    order, dupes = key_order(keys)
    _refuse_repeats(schema, data, order, dupes)
    check_indexes(schema, data)  # invariant: every check before the first write
    data, keys = take_in_order(data, order), take_in_order(keys, order)
    values = [data.column(c.name) for c in schema.value_columns]
    rows = ProllyTree.build(nodes, keys, values, tree_value_types(schema))
    ids = [data.column(n) for n in schema.primary_key]
    return rows, {i.name: build_index(nodes, schema, i, data, ids) for i in schema.indexes}


def build_keyed_stream(
    nodes: NodeStore,
    schema: Schema,
    batches: Iterable[pa.RecordBatch],
    after_batch: Callable[[], None],
) -> tuple[ProllyTree, Iterator[pa.RecordBatch]]:
    """The row tree of a table without indexes, built from ``batches`` as they come:
    each batch is checked, sorted and cut into leaves (``LeafStream``), so memory
    holds one batch and one unfinished leaf, whatever the input's size. The tree is
    the one ``build_keyed`` makes from all the rows. ``after_batch`` runs after each
    batch's leaves are written (the caller may spill them to disk).

    Batches must come in key order (every key of a batch above every key of the
    batches before, as in a file sorted by its primary key): at the first that does
    not, the tree of the batches before it is returned with the rest of the input,
    from that batch on, for the caller to insert.

    Raises:
        NotNullViolation, DuplicateKey, InvalidInput: as ``build_keyed``, per batch.
    """
    stream = LeafStream(nodes)
    last: bytes | None = None
    rest = iter(batches)
    types = tree_value_types(schema)

    def tree() -> ProllyTree:
        if last is None:
            return ProllyTree.empty(nodes, types)
        return ProllyTree(nodes, build_root(nodes, stream.finish()), types)

    for batch in rest:
        data = conform(schema, batch)
        check_not_null(schema, data)
        keys = row_keys(schema, data)
        if not len(keys):
            continue
        refuse_long_keys(keys, _primary_key(schema))
        if not _integer_key_ascends(schema, data):  # else in order, no repeat: no sort
            order, dupes = key_order(keys)
            _refuse_repeats(schema, data, order, dupes)
            data, keys = take_in_order(data, order), take_in_order(keys, order)
        if last is not None and keys[0].as_py() <= last:
            return tree(), itertools.chain([batch], rest)
        columns = [as_array(data.column(c.name)) for c in schema.value_columns]
        stream.add(keys, columns)
        last = keys[-1].as_py()
        after_batch()
    return tree(), iter(())


def _integer_key_ascends(schema: Schema, data: pa.Table) -> bool:
    """Whether ``data``'s primary key is one integer column whose values strictly
    ascend (its encoding keeps integer order: the keys ascend too, none repeats),
    told from the column in one comparison instead of sorting the encoded keys."""
    if len(schema.primary_key) != 1 or data.num_rows < 2:
        return False
    column = as_array(data.column(schema.primary_key[0]))
    if not pa.types.is_integer(column.type) or column.null_count:
        return False
    width = column.type.bit_width // 8  # read in place: to_numpy imports pandas (0.3 s)
    kind = "i" if pa.types.is_signed_integer(column.type) else "u"
    values = np.frombuffer(
        column.buffers()[1], f"<{kind}{width}", len(column), column.offset * width
    )
    return bool((values[1:] > values[:-1]).all())


def apply_keyed(
    schema: Schema,
    rows: ProllyTree,
    indexes: Mapping[str, ProllyTree],
    new: pa.Table,
    deletes: pa.Table | pa.RecordBatch | None,
    replace: bool,
) -> tuple[ProllyTree, dict[str, ProllyTree]]:
    """Upsert the conformed rows ``new`` and delete the keys of ``deletes``.

    NOT NULL has been checked on ``new``. Every check runs before any write.

    Raises:
        DuplicateKey: a key repeats in ``new``, or exists and ``replace`` is
            False and it is not deleted in this batch; a UNIQUE index is broken.
    """
    new_keys = row_keys(schema, new)
    refuse_long_keys(new_keys, _primary_key(schema))
    order, dupes = key_order(new_keys)
    _refuse_repeats(schema, new, order, dupes)
    new, new_keys = take_in_order(new, order), take_in_order(new_keys, order)
    gone = _delete_keys(schema, deletes)
    if not replace and len(new_keys):
        exists, _ = lookup(rows, new_keys, 0)
        if len(gone):
            exists &= ~_isin(new_keys, gone)
        if exists.any():
            raise DuplicateKey(
                f"{_what(schema)}: duplicate primary key: "
                f"{describe_rows(schema, new, np.flatnonzero(exists))} already exists"
            )
    if len(gone) and len(new_keys):
        gone = gone.filter(bools(~_isin(gone, new_keys)))
    plan = _plan_indexes(schema, rows, indexes, new, new_keys, gone) if schema.indexes else {}

    keys = pa.concat_arrays([new_keys, gone])
    deleted = np.concatenate([np.zeros(len(new_keys), bool), np.ones(len(gone), bool)])
    values = [
        pa.concat_arrays([as_array(new.column(c.name)), pa.nulls(len(gone), c.type)])
        for c in schema.value_columns
    ]
    if len(gone):
        order, _ = key_order(keys)
        take = int64s(order)
        keys, values, deleted = keys.take(take), [v.take(take) for v in values], deleted[order]
    return edit_tree(rows, keys, values, deleted), apply_index_edits(indexes, plan)


def _delete_keys(schema: Schema, deletes: pa.Table | pa.RecordBatch | None) -> pa.BinaryArray:
    """Encoded primary keys of ``deletes`` (other columns ignored), sorted, without repeats."""
    if deletes is None:
        return pa.nulls(0, pa.binary())
    keys = row_keys(schema, conform(schema, deletes, schema.key_columns, required=True))
    order, dupes = key_order(keys)
    keep = np.ones(len(order), bool)
    keep[dupes] = False
    return keys.take(int64s(order[keep]))


def _plan_indexes(schema, rows, indexes, new, new_keys, gone):
    """Index edits for replacing the rows at ``new_keys`` and deleting those at ``gone``,
    from the old rows at those keys, fetched in one lookup."""
    touched = pa.concat_arrays([new_keys, gone])
    found, values = lookup(rows, touched)
    mask = bools(found)
    old = rows_to_arrow(schema, touched.filter(mask), [v.filter(mask) for v in values])
    pk = schema.primary_key
    return plan_index_edits(
        schema, indexes, (old, [old.column(n) for n in pk]), (new, [new.column(n) for n in pk])
    )


def _refuse_repeats(schema: Schema, data: pa.Table, order: np.ndarray, dupes: np.ndarray) -> None:
    if len(dupes):
        raise DuplicateKey(
            f"{_what(schema)}: duplicate primary key within the rows: "
            f"{describe_rows(schema, data, order[dupes[:1]])} appears more than once"
        )


def _isin(values: pa.BinaryArray, among: pa.BinaryArray) -> np.ndarray:
    return numpy_bools(pc.is_in(values, value_set=among))


def _what(schema: Schema) -> str:
    return f"table {schema.name!r}" if schema.name else "table"
