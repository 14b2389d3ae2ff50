"""History: commits, tags, working sets, refs, the commit graph and revision syntax.

Modules, bottom-up: ``commit`` (the commit object and its bytes), ``tag`` and
``working_set`` (the other chunk kinds refs name), ``refs`` (ref names, name
rules, compare-and-swap updates and their invariants), ``graph`` (walks, log
order, merge base) and ``revision`` (``main~2^2``-style text to a commit).
"""

from __future__ import annotations

from .commit import (
    Commit,
    datetime_from_timestamp,
    decode_commit,
    encode_commit,
    now_timestamp,
    timestamp_from_datetime,
)
from .graph import (
    CommitLoader,
    History,
    LogEntry,
    ahead_behind,
    ancestors,
    history,
    is_ancestor,
    load_commit,
    log,
    make_commit,
    merge_base,
    merge_bases,
)
from .refs import (
    BRANCH_PREFIX,
    DEFAULT_BRANCH_REF,
    TAG_PREFIX,
    WORKING_SET_PREFIX,
    Refs,
    branch_ref,
    check_branch_name,
    check_tag_name,
    tag_ref,
    working_set_ref,
)
from .revision import (
    Revision,
    RevisionKind,
    parse_time,
    resolve_as_of_time,
    resolve_commit,
    resolve_revision,
)
from .tag import Tag, decode_tag, encode_tag, peel
from .working_set import MergeState, WorkingSet, decode_working_set, encode_working_set

__all__ = [
    "BRANCH_PREFIX",
    "DEFAULT_BRANCH_REF",
    "TAG_PREFIX",
    "WORKING_SET_PREFIX",
    "Commit",
    "CommitLoader",
    "History",
    "LogEntry",
    "MergeState",
    "Refs",
    "Revision",
    "RevisionKind",
    "Tag",
    "WorkingSet",
    "ahead_behind",
    "ancestors",
    "history",
    "branch_ref",
    "check_branch_name",
    "check_tag_name",
    "datetime_from_timestamp",
    "decode_commit",
    "decode_tag",
    "decode_working_set",
    "encode_commit",
    "encode_tag",
    "encode_working_set",
    "is_ancestor",
    "load_commit",
    "log",
    "make_commit",
    "merge_base",
    "merge_bases",
    "now_timestamp",
    "peel",
    "parse_time",
    "resolve_as_of_time",
    "resolve_commit",
    "resolve_revision",
    "tag_ref",
    "timestamp_from_datetime",
    "working_set_ref",
]
