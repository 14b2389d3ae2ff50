"""ArborDB's SQL layer: sqlglot parses, DuckDB executes, the engine stores.

A statement goes down through one package per stage (each imports only the ones below it)::

    dbapi.py, repo.py   the public surface: PEP 249 ``connect``, ``arbordb.Repo``
    session/            ``Session`` (transactions, statement dispatch), result classes
    write/              INSERT, UPDATE, DELETE, DDL as engine edits, behind one dispatch
    procedures/         Dolt's ``dolt_*`` procedures (version verbs, remotes, data tests)
    read/               query templates bound to revisions, pushdown, Arrow relations
    system/             Dolt's system tables and functions (``registry.py``: by name)
    parse/              the dialects, ``AS OF``, ``CALL``, dialect semantics
    catalog.py          SQL types <-> engine schemas
    errors.py           PEP 249's exception hierarchy, engine errors translated
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
    "call_procedure": ".procedures.call",
    "Session": ".session.session",
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
