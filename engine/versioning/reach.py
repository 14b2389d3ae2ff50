"""What a chunk names, and everything a set of roots reaches (gc's mark, fsck,
and the check a write makes after a gc ran under it).

Every stored object starts with a four-byte magic that says how to find the
addresses it names (commit ``ACMT``, tag ``ATAG``, working set ``AWKS``, root
value ``AROT``, table header ``ATBL``, artifacts ``AART``, column defaults
``ADEF``, stash entry ``ASTS``); a tree node has a level byte at offset 1 instead: a leaf (level 0)
names nothing, an internal node (level >= 1) names its children. No magic has
a zero second byte, so the two never meet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..codec.internal import decode_internal, node_level
from ..errors import CorruptChunk, FormatVersionError
from ..history import decode_commit, decode_tag, decode_working_set
from ..history.stash import decode_stash
from ..root import RootValue
from ..table import Table
from .artifacts import children as artifact_children

ReadMany = Callable[[Sequence[bytes]], Sequence[bytes]]


def chunk_children(address: bytes, data: bytes | memoryview) -> list[bytes]:
    """The addresses the chunk ``data`` (stored under ``address``) names.

    Raises:
        CorruptChunk: ``data`` does not decode as what its magic or level byte says.
    """
    magic = bytes(data[:4])
    try:
        if magic == b"ACMT":
            commit = decode_commit(bytes(data))
            return [commit.root, *commit.parents]
        if magic == b"ATAG":
            return [decode_tag(bytes(data)).target]
        if magic == b"AWKS":
            ws = decode_working_set(bytes(data))
            out = [ws.working, ws.staged]
            if ws.merge is not None:
                out += [ws.merge.theirs, ws.merge.ours, ws.merge.pre_merge_working]
                if ws.merge.base_root is not None:
                    out.append(ws.merge.base_root)
            return out
        if magic == b"ASTS":
            entry = decode_stash(bytes(data))
            return [entry.head, entry.working, entry.staged]
        if magic == b"AROT":
            return list(RootValue.decode(bytes(data), address).values())
        if magic == b"ATBL":
            return list(Table.children(bytes(data)))
        if magic == b"AART":
            return artifact_children(bytes(data))
        if magic == b"ADEF" or len(data) < 2 or node_level(data) == 0:
            return []
        return decode_internal(data)[2]
    except CorruptChunk:
        raise
    except (ValueError, IndexError, KeyError, FormatVersionError) as exc:
        raise CorruptChunk(address, f"it does not decode: {exc}") from exc


def mark(roots: Iterable[bytes], read_many: ReadMany, known: set[bytes] | None = None) -> set[bytes]:
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
