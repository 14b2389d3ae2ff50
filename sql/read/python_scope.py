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

import sys
from collections.abc import Mapping
from types import FrameType

import pyarrow as pa

_API_PREFIX = "arbordb.sql"  # the DB-API frames between the caller and the session
_OWN_PREFIX = "arbordb."  # ArborDB's own code: no user scope to read


class PythonScope:
    """The local and global variables of one caller, looked up by table name."""

    def __init__(self, local_names: Mapping[str, object], global_names: Mapping[str, object]):
        self._scopes = (local_names, global_names)

    def lookup(self, name: str) -> pa.Table | None:
        """The Arrow data a variable called ``name`` holds, or None."""
        for scope in self._scopes:
            if name in scope:
                return arrow_data(scope[name])
        return None


def caller_scope() -> PythonScope | None:
    """The scope of the first frame above the DB-API (None inside ArborDB's own code)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _module(frame).startswith(_API_PREFIX):
        frame = frame.f_back
    if frame is None or _module(frame).startswith(_OWN_PREFIX):
        return None
    return PythonScope(frame.f_locals, frame.f_globals)


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", ""))


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
        return value.to_arrow()
    if isinstance(value, type) or not hasattr(value, "__arrow_c_stream__"):
        return None
    return pa.table(value)
