"""Per-branch working sets and their canonical byte format.

Each branch has a working set chunk, named by ``workingSets/heads/<branch>``
(refs.py): the root value being edited (working), the root value marked for
the next commit (staged), and, while a merge is in progress, the merge state.

The merge state records what a merge needs to finish, or to be undone:

- ``theirs``: the commit being merged in;
- ``ours``: the branch head when the merge started (the merge commit's first
  parent);
- ``pre_merge_working``: the working root before the merge, which
  ``merge --abort`` restores;
- ``base_root``: the root value of the merge base, or None when the two
  histories share no commit;
- ``theirs_label``: how the user named ``theirs`` (``"feature"``), for messages;
- ``squash`` / ``no_commit``: the merge was run with ``--squash`` /
  ``--no-commit`` (a squash commit has one parent, not two);
- ``details``: a JSON object for anything else a higher layer wants to keep
  (for example the conflict-resolution rules in force).

Byte format (version 1). All integers are big-endian; strings are a u32 byte
length and then UTF-8, as in commit.py.

    OFFSET  SIZE    DESCRIPTION
    0       4       magic b"AWKS"
    4       1       format version, 1
    5       20      working root address
    25      20      staged root address
    45      1       flags: bit 0 merge in progress, bit 1 merge base known,
                    bit 2 squash, bit 3 no-commit; other bits 0; bits 1-3
                    are 0 unless bit 0 is set
    --- only when bit 0 is set:
    46      20      theirs commit address
    66      20      ours commit address
    86      20      pre-merge working root address
    106     20      base root address (only when bit 1 is set)
    ...     ...     two strings: theirs_label, details (canonical JSON object,
                    spelled as the commit metadata is, see commit.py)

Canonical encoding: optional parts are present exactly when their flag is
set, unused flag bits are zero and details are canonical JSON, so one working
set gives exactly one byte string and decoding refuses anything else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from arbordb.engine.errors import InvalidInput
from arbordb.engine.hash import ADDRESS_LEN, require_address

from .commit import _pack_str, _Reader, canonical_json, check_str, normalise_json

WORKING_SET_MAGIC = b"AWKS"
WORKING_SET_VERSION = 1  # bump when the layout above changes

_HEADER = ">4sB20s20sB"  # magic, version, working, staged, flags
_HEADER_LEN = 46
assert struct.calcsize(_HEADER) == _HEADER_LEN

_MERGING, _HAS_BASE, _SQUASH, _NO_COMMIT = 1, 2, 4, 8
_ALL_FLAGS = _MERGING | _HAS_BASE | _SQUASH | _NO_COMMIT


@dataclass(frozen=True, kw_only=True)
class MergeState:
    """An in-progress merge; see the module docstring for each field.

    Raises:
        InvalidInput: a field has the wrong type.
    """

    theirs: bytes
    ours: bytes
    pre_merge_working: bytes
    base_root: bytes | None
    theirs_label: str = ""
    squash: bool = False
    no_commit: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "theirs", require_address(self.theirs, "merge state 'theirs' commit"))
        set_(self, "ours", require_address(self.ours, "merge state 'ours' commit"))
        set_(
            self,
            "pre_merge_working",
            require_address(self.pre_merge_working, "merge state pre-merge working root"),
        )
        if self.base_root is not None:
            set_(self, "base_root", require_address(self.base_root, "merge state base root"))
        check_str(self.theirs_label, "merge state label")
        for name in ("squash", "no_commit"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInput(f"merge state {name} must be a bool")
        set_(self, "details", normalise_json(self.details, "merge state details"))

    def __hash__(self) -> int:  # details is a dict, so the generated hash would fail
        return hash((self.theirs, self.ours, self.pre_merge_working, self.base_root))


@dataclass(frozen=True, kw_only=True)
class WorkingSet:
    """A branch's working and staged roots, and its merge state if a merge is running.

    Raises:
        InvalidInput: a field has the wrong type.
    """

    working: bytes
    staged: bytes
    merge: MergeState | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "working", require_address(self.working, "working root"))
        object.__setattr__(self, "staged", require_address(self.staged, "staged root"))
        if self.merge is not None and not isinstance(self.merge, MergeState):
            raise InvalidInput(f"merge must be a MergeState or None, got {self.merge!r}")


def encode_working_set(ws: WorkingSet) -> bytes:
    """Return the canonical bytes of ``ws``.

    Example:
        >>> ws = WorkingSet(working=bytes(20), staged=bytes(20))
        >>> decode_working_set(encode_working_set(ws)) == ws
        True
    """
    m = ws.merge
    if m is None:
        return struct.pack(
            _HEADER, WORKING_SET_MAGIC, WORKING_SET_VERSION, ws.working, ws.staged, 0
        )
    flags = _MERGING
    flags |= _HAS_BASE if m.base_root is not None else 0
    flags |= _SQUASH if m.squash else 0
    flags |= _NO_COMMIT if m.no_commit else 0
    parts = [
        struct.pack(_HEADER, WORKING_SET_MAGIC, WORKING_SET_VERSION, ws.working, ws.staged, flags),
        m.theirs,
        m.ours,
        m.pre_merge_working,
        m.base_root or b"",
        _pack_str(m.theirs_label),
        _pack_str(canonical_json(m.details, "merge state details")),
    ]
    return b"".join(parts)


def decode_working_set(data: bytes) -> WorkingSet:
    """Decode the bytes of a working set chunk.

    Raises:
        CorruptChunk: the bytes are not the canonical encoding of a working set.
        FormatVersionError: written by a newer format version.
    """
    r = _Reader(data, "working set", WORKING_SET_MAGIC, WORKING_SET_VERSION)
    working, staged, flags = r.unpack(">20s20sB")
    if flags & ~_ALL_FLAGS or (flags and not flags & _MERGING):
        r.fail(f"working set flags {flags:#04x} are not defined", _HEADER_LEN - 1)
    merge = None
    if flags & _MERGING:
        theirs, ours, pre_merge = (r.take(ADDRESS_LEN) for _ in range(3))
        base = r.take(ADDRESS_LEN) if flags & _HAS_BASE else None
        label = r.string("merge label")
        details = r.json_object("merge details")
        merge = MergeState(
            theirs=theirs,
            ours=ours,
            pre_merge_working=pre_merge,
            base_root=base,
            theirs_label=label,
            squash=bool(flags & _SQUASH),
            no_commit=bool(flags & _NO_COMMIT),
            details=details,
        )
    r.end()
    return WorkingSet(working=working, staged=staged, merge=merge)


def working_set_children(address: bytes, data: bytes) -> list[bytes]:
    """What a working set chunk names (for gc and fsck): its roots and merge state."""
    ws = decode_working_set(data)
    out = [ws.working, ws.staged]
    if ws.merge is not None:
        out += [ws.merge.theirs, ws.merge.ours, ws.merge.pre_merge_working]
        if ws.merge.base_root is not None:
            out.append(ws.merge.base_root)
    return out
