"""The repository a command acts on, reached only through SQL (``arbordb.connect``).

Every ``arbor`` command and the REPL talk to the repository through one
``Client``: a DB-API connection in autocommit mode (each statement is its own
transaction, as in Dolt's CLI), plus helpers that phrase the questions commands
ask as SQL: ``CALL dolt_<verb>(...)`` for version verbs, ``dolt_*`` system tables
and table functions for reads, ``active_branch()`` for the branch. Results come
back as Arrow tables (``cursor.fetch_arrow()``). Nothing here imports the engine.

Three things beyond SQL use the connection's extension methods: the repository's
checked-out branch (``connect(branch=None)`` opens it, ``Connection.check_out``
moves it, while ``dolt_checkout`` moves only the session, as in Dolt's SQL),
``Connection.fsck`` and ``Connection.interrupt`` (Ctrl-C in the REPL).

Which repository: the directory given by ``arbor -C PATH`` or the current one, or
the nearest parent directory holding a ``.arbor`` directory (as git looks upward).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

import arbordb
from arbordb.engine.db import REPO_DIR
from arbordb.sql.parse.dialect import quote_identifier

from .invocation import Invocation, NotARepository, find_repository, invocation_of
from .render import sql_literal

__all__ = [
    "IMPORTED",
    "REPO_DIR",
    "Client",
    "Invocation",
    "NotARepository",
    "find_repository",
    "invocation_of",
]


IMPORTED = "__arbor_imported"  # the relation name ``insert_arrow`` gives its rows


class Client:
    """One autocommit connection to a repository, and the SQL every command shares."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name or str(path)
        self.connection = arbordb.connect(str(path), branch=None, autocommit=True)

    def remember_branch(self) -> None:
        """Make the session's branch the repository's checked-out branch (``arbor checkout``)."""
        self.connection.check_out()

    def fsck(self) -> list[str]:
        """Every problem found checking the chunks reachable from the refs."""
        return self.connection.fsck()

    def gc(self) -> dict[str, int]:
        """Collect garbage (``CALL dolt_gc()``); returns the counts of what it did."""
        return self.connection.gc()

    def interrupt(self) -> None:
        """Ask the statement running on another thread to stop (Ctrl-C in the REPL); the
        stopped statement fails like any other, changing nothing."""
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- statements ---------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> tuple[pa.Table | None, int]:
        """Run one statement: (its rows, or None for a statement without a result; rowcount)."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params or ())
            if cursor.description is None:
                return None, cursor.rowcount
            return cursor.fetch_arrow(), cursor.rowcount
        finally:
            cursor.close()

    def insert_arrow(
        self, sql: str, data: pa.Table | pa.RecordBatch | pa.RecordBatchReader
    ) -> None:
        """Run ``sql``, a statement whose query reads ``data`` as the relation
        ``IMPORTED``: rows go from Arrow through DuckDB to the engine, never as
        Python values (a reader's batches as the statement pulls them)."""
        duck = self.connection.session.duck
        duck.register(IMPORTED, data)
        try:
            self.execute(sql)
        finally:
            duck.unregister(IMPORTED)

    def query_arrow_with(self, sql: str, data: pa.Table) -> pa.Table:
        """The rows of a query that reads ``data`` as the relation ``IMPORTED``."""
        duck = self.connection.session.duck
        duck.register(IMPORTED, data)
        try:
            return self.query(sql)
        finally:
            duck.unregister(IMPORTED)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """The rows of a statement that returns rows."""
        table, _ = self.execute(sql, params)
        return table if table is not None else pa.table({})

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return self.query(sql, params).to_pylist()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        table = self.query(sql, params)
        return table.column(0)[0].as_py() if table.num_rows else None

    def call(self, procedure: str, *args: str) -> pa.Table:
        """``CALL procedure('arg', ...)``: a Dolt version verb, its CLI flags as text."""
        text = ", ".join(sql_literal(a) for a in args)
        return self.query(f"CALL {procedure}({text})")

    # --- questions commands ask -----------------------------------------------------------

    @property
    def branch(self) -> str:
        return self.scalar("SELECT active_branch()")

    def dirty(self) -> bool:
        """Whether the working set differs from HEAD (a row in ``dolt_status``)."""
        return bool(self.scalar("SELECT count(*) FROM dolt_status"))

    def tables(self) -> list[str]:
        return self.query("SHOW TABLES").column(0).to_pylist()

    def tables_at(self, revision: str) -> list[str]:
        """The tables of a revision: those its history added since the first commit (every
        history starts at the empty "Initialize data repository" commit)."""
        first = self.scalar(
            "SELECT commit_hash FROM dolt_log(?) ORDER BY commit_order LIMIT 1", [revision]
        )
        rows = self.rows("SELECT * FROM dolt_diff_summary(?, ?)", [first, revision])
        return sorted(r["to_table_name"] for r in rows if r["to_table_name"])

    def create_statement(self, table: str, revision: str | None = None) -> str:
        """``SHOW CREATE TABLE``: the statements that create ``table`` (at ``revision``)."""
        as_of = f" AS OF {sql_literal(revision)}" if revision else ""
        return (
            self.query(f"SHOW CREATE TABLE {quote_identifier(table)}{as_of}").column(1)[0].as_py()
        )

    def columns(self, table: str) -> pa.Schema:
        """A table's columns and Arrow types (from an empty scan of it)."""
        return self.query(f"SELECT * FROM {quote_identifier(table)} LIMIT 0").schema

    def primary_key(self, table: str) -> tuple[str, ...]:
        """The primary-key columns of ``table`` (``DESCRIBE``'s rows whose key is PRI)."""
        rows = self.rows(f"DESCRIBE {quote_identifier(table)}")
        return tuple(r["column_name"] for r in rows if r.get("key") == "PRI")

    def branches(self) -> list[str]:
        return self.query("SELECT name FROM dolt_branches ORDER BY name").column(0).to_pylist()

    def tags(self) -> list[str]:
        return self.query("SELECT tag_name FROM dolt_tags ORDER BY tag_name").column(0).to_pylist()
