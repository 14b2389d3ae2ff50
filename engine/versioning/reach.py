"""What a chunk names, and everything a set of roots reaches (gc's mark, fsck,
and the check a write makes after a gc ran under it).

Every stored object starts with a four-byte magic, owned by its codec together with
the function that lists the addresses it names (``KINDS``: commit ``ACMT``, tag
``ATAG``, working set ``AWKS``, root value ``AROT``, table header ``ATBL``, artifacts
``AART``, default branch ``ADEF``, stash entry ``ASTS``); a tree node has a level byte
at offset 1 instead: a leaf (level 0) names nothing, an internal node (level >= 1)
names its children. No magic has a zero second byte, so the two never meet. gc's mark,
fsck and the remote walk (``remote/walk.py``) all ask here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..codec.internal import decode_internal, node_level
from ..errors import CorruptChunk, FormatVersionError
from ..history.commit import COMMIT_MAGIC, commit_children
from ..history.refs import DEFAULT_BRANCH_MAGIC
from ..history.stash import STASH_MAGIC, stash_children
from ..history.tag import TAG_MAGIC, tag_children
from ..history.working_set import WORKING_SET_MAGIC, working_set_children
from ..root import ROOT_MAGIC, root_children
from ..table import Table
from ..table.header import TABLE_MAGIC
from .artifacts import ARTIFACTS_MAGIC
from .artifacts import children as artifact_children

ReadMany = Callable[[Sequence[bytes]], Sequence[bytes]]
# (address, bytes of a chunk of one kind) -> the addresses it names
Children = Callable[[bytes, bytes], list[bytes]]

# Every kind of stored object, by the magic its codec owns -> its codec's way to list
# what such a chunk names. A chunk whose first four bytes are none of these is a
# prolly-tree node (its level byte is at offset 1; no magic has a zero second byte).
KINDS: dict[bytes, Children] = {
    COMMIT_MAGIC: commit_children,
    TAG_MAGIC: tag_children,
    WORKING_SET_MAGIC: working_set_children,
    ROOT_MAGIC: root_children,
    TABLE_MAGIC: lambda address, data: list(Table.children(data)),
    ARTIFACTS_MAGIC: lambda address, data: artifact_children(data),
    DEFAULT_BRANCH_MAGIC: lambda address, data: [],  # a branch name: names nothing
    STASH_MAGIC: stash_children,
}


def chunk_children(address: bytes, data: bytes | memoryview) -> list[bytes]:
    """The addresses the chunk ``data`` (stored under ``address``) names.

    Raises:
        CorruptChunk: ``data`` does not decode as what its magic or level byte says.
    """
    try:
        kind = KINDS.get(bytes(data[:4]))
        if kind is not None:
            return kind(address, bytes(data))
        if len(data) < 2 or node_level(data) == 0:
            return []
        return decode_internal(data).addresses
    except CorruptChunk:
        raise
    except (ValueError, IndexError, KeyError, FormatVersionError) as exc:
        raise CorruptChunk(address, f"it does not decode: {exc}") from exc


def mark(
    roots: Iterable[bytes], read_many: ReadMany, known: set[bytes] | None = None
) -> set[bytes]:
    """Every address reachable from ``roots`` that is not in ``known`` (a set closed
    under ``chunk_children``: the walk stops at it). Reads level by level, a batch
    of chunks per ``read_many`` call."""
    known = known if known is not None else set()
    seen: set[bytes] = set()
    frontier = list(dict.fromkeys(a for a in roots if a not in known))
    while frontier:
        seen.update(frontier)
        found: list[bytes] = []
        for start in range(0, len(frontier), 4096):
            batch = frontier[start : start + 4096]
            for address, data in zip(batch, read_many(batch), strict=True):
                found.extend(chunk_children(address, data))
        frontier = list(dict.fromkeys(a for a in found if a not in seen and a not in known))
    return seen
