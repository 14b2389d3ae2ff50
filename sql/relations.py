"""Relations: the names under which a session's DuckDB connection sees table data.

Relations DuckDB sees, by internal name:

    NAME                       HOLDS                                  LIFETIME
    __arbor_t_<address>        a table value, decoded once (LRU by    session LRU of
                               address, shared by the process)        ``REGISTERED``
    __arbor_tmp_<n>            a system relation or a key-range       one statement
                               subset (see sql/pushdown.py)

Invariants (cited as ``# invariant (n)``):

(1) ``__arbor_t_<address>`` always holds exactly the rows of the table value with that
    address: addresses are content hashes, so a registered name is never stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import duckdb
import pyarrow as pa

from arbordb.engine.table import Table

__all__ = ["Relations", "table_arrow"]

ARROW_CACHE_BYTES = 1 << 30  # decoded tables kept per process (1 GiB: ten 1M-row tables)
REGISTERED = 64  # table values kept registered per session (DuckDB register costs ~0.3 ms)


class _ArrowCache:
    """Decoded tables by table address, least recently used evicted past a byte budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[bytes, pa.Table] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, table: Table) -> pa.Table:
        with self._lock:
            found = self._entries.get(table.address)
            if found is not None:
                self._entries.move_to_end(table.address)
                return found
        data = table.to_arrow()
        if data.num_columns and any(col.num_chunks != 1 for col in data.columns):
            data = data.combine_chunks()  # one batch per relation scans fastest in DuckDB
        with self._lock:
            if table.address not in self._entries:
                self._entries[table.address] = data
                self._bytes += data.nbytes
                while self._bytes > self.budget and len(self._entries) > 1:
                    _, evicted = self._entries.popitem(last=False)
                    self._bytes -= evicted.nbytes
        return data


_cache = _ArrowCache(ARROW_CACHE_BYTES)


def table_arrow(table: Table) -> pa.Table:
    """Every row of ``table`` as one Arrow table (cached by address; invariant (1))."""
    return _cache.get(table)


class Relations:
    """The relations registered with one session's DuckDB connection.

    A table value stays registered until ``REGISTERED`` others were used since, or
    until a newer value of the same table (same name and revision text) replaces it:
    a session that keeps writing a table keeps one version of it registered."""

    def __init__(self, duck: duckdb.DuckDBPyConnection) -> None:
        self.duck = duck
        self._tables: OrderedDict[bytes, str] = OrderedDict()
        self._by_label: dict[str, bytes] = {}
        self._scratch = 0
        self.names: dict[str, str] = {}  # internal name -> what the user wrote (messages)

    def table(self, table: Table, label: str) -> str:
        """The registered name of a table value (registered on first use)."""
        address = table.address
        name = self._tables.get(address)
        if name is None:
            name = f"__arbor_t_{address.hex()}"
            self.duck.register(name, table_arrow(table))
            self._tables[address] = name
            older = self._by_label.get(label.lower())
            if older is not None and self._tables.get(older) not in self.names:
                self._drop(older)
            self._by_label[label.lower()] = address
            if len(self._tables) > REGISTERED:
                self._evict()
        else:
            self._tables.move_to_end(address)
        self.names[name] = label
        return name

    def _evict(self) -> None:
        """Unregister the least recently used tables past ``REGISTERED``, sparing those
        the current statement uses (a query may read more tables than the cap)."""
        for address, name in list(self._tables.items()):
            if len(self._tables) <= REGISTERED:
                return
            if name not in self.names:
                self._drop(address)

    def _drop(self, address: bytes) -> None:
        self.duck.unregister(self._tables.pop(address))
        for label in [k for k, a in self._by_label.items() if a == address]:
            del self._by_label[label]

    def scratch(self, data: pa.Table, label: str) -> str:
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
