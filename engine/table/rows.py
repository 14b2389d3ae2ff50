"""Rows in and out of a table's trees: input checking, key order, and decoding.

How a table lays its rows out in its row tree (the value columns the tree
stores, in this order):

    keyed table    key = encode_keys(primary-key columns)     (codec/keys.py)
                   value = the non-key columns, in schema order
    keyless table  key = BLAKE3-160 of the row's values       (keyless.py)
                   value = count (uint64, >= 1), then every column in schema order

The keyless count comes first so that summing counts decodes one column only.

Input rows (``conform``) are matched to columns by name; a missing column is
NULL, an unknown one is refused, and values are cast to the column type only
within one family (numbers to numbers, text to text, times to times, ...),
with pyarrow's safe casts: a value that does not fit (overflow, lost
fraction) is refused, naming the column and the value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_arrays import empty
from ..codec import columns as column_codec
from ..codec.key_batch import decode_keys
from ..errors import InvalidInput, NotNullViolation
from ..tree.keyarray import comparable, key_buffers
from .schema import Column, Schema

__all__ = [
    "COUNT_TYPE",
    "as_array",
    "cast_column",
    "check_not_null",
    "conform",
    "describe_rows",
    "format_key",
    "key_order",
    "keyless_counts",
    "rows_to_arrow",
    "take_in_order",
    "tree_value_types",
]

COUNT_TYPE = pa.uint64()  # a keyless row's duplicate count, stored first (see above)
_SHOWN = 3  # offending rows quoted in an error message


def tree_value_types(schema: Schema) -> list[pa.DataType]:
    """The value column types of ``schema``'s row tree (see the module docstring)."""
    if schema.is_keyless:
        return [COUNT_TYPE, *(c.type for c in schema.columns)]
    return [c.type for c in schema.value_columns]


def rows_to_arrow(
    schema: Schema, keys: pa.BinaryArray, value_columns: Sequence[pa.Array]
) -> pa.Table:
    """Raw row-tree output (keys and value columns, e.g. a scan or a ``TreeDiff``
    side) as a table with the schema's columns in schema order.

    A keyless table's rows come out once each, not repeated by their count
    (NULL rows of a diff side stay aligned); ``keyless_counts`` gives the counts.
    """
    if schema.is_keyless:
        arrays = list(value_columns[1:])
    else:
        by_name = dict(zip(schema.primary_key, decode_keys(keys, schema.key_types), strict=True))
        by_name.update(zip((c.name for c in schema.value_columns), value_columns, strict=True))
        arrays = [by_name[c.name] for c in schema.columns]
    return pa.Table.from_arrays(arrays, names=schema.column_names)


def keyless_counts(value_columns: Sequence[pa.Array]) -> np.ndarray:
    """The duplicate count of each row of a keyless table's tree output (0 for NULL rows)."""
    return value_columns[0].fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)


# --- input -------------------------------------------------------------------


def conform(
    schema: Schema,
    rows: pa.Table | pa.RecordBatch,
    columns: Sequence[Column] | None = None,
    *,
    required: bool = False,
) -> pa.Table:
    """``rows`` with exactly ``columns`` (default: every column), in that order, cast.

    Input columns not among ``columns`` are refused when ``columns`` is the whole
    schema and ignored otherwise (a delete may pass whole rows for their keys).
    A missing column is NULL, or refused when ``required`` (rows that identify
    stored rows, as deletes do, must give every identifying column).

    Raises:
        InvalidInput: not a pyarrow table, an unknown, repeated or (``required``)
            missing column, or a value that does not fit its column's type.
    """
    if isinstance(rows, pa.RecordBatch):
        rows = pa.Table.from_batches([rows])
    if not isinstance(rows, pa.Table):
        raise InvalidInput(
            f"{_table(schema)}: rows must be a pyarrow Table or RecordBatch, got "
            f"{type(rows).__name__} (build one with pa.table({{...}}))"
        )
    names = rows.column_names
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidInput(f"{_table(schema)}: the rows name column {repeated[0]!r} twice")
    if columns is None:
        columns = schema.columns
        unknown = [n for n in names if not schema.has_column(n)]
        if unknown:
            raise InvalidInput(
                f"{_table(schema)} has no column {unknown[0]!r} "
                f"(columns: {', '.join(schema.column_names)})"
            )
    missing = [c.name for c in columns if c.name not in names]
    if required and missing:
        raise InvalidInput(
            f"{_table(schema)}: rows that name rows to delete need column {missing[0]!r} "
            f"(give {', '.join(c.name for c in columns)})"
        )
    arrays = []
    for column in columns:
        if column.name in names:
            arrays.append(cast_column(schema, column, rows.column(column.name)))
        else:
            arrays.append(pa.nulls(rows.num_rows, column.type))
    return pa.Table.from_arrays(arrays, names=[c.name for c in columns])


