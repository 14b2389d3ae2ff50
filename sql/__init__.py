"""ArborDB's SQL layer: sqlglot parses, DuckDB executes, the engine stores.

Modules: ``dialect`` (parsing, AS OF, CALL), ``errors`` (PEP 249's hierarchy),
``catalog`` (SQL types <-> engine schemas); reads: ``operands`` (parameters and
constant operands), ``relations`` (tables as streamed Arrow relations, the
decoded-column cache), ``pushdown`` (primary-key predicates as tree lookups), ``reads`` (query
templates, binding, views), ``describe`` (SHOW TABLES, DESCRIBE); writes:
``writes`` (dispatch), ``write_common``, ``inserts``, ``updates``, ``deletes``,
``ddl``, ``conflict_writes`` (writes to ``dolt_conflicts_<t>``); ``procedures``
(Dolt's ``dolt_*`` verbs), ``system_tables`` and ``system/`` (Dolt's system
tables and functions), ``session`` (transactions) and ``dbapi`` (PEP 249).
"""

from __future__ import annotations

import importlib

# Names are imported on first use, so importing a submodule (``sql.errors``, say)
# does not load the whole layer.
_HOMES = {
    **dict.fromkeys(
        (
            "BINARY DATETIME NUMBER ROWID STRING Binary Connection Cursor Date DateFromTicks "
            "Time TimeFromTicks Timestamp TimestampFromTicks apilevel connect paramstyle "
            "threadsafety"
        ).split(),
        ".dbapi",
    ),
    **dict.fromkeys(
        (
            "DatabaseError DataError Error IntegrityError InterfaceError InternalError "
            "NotSupportedError OperationalError ProgrammingError SqlError Warning"
        ).split(),
        ".errors",
    ),
    "call_procedure": ".procedures",
    "Session": ".session",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


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
