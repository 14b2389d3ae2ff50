"""PEP 249 (DB-API 2.0) over a ``Session``: ``connect``, ``Connection``, ``Cursor``.

Module globals as PEP 249 asks: ``apilevel = "2.0"``, ``threadsafety = 1``,
``paramstyle = "qmark"`` (``?``; a mapping of values for ``$name``
placeholders is accepted too). Type objects (``STRING``, ``BINARY``, ``NUMBER``,
``DATETIME``, ``ROWID``) compare equal to the type codes of ``cursor.description``,
which are DuckDB's type names (``'BIGINT'``, ``'VARCHAR'``, ``'DECIMAL(18,3)'``, ...).

Semantics beyond the letter of PEP 249, as psycopg 3 has them:

- ``with connect(...) as con:`` commits when the block ends normally, rolls back when it
  raises, and closes the connection either way.
- ``close()`` without ``commit()`` discards the open transaction.
- a failed statement leaves the transaction open and usable (the statement changed
  nothing; session.py invariant (1)).

Threads (PEP 249 ``threadsafety`` level 1, and that level is what holds): threads may
share the module, each with its own connections. Connections to one repository in
several threads of a process share one ``Database`` (``_Databases``): its caches are
``engine.cache.LruCache`` objects, each behind its own lock, and LMDB serialises
writers (engine/db.py's concurrency model); tests/sql/test_threads.py runs reads,
writes and commits on several branches from several threads and checks them against
a single-threaded run. Level 2 does not hold: a connection (its session, transaction
and DuckDB connection) takes no lock, so threads must not share one.

Beyond PEP 249: ``cursor.fetch_arrow()`` (a ``pyarrow.Table``) and ``cursor.fetch_df()``
(pandas) fetch the remaining rows in columns, without Python tuples;
``cursor.insert_arrow(table, data)`` inserts a DataFrame or Arrow data the same way;
and a statement may name a DataFrame of the calling code as a table
(``INSERT INTO t SELECT * FROM df``, as in DuckDB; sql/read/python_scope.py).
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from arbordb.engine.db import Database
from arbordb.engine.errors import BranchNotFound

from . import errors
from .errors import InterfaceError, ProgrammingError, SqlError, translate
from .parse.dialect import SUPPORTED_DIALECTS
from .read.python_scope import arrow_data, caller_scope
from .session.results import Result
from .session.session import Session

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "Date",
    "DateFromTicks",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
]

apilevel = "2.0"
threadsafety = 1
paramstyle = "qmark"


# --- type objects and constructors -------------------------------------------------------


class _TypeObject:
    """Equal to every type code (DuckDB type name) of one PEP 249 type family."""

    def __init__(self, name: str, *prefixes: str) -> None:
        self.name = name
        self._prefixes = prefixes

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _TypeObject):
            return other is self
        if not isinstance(other, str):
            return NotImplemented
        text = other.upper()
        return any(text == p or text.startswith(p + "(") for p in self._prefixes)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<arbordb type {self.name}>"


STRING = _TypeObject("STRING", "VARCHAR", "JSON", "UUID", "ENUM")
BINARY = _TypeObject("BINARY", "BLOB", "BIT")
NUMBER = _TypeObject(
    "NUMBER",
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN",
)  # fmt: skip
DATETIME = _TypeObject(
    "DATETIME", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "INTERVAL"
)
ROWID = _TypeObject("ROWID")

Date = _dt.date
Time = _dt.time
Timestamp = _dt.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> _dt.date:  # noqa: N802 - PEP 249's name
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> _dt.time:  # noqa: N802
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> _dt.datetime:  # noqa: N802
    return Timestamp(*time.localtime(ticks)[:6])


# --- connect ---------------------------------------------------------------------------


def connect(
    path: str | Path,
    *,
    branch: str | None = "main",
    dialect: str = "duckdb",
    read_only: bool = False,
    autocommit: bool = False,
    cache_bytes: int | None = None,
) -> Connection:
    """Open the repository in directory ``path`` (created, with its first commit, when
    missing) and return a connection working on ``branch``.

    Args:
        path: the repository directory (its data lives in ``path/.arbor``).
        branch: the branch to work on; None for the repository's checked-out branch
            (the one ``arbor checkout`` last chose, see ``Connection.check_out``).
        dialect: the SQL dialect of the statements: duckdb, mysql, postgres or sqlite.
        read_only: refuse every change (the repository must exist).
        autocommit: make each statement its own transaction.
        cache_bytes: the most bytes of table data the connection keeps between
            queries (default 512 MiB): copies of tables scanned twice and decoded
            columns; reads stream, so any table is read within this budget.

    Raises:
        OperationalError: the repository cannot be opened (read_only and missing, ...).
        ObjectNotFound: ``branch`` does not exist.
        NotSupportedError: an unknown dialect.

    Example:
        >>> import tempfile
        >>> con = connect(tempfile.mkdtemp())
        >>> con.cursor().execute("SELECT active_branch()").fetchone()
        ('main',)
        >>> con.close()
    """
    if not isinstance(path, str | Path):
        raise ProgrammingError(
            "connect() takes the repository's directory as a str or Path, "
            f"got {type(path).__name__}"
        )
    if not isinstance(dialect, str):
        raise errors.UnsupportedDialect(repr(dialect), SUPPORTED_DIALECTS)
    db = _databases.open(path, read_only)
    try:
        branch = db.default_branch() if branch is None else branch
        if branch not in db.refs.branches():
            names = ", ".join(sorted(db.refs.branches())) or "none"
            raise BranchNotFound(f"branch {branch!r} not found (branches: {names})")
        if cache_bytes is not None and (not isinstance(cache_bytes, int) or cache_bytes < 0):
            raise ProgrammingError(
                f"cache_bytes must be a number of bytes >= 0, got {cache_bytes!r}"
            )
        options = {} if cache_bytes is None else {"cache_bytes": cache_bytes}
        session = Session(
            db,
            branch=branch,
            dialect=dialect,
            read_only=read_only,
            autocommit=autocommit,
            **options,
        )
    except Exception as exc:
        _databases.release(db)
        raise translate(exc) from exc
    return Connection(session)


class _Databases:
    """Open repositories of this process, shared by their connections.

    Every connection to one directory with the same ``read_only`` uses one
    ``Database`` (the engine allows that: engine/db.py's concurrency model; the
    chunk stores of one directory share its LMDB environment); each connection
    still has its own session, workspace and transaction. The ``Database``
    closes with its last connection."""

    def __init__(self) -> None:
        self._open: dict[tuple[Path, bool], tuple[Database, int]] = {}
        self._lock = threading.Lock()

    def open(self, path: str | Path, read_only: bool) -> Database:
        key = (Path(path).resolve(), read_only)
        with self._lock:
            found = self._open.get(key)
            if found is not None:
                db, count = found
                self._open[key] = (db, count + 1)
                return db
            try:
                db = Database.open(path, read_only=read_only)
            except SqlError:
                raise
            except Exception as exc:
                raise translate(exc) from exc
            self._open[key] = (db, 1)
            return db

    def release(self, db: Database) -> None:
        with self._lock:
            for key, (found, count) in list(self._open.items()):
                if found is db:
                    if count > 1:
                        self._open[key] = (db, count - 1)
                    else:
                        del self._open[key]
                        db.close()
                    return


_databases = _Databases()
_INSERTED = "__arbor_inserted"  # the relation name insert_arrow gives its rows


class Connection:
    """A PEP 249 connection: one session, one transaction at a time."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cursors: list[Cursor] = []

    # PEP 249's optional extension: the exception classes as connection attributes
    Error = errors.Error
    Warning = errors.Warning
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    @property
    def autocommit(self) -> bool:
        return self.session.autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self._check()
        if value and not self.session.autocommit:
            self.session.commit()
        self.session.autocommit = bool(value)

    @property
    def branch(self) -> str:
        """The branch the connection works on (``dolt_checkout`` changes it)."""
        return self.session.branch

    @property
    def closed(self) -> bool:
        return self.session.closed

    # --- beyond PEP 249: what the command line needs of a repository ---------------

    def check_out(self) -> None:
        """Make this connection's branch the repository's checked-out branch: the one
        ``connect(path, branch=None)`` and the ``arbor`` commands open (``arbor checkout``)."""
        self._check()
        self.session.check_writable()  # the database may be shared with a writable connection
        self.session.db.set_default_branch(self.session.branch)

    def fsck(self) -> list[str]:
        """Check every chunk reachable from the refs (present, hashing to its address,
        decoding, tree invariants); returns the problems found (``arbor fsck``)."""
        self._check()
        return self.session.db.fsck()

    def gc(self) -> dict[str, int]:
        """Run ``CALL dolt_gc()`` and return what it did: ``kept`` and ``deleted``
        chunks, and ``freed_bytes`` (the deleted records' bytes) (``arbor gc``)."""
        self._check()
        self.cursor().execute("CALL dolt_gc()")
        return dict(self.session.gc_counts)

    def interrupt(self) -> None:
        """Ask the statement running on another thread to stop; it fails like any failed
        statement and changes nothing (Ctrl-C in the REPL). Safe from any thread."""
        self.session.duck.interrupt()

    def cursor(self) -> Cursor:
        self._check()
        cursor = Cursor(self)
        self._cursors.append(cursor)
        return cursor

    def commit(self) -> None:
        """Persist the open transaction's changes to the working set (not a version
        commit: that is ``CALL dolt_commit(...)``)."""
        self._check()
        self.session.commit()

    def rollback(self) -> None:
        """Discard the open transaction's changes."""
        self._check()
        self.session.rollback()

    def close(self) -> None:
        """Close the connection, discarding an open transaction. Closing twice is allowed."""
        if self.session.closed:
            return
        for cursor in self._cursors:
            cursor._result = None
        self.session.close()
        _databases.release(self.session.db)

    def execute(self, operation: str, parameters: Any = None) -> Cursor:
        """A new cursor with ``operation`` executed (a convenience, as in sqlite3)."""
        return self.cursor().execute(operation, parameters)

    def __enter__(self) -> Connection:
        self._check()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if not self.session.closed:
                if kind is None:
                    self.commit()
                else:
                    self.rollback()
        finally:
            self.close()

    def _check(self) -> None:
        if self.session.closed:
            raise InterfaceError("the connection is closed; open a new one with arbordb.connect")


