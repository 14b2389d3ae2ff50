"""doltlite, the comparison system of ``bench.versioning`` and ``bench.sql``, driven from Python.

doltlite (``pip install doltlite``) is DoltHub's prolly-tree engine in C behind SQLite's
C API: importing the ``doltlite`` package loads ``libdoltlite`` with its symbols global,
so that Python's ``sqlite3`` module, imported afterwards, runs on it and gains Dolt's
functions (``dolt_commit``, ``dolt_branch``, ``dolt_checkout``, ``dolt_merge``) and
virtual tables (``dolt_diff_<t>(from, to)``, ``dolt_at_<t>(rev)`` for a table at a
revision, ``dolt_log``...).

Invariants:
  (1) This module is imported before anything imports ``sqlite3`` (``bench.storage``
      does, for its own comparison): doltlite's loader would otherwise re-execute the
      interpreter, which ``python -m bench.<name>`` does not survive. The import
      refuses, naming the fix, rather than let that happen.
  (2) ``Doltlite.open`` checks that the connection really runs doltlite (a process that
      inherited doltlite's "already loaded" marker without the library would get the
      system SQLite and fail later with a confusing error).
  (3) Writes follow doltlite's documented transaction rule: the rows are written inside
      ``BEGIN`` and ``dolt_commit`` comes last, which also ends the SQL transaction.
"""

# ruff: noqa: E402  (the guard of invariant (1) has to run before the imports below it)
from __future__ import annotations

import sys

if "sqlite3" in sys.modules or "_sqlite3" in sys.modules:  # invariant (1)
    raise ImportError(
        "bench.peers must be imported before sqlite3 (doltlite replaces the SQLite library "
        "under it); import bench.peers first, or run the workload as python -m bench.<name>"
    )

import doltlite  # loads libdoltlite with global symbols: must come before sqlite3

# isort: split
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

DOLTLITE_VERSION = doltlite.__version__
CREATE_T = "CREATE TABLE {name} (id INTEGER PRIMARY KEY, label TEXT, score REAL)"
UPDATE_ROW = "UPDATE {name} SET label = ?, score = ? WHERE id = ?"


def rows_of(table: pa.Table) -> list[tuple]:
    """The rows of an Arrow table as Python tuples (what ``executemany`` takes)."""
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def update_params(changes: pa.Table) -> list[tuple]:
    """``(label, score, id)`` per row of an ``id, label, score`` table, for ``UPDATE_ROW``."""
    return rows_of(changes.select(["label", "score", "id"]))


class Doltlite:
    """One doltlite database file, in autocommit mode unless a write opens ``BEGIN``."""

    def __init__(self, con: sqlite3.Connection, path: Path, engine_version: str) -> None:
        self.con = con
        self.path = path
        self.engine_version = engine_version

    @classmethod
    def open(cls, path: Path) -> Doltlite:
        """Open (creating) the database file ``path``; its directory should hold nothing else
        so that ``disk_bytes`` counts doltlite's files only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, isolation_level=None)
        try:
            (version,) = con.execute("SELECT dolt_version()").fetchone()
        except sqlite3.OperationalError as exc:  # invariant (2)
            con.close()
            raise RuntimeError(
                f"sqlite3 is not running doltlite ({exc}); run the benchmark in a fresh "
                "process with nothing importing sqlite3 before bench.peers"
            ) from exc
        return cls(con, path, version)

    def close(self) -> None:
        self.con.close()

    # --- statements -------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def commit(self, message: str) -> str:
        """``dolt_commit('-A', '-m', message)``: stage everything, commit; the commit hash."""
        (row,) = self.query("SELECT dolt_commit('-A', '-m', ?)", (message,))
        return row[0]

    def branch(self, name: str) -> None:
        self.query("SELECT dolt_branch(?)", (name,))

    def checkout(self, name: str) -> None:
        self.query("SELECT dolt_checkout(?)", (name,))

    def merge(self, name: str) -> str:
        """Merge branch ``name`` into the current branch; the merge commit's hash."""
        (row,) = self.query("SELECT dolt_merge(?)", (name,))
        return row[0]

    def head(self) -> str:
        (row,) = self.query("SELECT dolt_hashof('HEAD')")
        return row[0]

    # --- writes (invariant (3)) ---------------------------------------------------------

    def create(self, name: str = "t") -> None:
        self.con.execute(CREATE_T.format(name=name))

    def insert_rows(
        self, rows: Sequence[tuple], name: str = "t", message: str | None = None
    ) -> None:
        """INSERT every row through one ``executemany`` in one transaction (doltlite's
        fastest bulk path from Python); then ``dolt_commit`` if ``message`` is given."""
        self.con.execute("BEGIN")
        self.con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)
        self._end(message)

    def update_rows(
        self, params: Sequence[tuple], name: str = "t", message: str | None = None
    ) -> None:
        """``UPDATE_ROW`` once per ``(label, score, id)``, in one transaction; then commit."""
        self.con.execute("BEGIN")
        self.con.executemany(UPDATE_ROW.format(name=name), params)
        self._end(message)

    def run_in_transaction(
        self, sql: str, params: Sequence[Sequence[Any]] | None = None, message: str | None = None
    ) -> None:
        """``sql`` (once, or ``executemany`` over ``params``) in one transaction; then commit."""
        self.con.execute("BEGIN")
        if params is None:
            self.con.execute(sql)
        else:
            self.con.executemany(sql, params)
        self._end(message)

    def _end(self, message: str | None) -> None:
        if message is None:
            self.con.execute("COMMIT")
        else:
            self.commit(message)  # ends the SQL transaction too

    # --- sizes ----------------------------------------------------------------------

    def disk_bytes(self) -> int:
        """Bytes of every file in the database's directory (the file, WAL, lock)."""
        return sum(p.stat().st_size for p in self.path.parent.iterdir() if p.is_file())
