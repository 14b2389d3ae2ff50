"""ArborDB's storage and versioning engine (imports no SQL or UI code).

Layers, top to bottom (each imports only those below it; import-linter checks):
``repo`` (the plain Python API) -> ``db`` (a repository: refs, branches, tags,
gc, fsck) -> ``workspace`` (a branch's working state and the version verbs) ->
``versioning`` (diff, three-way merge, conflicts) -> ``history`` (commits, tags,
working sets, refs, graph, revisions) -> ``root`` (table name -> table) ->
``table`` (schemas, rows, indexes) -> ``tree`` (prolly trees) -> ``codec`` (byte
formats) -> ``chunks`` (content-addressed stores) -> ``hash``. ``errors`` is
shared by all.
"""

from __future__ import annotations

import importlib

_HOMES = {"Database": ".db", "Repo": ".repo"}  # imported on first use: cheap to import


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = ["Database", "Repo"]
