"""Relations: the names under which a session's DuckDB connection sees table data.

Relations DuckDB sees, by internal name:

    NAME                 HOLDS                                              LIVES
    __arbor_tmp_<n>      a table read as a stream (``TableSource``), a      one statement
                         system relation, or rows a statement computed
                         (see sql/read/pushdown.py)
    __arbor_kept."t<n>"  a copy of a whole table scanned twice (kept.py)    until evicted

A table reference is a ``TableSource``: an object with ``__arrow_c_stream__``, which
DuckDB calls each time it scans the relation (a CTE or subquery may scan it more
than once) and which returns a fresh, lazily read stream of record batches over the
table's leaves (engine/table/reader.py): only the columns the query names, only the
key range its primary-key conjuncts allow, nothing read until DuckDB pulls a batch,
so a ``LIMIT`` stops reading. A whole table's first scan keeps nothing; its second
copies it into DuckDB and later scans read the copy (kept.py). The decoded columns of
key ranges are kept in the session's ``ColumnCache`` (keyed by leaf content
addresses). The copies and the cache together stay within ``cache_bytes``.

``table_arrow`` decodes a whole table into one Arrow table (cached by address, up to
``ARROW_CACHE_BYTES``): for the small tables whose every row a statement needs
(``dolt_schemas``, a CHECK added to a table).

Invariants (cited as ``# invariant (n)``):

(1) A table is read at the address it had when the statement was bound: addresses are
    content hashes, so a source and every cache entry are never stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial

import duckdb
import pyarrow as pa

from arbordb.engine.cache import LruCache
from arbordb.engine.table import ColumnCache, Table

from ..system.common import BatchStream
from .kept import KeptTables

__all__ = ["DEFAULT_CACHE_BYTES", "Relations", "TableSource", "table_arrow"]

ARROW_CACHE_BYTES = 1 << 30  # whole decoded tables kept per process (table_arrow)
DEFAULT_CACHE_BYTES = 512 << 20  # decoded columns a session keeps (connect(cache_bytes=...))


# whole decoded tables by table address, shared by every session of the process
_cache: LruCache[bytes, pa.Table] = LruCache(ARROW_CACHE_BYTES, weigh=lambda t: t.nbytes)


def table_arrow(table: Table) -> pa.Table:
    """Every row of ``table`` as one Arrow table (cached by address; invariant (1))."""
    found = _cache.get(table.address)
    if found is None:
        found = table.to_arrow()
        if found.num_columns and any(col.num_chunks != 1 for col in found.columns):
            found = found.combine_chunks()
        _cache.put(table.address, found)
    return found


class TableSource:
    """A table's rows as DuckDB scans them: each ``__arrow_c_stream__`` call opens a
    new lazily read stream (``open`` builds it; see the module docstring).

    ``__arrow_c_schema__`` lets DuckDB bind without opening a stream of its own (it
    opened three per scan without it: two only to learn the schema). The schema
    comes from a stream opened once (its first batch tells which string columns
    arrive dictionary-encoded), and that stream is the one the first scan reads."""

    __slots__ = ("open", "_schema", "_pending", "_lock")

    def __init__(self, open: Callable[[], pa.RecordBatchReader]) -> None:
        self.open = open
        self._schema: pa.Schema | None = None
        self._pending: pa.RecordBatchReader | None = None
        self._lock = threading.Lock()  # DuckDB may scan from several threads

    def __arrow_c_schema__(self) -> object:
        with self._lock:
            if self._schema is None:
                self._pending = self.open()
                self._schema = self._pending.schema
            return self._schema.__arrow_c_schema__()

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        with self._lock:
            reader, self._pending = self._pending, None
        return (reader or self.open()).__arrow_c_stream__(requested_schema)


class Relations:
    """The relations registered with one session's DuckDB connection, and the
    session's cache of decoded columns."""

    def __init__(
        self, duck: duckdb.DuckDBPyConnection, cache_bytes: int = DEFAULT_CACHE_BYTES
    ) -> None:
        self.duck = duck
        self.cache_bytes = cache_bytes
        self.cache = ColumnCache(cache_bytes)
        # the kept tables and the cache of decoded columns share the budget
        self.kept = KeptTables(
            duck, cache_bytes, lambda kept: self.cache.resize(cache_bytes - kept)
        )
        self._scratch = 0
        self.names: dict[str, str] = {}  # internal name -> what the user wrote (messages)
        self.failures: list[BaseException] = []  # what a stream raised inside DuckDB

    def stream(
        self, table: Table, label: str, columns: Sequence[str], bounds: dict | None = None
    ) -> str:
        """A name for ``table``'s ``columns`` (within key ``bounds``, ``Table.batches``
        keywords) read as a stream for this statement.

        Raises:
            InvalidInput: a bound the key cannot encode (checked now, not when read).
        """
        bounds = bounds or {}
        table.key_range(**bounds)  # refuses a bad bound now; nothing is read until a scan
        cache: ColumnCache | None = self.cache
        read_whole = None
        if not bounds:  # a whole table: kept as a DuckDB table once scanned twice (kept.py)
            key = (table.address, tuple(columns))
            name = self.kept.find(key)
            if name is None and self.kept.wanted(key):
                name = self.kept.keep(
                    key,
                    table.splits,
                    lambda split: self._opened(table, columns, split=split),
                    lambda piece: self.scratch(piece, label),
                )
            if name is not None:
                self.names[name] = label
                return name
            cache = None  # a first scan keeps nothing (kept.py, policy (1))
            read_whole = partial(self.kept.note, key)  # a LIMIT's scan stops before the end

        def open_stream() -> pa.RecordBatchReader:
            return self._opened(table, columns, read_whole, cache=cache, **bounds)

        return self.scratch(TableSource(open_stream), label)

    def _opened(
        self,
        table: Table,
        columns: Sequence[str],
        at_end: Callable[[], None] | None = None,
        **how,
    ) -> pa.RecordBatchReader:
        """``table.batches(columns, **how)``, its failures kept (``_recorded``);
        ``at_end()`` is called once the last batch has been read."""
        try:
            reader = table.batches(columns, **how)
        except Exception as error:
            self.failures.append(error)
            raise
        return pa.RecordBatchReader.from_batches(reader.schema, self._recorded(reader, at_end))

    def _recorded(self, reader: pa.RecordBatchReader, at_end: Callable[[], None] | None = None):
        """``reader``'s batches; a failure is kept in ``failures`` before DuckDB sees it
        (DuckDB rewraps it as its own error, losing the class: damage, a bad key, ...)."""
        try:
            yield from reader
        except Exception as error:
            self.failures.append(error)
            raise
        if at_end is not None:
            at_end()

    def take_failure(self, error: BaseException) -> BaseException:
        """The error a stream of this statement raised (the real cause), else ``error``."""
        if not self.failures:
            return error
        first, self.failures = self.failures[0], []
        return first

    def scratch(
        self, data: pa.Table | pa.RecordBatchReader | TableSource | BatchStream, label: str
    ) -> str:
        """A name for a relation that lives for this statement only."""
        name = f"__arbor_tmp_{self._scratch}"
        self._scratch += 1
        self.duck.register(name, data)
        self.names[name] = label
        return name

    def end_statement(self) -> None:
        """Drop the last statement's scratch relations and message names (called when
        the next statement starts: the last result may still read them)."""
        for n in range(self._scratch):
            self.duck.unregister(f"__arbor_tmp_{n}")
        self._scratch = 0
        self.names = {}
        self.failures = []
