"""ArborDB: a versioned tabular database for Python.

``connect`` is the PEP 249 entry point (SQL with AS OF and Dolt's procedures);
``Repo`` is the plain Python API to the version graph. ``arbordb.mlflow`` (MLflow
lineage, the ``arbordb[mlflow]`` extra) is imported on first use, so that
``import arbordb`` does not import MLflow.
"""

import importlib

from arbordb.sql.dbapi import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
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
from arbordb.sql.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from arbordb.sql.repo import Config, Repo, clone

__all__ = [
    "BINARY",
    "DATETIME",
    "Config",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
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


def __getattr__(name: str) -> object:
    if name == "mlflow":  # imported on first use: MLflow is heavy and optional
        return importlib.import_module("arbordb.mlflow")
    raise AttributeError(f"module 'arbordb' has no attribute {name!r}")
