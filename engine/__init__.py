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

from .db import Database
from .repo import Repo

__all__ = ["Database", "Repo"]
