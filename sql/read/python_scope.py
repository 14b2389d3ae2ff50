"""Python data named in SQL: ``SELECT * FROM df`` reads a DataFrame of the calling code.

As DuckDB's replacement scans do, a table reference that names nothing in the
repository (no table, view or system table at the revision read; repository names
always win) is looked up in the scope of the code that called ``Cursor.execute`` or
``Connection.execute``: its local variables, then its module's globals. What is found
there is read when it is Arrow data: a ``pyarrow`` Table, RecordBatch or
RecordBatchReader, a pandas or polars DataFrame (pandas' index is left out), or any
object with ``__arrow_c_stream__``. So ``INSERT INTO t SELECT * FROM df`` loads a
DataFrame without Python tuples. Other objects of that name are ignored (the
reference stays "not found"). ``AS OF`` references never read Python data.

Only code outside ArborDB has a scope here: the ``arbor`` CLI and REPL, which run
statements the user typed, never read their own variables.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import FrameType
from typing import Any, cast

import pyarrow as pa

_ROOT = Path(__file__).resolve().parents[2]  # the arbordb package
_API_DIR = str(_ROOT / "sql") + os.sep  # the DB-API frames between the caller and the session
_OWN_DIRS = tuple(str(_ROOT / d) + os.sep for d in ("cli", "engine", "mlflow_lineage", "sql"))


class PythonScope:
    """The variables of the code that called the DB-API, looked up by table name: its
    locals, then its module's globals. ``frame`` is where the DB-API was entered; the
    caller's frame is found from it only when a name needs looking up (most statements
    name only repository tables), and it is held only while its statement runs."""

    def __init__(self, frame: FrameType | None) -> None:
        self._frame = frame

    def lookup(self, name: str) -> pa.Table | None:
        """The Arrow data a variable called ``name`` holds, or None."""
        frame = self._frame
        while frame is not None and frame.f_code.co_filename.startswith(_API_DIR):
            frame = frame.f_back
        if frame is None or frame.f_code.co_filename.startswith(_OWN_DIRS):
            return None  # ArborDB's own code (the CLI) has no variables to read
        for scope in (frame.f_locals, frame.f_globals):
            if name in scope:
                return arrow_data(scope[name])
        return None


def caller_scope() -> PythonScope:
    """The scope of the code that called the DB-API method calling this."""
    return PythonScope(sys._getframe(1))


def arrow_data(value: object) -> pa.Table | None:
    """``value`` as a ``pyarrow.Table`` when it is Arrow data (module docstring), else None."""
    if isinstance(value, pa.Table):
        return value
    if isinstance(value, pa.RecordBatch):
        return pa.Table.from_batches([value])
    if isinstance(value, pa.RecordBatchReader):
        return value.read_all()
    kind = type(value)
    package = kind.__module__.split(".")[0]
    if package == "pandas" and kind.__name__ == "DataFrame":
        return pa.Table.from_pandas(value, preserve_index=False)
    if package == "polars" and kind.__name__ == "DataFrame":
        return cast(Any, value).to_arrow()  # a polars DataFrame (polars is not a dependency)
    if isinstance(value, type) or not hasattr(value, "__arrow_c_stream__"):
        return None
    return pa.table(value)
