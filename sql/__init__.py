"""ArborDB's SQL layer: sqlglot parses, DuckDB executes, the engine stores.

Modules: ``dialect`` (parsing, AS OF, CALL), ``errors`` (PEP 249's hierarchy),
``catalog`` (SQL types <-> engine schemas); reads: ``operands`` (parameters and
constant operands), ``relations`` (tables as Arrow relations, the decoded-table
cache), ``pushdown`` (primary-key predicates as tree lookups), ``reads`` (query
templates, binding, views), ``describe`` (SHOW TABLES, DESCRIBE); writes:
``writes`` (dispatch), ``write_common``, ``inserts``, ``updates``, ``deletes``,
``ddl``, ``conflict_writes`` (writes to ``dolt_conflicts_<t>``); ``procedures``
(Dolt's ``dolt_*`` verbs), ``system_tables`` and ``system/`` (Dolt's system
tables and functions), ``session`` (transactions) and ``dbapi`` (PEP 249).
"""

from .dbapi import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Connection,
    Cursor,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
    apilevel,
    connect,
    paramstyle,
    threadsafety,
)
from .errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    SqlError,
    Warning,
)
from .procedures import call_procedure
from .session import Session

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Session",
    "SqlError",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "apilevel",
    "call_procedure",
    "connect",
    "paramstyle",
    "threadsafety",
]
