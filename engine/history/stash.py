"""Stash entries (Dolt's ``dolt stash``) and their canonical byte format.

A stash entry keeps a branch's uncommitted state so that it can be put back later:
the working and staged roots, the commit they were made on (the base a later
``pop`` merges against) and, for listings, the branch and that commit's subject.
Entries live under refs (refs.py) ``refs/stashes/<stash name>/<20 decimal digits>``
(the digits: microseconds since the epoch, so names sort oldest first); Dolt's CLI
uses the stash name ``dolt-cli``, ``dolt_stash('push', name)`` any name. Being
refs, entries survive processes, and gc keeps all they reach (versioning/reach.py).

Byte format (version 1). All integers are big-endian; strings are a u32 byte
length and then UTF-8, as in commit.py.

    OFFSET  SIZE    DESCRIPTION
    0       4       magic b"ASTS"
    4       1       format version, 1
    5       8       timestamp, i64: microseconds since 1970-01-01T00:00:00Z
    13      20      head commit address (the commit the changes were made on)
    33      20      working root address
    53      20      staged root address
    73      ...     two strings: branch name, head commit message

Canonical encoding: every field has a fixed width or a length prefix and nothing
follows the last string, so one entry gives exactly one byte string and decoding
refuses anything else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from arbordb.engine.hash import require_address

from .commit import _pack_str, _Reader, check_str, check_timestamp

STASH_MAGIC = b"ASTS"
STASH_VERSION = 1  # bump when the layout above changes

_HEADER = ">4sBq20s20s20s"  # magic, version, timestamp, head, working, staged
_HEADER_LEN = 73
assert struct.calcsize(_HEADER) == _HEADER_LEN


@dataclass(frozen=True, kw_only=True)
class StashEntry:
    """One stashed state; see the module docstring for its bytes.

    Raises:
        InvalidInput: a field has the wrong type.
    """

    timestamp: int
    head: bytes
    working: bytes
    staged: bytes
    branch: str
    message: str

    def __post_init__(self) -> None:
        for name in ("head", "working", "staged"):
            object.__setattr__(self, name, require_address(getattr(self, name), f"stash {name}"))
        check_str(self.branch, "stash branch")
        check_str(self.message, "stash message")
        check_timestamp(self.timestamp, "stash timestamp")


def encode_stash(entry: StashEntry) -> bytes:
    """Return the canonical bytes of ``entry``.

    Example:
        >>> e = StashEntry(timestamp=0, head=bytes(20), working=bytes(20),
        ...                staged=bytes(20), branch="main", message="first")
        >>> decode_stash(encode_stash(e)) == e
        True
    """
    header = struct.pack(
        _HEADER,
        STASH_MAGIC,
        STASH_VERSION,
        entry.timestamp,
        entry.head,
        entry.working,
        entry.staged,
    )
    return header + _pack_str(entry.branch) + _pack_str(entry.message)


def decode_stash(data: bytes) -> StashEntry:
    """Decode the bytes of a stash chunk.

    Raises:
        CorruptChunk: the bytes are not the canonical encoding of a stash entry.
        FormatVersionError: written by a newer format version.
    """
    r = _Reader(data, "stash", STASH_MAGIC, STASH_VERSION)
    timestamp, head, working, staged = r.unpack(">q20s20s20s")
    branch = r.string("stash branch")
    message = r.string("stash message")
    r.end()
    return StashEntry(
        timestamp=timestamp,
        head=head,
        working=working,
        staged=staged,
        branch=branch,
        message=message,
    )


def stash_children(address: bytes, data: bytes) -> list[bytes]:
    """What a stash entry chunk names (for gc and fsck): its commit and both roots."""
    entry = decode_stash(data)
    return [entry.head, entry.working, entry.staged]
