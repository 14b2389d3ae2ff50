"""A branch's working state and the version verbs that act on it (``Workspace``).

One class, built in layers, one module each (state.py's docstring has the model and
the invariants)::

    state.py     WorkspaceState: HEAD, working and staged roots, merge state, the write
                 buffer; loading, ``persist``, tables, revision resolution
    staging.py   Staging: status, add, commit, checkout of tables, reset
    merging.py   Merging: merge, abort, conflict resolution
    replay.py    Replay: revert and cherry-pick
"""

from __future__ import annotations

from .merging import MergeOutcome
from .replay import Replay
from .state import TableStatus

__all__ = ["MergeOutcome", "TableStatus", "Workspace"]


class Workspace(Replay):
    """One branch's working state as a session sees it (see state.py's docstring)."""
