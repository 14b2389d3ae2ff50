"""A table's rows as a stream of Arrow record batches (``tree/stream.py`` below it).

``batches`` maps the table's columns onto its row tree (rows.py gives the layout):
a primary-key column comes from the decoded keys, which are decoded only when one
is asked for; a value column from its own buffers alone. A keyless table always
reads its count column and repeats each row that many times.

``reader`` wraps the batches in a ``pyarrow.RecordBatchReader`` whose schema holds
the schema's column types exactly (what DuckDB and other Arrow consumers scan
lazily: nothing is read before the consumer asks for a batch).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa

from ..codec.key_batch import decode_keys
from ..errors import InvalidInput
from ..tree.stream import ColumnCache, Split, stream
from .schema import Schema

__all__ = ["arrow_schema", "batches", "reader", "split_bounds"]


def arrow_schema(schema: Schema, columns: Sequence[str] | None = None) -> pa.Schema:
    """The Arrow schema of ``columns`` (default: every column, schema order)."""
    picked = schema.columns if columns is None else [schema.column(n) for n in columns]
    return pa.schema([pa.field(c.name, c.type) for c in picked])


def batches(
    table,
    columns: Sequence[str] | None = None,
    *,
    lo: bytes | None = None,
    hi: bytes | None = None,
    hi_inclusive: bool = False,
    cache: ColumnCache | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of ``columns`` for the rows with lo <= key < hi (<= hi when
    ``hi_inclusive``; raw key bounds as ``Table.scan`` encodes them), in key order.

    Raises:
        SchemaError: an unknown column name (before anything is read).
        InvalidInput: no columns asked for.
    """
    schema = table.schema
    out = arrow_schema(schema, columns)
    if not len(out):
        raise InvalidInput(f"{table._what}: a stream needs at least one column")
    return _batches(table, out, lo, hi, hi_inclusive, cache)


def _batches(table, out: pa.Schema, lo, hi, hi_inclusive, cache) -> Iterator[pa.RecordBatch]:
    schema = table.schema
    names = out.names
    keyless = schema.is_keyless
    if keyless:
        slot = {c.name: i + 1 for i, c in enumerate(schema.columns)}
        wanted = [0] + [slot[n] for n in names]
        need_keys = False
    else:
        slot = {c.name: i for i, c in enumerate(schema.value_columns)}
        wanted = [slot[n] for n in names if n in slot]
        need_keys = any(n not in slot for n in names)
    key_names = list(schema.primary_key)
    for keys, values in stream(
        table.nodes,
        table.rows.root,
        table.rows.types,
        wanted,
        keys=need_keys,
        lo=lo,
        hi=hi,
        hi_inclusive=hi_inclusive,
        cache=cache,
    ):
        by_name = {}
        if need_keys:
            by_name.update(zip(key_names, decode_keys(keys, schema.key_types), strict=True))
        arrays = [by_name[n] if n in by_name else values[slot[n]] for n in names]
        arrays = [a if a.type == f.type else a.cast(f.type) for a, f in zip(arrays, out, strict=True)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=out)
        if keyless:
            counts = values[0].to_numpy(zero_copy_only=False).astype(np.int64)
            if not (counts == 1).all():
                batch = batch.take(pa.array(np.repeat(np.arange(len(counts)), counts)))
        if batch.num_rows:
            yield batch


def reader(
    table,
    columns: Sequence[str] | None = None,
    *,
    lo: bytes | None = None,
    hi: bytes | None = None,
    hi_inclusive: bool = False,
    cache: ColumnCache | None = None,
) -> pa.RecordBatchReader:
    """``batches`` as a ``pyarrow.RecordBatchReader`` (read lazily, once)."""
    out = arrow_schema(table.schema, columns)
    it = batches(table, columns, lo=lo, hi=hi, hi_inclusive=hi_inclusive, cache=cache)
    return pa.RecordBatchReader.from_batches(out, it)


def split_bounds(split: Split) -> dict:
    """The ``batches`` keyword bounds that read exactly ``split``'s rows."""
    lo = None if split.after is None else split.after + b"\x00"  # the least key > after
    return {"lo": lo, "hi": split.last, "hi_inclusive": True}
