"""``Table``: an immutable, content-addressed table value.

A table is its schema, its row tree (rows.py gives the layout), one key-only
tree per secondary index (indexes.py) and an optional artifacts tree owned
by the versioning layer; all of it is named by one header chunk (header.py)
whose address is ``table.address``. Every write returns a new ``Table`` and
leaves the old one valid; both share every unchanged tree node.

Invariants:

(1) Checks before writes: a write validates its whole batch (types, NOT NULL,
    primary key, UNIQUE) before it writes a node, so a refused write leaves
    no trace and raises a typed error naming the table, the column or index
    and the offending key values.
(2) History independence: the same schema and rows give the same address,
    whatever edits produced them (the trees are history-independent and the
    header encoding is canonical).
(3) Every write of the rows is one sorted batch per tree (sorted with numpy on
    the encoded keys); secondary indexes change in the same call (indexes.py
    invariant (1)), computed from the old rows fetched in bulk.

A table without a primary key is keyless (keyless.py): its writes and reads
go through that module; ``upsert``, ``get`` and key-range ``scan`` need a key
and are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypedDict, Unpack

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_arrays import bools, empty
from ..chunks.buffered import BufferedChunkStore
from ..chunks.memory import MemoryChunkStore
from ..chunks.spill_behind import SpillBehind
from ..codec.key_batch import decode_keys
from ..codec.keys import decode_key, encode_key
from ..errors import InvalidInput, NotNullViolation, SchemaError
from ..hash import address_of, format_address
from ..tree import ADDED, REMOVED, NodeStore, ProllyTree
from ..tree.cursor import leaf_entries
from ..tree.lookup import lookup
from ..tree.stream import ColumnCache, Split
from ..tree.stream import splits as tree_splits
from .header import Header, encode_header, header_references, load_header
from .indexes import (
    apply_index_edits,
    build_index,
    check_index,
    index_key_types,
    plan_index_edits,
    row_id_names,
)
from .keyed import apply_keyed, build_keyed, build_keyed_stream, row_keys
from .keyless import apply_keyless, build_keyless, check_unique_repeats, expand, row_hashes
from .reader import reader, split_bounds
from .rows import (
    COUNT_TYPE,
    cast_column,
    check_not_null,
    conform,
    first_and_last_of_each,
    rows_to_arrow,
    tree_value_types,
)
from .schema import Check, Column, Index, Schema

__all__ = ["Table"]

_AFTER_FIELD = b"\xff"  # sorts after every key that extends a prefix (see _bounds)


class _Parts(TypedDict, total=False):
    """The parts of a table that ``Table._with`` replaces."""

    schema: Schema
    rows: ProllyTree
    index_trees: dict[str, ProllyTree]
    artifacts: bytes | None


class Table:
    """An immutable table value; see the module docstring.

    Attributes:
        nodes: the node store every tree of the table lives in.
        schema: the table's schema (``schema.name`` is the table name).
        rows: the row tree (``ProllyTree``); what a row diff compares.
        index_trees: index name -> key-only ``ProllyTree``.
        artifacts: root address of the artifacts tree, or None.
        address: address of the header chunk (equal tables, equal addresses).
    """

    __slots__ = ("nodes", "schema", "rows", "index_trees", "artifacts", "address")

    def __init__(
        self,
        nodes: NodeStore,
        schema: Schema,
        rows: ProllyTree,
        index_trees: dict[str, ProllyTree],
        artifacts: bytes | None = None,
        *,
        address: bytes | None = None,
    ) -> None:
        self.nodes = nodes
        self.schema = schema
        self.rows = rows
        self.index_trees = index_trees
        self.artifacts = artifacts
        if address is None:
            roots = tuple((i.name, index_trees[i.name].root) for i in schema.indexes)
            address = nodes.store.put(encode_header(Header(schema, rows.root, roots, artifacts)))
        self.address = address

    # --- construction ------------------------------------------------------

    @classmethod
    def create(
        cls, nodes: NodeStore, schema: Schema, rows: pa.Table | pa.RecordBatch | None = None
    ) -> Table:
        """A new table with ``schema``, empty or holding ``rows`` (built in one pass).

        Raises:
            InvalidInput, NotNullViolation, DuplicateKey: ``rows`` are refused
                (nothing is written).
        """
        data = conform(schema, rows if rows is not None else _no_rows(schema))
        check_not_null(schema, data)
        build = build_keyless if schema.is_keyless else build_keyed
        tree, index_trees = build(nodes, schema, data)
        return cls(nodes, schema, tree, index_trees)

    @classmethod
    def create_from_batches(
        cls,
        nodes: NodeStore,
        schema: Schema,
        batches: Iterable[pa.RecordBatch],
        after_batch: Callable[[], None] = lambda: None,
        settle: Callable[[], None] = lambda: None,
    ) -> Table:
        """A new table of a keyed ``schema`` without indexes holding the rows of
        ``batches``, read one batch at a time: built as the batches come
        (``keyed.build_keyed_stream``), and batches out of key order inserted one
        by one, so memory holds about one batch, not the input. The table is the
        one ``create`` makes of all the rows; ``after_batch`` runs after each batch
        is written (``BufferedChunkStore.spill`` keeps the chunks on disk), and
        ``settle`` before the table reads chunks it wrote, and at the end (a spill
        that runs behind the writer, ``SpillBehind``, waits there).

        Raises:
            As ``create`` and ``insert``; the rows are refused whole (nothing that
            a ref names is written).
        """
        tree, rest = build_keyed_stream(nodes, schema, batches, after_batch)
        return cls(nodes, schema, tree, {})._insert_each(rest, after_batch, settle)

    def insert_batches(
        self,
        batches: Iterable[pa.RecordBatch],
        after_batch: Callable[[], None] = lambda: None,
        settle: Callable[[], None] = lambda: None,
    ) -> Table:
        """``insert`` of the rows of ``batches``, read one batch at a time: an empty
        keyed table without indexes is built as ``create_from_batches`` builds it,
        any other gets one ``insert`` per batch. ``after_batch`` and ``settle`` as
        there.

        Raises:
            As ``insert``; the rows are refused whole (this table is unchanged).
        """
        s = self.schema
        if not s.is_keyless and not s.indexes and self.rows.count() == 0:
            table = Table.create_from_batches(self.nodes, s, batches, after_batch, settle)
            return table.with_artifacts(self.artifacts) if self.artifacts else table
        return self._insert_each(batches, after_batch, settle)

    def _insert_each(
        self,
        batches: Iterable[pa.RecordBatch],
        after_batch: Callable[[], None],
        settle: Callable[[], None],
    ) -> Table:
        """One ``insert`` per batch, ``settle`` before each and at the end."""
        table = self
        for batch in batches:
            settle()
            table = table.insert(batch)
            after_batch()
        settle()
        return table

    def insert_batches_spilling_behind(
        self, batches: Iterable[pa.RecordBatch], buffer: BufferedChunkStore
    ) -> Table:
        """``insert_batches``, each batch's chunks stored in ``buffer``'s store by a
        helper thread while the next batch is built (``SpillBehind``). Nothing may
        read this session's unsaved chunks until it returns: the caller's batches
        come from outside the repository."""
        with SpillBehind(buffer) as spill:
            return self.insert_batches(batches, spill, spill.wait)

    @classmethod
    def load(cls, nodes: NodeStore, address: bytes, name: str = "") -> Table:
        """The table whose header chunk is at ``address`` (decoded headers are cached).

        Args:
            nodes: the node store holding the table.
            address: the header chunk's address.
            name: the table's name, for messages (names live in the root value).

        Raises:
            MissingChunk: no such chunk. CorruptChunk: it is not a table header.
        """
        header = load_header(address, nodes.store.get)
        schema = header.schema.named(name) if name else header.schema
        rows = ProllyTree(nodes, header.rows, tree_value_types(schema))
        index_trees = {n: ProllyTree(nodes, root, []) for n, root in header.indexes}
        return cls(nodes, schema, rows, index_trees, header.artifacts, address=address)

    def _with(self, **changes: Unpack[_Parts]) -> Table:
        parts: _Parts = {
            "schema": self.schema,
            "rows": self.rows,
            "index_trees": self.index_trees,
            "artifacts": self.artifacts,
        }
        parts.update(changes)
        return Table(self.nodes, **parts)

    @property
    def name(self) -> str:
        return self.schema.name

    def named(self, name: str) -> Table:
        """The same table (same address) carrying the name ``name`` for messages."""
        schema = self.schema.named(name)
        return Table(
            self.nodes, schema, self.rows, self.index_trees, self.artifacts, address=self.address
        )

    def with_artifacts(self, artifacts: bytes | None) -> Table:
        """The same table with another artifacts tree root (None: no artifacts)."""
        return self._with(artifacts=artifacts)

    def with_rows(self, rows: ProllyTree) -> Table:
        """The table with another row tree of the same layout (e.g. a merge result).

        The index trees are brought in step from the diff of the two row trees
        (cost ~ the changed rows). Constraints are not checked: a merge records
        the violations its result has instead of refusing it.

        Raises:
            InvalidInput: ``rows`` stores other value types than this table.
        """
        if tuple(rows.types) != tuple(self.rows.types):
            raise InvalidInput(
                f"{self._what}: the new row tree stores {list(rows.types)}, the table's "
                f"layout is {list(self.rows.types)}"
            )
        if not self.schema.indexes or rows.root == self.rows.root:
            return self._with(rows=rows)
        s = self.schema
        diff = self.rows.diff(rows)
        sides = []
        for mask, columns in (
            (diff.kinds != ADDED, diff.from_columns),
            (diff.kinds != REMOVED, diff.to_columns),
        ):
            keep = bools(mask)
            keys = diff.keys.filter(keep)
            data = rows_to_arrow(s, keys, [c.filter(keep) for c in columns])
            sides.append(
                (data, [keys] if s.is_keyless else [data.column(n) for n in s.primary_key])
            )
        plan = plan_index_edits(s, self.index_trees, sides[0], sides[1], check=False)
        return self._with(rows=rows, index_trees=apply_index_edits(self.index_trees, plan))

    def keys_of(self, rows: pa.Table | pa.RecordBatch) -> pa.BinaryArray:
        """The row-tree keys of ``rows`` (conformed to the schema), in row order:
        encoded primary keys, or a keyless table's row hashes."""
        data = conform(self.schema, rows)
        return (
            row_hashes(self.schema, data) if self.schema.is_keyless else row_keys(self.schema, data)
        )

    @staticmethod
    def children(data: bytes) -> list[bytes]:
        """Root addresses of the trees a stored table header names (for gc and fsck)."""
        return header_references(address_of(data), data)

    def references(self) -> list[bytes]:
        """Root addresses of every tree the table names (rows, indexes, artifacts)."""
        roots = [self.rows.root, *(t.root for t in self.index_trees.values())]
        return roots + ([self.artifacts] if self.artifacts else [])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Table) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)

    def __repr__(self) -> str:
        return f"<Table {self.name or '?'} {format_address(self.address)}>"

    # --- reading -----------------------------------------------------------

    def count(self) -> int:
        """Number of rows: O(log n) for a keyed table; a keyless table sums the
        duplicate counts (one column of every leaf)."""
        if not self.schema.is_keyless:
            return self.rows.count()
        leaves = leaf_entries(self.nodes, self.rows.root)
        _, (counts,) = self.nodes.decode_leaves(leaves.addresses, [COUNT_TYPE])
        return int(pc.sum(counts).as_py() or 0)

    def to_arrow(self, columns: Sequence[str] | None = None) -> pa.Table:
        """Every row, in primary-key order (keyless: each copy of a row), as Arrow.

        Args:
            columns: the columns to return, in that order (default: all, schema order).
        """
        keys, values = self.rows.scan()
        return self._arrow(keys, values, columns)

    def scan(
        self,
        lo_values: Sequence[object] | None = None,
        hi_values: Sequence[object] | None = None,
        *,
        lo_inclusive: bool = True,
        hi_inclusive: bool = True,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Rows whose primary key lies between two bounds, read as a tree range.

        A bound gives values for the leading primary-key columns (a prefix of the
        key is allowed): ``scan((5,), (9,))`` on a key (a, b) returns every row
        with 5 <= a <= 9.

        Raises:
            SchemaError: bounds given for a keyless table.
            InvalidInput: a bound has more values than the key has columns, or a
                value that does not fit its column.
        """
        if self.schema.is_keyless and (lo_values is not None or hi_values is not None):
            raise SchemaError(f"{self._what}: a keyless table has no key range to scan")
        lo, hi = _bounds(
            self.schema.key_types, lo_values, hi_values, lo_inclusive, hi_inclusive, self._what
        )
        keys, values = self.rows.scan(lo, hi, hi_inclusive=False)
        return self._arrow(keys, values, columns)

    def batches(
        self,
        columns: Sequence[str] | None = None,
        lo_values: Sequence[object] | None = None,
        hi_values: Sequence[object] | None = None,
        *,
        lo_inclusive: bool = True,
        hi_inclusive: bool = True,
        split: Split | None = None,
        cache: ColumnCache | None = None,
    ) -> pa.RecordBatchReader:
        """The rows ``scan`` returns (or a ``split``'s rows) as a lazily read stream of
        record batches, decoding only ``columns`` (see reader.py).

        Args:
            cache: decoded columns to reuse and fill (bounded by its byte budget).

        Raises:
            SchemaError: bounds for a keyless table, or an unknown column.
            InvalidInput: as ``scan``; or ``columns`` is empty.
        """
        if split is not None:
            bounds = split_bounds(split)
        else:
            bounds = self.key_range(lo_values, hi_values, lo_inclusive, hi_inclusive)
        return reader(self, columns, cache=cache, **bounds)

    def key_range(
        self,
        lo_values: Sequence[object] | None = None,
        hi_values: Sequence[object] | None = None,
        lo_inclusive: bool = True,
        hi_inclusive: bool = True,
    ) -> dict:
        """The raw key bounds (``lo``, ``hi``: bytes, hi exclusive) of a ``scan`` range.

        Raises:
            SchemaError: bounds given for a keyless table.
            InvalidInput: a bound the key cannot encode.
        """
        if lo_values is None and hi_values is None:
            return {}
        if self.schema.is_keyless:
            raise SchemaError(f"{self._what}: a keyless table has no key range to scan")
        lo, hi = _bounds(
            self.schema.key_types, lo_values, hi_values, lo_inclusive, hi_inclusive, self._what
        )
        return {"lo": lo, "hi": hi}

    def splits(self, target_rows: int) -> list[Split]:
        """Disjoint key ranges that together hold every row, cut at subtree boundaries,
        each with its exact row count (``rows``) and at most ``target_rows`` rows unless
        one leaf holds more; read one with ``batches(split=...)``. A keyless table's
        counts are of distinct rows.

        Raises:
            InvalidInput: ``target_rows`` < 1.
        """
        if target_rows < 1:
            raise InvalidInput(f"{self._what}: target_rows must be at least 1, got {target_rows}")
        return tree_splits(self.nodes, self.rows.root, target_rows)

    def _arrow(self, keys, values, columns) -> pa.Table:
        for name in columns or ():
            self.schema.column(name)  # refuse an unknown name, listing the columns
        data = rows_to_arrow(self.schema, keys, values)
        if self.schema.is_keyless:
            data = expand(values[0], data)
        return data if columns is None else data.select(list(columns))

    def get_many(self, keys: pa.Table) -> pa.Table:
        """The stored rows whose primary keys are the rows of ``keys`` (pk columns),
        in key order, absent keys skipped; one vectorised pass over the leaves that
        hold them (``tree.lookup.lookup``), not a point lookup per key."""
        if self.schema.is_keyless:
            raise SchemaError(f"{self._what} is keyless: there is no key to get rows by")
        wanted = self.keys_of(keys.select(list(self.schema.primary_key)))
        order = pc.sort_indices(wanted)
        wanted = wanted.take(order)
        if len(wanted) > 1:
            distinct = pc.not_equal(wanted.slice(1), wanted.slice(0, len(wanted) - 1))
            wanted = wanted.filter(pa.concat_arrays([bools(np.ones(1, bool)), distinct]))
        found, values = lookup(self.rows, wanted)
        mask = bools(found)
        return self._arrow(wanted.filter(mask), [v.filter(mask) for v in values], None)

    def rows_by_key(self, keys: pa.BinaryArray) -> pa.Table:
        """The stored row under each row-tree key of ``keys`` (as ``keys_of`` gives), in
        that order: value columns NULL where no row has the key."""
        _, values = lookup(self.rows, keys)
        return rows_to_arrow(self.schema, keys, values)

    @classmethod
    def scratch(cls, schema: Schema, rows: pa.Table | pa.RecordBatch) -> Table:
        """``rows`` as a table in a throwaway in-memory store: for its content address
        (equal rows, equal address) or a short-lived value that no repository keeps."""
        return cls.create(NodeStore(MemoryChunkStore()), schema, rows)

    def find_rows(self, rows: pa.Table | pa.RecordBatch) -> tuple[np.ndarray, pa.Table]:
        """Look up each row of ``rows`` (its primary-key columns; others ignored) in one
        vectorised pass: (``found``, a bool per row of ``rows``; the stored rows of the
        found ones, in the order of ``rows``, repeats repeated).

        Raises:
            SchemaError: the table is keyless.
        """
        if self.schema.is_keyless:
            raise SchemaError(f"{self._what} is keyless: there is no key to find rows by")
        keys = self.keys_of(rows.select(list(self.schema.primary_key)))
        found, values = lookup(self.rows, keys)
        hit = bools(found)
        return found, rows_to_arrow(self.schema, keys.filter(hit), [v.filter(hit) for v in values])

    def first_of_each_key(self, rows: pa.Table | pa.RecordBatch) -> np.ndarray:
        """Positions in ``rows`` of the first row of each distinct primary key (or, for
        a keyless table, of each distinct row), ascending."""
        return first_and_last_of_each(self._row_keys(rows))[0]

    def last_of_each_key(self, rows: pa.Table | pa.RecordBatch) -> np.ndarray:
        """Positions in ``rows`` of the last row of each distinct primary key (or, for
        a keyless table, of each distinct row), ascending: what a REPLACE keeps."""
        return first_and_last_of_each(self._row_keys(rows))[1]

    def _row_keys(self, rows: pa.Table | pa.RecordBatch) -> pa.BinaryArray:
        s = self.schema
        return self.keys_of(rows if s.is_keyless else rows.select(list(s.primary_key)))

    def get(self, pk_values: Sequence[object]) -> dict | None:
        """The row with primary key ``pk_values`` as {column: value}, or None.

        Raises:
            SchemaError: the table is keyless.
            InvalidInput: wrong number of values, or a value that does not fit.
        """
        s = self.schema
        if s.is_keyless:
            raise SchemaError(f"{self._what} is keyless: there is no key to get a row by")
        values = tuple(pk_values)
        if len(values) != len(s.primary_key):
            raise InvalidInput(
                f"{self._what}: the primary key ({', '.join(s.primary_key)}) has "
                f"{len(s.primary_key)} columns, got {len(values)} values"
            )
        key = encode_key(values, s.key_types)
        row = self.rows.get(key)
        if row is None:
            return None
        out = dict(zip(s.primary_key, decode_key(key, s.key_types), strict=True))
        out.update(zip((c.name for c in s.value_columns), row, strict=True))
        return {c.name: out[c.name] for c in s.columns}

    def index_scan(
        self,
        name: str,
        lo_values: Sequence[object] | None = None,
        hi_values: Sequence[object] | None = None,
        *,
        lo_inclusive: bool = True,
        hi_inclusive: bool = True,
    ) -> pa.Table:
        """Entries of index ``name`` between bounds on its leading columns: the
        indexed columns then the row id (primary-key columns, or ``dolt_row_hash``
        for a keyless table), in index order."""
        index = self.schema.index(name)
        types = index_key_types(self.schema, index)
        lo, hi = _bounds(
            types[: len(index.columns)],
            lo_values,
            hi_values,
            lo_inclusive,
            hi_inclusive,
            self._what,
        )
        keys, _ = self.index_trees[name].scan(lo, hi, hi_inclusive=False)
        names = [*index.columns, *row_id_names(self.schema)]
        if len(keys) == 0:
            return pa.table({n: pa.nulls(0, t) for n, t in zip(names, types, strict=True)})
        return pa.Table.from_arrays(decode_keys(keys, types), names=names)

    # --- writing rows ------------------------------------------------------

    def insert(self, rows: pa.Table | pa.RecordBatch) -> Table:
        """Add rows; a keyed table refuses a key that exists or repeats in ``rows``
        (``DuplicateKey``); a keyless table adds a copy per row."""
        return self.apply(rows, None, replace=False)

    def upsert(self, rows: pa.Table | pa.RecordBatch) -> Table:
        """Insert rows, replacing whole rows whose key exists (keyed tables only)."""
        if self.schema.is_keyless:
            raise SchemaError(
                f"{self._what} is keyless: upsert needs a primary key (insert the rows, "
                "or delete the old rows and insert the new ones)"
            )
        return self.apply(rows, None, replace=True)

    def delete(self, keys: pa.Table | pa.RecordBatch) -> Table:
        """Delete rows: by primary-key columns (other columns are ignored; absent
        keys are no-ops), or for a keyless table by whole rows, one copy per row."""
        return self.apply(None, keys)

    def apply(
        self,
        upserts: pa.Table | pa.RecordBatch | None = None,
        deletes: pa.Table | pa.RecordBatch | None = None,
        *,
        replace: bool = True,
    ) -> Table:
        """Delete ``deletes`` and write ``upserts`` in one batch per tree.

        Keyed table: ``deletes`` holds primary keys; a key both deleted and
        upserted ends up upserted. With ``replace=False`` an upserted key that
        exists and is not deleted in this batch is refused (an UPDATE that moves a
        row onto another row's key); with ``replace=True`` it is overwritten.
        Keyless table: ``upserts`` are rows to add and ``deletes`` whole rows to
        remove, one copy each; ``replace`` is ignored.

        Rows are matched to columns by name; missing columns are NULL; values
        are cast to the column types (see rows.py). All checks run before any
        write (invariant (1)).

        Raises:
            InvalidInput: unknown columns, or values that do not fit.
            NotNullViolation: NULL in a NOT NULL or primary-key column.
            DuplicateKey: a key repeats in ``upserts`` or (replace=False) exists;
                a UNIQUE index would be broken.
        """
        s = self.schema
        new = conform(s, upserts if upserts is not None else _no_rows(s))
        check_not_null(s, new)
        if s.is_keyless:
            gone = conform(s, deletes, required=True) if deletes is not None else _no_rows(s)
            rows, index_trees = apply_keyless(s, self.rows, self.index_trees, new, gone)
            return self._with(rows=rows, index_trees=index_trees)

        rows, index_trees = apply_keyed(s, self.rows, self.index_trees, new, deletes, replace)
        return self._with(rows=rows, index_trees=index_trees)

    # --- changing the schema -----------------------------------------------

    def add_column(self, column: Column, fill: object = None) -> Table:
        """Append ``column``; existing rows get ``fill`` (a Python value; None = NULL).

        Raises:
            NotNullViolation: a NOT NULL column without ``fill`` on a non-empty table.
            InvalidInput: ``fill`` does not fit the column type.
        """
        s = self.schema.with_column_added(column)
        added = s.columns[-1]
        try:
            value = cast_column(s, added, pa.array([fill]))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
            raise InvalidInput(
                f"{self._what}: fill value {fill!r} for {added.name!r}: {exc}"
            ) from None
        if fill is None and not added.nullable and self.rows.count():
            raise NotNullViolation(
                f"{self._what}: cannot add NOT NULL column {added.name!r} without a fill "
                f"value: the table has {self.count()} rows"
            )
        if s.is_keyless:
            data = self.to_arrow()
            return self._rebuilt(
                s, data.append_column(added.name, pa.repeat(value[0], data.num_rows))
            )
        keys, values = self.rows.scan()
        values.append(pa.repeat(value[0], len(keys)))
        return self._with(
            schema=s, rows=ProllyTree.build(self.nodes, keys, values, tree_value_types(s))
        )

    def drop_column(self, name: str) -> Table:
        """Drop a non-key column that no index uses (schema.with_column_dropped)."""
        s = self.schema.with_column_dropped(name)
        if s.is_keyless:
            return self._rebuilt(s, self.to_arrow().drop_columns([name]))
        keys, values = self.rows.scan()
        position = [c.name for c in self.schema.value_columns].index(name)
        del values[position]
        return self._with(
            schema=s, rows=ProllyTree.build(self.nodes, keys, values, tree_value_types(s))
        )

    def rename_column(self, old: str, new: str) -> Table:
        """Rename a column; its tag, the rows and the index trees stay as they are."""
        return self._with(schema=self.schema.with_column_renamed(old, new))

    def set_column_type(self, name: str, type: pa.DataType) -> Table:
        """Change a column's type (tag kept), casting every value (rows.py's casts).

        Raises:
            InvalidInput: a stored value does not fit the new type.
            DuplicateKey: distinct keys become equal under the new type.
        """
        s = self.schema.with_column_changed(name, type=type)
        return self._rebuilt(s, self.to_arrow())

    def set_nullable(self, name: str, nullable: bool) -> Table:
        """Allow or forbid NULL in a column (ALTER COLUMN SET / DROP NOT NULL).

        Raises:
            SchemaError: making a primary-key column nullable.
            NotNullViolation: forbidding NULL where rows hold NULL.
        """
        if nullable and name in self.schema.primary_key:
            raise SchemaError(f"{self._what}: primary-key column {name!r} cannot allow NULL")
        s = self.schema.with_column_changed(name, nullable=nullable)
        if not nullable:
            check_not_null(s, self.to_arrow())
        return self._with(schema=s)

    def set_default(self, name: str, default: str | None) -> Table:
        """Set or clear a column's DEFAULT expression (SQL text)."""
        return self._with(schema=self.schema.with_column_changed(name, default=default))

    def add_index(self, index: Index) -> Table:
        """Add a secondary index, built from the rows.

        Raises:
            DuplicateKey: a UNIQUE index over data that repeats a value (the
                message quotes the rows).
        """
        s = self.schema.with_index_added(index)
        index = s.index(index.name)
        keys, values = self.rows.scan()
        data = rows_to_arrow(s, keys, values)
        if s.is_keyless:
            ids = [keys]
            counts = values[0].to_numpy(zero_copy_only=False)
            check_unique_repeats(s, data, counts, np.ones(len(counts), bool))
        else:
            ids = [data.column(n) for n in s.primary_key]
        check_index(s, index, data)
        tree = build_index(self.nodes, s, index, data, ids)
        return self._with(schema=s, index_trees={**self.index_trees, index.name: tree})

    def drop_index(self, name: str) -> Table:
        s = self.schema.with_index_dropped(name)
        return self._with(
            schema=s, index_trees={k: v for k, v in self.index_trees.items() if k != name}
        )

    def add_check(self, check: Check) -> Table:
        """Record a CHECK constraint (the SQL layer evaluates it on the rows first)."""
        return self._with(schema=self.schema.with_check_added(check))

    def drop_check(self, name: str) -> Table:
        return self._with(schema=self.schema.with_check_dropped(name))

    def _rebuilt(self, schema: Schema, data: pa.Table) -> Table:
        """The table rebuilt from scratch under ``schema`` (artifacts kept)."""
        table = Table.create(self.nodes, schema, data)
        return table.with_artifacts(self.artifacts) if self.artifacts else table

    @property
    def _what(self) -> str:
        return f"table {self.name!r}" if self.name else "table"


# --- helpers -------------------------------------------------------------------


def _no_rows(schema: Schema) -> pa.Table:
    return pa.table({c.name: empty(c.type) for c in schema.columns})


def _bounds(
    types: Sequence[pa.DataType],
    lo_values: Sequence[object] | None,
    hi_values: Sequence[object] | None,
    lo_inclusive: bool,
    hi_inclusive: bool,
    what: str,
) -> tuple[bytes | None, bytes | None]:
    """Byte bounds [lo, hi) over keys whose leading fields are compared with the values.

    The encoding of leading fields is a prefix of every key that starts with
    them (codec/keys.py invariant (4)), and the byte after a complete field is
    a marker (0x00 or 0x01) or the key's end, never 0xFF. So with P = the
    prefix: keys >= P are those with leading fields >= the values, and keys
    < P + 0xFF those with leading fields <= the values.
    """

    def encode(values: Sequence[object]) -> bytes:
        values = tuple(values) if isinstance(values, list | tuple) else (values,)
        if not 0 < len(values) <= len(types):
            raise InvalidInput(
                f"{what}: a key bound needs 1 to {len(types)} values, got {len(values)}"
            )
        return encode_key(values, types[: len(values)])

    lo = hi = None
    if lo_values is not None:
        lo = encode(lo_values) + (b"" if lo_inclusive else _AFTER_FIELD)
    if hi_values is not None:
        hi = encode(hi_values) + (_AFTER_FIELD if hi_inclusive else b"")
    return lo, hi
