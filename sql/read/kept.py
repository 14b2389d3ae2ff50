"""Kept relations: whole tables a session scans again, held as DuckDB tables.

A table reference is read as a stream of Arrow batches (relations.py). DuckDB scans
an Arrow stream about half as fast as its own tables: a GROUP BY over a 1,000-value
label at 4M rows took 70-98 ms of CPU on a dictionary-encoded Arrow stream (150 ms
on plain strings) against 36-45 ms on a DuckDB table, because DuckDB's aggregate
computes groups once per dictionary entry only for the dictionaries its own storage
makes. So a whole table (at one address, with one set of columns) that a session
scans a second time is copied into a compressed in-memory DuckDB database
(``ATTACH ':memory:' (COMPRESS)``; a checkpoint compresses it: 4M rows of a label
and a score took 34 MiB) and later scans read that table.

Policy (cited as ``# policy (n)``):

(1) The first scan of a (table address, columns) pair keeps nothing: most scans
    are not repeated, and a single scan should not grow the process. Only the key
    is noted (``seen``, a bounded set of keys), and only when the scan read the
    table to its end: a ``LIMIT`` that stops early never leads to a copy.
(2) The next scan copies the table a piece at a time (a few splits of
    ``Table.splits``: 64K rows first, then about ``PIECE_BYTES`` of Arrow data, at
    most a quarter of the budget), each compressed by a checkpoint before the next
    is read, so the copy holds at most one uncompressed piece beside the compressed
    ones. That scan pays for the copy (1M rows of the bench shape: about 300 ms of
    CPU more than a first scan). A checkpoint costs more the more pieces came
    before it (DuckDB alone, 4M rows of a label and a score: 560 ms of CPU in one
    piece, 800 in two, 1,050 in four), so later pieces are as large as the budget
    allows: the bench table's 4M rows take two (1.1-1.4 s of CPU for that scan,
    against 1.9-2.2 s with 1M-row pieces).
(3) Every kept table counts against the budget (DuckDB's own figure for its
    in-memory tables). Keeping one evicts the least recently used others; one that
    alone passes the budget, or will at the rate of its pieces so far, is dropped
    as soon as that shows, and its key is noted as too large, so it is streamed
    from then on and not copied again.
(4) Keys are content addresses, so a kept table is never stale; a table that
    changes gets a new address, and its old copy ages out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import duckdb
import pyarrow as pa

from arbordb.engine.cache import LruCache

__all__ = ["KEPT_DATABASE", "KeptTables"]

KEPT_DATABASE = "__arbor_kept"  # the attached in-memory database of kept tables
FIRST_PIECE_ROWS = 1 << 16  # rows of the first piece copied (policy (2))
MAX_PIECE_ROWS = 1 << 23  # the most rows of a later piece
PIECE_BYTES = 128 << 20  # Arrow bytes of a later piece (at most a quarter of the budget)
KEPT_FLOOR = 16 << 10  # the least a kept table counts (DuckDB reports 0 for a tiny one)
SEEN_KEYS = 4096  # keys of first scans remembered (a few hundred bytes each)

Key = tuple[bytes, tuple[str, ...]]


class KeptTables:
    """The kept tables of one DuckDB connection, within ``budget`` bytes (the module
    docstring). ``kept_bytes`` is what they hold now; ``on_change(bytes)`` is told
    after every change, so a cache that shares the budget can shrink."""

    def __init__(
        self,
        duck: duckdb.DuckDBPyConnection,
        budget: int,
        on_change: Callable[[int], None] = lambda _: None,
    ) -> None:
        self.duck = duck
        self.budget = budget
        self.kept_bytes = 0
        self.copies = 0  # tables copied so far (tests and benchmarks)
        self._on_change = on_change
        self._tables: OrderedDict[Key, tuple[str, int]] = OrderedDict()
        self._seen: LruCache[Key, bool] = LruCache(SEEN_KEYS)
        self._too_large: LruCache[Key, bool] = LruCache(SEEN_KEYS)
        self._attached = False
        self._names = 0

    def find(self, key: Key) -> str | None:
        """The DuckDB name of the kept table of ``key`` (marked recently used), or None."""
        found = self._tables.get(key)
        if found is None:
            return None
        self._tables.move_to_end(key)
        return found[0]

    def wanted(self, key: Key) -> bool:
        """Whether a scan of ``key`` should be kept: it was read whole before (policy
        (1)) and fits the budget as far as is known (policy (3))."""
        if self.budget <= 0 or key in self._too_large:
            return False
        return self._seen.get(key) is not None

    def note(self, key: Key) -> None:
        """A scan of ``key`` was read to its end (a LIMIT's scan that stops early is
        not noted, so repeating it never copies the table)."""
        self._seen.put(key, True)

    def keep(
        self,
        key: Key,
        split: Callable[[int], Sequence[Any]],
        open_piece: Callable[[Any], pa.RecordBatchReader],
        register: Callable[[pa.RecordBatchReader], str],
    ) -> str | None:
        """Copy the rows of a table into a new kept table of ``key``, a piece at a time:
        ``split(target_rows)`` is the table's ``Table.splits``; ``open_piece(split)`` reads
        the rows of one split or of a run of them joined; ``register(reader)`` names a
        reader for this statement. Returns the copy's DuckDB name, or None when it
        passed the budget (policy (3)).

        Raises:
            Exception: what reading a piece raised (the partial copy is dropped).
        """
        self._attach()
        name = f'{KEPT_DATABASE}."t{self._names}"'
        self._names += 1
        splits = split(FIRST_PIECE_ROWS)
        total = sum(s.rows for s in splits)
        before = self._in_memory_bytes()
        piece_bytes = max(min(PIECE_BYTES, self.budget // 4), 1)
        piece_rows, done, start = FIRST_PIECE_ROWS, 0, 0
        try:
            while start < len(splits):
                stop, rows = start + 1, splits[start].rows
                while stop < len(splits) and rows + splits[stop].rows <= piece_rows:
                    rows += splits[stop].rows
                    stop += 1
                piece = splits[start]
                if stop - start > 1:
                    piece = replace(piece, last=splits[stop - 1].last, rows=rows)
                arrow_bytes = [0]
                source = register(_counted(open_piece(piece), arrow_bytes))
                verb = "INSERT INTO {} SELECT" if start else "CREATE TABLE {} AS SELECT"
                self.duck.execute(f"{verb.format(name)} * FROM {source}")
                self.duck.execute(f"CHECKPOINT {KEPT_DATABASE}")
                done += rows
                size = self._in_memory_bytes() - before
                if size > self.budget or (done and size * total > self.budget * done):
                    self._drop(name)  # it passes the budget, or will at this rate
                    self._too_large.put(key, True)
                    return None
                per_row = max(arrow_bytes[0] // max(rows, 1), 1)
                piece_rows = min(max(piece_bytes // per_row, FIRST_PIECE_ROWS), MAX_PIECE_ROWS)
                start = stop
        except BaseException:
            self._drop(name)
            raise
        size = max(self._in_memory_bytes() - before, KEPT_FLOOR)
        if size > self.budget:
            self._drop(name)
            self._too_large.put(key, True)
            return None
        self._tables[key] = (name, size)
        self.kept_bytes += size
        self.copies += 1
        while self.kept_bytes > self.budget:  # never the new one: it fits alone
            old_name, old_size = self._tables.pop(next(iter(self._tables)))
            self._drop(old_name)
            self.kept_bytes -= old_size
        self._on_change(self.kept_bytes)
        return name

    def _attach(self) -> None:
        if not self._attached:
            self.duck.execute(f"ATTACH ':memory:' AS {KEPT_DATABASE} (COMPRESS)")
            self._attached = True

    def _drop(self, name: str) -> None:
        self.duck.execute(f"DROP TABLE IF EXISTS {name}")
        self.duck.execute(f"CHECKPOINT {KEPT_DATABASE}")

    def _in_memory_bytes(self) -> int:
        (row,) = self.duck.execute(
            "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() "
            "WHERE tag = 'IN_MEMORY_TABLE'"
        ).fetchall()
        return int(row[0])


def _counted(reader: pa.RecordBatchReader, total: list[int]) -> pa.RecordBatchReader:
    """``reader``, adding the Arrow bytes of its batches to ``total[0]``."""

    def counted() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            total[0] += batch.nbytes
            yield batch

    return pa.RecordBatchReader.from_batches(reader.schema, counted())
