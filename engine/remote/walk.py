"""Which chunks a chunk names: the edges a push or fetch follows from the refs.

The same edges garbage collection follows (``Database.reachable``), read from a
chunk's bytes alone, since during a fetch the chunk is not in any store yet. A
working set is never sent (it is local to a clone), so its edges are not here.
"""

from __future__ import annotations

from ..codec.internal import decode_internal, node_level
from ..errors import CorruptChunk
from ..history import decode_commit, decode_tag
from ..root import RootValue
from ..table import Table
from ..versioning.artifacts import children as artifact_children


def children(address: bytes, data: bytes) -> tuple[list[bytes], bool]:
    """The addresses ``data`` names, and whether they are tree leaves (level-1 node).

    Raises:
        CorruptChunk: the chunk does not decode as what its magic says it is.
    """
    magic = bytes(data[:4])
    try:
        if magic == b"ACMT":
            commit = decode_commit(data)
            return [commit.root, *commit.parents], False
        if magic == b"ATAG":
            return [decode_tag(data).target], False
        if magic == b"AROT":
            return list(RootValue.decode(data, address).values()), False
        if magic == b"ATBL":
            return list(Table.children(data)), False
        if magic == b"AART":
            return list(artifact_children(data)), False
        if magic == b"ADEF" or len(data) < 2 or node_level(data) == 0:
            return [], False
        level, _, addresses, _ = decode_internal(data)
        return list(addresses), level == 1
    except CorruptChunk:
        raise
    except Exception as exc:  # noqa: BLE001 - any decode failure means damaged bytes
        raise CorruptChunk(address, f"it does not decode ({exc})") from None
