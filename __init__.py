"""ArborDB: a versioned tabular database for Python.

``connect`` is the PEP 249 entry point (SQL with AS OF and Dolt's procedures);
``Repo`` is the plain Python API to the version graph (``clone`` makes one from a
remote; ``Config`` holds settings such as the commit author). ``arbordb.mlflow``
(MLflow lineage, the ``arbordb[mlflow]`` extra) is imported on first use, so that
``import arbordb`` does not import MLflow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the public names as a type checker sees them (imported on first use)
    from arbordb.sql.dbapi import connect
    from arbordb.sql.errors import Error
    from arbordb.sql.repo import Config, Repo, clone

# Names are imported on first use (``import arbordb`` stays cheap: the SQL layer
# loads DuckDB and sqlglot, which a script that only imports the package never needs).
_HOMES = dict.fromkeys(("Config", "Repo", "clone"), "arbordb.sql.repo")
_HOMES.update(
    dict.fromkeys(
        (
            "BINARY DATETIME NUMBER ROWID STRING Binary Date DateFromTicks Time TimeFromTicks "
            "Timestamp TimestampFromTicks apilevel connect paramstyle threadsafety"
        ).split(),
        "arbordb.sql.dbapi",
    )
)
_HOMES.update(
    dict.fromkeys(
        (
            "DatabaseError DataError Error IntegrityError InterfaceError InternalError "
            "NotSupportedError OperationalError ProgrammingError Warning"
        ).split(),
        "arbordb.sql.errors",
    )
)


def __getattr__(name: str) -> object:
    if name == "mlflow":  # MLflow is heavy and optional
        return importlib.import_module("arbordb.mlflow")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'arbordb' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES) | {"mlflow"})


__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Config",
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
    "Repo",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "apilevel",
    "clone",
    "connect",
    "paramstyle",
    "threadsafety",
]