class Cursor:
    """A PEP 249 cursor over one connection's session."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1
        self._result: Result | None = None
        self._closed = False
        self._rowcount = -1

    @property
    def description(self) -> list[tuple] | None:
        return self._result.description if self._result is not None else None

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> None:
        """Always None: ArborDB tables have no implicit row ids."""
        return None

    def execute(
        self, operation: str, parameters: Sequence[object] | Mapping[str, object] | None = None
    ) -> Cursor:
        """Run one or more ``;``-separated statements; the last one's rows can be fetched.

        Raises:
            Error: any failure (the statement changed nothing; the transaction is usable).
        """
        session = self.connection.session
        if self._closed or session.closed:
            self._check()  # raises, naming what is closed
        if self._result is not None:
            self._drop_result()
        session.python_scope = caller_scope()  # DataFrames named in the SQL
        try:
            result = session.execute(operation, parameters)
        finally:
            session.python_scope = None
        self._result = result
        self._rowcount = result.rowcount
        return self

    def insert_arrow(self, table: str, data: object) -> int:
        """Insert every row of ``data`` into ``table`` as one statement, without Python
        tuples: a ``pyarrow`` Table, RecordBatch or RecordBatchReader, a pandas or polars
        DataFrame, or any object with ``__arrow_c_stream__``. Columns are matched by
        name (``data`` may leave out columns that have defaults).

        Returns:
            The number of rows inserted (also ``rowcount``).

        Raises:
            ProgrammingError: ``data`` is not Arrow data or has no columns.
            Error: the insert failed (a key repeated, a value of the wrong type...);
                nothing was inserted.
        """
        self._check()
        self._drop_result()
        if not isinstance(table, str) or not table:
            raise ProgrammingError(f"insert_arrow takes a table name, got {table!r}")
        rows = _stream_of(data)  # a stream is inserted as it is read, not read whole
        if rows is None:
            rows = arrow_data(data)
        if rows is None:
            raise ProgrammingError(
                f"insert_arrow takes a pyarrow Table, a pandas or polars DataFrame, or an "
                f"object with __arrow_c_stream__, got {type(data).__name__}"
            )
        if not rows.schema.names:
            raise ProgrammingError("insert_arrow was given data without columns")
        session = self.connection.session
        columns = [exp.to_identifier(c, quoted=True) for c in rows.schema.names]
        statement = exp.Insert(
            this=exp.Schema(this=exp.Table(this=exp.to_identifier(table)), expressions=columns),
            expression=exp.select(*[c.copy() for c in columns]).from_(_INSERTED),
        ).sql(session.dialect)
        session.duck.register(_INSERTED, rows)
        try:
            result = session.execute(statement)
        finally:
            session.duck.unregister(_INSERTED)
        self._rowcount = result.rowcount
        return result.rowcount

    def executemany(self, operation: str, seq_of_parameters: Sequence[Sequence[object]]) -> Cursor:
        """Run ``operation`` once per parameter set, atomically (all or nothing).
        ``INSERT ... VALUES (?, ...)`` writes every row as one batch."""
        self._check()
        self._drop_result()
        if isinstance(seq_of_parameters, str | bytes) or not isinstance(
            seq_of_parameters, Iterable
        ):
            raise ProgrammingError(
                "executemany takes a sequence of parameter sets, got "
                f"{type(seq_of_parameters).__name__}"
            )
        result = self.connection.session.executemany(operation, list(seq_of_parameters))
        self._result = None
        self._rowcount = result.rowcount
        return self

    def callproc(self, procname: str, parameters: Sequence[object] = ()) -> Sequence[object]:
        """Call a ``dolt_*`` procedure (PEP 249): its result row is fetched like a query's.

        Returns:
            ``parameters`` unchanged (ArborDB's procedures have no output parameters).
        """
        if not isinstance(procname, str) or not isinstance(parameters, Sequence):
            raise ProgrammingError("callproc takes a procedure name and a sequence of arguments")
        marks = ", ".join("?" for _ in parameters)
        self.execute(f"CALL {procname}({marks})", list(parameters))
        return parameters

    def fetchone(self) -> tuple | None:
        result = self._result
        if (
            result is None
            or result.description is None
            or self._closed
            or self.connection.session.closed
        ):
            return self._rows().fetchone()  # raises, naming what is missing or closed
        return result.fetchone()

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        size = self.arraysize if size is None else size
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ProgrammingError(f"fetchmany takes a row count >= 0, got {size!r}")
        return self._rows().fetchmany(size)

    def fetchall(self) -> list[tuple]:
        return self._rows().fetchall()

    def fetch_arrow(self) -> pa.Table:
        """The remaining rows as a ``pyarrow.Table``."""
        return self._rows().arrow()

    def fetch_df(self):
        """The remaining rows as a pandas DataFrame."""
        return self.fetch_arrow().to_pandas()

    def setinputsizes(self, sizes: object) -> None:
        """PEP 249: accepted and ignored."""

    def setoutputsize(self, size: int, column: int | None = None) -> None:
        """PEP 249: accepted and ignored."""

    def close(self) -> None:
        self._drop_result()
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __iter__(self) -> Iterator[tuple]:
        return self

    def __next__(self) -> tuple:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drop_result(self) -> None:
        if self._result is not None:
            self._result.close()
            self._result = None

    def _rows(self) -> Result:
        self._check()
        if self._result is None or self._result.description is None:
            raise ProgrammingError("no result to fetch: the last statement returned no rows")
        return self._result

    def _check(self) -> None:
        if self._closed:
            raise InterfaceError("the cursor is closed; create another with connection.cursor()")
        self.connection._check()


def _stream_of(data: object) -> pa.RecordBatchReader | None:
    """``data`` as a reader when it is a stream (a ``RecordBatchReader``, or an object
    with ``__arrow_c_stream__`` other than a table or a pandas or polars frame), so
    that ``insert_arrow`` hands it to a streamed INSERT; None otherwise."""
    if isinstance(data, pa.RecordBatchReader):
        return data
    kind = type(data)
    if (
        isinstance(data, pa.Table | pa.RecordBatch | type)
        or kind.__module__.split(".")[0] in ("pandas", "polars")
        or not hasattr(data, "__arrow_c_stream__")
    ):
        return None
    return pa.RecordBatchReader.from_stream(data)