def cast_column(schema: Schema, column: Column, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``values`` as ``column.type`` (see the module docstring for what casts).

    Raises:
        InvalidInput: another family of type, or a value that does not fit.
    """
    if isinstance(values, pa.ChunkedArray):
        values = as_array(values)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    target = column.type
    if values.type == target or values.type == _LARGE.get(target) and not _fits_int32(values):
        return values  # text past 2 GiB stays large_string (codec/columns.py reads both)
    if not pa.types.is_null(values.type) and _family(values.type) != _family(target):
        raise InvalidInput(
            f"{_table(schema)}: column {column.name!r} holds {column.type_text}; "
            f"got values of type {values.type} (cast them first)"
        )
    try:
        return pc.cast(values, target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        bad = _first_uncastable(values, target)
        raise InvalidInput(
            f"{_table(schema)}: value {bad!r} does not fit column {column.name!r} "
            f"({column.type_text}): {exc}"
        ) from None


def as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (no copy when there is a single chunk); text or bytes
    past 2 GiB in all come back with 64-bit offsets (``large_string``)."""
    if not isinstance(values, pa.ChunkedArray):
        return values
    if values.num_chunks == 1:
        return values.chunk(0)
    large = _LARGE.get(values.type)
    if large is not None and sum(_var_bytes(c) for c in values.chunks) > column_codec.OFFSET_LIMIT:
        values = values.cast(large)
    return values.combine_chunks() if values.num_chunks else empty(values.type)


_LARGE = {pa.string(): pa.large_string(), pa.binary(): pa.large_binary()}


def _var_bytes(values: pa.Array) -> int:
    """Bytes of data a string or binary array spans (from its offsets)."""
    if not len(values):
        return 0
    wide = values.type in (pa.large_string(), pa.large_binary())
    offsets = np.frombuffer(values.buffers()[1], np.int64 if wide else np.int32)
    return int(offsets[values.offset + len(values)] - offsets[values.offset])


def _fits_int32(values: pa.Array) -> bool:
    return _var_bytes(values) <= column_codec.OFFSET_LIMIT


def _family(t: pa.DataType) -> str:
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "text"
    if (
        pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_binary_view(t)
        or pa.types.is_fixed_size_binary(t)
    ):
        return "binary"
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return "time"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return "list"
    return str(t)


def _first_uncastable(values: pa.Array, target: pa.DataType) -> object:
    """The first value a safe cast refuses, found by bisection (error path only)."""
    lo, hi = 0, len(values)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            pc.cast(values.slice(lo, mid - lo), target, safe=True)
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            hi = mid
    return values[lo].as_py() if len(values) else None


def check_not_null(schema: Schema, data: pa.Table) -> None:
    """Refuse NULLs in NOT NULL columns of conformed rows.

    Raises:
        NotNullViolation: naming the table, the column and the offending rows.
    """
    for column in schema.columns:
        if column.nullable or column.name not in data.column_names:
            continue
        values = data.column(column.name)
        if values.null_count:
            bad = np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))
            what = "primary-key column" if column.name in schema.primary_key else "NOT NULL column"
            raise NotNullViolation(
                f"{_table(schema)}: {what} {column.name!r} cannot be NULL; "
                f"NULL given in {describe_rows(schema, data, bad)}"
            )


def describe_rows(schema: Schema, data: pa.Table, rows: np.ndarray) -> str:
    """Text naming some rows of ``data``: by primary key, or by value when keyless."""
    shown = [int(i) for i in rows[:_SHOWN]]
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    if schema.is_keyless:
        picked = data.take(pa.array(shown, pa.int64())).to_pylist()
        return "row " + ", ".join(map(str, picked)) + more
    keys = [
        data.column(n).take(pa.array(shown, pa.int64())).to_pylist() for n in schema.primary_key
    ]
    texts = ["(" + ", ".join(repr(v) for v in values) + ")" for values in zip(*keys, strict=True)]
    return "the row with key " + ", ".join(texts) + more


def format_key(values: Sequence[object]) -> str:
    return "(" + ", ".join(repr(v) for v in values) + ")"


def key_order(keys: pa.BinaryArray) -> tuple[np.ndarray, np.ndarray]:
    """Sort keys in memcmp order: (the permutation, and the positions i in sorted
    order whose key equals the key at position i - 1).

    Keys of one width go through ``tree/keyarray.comparable`` (big-endian
    integers or fixed-width byte strings, which numpy sorts fast); keys of
    varied widths are sorted by Arrow, whose binary order is memcmp order
    (numpy would need them padded first, several times slower).
    """
    n = len(keys)
    if n < 2:
        return np.arange(n), np.zeros(0, np.int64)
    offsets, _ = key_buffers(keys)
    lengths = np.diff(offsets)
    if (lengths == lengths[0]).all():
        (s,) = comparable(keys)
        if (s[1:] > s[:-1]).all():  # already in order (a common case): no sort, no take
            return np.arange(n), np.zeros(0, np.int64)
        order = np.argsort(s, kind="stable")
        ordered = s[order]
        return order, np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
    order = pc.sort_indices(keys).to_numpy()
    ordered = keys.take(pa.array(order))
    same = pc.equal(ordered.slice(1), ordered.slice(0, n - 1))
    return order, np.flatnonzero(same.to_numpy(zero_copy_only=False)) + 1


def first_and_last_of_each(keys: pa.BinaryArray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the first and of the last occurrence of each distinct key, each
    ascending (row order); vectorised over ``key_order``'s stable sort."""
    order, dupes = key_order(keys)
    n = len(order)
    starts = np.ones(n, bool)
    starts[dupes] = False  # sorted position i repeats i - 1
    ends = np.ones(n, bool)
    ends[dupes - 1] = False  # sorted position i - 1 is followed by its repeat
    return np.sort(order[starts]), np.sort(order[ends])


def take_in_order(data, order: np.ndarray):
    """``data`` (a table or array) reordered by ``order``; no copy when ``order`` is identity."""
    if len(order) and (order[0] != 0 or not (np.diff(order) == 1).all()):
        return data.take(pa.array(order))
    return data


def _table(schema: Schema) -> str:
    return f"table {schema.name!r}" if schema.name else "table"
