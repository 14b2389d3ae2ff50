"""Prolly trees: history-independent, content-addressed ordered maps of key bytes to rows.

``ProllyTree`` is the immutable handle the layers above use; the modules below
it each do one job (splitter: where nodes are cut; builder: bulk build; cursor:
lookups and scans; lookup: batched lookups and seeks; mutate: batch edits;
relevel: internal levels after an edit; diff: two-way diff; merge: three-way
merge; checker: invariants).
"""

from .diff import ADDED, DIFF_TYPE_NAMES, MODIFIED, REMOVED, TreeDiff
from .nodes import NodeStore
from .prolly import ProllyTree

__all__ = ["ADDED", "DIFF_TYPE_NAMES", "MODIFIED", "REMOVED", "NodeStore", "ProllyTree", "TreeDiff"]
