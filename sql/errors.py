"""The SQL layer's exceptions: PEP 249's hierarchy under one root, ``SqlError``.

Every error a connection, cursor or session raises is a ``SqlError`` (PEP 249's
``Error`` is the same class), so ``except arbordb.Error`` catches them all.
PEP 249's classes, and what ArborDB raises each for::

    SqlError (= Error)
    +-- InterfaceError           a closed connection or cursor; a fetch with no result
    +-- DatabaseError
        +-- DataError            a value that does not fit its column (ValueError too)
        +-- OperationalError     a lost commit race (retryable), a version verb refused in
        |                        the repository's state (nothing to commit, a merge in
        |                        progress, ...), storage that is damaged or unreadable
        +-- IntegrityError       duplicate primary key, UNIQUE, NOT NULL or CHECK broken
        +-- InternalError        a bug: a state ArborDB should never reach
        +-- ProgrammingError     SQL that does not parse; a missing table, column, branch,
        |                        tag or revision (the message names it); a wrong argument
        +-- NotSupportedError    a type, statement or dialect ArborDB does not serve
    Warning                      (PEP 249's, an Exception beside Error; never raised)

Errors from below are translated in one place, :func:`translate`: engine errors by
:data:`_ENGINE_CLASSES`, DuckDB's by their own PEP 249 class, pyarrow's cast errors as
``DataError``. The original is kept as ``__cause__`` and the ``engine_error`` attribute.
``retryable`` is True exactly when repeating the same work on a fresh read may succeed
(another writer moved the branch between our read and our compare-and-swap).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa

from arbordb.engine import errors as engine

__all__ = [
    "DataError",
    "DataTestsFailed",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "ObjectNotFound",
    "OperationalError",
    "ProgrammingError",
    "SqlError",
    "SqlParseError",
    "TransactionConflict",
    "UnrewrittenAsOf",
    "UnsupportedDialect",
    "Warning",
    "translate",
]


class SqlError(Exception):
    """Root of every error raised by ``arbordb.sql`` (PEP 249's ``Error``).

    Attributes:
        retryable: True when running the same transaction again may succeed.
        engine_error: the engine or DuckDB exception this one translates, or None.
    """

    retryable = False
    engine_error: BaseException | None = None

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else self.__class__.__name__


Error = SqlError


class Warning(Exception):  # noqa: A001 - PEP 249 names it so
    """PEP 249's Warning (an important warning, e.g. data truncation). ArborDB
    refuses instead of truncating, so it never raises one."""


class InterfaceError(SqlError):
    """Misuse of the DB-API objects themselves (a closed cursor, fetch before execute)."""


class DatabaseError(SqlError):
    """An error in the database rather than in the interface."""


class DataError(DatabaseError, ValueError):
    """A value that does not fit: overflow, a failed cast, a division by zero."""


class OperationalError(DatabaseError):
    """The operation could not run in the repository's current state."""


class IntegrityError(DatabaseError, ValueError):
    """A constraint would break: primary key, UNIQUE, NOT NULL or CHECK."""


class InternalError(DatabaseError):
    """ArborDB reached a state it should never reach (a bug; please report it)."""


class ProgrammingError(DatabaseError):
    """The SQL or its arguments are wrong: a syntax error, an unknown name, a bad argument."""


class NotSupportedError(DatabaseError):
    """A feature ArborDB does not serve (a type, a statement form, a dialect)."""


class ObjectNotFound(ProgrammingError, KeyError):
    """A table, view, column, index, branch, tag or revision that does not exist."""


class DataTestsFailed(OperationalError):
    """A ``--check GROUP`` gate refused a merge or tag: tests of the group in
    ``dolt_tests`` failed on the version it would make; nothing changed.

    Attributes:
        results: the ``dolt_test_run`` rows (a ``pyarrow.Table``) of the group.
    """

    def __init__(self, message: str, results: pa.Table | None = None) -> None:
        super().__init__(message)
        self.results = results


class TransactionConflict(OperationalError):
    """Another connection changed the branch between this transaction's read and its
    commit; nothing was written. Retry the transaction on the new state."""

    retryable = True


# --- parsing and dialects (raised by sql/parse/dialect.py) ----------------------------


class SqlParseError(ProgrammingError, ValueError):
    """SQL text that the connection's dialect cannot read.

    Attributes:
        line: 1-based line of the offending text.
        column: 1-based column where the offending text starts.
        near: the offending text itself (may be empty at the end of input).
        description: what the parser expected or rejected.
        dialect: the dialect name the text was read with.
    """

    def __init__(
        self, description: str, *, line: int, column: int, near: str, context: str, dialect: str
    ) -> None:
        self.description = description
        self.line = line
        self.column = column
        self.near = near
        self.dialect = dialect
        where = f"near {near!r}" if near else "at the end of the statement"
        super().__init__(
            f"cannot parse SQL at line {line}, column {column} {where}: {description} "
            f"(in {context!r}; the text was read as {dialect} SQL)"
        )


class UnsupportedDialect(NotSupportedError, ValueError):
    """A dialect name that ArborDB connections do not speak."""

    def __init__(self, name: str, supported: Sequence[str]) -> None:
        self.name = name
        super().__init__(
            f"SQL dialect {name!r} is not supported; use one of {', '.join(supported)}"
        )


class UnrewrittenAsOf(InternalError, ValueError):
    """A tree handed to DuckDB still carries an ``AS OF`` clause."""

    def __init__(self, table: str, version: str) -> None:
        self.table = table
        self.version = version
        super().__init__(
            f"table {table!r} still carries {version!r}, which DuckDB cannot read; "
            "replace every AS OF table reference with its relation before generating DuckDB SQL"
        )


# --- translation ------------------------------------------------------------------

# Most specific first: the first class the error is an instance of wins.
_ENGINE_CLASSES: tuple[tuple[type[engine.EngineError], type[SqlError]], ...] = (
    (engine.CommitConflict, TransactionConflict),
    (engine.ConstraintViolation, IntegrityError),
    (engine.RemoteNotFound, ObjectNotFound),
    (engine.RemoteError, OperationalError),
    (engine.NotFound, ObjectNotFound),
    (engine.AmbiguousPrefix, ProgrammingError),
    (engine.UnsupportedType, NotSupportedError),
    (engine.KeyTooLarge, DataError),
    (engine.AlreadyExists, ProgrammingError),
    (engine.SchemaError, ProgrammingError),
    (engine.InvalidAddress, ProgrammingError),
    (engine.InvalidInput, ProgrammingError),
    (engine.VersionError, OperationalError),
    (engine.StorageError, OperationalError),
)

# DuckDB's exceptions already follow PEP 249; map them class for class.
_DUCKDB_CLASSES: tuple[tuple[type[BaseException], type[SqlError]], ...] = (
    (duckdb.IntegrityError, IntegrityError),
    (duckdb.DataError, DataError),
    (duckdb.NotSupportedError, NotSupportedError),
    (duckdb.ProgrammingError, ProgrammingError),
    (duckdb.OperationalError, OperationalError),
    (duckdb.InternalError, InternalError),
    (duckdb.Error, DatabaseError),
)

_INTERNAL_NAME = re.compile(r"__arbor_\w+")


def translate(error: BaseException, names: Mapping[str, str] | None = None) -> SqlError:
    """The ``SqlError`` to raise for ``error`` (returned as is when it already is one).

    Args:
        error: any exception raised while running a statement.
        names: internal relation name -> the name the user wrote, so that DuckDB's
            messages speak of ``t AS OF 'main'``, not of ArborDB's internal relations.

    Returns:
        A new ``SqlError`` whose ``__cause__`` and ``engine_error`` are ``error``.
    """
    if isinstance(error, SqlError):
        return error
    message = str(error)
    cls: type[SqlError]
    if isinstance(error, engine.EngineError):
        classes: tuple[tuple[type[BaseException], type[SqlError]], ...] = (
            *_ENGINE_CLASSES,
            (engine.EngineError, InternalError),
        )
        cls = next(c for base, c in classes if isinstance(error, base))
    elif isinstance(error, duckdb.Error):
        cls = next(c for base, c in _DUCKDB_CLASSES if isinstance(error, base))
        message = _rename(_without_statement(message), names or {})
    elif isinstance(error, pa.ArrowInvalid | pa.ArrowTypeError | OverflowError):
        cls = DataError
    elif isinstance(error, pa.ArrowNotImplementedError):
        cls = NotSupportedError
    elif isinstance(error, OSError):  # the repository's directory or files
        cls = OperationalError
        where = f": {error.filename}" if error.filename else ""
        message = f"{error.strerror or message}{where}"
    elif isinstance(error, RecursionError):
        cls = ProgrammingError
        message = (
            "the statement nests too deeply to be read (parentheses, subqueries or "
            "operators many hundreds of levels deep); split it or use a WITH clause"
        )
    else:
        cls = InternalError
        message = (
            f"internal error: {type(error).__name__}: {message} "
            "(this is a bug in ArborDB; please report it with the statement that caused it)"
        )
    out = cls(message)
    out.engine_error = error
    out.__cause__ = error
    return out


# DuckDB quotes the statement it ran ("LINE 1: SELECT ... FROM __arbor_t_..."), which
# is ArborDB's rewrite of the user's text, not the text the user wrote.
_QUOTED_STATEMENT = re.compile(r"\n+LINE \d+:.*", re.DOTALL)


# A table ArborDB hands DuckDB as rows (a small one, or a point read) is a "Values list"
# in DuckDB's binder messages; to the user it is the table they named.
_VALUES_LIST = re.compile(r'\bValues list "')


def _without_statement(message: str) -> str:
    """DuckDB's message without the rewritten statement it quotes, and without its
    word for a relation ArborDB handed it as rows."""
    return _VALUES_LIST.sub('Table "', _QUOTED_STATEMENT.sub("", message).rstrip())


def _rename(message: str, names: Mapping[str, str]) -> str:
    """DuckDB's message with internal relation names replaced by the user's (DuckDB
    may cut a long name short where it quotes the statement)."""

    def label(match: re.Match[str]) -> str:
        text = match.group(0)
        found = names.get(text)
        if found is None:
            found = next((v for k, v in names.items() if k.startswith(text)), "<relation>")
        return found

    return _INTERNAL_NAME.sub(label, message)
